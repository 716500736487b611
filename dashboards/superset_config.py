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

# No telemetry: Superset's pages would otherwise load Scarf's analytics pixel from the
# internet; a city-operations network has no internet, and nothing leaves it.
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
