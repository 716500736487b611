"""Superset's configuration for cityops (``SUPERSET_CONFIG_PATH`` points here).

Superset imports this file in its own environment (``.superset-venv/``), so it imports
nothing from cityops. ``cityops dashboards up`` (dashboards/server.py) sets the environment
it reads:

- ``CITYOPS_HOME``: Superset's metadata database and secrets live in ``$CITYOPS_HOME/superset/``;
- ``SUPERSET_SECRET_KEY`` (optional): else the key generated once into
  ``$CITYOPS_HOME/superset/secrets.json`` (mode 0600, never committed), as is the guest-token
  secret.

Nothing here reads the serving snapshot: its path lives in the database connection that the
provisioner imports (dashboards/bundle.py).
"""

import json
import os
import re
from pathlib import Path

_HOME = Path(os.environ.get("CITYOPS_HOME", "data")).resolve() / "superset"
_SECRETS_FILE = _HOME / "secrets.json"


def _secrets() -> dict:
    """The generated secrets (dashboards/settings.py writes the file before Superset starts)."""
    if not _SECRETS_FILE.exists():
        raise RuntimeError(
            f"{_SECRETS_FILE} is missing: start Superset with `cityops dashboards up`, "
            "which generates it, or set SUPERSET_SECRET_KEY."
        )
    return json.loads(_SECRETS_FILE.read_text(encoding="utf-8"))


SECRET_KEY = os.environ.get("SUPERSET_SECRET_KEY") or _secrets()["secret_key"]
# Embedded dashboards sign guest tokens with this; Superset's default is public knowledge.
GUEST_TOKEN_JWT_SECRET = os.environ.get("SUPERSET_GUEST_TOKEN_SECRET") or _secrets()["guest_secret"]
# Embedded (guest) views read through this provisioned role; the token carries the row filter.
GUEST_ROLE_NAME = "领导"

# Metadata in SQLite beside the secrets; one process (gunicorn, one worker) writes it.
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME / 'superset.db'}?check_same_thread=false"
DATA_DIR = str(_HOME)
UPLOAD_FOLDER = str(_HOME / "uploads")

# Chinese first: leaders and street teams read the UI in Chinese; English stays selectable.
BABEL_DEFAULT_LOCALE = "zh"
LANGUAGES = {
    "zh": {"flag": "cn", "name": "简体中文"},
    "en": {"flag": "us", "name": "English"},
}
D3_FORMAT = {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["¥", ""]}
# Chinese month and day names on time axes and in dates (d3-time-format's zh-CN locale).
D3_TIME_FORMAT = {
    "dateTime": "%x %A %X",
    "date": "%Y年%-m月%-d日",
    "time": "%H:%M:%S",
    "periods": ["上午", "下午"],
    "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
    "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
    "months": [
        f"{n}月"
        for n in ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]
    ],
    "shortMonths": [f"{n}月" for n in range(1, 13)],
}

FEATURE_FLAGS = {
    # Dashboards list their roles: street teams see only the dashboards granted to them.
    "DASHBOARD_RBAC": True,
    # Templates in virtual datasets are not needed; keep SQL Lab free of Jinja.
    "ENABLE_TEMPLATE_PROCESSING": False,
    # Analysts' SQL Lab queries are not row-filtered (they see every street by design);
    # street roles have no SQL Lab at all.
    "RLS_IN_SQLLAB": False,
}

# Every chart query runs fresh on the snapshot the symlink points at now (no result cache
# could outlive a publish), and each query opens its own DuckDB connection (Superset's
# default NullPool for analytics databases).
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}

# No telemetry: a city-operations network has no internet, and nothing leaves it. Superset
# 6.1's page renders Scarf's analytics pixel whatever this says; the Content-Security-Policy
# below blocks it (a browser test checks that every outside request is blocked).
SCARF_ANALYTICS = False

# Local single-host service on 127.0.0.1: no HTTPS, so no secure-only cookies.
SESSION_COOKIE_SECURE = False
SESSION_COOKIE_SAMESITE = "Lax"
WTF_CSRF_ENABLED = True
# Logins of the provisioner and the tests come in bursts.
AUTH_RATE_LIMITED = False
RATELIMIT_ENABLED = False

