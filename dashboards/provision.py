"""Provision a running Superset from the spec: assets, roles, row-level security, users.

Idempotent: assets are imported with overwrite under uuids derived from their names, and
roles, rules and users are looked up by name and updated in place, so a second run leaves the
same objects (a changed spec updates them). Managed charts, datasets and dashboards that the
spec no longer has are deleted.

Roles (see dashboards/README.md):

- ``领导`` — every dashboard, every street: access to the whole serving database.
- ``街镇·<street>`` (14) — the dashboards granted to ``streets``; access to exactly the datasets
  with a ``street_code`` column, each filtered by the rule ``street_code = '<code>'``. A dataset
  without ``street_code`` is not granted, and a dashboard granted to streets may not use one.
- ``分析师`` — every dashboard plus SQL Lab on the serving database (which holds no
  ``restricted`` schema: clear personal data never leaves the working warehouse).

Every user also has Superset's ``Gamma`` role (the read-only UI); analysts also ``sql_lab``.
"""

from __future__ import annotations

import csv
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboards import bundle
from dashboards.catalog import Catalog, describe
from dashboards.client import SupersetClient, SupersetError
from dashboards.settings import REPO, Instance, user_password
from dashboards.spec import STREETS, Spec, load_spec
from ingestion.settings import Paths
from live.store import seed_store

STREETS_CSV = REPO / "ingestion" / "reference" / "streets.csv"
LEADER = "领导"
ANALYST = "分析师"
STREET_ROLE_PREFIX = "街镇·"
RLS_PREFIX = "cityops 街镇行级权限 "
STREET_COLUMN = "street_code"

Report = Callable[[str], None]


class ProvisionError(RuntimeError):
    """The spec does not fit the snapshot or Superset refused a step."""


@dataclass(frozen=True)
class Street:
    """A street (or 彭浦镇) from ingestion/reference/streets.csv."""

    code: str
    name: str
    abbreviation: str

    @property
    def role(self) -> str:
        """Its role name."""
        return f"{STREET_ROLE_PREFIX}{self.name}"

    @property
    def username(self) -> str:
        """Its test user."""
        return f"street_{self.abbreviation.lower()}"


def streets(path: Path = STREETS_CSV) -> list[Street]:
    """The 13 streets and 彭浦镇."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            Street(row["street_code"], row["street_name"], row["street_abbr"])
            for row in csv.DictReader(handle)
        ]


@dataclass
class Result:
    """What a provisioning run did and found."""

    dataset_ids: dict[str, int] = field(default_factory=dict)
    chart_ids: dict[str, int] = field(default_factory=dict)  # "<slug>/<key>" → id
    dashboard_ids: dict[str, int] = field(default_factory=dict)  # slug → id
    database_id: int = 0
    live_database_id: int | None = None
    street_datasets: list[str] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)  # username → role
    deleted: list[str] = field(default_factory=list)
    # Datasets the snapshot cannot serve yet, and the dashboards left out for them.
    missing_datasets: dict[str, str] = field(default_factory=dict)
    skipped_dashboards: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0


def database_uri(target: Instance) -> str:
    """The serving snapshot as a SQLAlchemy URI (absolute path, the link itself)."""
    return f"duckdb:///{target.serving_path}"


def live_database_uri(target: Instance) -> str:
    """The live path's store as a SQLAlchemy URI (replaced by a rename after every cycle)."""
    return f"duckdb:///{target.live_store_path}"


def street_datasets(spec: Spec, catalog: Catalog) -> list[str]:
    """Datasets with a street_code column: the ones street roles get, row-filtered."""
    return [key for key in spec.datasets if catalog.has_column(key, STREET_COLUMN)]


def available(spec: Spec, catalog: Catalog) -> tuple[Spec, dict[str, list[str]]]:
    """The spec without the datasets the snapshot cannot serve and the dashboards using them."""
    skipped = {
        dashboard.slug: sorted(dashboard.datasets() & catalog.missing.keys())
        for dashboard in spec.dashboards
        if dashboard.datasets() & catalog.missing.keys()
    }
    reduced = dataclasses.replace(
        spec,
        datasets={k: v for k, v in spec.datasets.items() if k not in catalog.missing},
        dashboards=tuple(d for d in spec.dashboards if d.slug not in skipped),
    )
    return reduced, skipped


def check_street_dashboards(spec: Spec, catalog: Catalog) -> None:
    """A dashboard granted to street roles may only read row-filtered datasets."""
    allowed = set(street_datasets(spec, catalog))
    for dashboard in spec.dashboards:
        if STREETS in dashboard.roles and not dashboard.datasets() <= allowed:
            unfiltered = sorted(dashboard.datasets() - allowed)
            raise ProvisionError(
                f"Dashboard {dashboard.slug} is granted to street roles but reads datasets "
                f"without street_code: {unfiltered}"
            )


