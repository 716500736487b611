"""Superset's lifecycle: install, initialise, start in the background, wait for health, stop.

Superset runs as its own application from its own virtual environment (it pins SQLAlchemy
1.4, pandas 2.1 and pyarrow < 19), installed from PyPI with the repository's bootstrapped uv.
The server is gunicorn with one worker process (the SQLite metadata database has one writer)
and eight threads, on 127.0.0.1 only, detached into its own session with a pid file and a log
under ``$CITYOPS_HOME/superset/``. Every step is safe to repeat.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from dashboards.client import SupersetClient, SupersetError
from dashboards.settings import (
    HOST,
    UV,
    Instance,
    admin,
    duckdb_version,
    recorded_port,
    requirements,
    superset_environment,
)
from dashboards.settings import REQUIREMENTS as REQUIREMENTS_FILE

INSTALL_STAMP = ".cityops-installed"
INIT_STAMP = "initialised"
WORKER_THREADS = 8
START_TIMEOUT = 180.0

Report = Callable[[str], None]


class ServerError(RuntimeError):
    """Superset could not be installed, initialised, started or stopped."""


def _quiet(_: str) -> None:
    return None


# -- install --------------------------------------------------------------------------------


def install_fingerprint() -> str:
    """Changes whenever the pins change: requirements.txt or the pipeline's duckdb."""
    text = REQUIREMENTS_FILE.read_text(encoding="utf-8") + duckdb_version()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_installed(target: Instance) -> bool:
    """Whether the virtual environment holds exactly the pinned packages."""
    stamp = target.venv / INSTALL_STAMP
    return (
        target.bin("superset").exists()
        and stamp.exists()
        and stamp.read_text().strip() == install_fingerprint()
    )


def install(target: Instance, *, report: Report = _quiet) -> float | None:
    """Create the virtual environment and install the pins; seconds taken, None if current."""
    if is_installed(target):
        return None
    if not UV.exists():
        raise ServerError(f"{UV} is missing: run `make setup` first (it bootstraps uv).")
    started = time.monotonic()
    report(f"Installing Superset into {target.venv} (pins: {REQUIREMENTS_FILE.name}) …")
    environment = {**os.environ, "VIRTUAL_ENV": str(target.venv)}
    environment.pop("UV_PROJECT_ENVIRONMENT", None)
    # The interpreter the pipeline runs on (3.11), unless make's UV_PYTHON says otherwise.
    python = os.environ.get("UV_PYTHON") or sys.executable
    venv_python = str(target.bin("python"))
    # Bytecode compiled once here, not by every Superset process that starts.
    install = ("pip", "install", "--quiet", "--compile-bytecode", "--python", venv_python)
    for command in (
        [str(UV), "venv", "--quiet", "--python", python, str(target.venv)],
        [str(UV), *install, *requirements()],
    ):
        result = subprocess.run(command, env=environment, capture_output=True, text=True)
        if result.returncode != 0:
            raise ServerError(f"{' '.join(command)} failed:\n{result.stderr[-4000:]}")
    (target.venv / INSTALL_STAMP).write_text(install_fingerprint() + "\n")
    return time.monotonic() - started


def superset_version(target: Instance) -> str:
    """The installed apache-superset version (from its dist-info folder)."""
    found = sorted(target.venv.glob("lib/python*/site-packages/apache_superset-*.dist-info"))
    if not found:
        raise ServerError(f"apache-superset is not installed in {target.venv}")
    return found[-1].name.removeprefix("apache_superset-").removesuffix(".dist-info")


# -- initialise ------------------------------------------------------------------------------