SQLLAB_TIMEOUT = 60
SUPERSET_WEBSERVER_TIMEOUT = 120
ROW_LIMIT = 50000

# 城运总览 is drawn by Handlebars charts (dashboards/templates/): inline SVG for the map and
# small styled lists. Superset sanitizes their HTML with GitHub's schema, which drops SVG and
# <style>; allow exactly the elements and attributes the templates use. No script, no event
# handlers, no style attribute: colours come from classes and presentation attributes.
_SVG_ATTRIBUTES = ["className", "fill", "stroke", "strokeWidth", "pointerEvents", "transform"]
HTML_SANITIZATION_SCHEMA_EXTENSIONS = {
    "tagNames": ["svg", "g", "path", "circle", "rect", "text", "title", "style"],
    "attributes": {
        # GitHub's schema lists some elements' attributes itself (an <a> only its href), and
        # such a list replaces "*" for that element: name the classes for each element used.
        **{tag: ["className", "title"] for tag in ("div", "span", "b", "i")},
        "a": ["className", "title", "href"],
        "svg": ["viewBox", "preserveAspectRatio", "width", "height"],
        "g": _SVG_ATTRIBUTES,
        "path": [*_SVG_ATTRIBUTES, "d"],
        "circle": [*_SVG_ATTRIBUTES, "cx", "cy", "r"],
        "rect": [*_SVG_ATTRIBUTES, "x", "y", "width", "height"],
        "text": [*_SVG_ATTRIBUTES, "x", "y", "textAnchor"],
    },
}

# Leaders and street teams land on 城运总览 after login instead of Superset's generic home.
LANDING_DASHBOARD = "/superset/dashboard/city-overview/"
LANDING_ROLES = ("领导",)
LANDING_ROLE_PREFIX = "街镇·"


# Corrections to Superset's Chinese catalogue (wrong or missing messages), by English message.
_TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def _language_pack(lang: str) -> dict | None:
    """Superset's language pack for ``lang`` with our corrections over it (None if unknown)."""
    import superset

    path = Path(superset.__file__).parent / "translations" / lang / "LC_MESSAGES" / "messages.json"
    if not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", lang) or not path.is_file():
        return None
    pack = json.loads(path.read_text(encoding="utf-8"))
    corrections = _TRANSLATIONS / f"{lang}.json"
    if corrections.is_file():
        messages = pack["locale_data"]["superset"]
        for english, chinese in json.loads(corrections.read_text(encoding="utf-8")).items():
            if not english.startswith("_"):
                messages[english] = [chinese]
    return pack


def FLASK_APP_MUTATOR(app):
    """Send leaders and street roles to 城运总览; serve the corrected language pack to all.

    Superset serves the language pack only to logged-in users, so its login page stayed in
    English; the pack holds only the public translations.
    """
    from flask import jsonify, redirect, request
    from flask_login import current_user

    @app.before_request
    def _translations():
        match = re.fullmatch(r"/superset/language_pack/([^/]+)/", request.path)
        if request.method != "GET" or match is None:
            return None
        pack = _language_pack(match.group(1))
        return jsonify(pack) if pack is not None else None

    @app.before_request
    def _landing():
        if request.method != "GET" or request.path not in ("/", "/superset/welcome/"):
            return None
        if not getattr(current_user, "is_authenticated", False):
            return None
        roles = {role.name for role in getattr(current_user, "roles", [])}
        if roles & set(LANDING_ROLES) or any(r.startswith(LANDING_ROLE_PREFIX) for r in roles):
            return redirect(LANDING_DASHBOARD)
        return None


# The browser may load nothing from outside this server: Superset's default policy allows
# map tiles (Mapbox, OpenStreetMap, CARTO) and Scarf's telemetry pixel; ours allows only
# 'self', data: and blob:. 'unsafe-eval' is needed by the Handlebars charts of 城运总览
# (Handlebars compiles a template into a function); their output is sanitized as above, and
# every chart is provisioned from the repository (docs/decisions.md).
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'", "'unsafe-eval'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