def provision(
    client: SupersetClient,
    target: Instance,
    *,
    spec: Spec | None = None,
    report: Report = lambda _: None,
) -> Result:
    """Import every asset, then set roles, row-level security, users and dashboard access."""
    started = time.monotonic()
    spec = spec or load_spec()
    catalog = describe(spec, target.serving_path)
    spec, skipped = available(spec, catalog)
    for slug, datasets in skipped.items():
        report(f"skipping dashboard {slug}: the snapshot cannot serve {', '.join(datasets)}")
    check_street_dashboards(spec, catalog)
    if spec.live_database_name:
        # The live datasets need the file before the live path first runs: the snapshot's.
        seed_store(Paths(target.home.resolve()))
    files = bundle.render(spec, catalog, database_uri(target), live_database_uri(target))
    result = Result(missing_datasets=dict(catalog.missing), skipped_dashboards=skipped)
    for resource in bundle.BUNDLE_TYPES:
        report(f"import {resource}s")
        client.import_bundle(resource, bundle.zip_bundle(files, resource), overwrite=True)
    _collect_ids(client, spec, result)
    result.deleted = _prune(client, spec)
    result.street_datasets = street_datasets(spec, catalog)
    report("roles, row-level security and users")
    roles = _roles(client, spec, result)
    _row_level_security(client, result, roles)
    _dashboard_roles(client, spec, result, roles)
    result.users = _users(client, target, roles)
    result.seconds = time.monotonic() - started
    return result


# -- ids --------------------------------------------------------------------------------------


def _by_uuid(client: SupersetClient, resource: str, columns: list[str]) -> dict[str, dict]:
    return {
        str(row["uuid"]): row for row in client.list_all(resource, columns=["id", "uuid", *columns])
    }


def _collect_ids(client: SupersetClient, spec: Spec, result: Result) -> None:
    databases = _by_uuid(client, "database", ["database_name"])
    result.database_id = databases[bundle.database_uuid(spec)]["id"]
    if spec.live_database_name:
        live = databases[bundle.database_uuid(spec, spec.live_database_name)]
        result.live_database_id = live["id"]
    datasets = _by_uuid(client, "dataset", ["table_name"])
    result.dataset_ids = {
        key: datasets[bundle.dataset_uuid(dataset)]["id"] for key, dataset in spec.datasets.items()
    }
    charts = _by_uuid(client, "chart", ["slice_name"])
    dashboards = _by_uuid(client, "dashboard", ["slug"])
    for dashboard in spec.dashboards:
        result.dashboard_ids[dashboard.slug] = dashboards[bundle.dashboard_uuid(dashboard)]["id"]
        for chart in dashboard.charts.values():
            uid = bundle.chart_uuid(dashboard, chart)
            result.chart_ids[f"{dashboard.slug}/{chart.key}"] = charts[uid]["id"]


def _prune(client: SupersetClient, spec: Spec) -> list[str]:
    """Delete managed charts, dashboards and datasets the spec no longer has.

    "Managed" is Superset's ``is_managed_externally`` flag, which only imports set (the list
    API does not return ``external_url``): on a cityops instance that is the provisioner's.
    """
    wanted = {bundle.database_uuid(spec, name) for name in bundle.database_names(spec)}
    wanted |= {bundle.dataset_uuid(dataset) for dataset in spec.datasets.values()}
    for dashboard in spec.dashboards:
        wanted.add(bundle.dashboard_uuid(dashboard))
        wanted |= {bundle.chart_uuid(dashboard, chart) for chart in dashboard.charts.values()}
    deleted = []
    for resource, name in (
        ("dashboard", "dashboard_title"),
        ("chart", "slice_name"),
        ("dataset", "table_name"),
    ):
        rows = client.list_all(resource, columns=["id", "uuid", name, "is_managed_externally"])
        for row in list(rows):
            if row.get("is_managed_externally") and str(row["uuid"]) not in wanted:
                try:
                    client.delete(f"/api/v1/{resource}/{row['id']}")
                except SupersetError as error:
                    # e.g. a dataset that a user's own chart (a saved copy) still reads.
                    deleted.append(f"{resource} {row[name]} kept: HTTP {error.status_code}")
                    continue
                deleted.append(f"{resource} {row[name]}")
    return deleted


# -- roles, rules, users -------------------------------------------------------------------------


def _permission_ids(client: SupersetClient) -> dict[tuple[str, str], int]:
    """(permission, view menu) → permission-view id."""
    return {
        (row["permission"]["name"], row["view_menu"]["name"]): row["id"]
        for row in client.list_all("security/permissions-resources")
    }


