"""A small client for Superset's REST API over httpx: login, CSRF, imports, chart data, security.

Superset's published client libraries are alpha (superset-api-client) or pin versions that
clash with ours (preset-cli over sqlglot), and we need a dozen calls, so this is ours.
Every call goes to one instance on 127.0.0.1; proxies from the environment are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8088"


class SupersetError(RuntimeError):
    """Superset answered an API call with an error (status and body in the message)."""

    def __init__(self, method: str, path: str, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.body = response.text[:4000]
        super().__init__(f"{method} {path} → HTTP {response.status_code}: {self.body}")


class SupersetClient:
    """One logged-in session: a bearer token plus the CSRF token of the same HTTP session."""

    def __init__(self, url: str = DEFAULT_URL, *, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=timeout, trust_env=False)
        self.username: str | None = None

    def __enter__(self) -> SupersetClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session."""
        self.http.close()

    # -- session ---------------------------------------------------------------------------

    def login(self, username: str, password: str) -> SupersetClient:
        """Log in with the database provider; POSTs then carry the token and a CSRF token."""
        response = self.http.post(
            "/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": True},
        )
        if response.status_code != 200:
            raise SupersetError("POST", "/api/v1/security/login", response)
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        # The CSRF token belongs to the session cookie set by this call (same httpx client).
        csrf = self.get("/api/v1/security/csrf_token/")["result"]
        self.http.headers["X-CSRFToken"] = csrf
        self.http.headers["Referer"] = self.url
        self.username = username
        return self

    def health(self) -> bool:
        """Whether /health answers OK."""
        try:
            return self.http.get("/health", timeout=5).text.strip() == "OK"
        except httpx.HTTPError:
            return False

    # -- plain verbs -----------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Any call; raises :class:`SupersetError` on a status of 400 or more."""
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise SupersetError(method, path, response)
        return response

    def get(self, path: str, **params: Any) -> Any:
        """GET returning JSON; ``q`` (a dict) is encoded as Superset's rison-free JSON form."""
        if "q" in params and not isinstance(params["q"], str):
            params["q"] = _rison(params["q"])
        return self.request("GET", path, params=params).json()

    def post(self, path: str, payload: Any) -> Any:
        """POST JSON, returning JSON."""
        return self.request("POST", path, json=payload).json()

    def put(self, path: str, payload: Any) -> Any:
        """PUT JSON, returning JSON."""
        return self.request("PUT", path, json=payload).json()

    def delete(self, path: str) -> Any:
        """DELETE, returning JSON."""
        return self.request("DELETE", path).json()

    # -- assets ----------------------------------------------------------------------------

    def import_bundle(self, resource: str, bundle: bytes, *, overwrite: bool = True) -> Any:
        """POST an export ZIP to ``/api/v1/<resource>/import/`` (database, dataset, chart …)."""
        files = {"formData": ("bundle.zip", bundle, "application/zip")}
        data = {"overwrite": "true" if overwrite else "false"}
        return self.request("POST", f"/api/v1/{resource}/import/", files=files, data=data).json()

    def list_all(self, resource: str, **query: Any) -> Iterator[dict[str, Any]]:
        """Every row of ``GET /api/v1/<resource>/`` (paged), with optional filters/columns."""
        page = 0
        while True:
            body = self.get(f"/api/v1/{resource}/", q={**query, "page": page, "page_size": 100})
            rows = body.get("result", [])
            yield from rows
            if len(rows) < 100:
                return
            page += 1

    def find(self, resource: str, column: str, value: Any) -> dict[str, Any] | None:
        """The one row whose ``column`` equals ``value``, or None."""
        query = {"filters": [{"col": column, "opr": "eq", "value": value}]}
        rows = [row for row in self.list_all(resource, **query) if row.get(column) == value]
        return rows[0] if rows else None

    def chart_data(self, chart_id: int) -> dict[str, Any]:
        """``GET /api/v1/chart/<id>/data/``: the chart's saved query_context, run now."""
        return self.get(f"/api/v1/chart/{chart_id}/data/")

    def query(self, query_context: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/v1/chart/data``: run a query context (row-level security applies)."""
        return self.post("/api/v1/chart/data", query_context)

    def sql(self, database_id: int, sql: str, *, schema: str | None = None) -> dict[str, Any]:
        """Run SQL synchronously in SQL Lab (``/api/v1/sqllab/execute/``)."""
        payload = {
            "database_id": database_id,
            "sql": sql,
            "schema": schema,
            "runAsync": False,
            "select_as_cta": False,
            "ctas_method": "TABLE",
            "queryLimit": 1000,
            "client_id": _client_id(),
        }
        return self.post("/api/v1/sqllab/execute/", payload)


def _rison(value: Any) -> str:
    """Encode a query object as Rison, the URL format of Superset's list endpoints."""
    if value is True:
        return "!t"
    if value is False:
        return "!f"
    if value is None:
        return "!n"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        safe = all(c.isascii() and (c.isalnum() or c in "-_./~") for c in value)
        if value and safe and not value[0].isdigit() and value[0] != "-":
            return value
        return "'" + value.replace("!", "!!").replace("'", "!'") + "'"
    if isinstance(value, list | tuple):
        return "!(" + ",".join(_rison(item) for item in value) + ")"
    if isinstance(value, dict):
        return "(" + ",".join(f"{_rison(str(k))}:{_rison(v)}" for k, v in value.items()) + ")"
    raise TypeError(f"cannot encode {type(value).__name__} as Rison")


def _client_id() -> str:
    import secrets

    # SQL Lab keys a query by an 11-character client id.
    return secrets.token_hex(6)[:11]
