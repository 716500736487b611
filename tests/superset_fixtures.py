"""A real Superset on a real serving snapshot, shared by the dashboard tests of every tier.

The snapshot is the session's small warehouse (tests/conftest.py: the small generated lake,
one full ``dbt build``, ``serving.publish``), copied so that republishing here
changes nothing the other tests read. Superset is installed into ``.superset-venv/`` if needed (as
``cityops dashboards up`` does), initialised in a temporary ``$CITYOPS_HOME`` and served on a
free port; the provisioner then imports the spec. Imported by tests/conftest.py so the
integration and end-to-end tests share one instance per session.
"""

import socket
import time
from dataclasses import dataclass

import pytest

from dashboards import server
from dashboards.client import SupersetClient
from dashboards.provision import Result
from dashboards.settings import Instance, admin, instance
from tests.integration.dbt_runner import copy_built_home


@dataclass
class SupersetUnderTest:
    """The running instance, what provisioning returned, and how long each step took."""

    target: Instance
    provisioned: Result
    timings: dict[str, float]

    def client(self, username: str | None = None, password: str | None = None) -> SupersetClient:
        """A logged-in client: the admin by default."""
        if username is None:
            login = admin(self.target)
            username, password = login.username, login.password
        return SupersetClient(self.target.url).login(username, password)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def serving_home(small_warehouse, tmp_path_factory):
    """A private copy of the session's built and published home (tests/conftest.py)."""
    built, _ = small_warehouse
    started = time.monotonic()
    home = copy_built_home(built, tmp_path_factory.mktemp("dashboards_home"))
    return home, time.monotonic() - started


@pytest.fixture(scope="session")
def superset_instance(serving_home, monkeypatch_session):
    """Superset serving the provisioned dashboards over the small snapshot; stopped at the end."""
    home, build_seconds = serving_home
    for name in ("SUPERSET_SECRET_KEY", "SUPERSET_ADMIN_USER", "SUPERSET_ADMIN_PASSWORD"):
        monkeypatch_session.delenv(name, raising=False)
    target = instance(home=home, port=free_port())
    timings = {"copy the built home": build_seconds}
    try:
        done = server.up(target)
        timings.update(
            install=done.install_seconds or 0.0,
            start=done.start_seconds,
            provision=done.provision.seconds,
            up=done.total_seconds,
        )
        yield SupersetUnderTest(target, done.provision, timings)
    finally:
        server.stop(target)


@pytest.fixture(scope="session")
def monkeypatch_session():
    """A session-wide monkeypatch (environment for the shared Superset)."""
    with pytest.MonkeyPatch.context() as patch:
        yield patch