def _role_id(client: SupersetClient, name: str, *, create: bool = True) -> int:
    for row in client.list_all("security/roles"):
        if row["name"] == name:
            return row["id"]
    if not create:
        raise ProvisionError(f"Superset has no role {name}; did `superset init` run?")
    return client.post("/api/v1/security/roles/", {"name": name})["id"]


def _grant(client: SupersetClient, role_id: int, permission_ids: list[int]) -> None:
    """Set the role's permissions to exactly these (FAB replaces the list)."""
    client.post(
        f"/api/v1/security/roles/{role_id}/permissions",
        {"permission_view_menu_ids": sorted(set(permission_ids))},
    )


def _roles(client: SupersetClient, spec: Spec, result: Result) -> dict[str, int]:
    permissions = _permission_ids(client)

    def permission(name: str, view: str) -> int:
        try:
            return permissions[(name, view)]
        except KeyError:
            raise ProvisionError(f"Superset has no permission {name} on {view}") from None

    databases = [f"[{spec.database_name}].(id:{result.database_id})"]
    if spec.live_database_name:
        databases.append(f"[{spec.live_database_name}].(id:{result.live_database_id})")
    roles = {
        "Gamma": _role_id(client, "Gamma", create=False),
        "sql_lab": _role_id(client, "sql_lab", create=False),
    }
    for name in (LEADER, ANALYST):
        roles[name] = _role_id(client, name)
        _grant(client, roles[name], [permission("database_access", db) for db in databases])
    # SQL Lab queries go to the serving database and the live store (analysts hold sql_lab).
    dataset_permissions = {
        key: permission(
            "datasource_access",
            f"[{spec.database_of(spec.datasets[key])}].[{spec.datasets[key].table}]"
            f"(id:{result.dataset_ids[key]})",
        )
        for key in result.street_datasets
    }
    for street in streets():
        roles[street.role] = _role_id(client, street.role)
        _grant(client, roles[street.role], list(dataset_permissions.values()))
    return roles


def _row_level_security(client: SupersetClient, result: Result, roles: dict[str, int]) -> None:
    """One rule per street over every street dataset: ``street_code = '<code>'``."""
    existing = {row["name"]: row["id"] for row in client.list_all("rowlevelsecurity")}
    tables = sorted(result.dataset_ids[key] for key in result.street_datasets)
    for street in streets():
        body = {
            "name": f"{RLS_PREFIX}{street.name}",
            "description": f"{street.name}只看本街镇的数据（{street.code}）",
            "filter_type": "Regular",
            "tables": tables,
            "roles": [roles[street.role]],
            "group_key": STREET_COLUMN,
            # The code comes from the reference list (12 digits), never from a user.
            "clause": f"{STREET_COLUMN} = '{street.code}'",
        }
        if body["name"] in existing:
            client.put(f"/api/v1/rowlevelsecurity/{existing[body['name']]}", body)
        else:
            client.post("/api/v1/rowlevelsecurity/", body)


def _dashboard_roles(
    client: SupersetClient, spec: Spec, result: Result, roles: dict[str, int]
) -> None:
    """DASHBOARD_RBAC: who sees which dashboard."""
    for dashboard in spec.dashboards:
        names: list[str] = []
        for role in dashboard.roles:
            names += [street.role for street in streets()] if role == STREETS else [role]
        ids = sorted(roles[name] for name in names)
        client.put(f"/api/v1/dashboard/{result.dashboard_ids[dashboard.slug]}", {"roles": ids})


def _users(client: SupersetClient, target: Instance, roles: dict[str, int]) -> dict[str, str]:
    """One test user per role; passwords generated into the instance's secrets file."""
    wanted = {
        "leader": (LEADER, ["Gamma", LEADER], "城运", "领导"),
        "analyst": (ANALYST, ["Gamma", "sql_lab", ANALYST], "城运", "分析师"),
    }
    for street in streets():
        wanted[street.username] = (street.role, ["Gamma", street.role], street.name, "街镇")
    existing = {
        row["username"]: row["id"]
        for row in client.list_all("security/users", columns=["id", "username"])
    }
    for username, (_, role_names, first, last) in wanted.items():
        body: dict[str, Any] = {
            "first_name": first,
            "last_name": last,
            "email": f"{username}@cityops.invalid",
            "active": True,
            "roles": [roles[name] for name in role_names],
            "password": user_password(target, username),
        }
        if username in existing:
            client.put(f"/api/v1/security/users/{existing[username]}", body)
        else:
            try:
                client.post("/api/v1/security/users/", {**body, "username": username})
            except SupersetError as error:
                raise ProvisionError(f"cannot create user {username}: {error}") from error
    return {username: role for username, (role, *_) in wanted.items()}
