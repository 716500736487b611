"""The Superset server's lifecycle around its port, with a stand-in for gunicorn.

The stand-in answers ``/health`` like Superset and is started, found and stopped by the real
``dashboards.server`` code and the ``cityops dashboards`` commands; installing and
provisioning Superset itself is tested in ``test_dashboards.py``.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboards import server
from dashboards.settings import Instance
from tests.superset_fixtures import free_port

pytestmark = pytest.mark.integration

CITYOPS = Path(sys.executable).with_name("cityops")
# Serves /health with "OK" on the address after --bind, as gunicorn serves Superset's.
STAND_IN = f"""#!{sys.executable}
import http.server, sys
host, port = sys.argv[sys.argv.index("--bind") + 1].rsplit(":", 1)


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *arguments):
        pass


http.server.HTTPServer((host, int(port)), Health).serve_forever()
"""


@pytest.fixture
def stand_in(tmp_path):
    """An instance whose environment's ``gunicorn`` is the stand-in; stopped at the end."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    gunicorn = venv / "bin" / "gunicorn"
    gunicorn.write_text(STAND_IN, encoding="utf-8")
    gunicorn.chmod(0o755)
    target = Instance(home=tmp_path / "home", port=free_port(), venv=venv)
    yield target
    server.stop(target)


def test_dashboards_status_reports_the_port_the_server_was_started_on(stand_in):
    environment = {
        **os.environ,
        "CITYOPS_HOME": str(stand_in.home),
        "CITYOPS_SUPERSET_VENV": str(stand_in.venv),
    }

    assert server.start(stand_in)
    status = subprocess.run(
        [CITYOPS, "dashboards", "status"], env=environment, capture_output=True, text=True
    )
    stopped = subprocess.run(
        [CITYOPS, "dashboards", "down"], env=environment, capture_output=True, text=True
    )

    # Started on a free port, not on the default 8088: status (without --port) finds it there
    # and it answers (exit code 0 means healthy).
    assert status.returncode == 0, status.stdout
    assert f"Superset — {stand_in.url}" in status.stdout
    assert stopped.returncode == 0 and "Stopped" in stopped.stdout
    assert not stand_in.port_file.exists()


def test_dashboards_up_on_another_port_than_the_running_one_says_where_it_runs(stand_in):
    elsewhere = Instance(home=stand_in.home, port=free_port(), venv=stand_in.venv)

    server.start(stand_in)
    with pytest.raises(server.ServerError) as refused:
        server.start(elsewhere)

    assert f"already runs on port {stand_in.port}" in str(refused.value)