def superset(target: Instance, *arguments: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the ``superset`` CLI of the instance's environment."""
    result = subprocess.run(
        [str(target.bin("superset")), *arguments],
        env=superset_environment(target),
        cwd=target.folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check and result.returncode != 0:
        raise ServerError(f"superset {' '.join(arguments[:2])} failed:\n{result.stderr[-4000:]}")
    return result


def initialise(target: Instance, *, report: Report = _quiet) -> bool:
    """``db upgrade``, the admin user and ``init``, once per Superset version; True if run."""
    target.folder.mkdir(parents=True, exist_ok=True)
    stamp = target.folder / INIT_STAMP
    version = superset_version(target)
    if stamp.exists() and stamp.read_text().strip() == version:
        return False
    report("Initialising Superset's metadata database (db upgrade, admin, init) …")
    superset(target, "db", "upgrade")
    ensure_admin_user(target)
    superset(target, "init")
    stamp.write_text(version + "\n")
    return True


def ensure_admin_user(target: Instance) -> None:
    """Create the admin user, or reset its password to the configured one."""
    login = admin(target)
    created = superset(
        target,
        "fab",
        "create-admin",
        "--username",
        login.username,
        "--firstname",
        "城运",
        "--lastname",
        "管理员",
        "--email",
        f"{login.username}@cityops.invalid",
        "--password",
        login.password,
    )
    if "already exist" in (created.stdout + created.stderr).lower():
        superset(
            target,
            "fab",
            "reset-password",
            "--username",
            login.username,
            "--password",
            login.password,
        )


# -- run ------------------------------------------------------------------------------------


def running_pid(target: Instance) -> int | None:
    """The server's pid if it runs (the pid file points at a live gunicorn), else None."""
    try:
        pid = int(target.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
        command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ProcessLookupError):
        return None
    return pid if "gunicorn" in command else None


def is_healthy(target: Instance) -> bool:
    """Whether /health answers OK."""
    try:
        response = httpx.get(f"{target.url}/health", timeout=5, trust_env=False)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.text.strip() == "OK"


def start(target: Instance, *, report: Report = _quiet) -> bool:
    """Start gunicorn in the background unless it runs; True if started. Waits for /health.

    The port goes into ``superset.port`` beside the pid file, so that ``status``, ``login``
    and ``up`` without ``--port`` find the server where it was started.
    """
    if running_pid(target) is not None:
        recorded = recorded_port(target)
        if recorded is not None and recorded != target.port:
            raise ServerError(
                f"The Superset of {target.home} already runs on port {recorded}; leave out "
                "--port, or stop it first (`cityops dashboards down`)."
            )
        wait_healthy(target)
        return False
    if is_healthy(target):
        raise ServerError(
            f"Something else answers on {target.url}; stop it or use another port (--port)."
        )
    report(f"Starting Superset on {target.url} (log: {target.log_file}) …")
    target.folder.mkdir(parents=True, exist_ok=True)
    command = [
        str(target.bin("gunicorn")),
        "--bind",
        f"{HOST}:{target.port}",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        str(WORKER_THREADS),
        "--timeout",
        "120",
        "--pid",
        str(target.pid_file),
        "superset.app:create_app()",
    ]
    with target.log_file.open("ab") as log:
        process = subprocess.Popen(
            command,
            env=superset_environment(target),
            cwd=target.folder,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    target.pid_file.write_text(f"{process.pid}\n")
    target.port_file.write_text(f"{target.port}\n", encoding="ascii")
    try:
        wait_healthy(target, process=process)
    except ServerError:
        stop(target)
        raise
    return True


def wait_healthy(
    target: Instance, *, process: subprocess.Popen | None = None, timeout: float = START_TIMEOUT
) -> float:
    """Wait until /health answers; seconds waited. Fails early if the process died."""
    started = time.monotonic()
    while not is_healthy(target):
        if process is not None and process.poll() is not None:
            raise ServerError(f"Superset exited with {process.returncode}; see {target.log_file}")
        if time.monotonic() - started > timeout:
            raise ServerError(
                f"Superset did not answer within {timeout:.0f} s; see {target.log_file}"
            )
        time.sleep(0.5)
    return time.monotonic() - started


def stop(target: Instance, *, timeout: float = 30.0) -> bool:
    """Stop the server (SIGTERM to its process group, SIGKILL after ``timeout``); True if it ran."""
    pid = running_pid(target)
    if pid is None:
        target.pid_file.unlink(missing_ok=True)
        target.port_file.unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running_pid(target) is not None:
        time.sleep(0.3)
    if running_pid(target) is not None:
        os.killpg(pid, signal.SIGKILL)
    target.pid_file.unlink(missing_ok=True)
    target.port_file.unlink(missing_ok=True)
    return True


@dataclass(frozen=True)
class Status:
    """What `cityops dashboards status` shows."""

    installed: bool
    initialised: bool
    pid: int | None
    healthy: bool
    url: str


def status(target: Instance) -> Status:
    """Whether it is installed, initialised, running and answering."""
    return Status(
        installed=is_installed(target),
        initialised=(target.folder / INIT_STAMP).exists(),
        pid=running_pid(target),
        healthy=is_healthy(target),
        url=target.url,
    )


# -- all together ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Up:
    """What `cityops dashboards up` did, with timings in seconds."""

    install_seconds: float | None
    initialised: bool
    started: bool
    start_seconds: float
    provision: object  # dashboards.provision.Result
    total_seconds: float


def admin_client(target: Instance) -> SupersetClient:
    """A client logged in as the admin; resets the admin's password once if it was changed."""
    login = admin(target)
    client = SupersetClient(target.url)
    try:
        return client.login(login.username, login.password)
    except SupersetError as error:
        if error.status_code != 401:
            raise
    ensure_admin_user(target)  # SUPERSET_ADMIN_USER / _PASSWORD changed since initialisation
    return client.login(login.username, login.password)


def up(target: Instance, *, report: Report = _quiet) -> Up:
    """Install if needed, initialise once, start unless running, then (re-)provision."""
    from dashboards.provision import provision

    started_at = time.monotonic()
    install_seconds = install(target, report=report)
    initialised = initialise(target, report=report)
    before_start = time.monotonic()
    started = start(target, report=report)
    start_seconds = time.monotonic() - before_start
    with admin_client(target) as client:
        result = provision(client, target, report=report)
    return Up(
        install_seconds=install_seconds,
        initialised=initialised,
        started=started,
        start_seconds=start_seconds,
        provision=result,
        total_seconds=time.monotonic() - started_at,
    )
