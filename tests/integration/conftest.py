"""Fixtures shared by the integration tests."""

import pytest

from tests.integration.robots import serve


@pytest.fixture
def robot(monkeypatch):
    """A recording robot server on 127.0.0.1 (proxies disabled, so requests stay local)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    robot, thread = serve()
    yield robot
    robot.stopping.set()
    robot.server.shutdown()
    robot.server.server_close()
    thread.join()
