"""Where Superset lives for cityops, and its secrets: generated once, never committed.

Everything of one instance is under ``$CITYOPS_HOME/superset/``: the SQLite metadata
database, ``secrets.json`` (mode 0600), the pid file and the server log. Superset's own
virtual environment is ``.superset-venv/`` at the repository root (git-ignored).

Secrets, each from the environment when set, else generated into ``secrets.json``:

- ``SUPERSET_SECRET_KEY`` — signs sessions and encrypts database credentials;
- ``SUPERSET_ADMIN_USER`` (default ``admin``) and ``SUPERSET_ADMIN_PASSWORD``;
- the guest-token secret and the provisioned test users' passwords (file only).

Nothing reads the environment at import time.
"""

from __future__ import annotations

import json
import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion import files
from ingestion.settings import paths

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(__file__).resolve().parent
REQUIREMENTS = PACKAGE / "requirements.txt"
CONFIG = PACKAGE / "superset_config.py"
UV_LOCK = REPO / "uv.lock"
UV = REPO / ".tools" / "bin" / "uv"
DEFAULT_VENV = REPO / ".superset-venv"
HOST = "127.0.0.1"
DEFAULT_PORT = 8088


@dataclass(frozen=True)
class Instance:
    """One Superset instance: its home, port and virtual environment."""

    home: Path
    port: int = DEFAULT_PORT
    venv: Path = DEFAULT_VENV

    @property
    def folder(self) -> Path:
        """``$CITYOPS_HOME/superset``."""
        return self.home / "superset"

    @property
    def metadata_db(self) -> Path:
        """Superset's SQLite metadata database."""
        return self.folder / "superset.db"

    @property
    def secrets_file(self) -> Path:
        """Generated secrets and passwords (0600, git-ignored with the rest of the home)."""
        return self.folder / "secrets.json"

    @property
    def pid_file(self) -> Path:
        """The running server's process id."""
        return self.folder / "superset.pid"

    @property
    def port_file(self) -> Path:
        """The port the running server was started on (beside its pid file)."""
        return self.folder / "superset.port"

    @property
    def log_file(self) -> Path:
        """The server's log (gunicorn and Superset)."""
        return self.folder / "superset.log"

    @property
    def url(self) -> str:
        """Where the server answers."""
        return f"http://{HOST}:{self.port}"

    @property
    def serving_path(self) -> Path:
        """The serving snapshot the database connection opens (a link switched on publish)."""
        return self.home.resolve() / "serving" / "current.duckdb"

    @property
    def live_store_path(self) -> Path:
        """The live path's store (live/store.py), renamed into place after every cycle."""
        return self.home.resolve() / "serving" / "live.duckdb"

    def bin(self, name: str) -> Path:
        """An executable of Superset's virtual environment."""
        return self.venv / "bin" / name


def instance(home: Path | None = None, port: int | None = None) -> Instance:
    """The instance for ``home`` (default ``$CITYOPS_HOME``) on ``port``.

    Without ``port``: the port the server of ``home`` was started on, if one was started and
    not stopped (``superset.port``), else 8088.
    """
    root = (home or paths().home).resolve()
    venv = Path(os.environ.get("CITYOPS_SUPERSET_VENV", DEFAULT_VENV))
    found = Instance(home=root, port=port or DEFAULT_PORT, venv=venv)
    if port is None:
        recorded = recorded_port(found)
        if recorded is not None:
            found = Instance(home=root, port=recorded, venv=venv)
    return found


def recorded_port(target: Instance) -> int | None:
    """The port written when the server of ``target``'s home was started, if any."""
    try:
        return int(target.port_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def duckdb_version(lock: Path = UV_LOCK) -> str:
    """The pipeline's exact duckdb version, from uv.lock: Superset must open the same files."""
    packages = tomllib.loads(lock.read_text(encoding="utf-8"))["package"]
    return next(package["version"] for package in packages if package["name"] == "duckdb")


def requirements(lock: Path = UV_LOCK) -> list[str]:
    """What ``uv pip install`` gets: dashboards/requirements.txt plus duckdb==<pipeline's>."""
    return ["-r", str(REQUIREMENTS), f"duckdb=={duckdb_version(lock)}"]


def _write_private(path: Path, body: dict[str, Any]) -> None:
    # The folder holds the metadata database (password hashes) besides the secrets.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    files.write_json(path, body, mode=0o600, indent=2)


def stored_secrets(target: Instance) -> dict[str, Any]:
    """``secrets.json``, created with fresh random values on first use."""
    path = target.secrets_file
    body = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    wanted = {
        "secret_key": lambda: secrets.token_urlsafe(48),
        "guest_secret": lambda: secrets.token_urlsafe(32),
        "admin_password": lambda: secrets.token_urlsafe(12),
    }
    missing = {key: make() for key, make in wanted.items() if key not in body}
    if missing or "users" not in body:
        body = {**body, **missing, "users": body.get("users", {})}
        _write_private(path, body)
    return body


@dataclass(frozen=True)
class Admin:
    """The admin login."""

    username: str
    password: str
    from_environment: bool


def admin(target: Instance) -> Admin:
    """``SUPERSET_ADMIN_USER`` / ``SUPERSET_ADMIN_PASSWORD``, else admin / the generated one."""
    password = os.environ.get("SUPERSET_ADMIN_PASSWORD")
    username = os.environ.get("SUPERSET_ADMIN_USER") or "admin"
    if password:
        return Admin(username, password, True)
    return Admin(username, stored_secrets(target)["admin_password"], False)


def user_password(target: Instance, username: str) -> str:
    """A provisioned user's password: generated once, kept in ``secrets.json``."""
    body = stored_secrets(target)
    if username not in body["users"]:
        body["users"][username] = secrets.token_urlsafe(12)
        _write_private(target.secrets_file, body)
    return body["users"][username]


def superset_environment(target: Instance) -> dict[str, str]:
    """The environment Superset's processes run with (config path, home, secrets)."""
    stored_secrets(target)  # the config reads the file when the variables are unset
    environment = {
        key: value
        for key, value in os.environ.items()
        # Superset's environment must not see the pipeline's virtual environment.
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }
    environment.update(
        {
            "CITYOPS_HOME": str(target.home),
            "SUPERSET_CONFIG_PATH": str(CONFIG),
            "SUPERSET_HOME": str(target.folder),
            "FLASK_APP": "superset.app:create_app()",
            "PATH": f"{target.venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    return environment
