"""`dagster dev` shows the assets of `cityops run` with partitions and accounting metadata."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _graphql(port, query):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["data"]


# The built home's `cityops run` (if this test is its worker's first user), then `dagster dev`.
@pytest.mark.timeout(1200)
def test_dagster_dev_shows_partitioned_assets_with_metadata(built_home, tmp_path):
    # A copy of the home after `cityops generate` + `cityops run` (tests/conftest.py).
    home = built_home.copy(tmp_path / "home")
    # As `make dev` runs it: the venv's bin first on PATH (dagster dev re-parses dbt on load).
    env = {
        **os.environ,
        "CITYOPS_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "PATH": f"{BIN}:/usr/bin:/bin",
        # dagster dev re-parses dbt on load: into a private folder, not the repository's
        # dbt/target, which tests running beside this one read (make test runs two workers).
        "DBT_TARGET_PATH": str(tmp_path / "dbt_target"),
    }
    port = _free_port()
    server = subprocess.Popen(
        [
            BIN / "dagster",
            "dev",
            "-m",
            "dagster_project.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # The webserver answers before the code location has loaded (dagster dev re-parses
        # dbt first): until then assetNodes is empty. Poll until the assets are there.
        deadline = time.monotonic() + 180
        while True:
            try:
                nodes = _graphql(port, "{ assetNodes { assetKey { path } isPartitioned } }")
                if nodes and nodes.get("assetNodes"):
                    break
            except OSError:
                if server.poll() is not None:
                    raise
            if time.monotonic() > deadline or server.poll() is not None:
                raise AssertionError("dagster dev showed no assets within 180 s")
            time.sleep(1)
        keys = {tuple(node["assetKey"]["path"]) for node in nodes["assetNodes"]}
        assert ("raw", "hotline_orders") in keys
        assert all(
            node["isPartitioned"]
            for node in nodes["assetNodes"]
            if node["assetKey"]["path"][0] == "raw"
        )
        asset = _graphql(
            port,
            '{ assetOrError(assetKey: {path: ["raw", "hotline_orders"]}) { ... on Asset { '
            "assetMaterializations(limit: 1) { partition metadataEntries { label } } } } }",
        )
        materialization = asset["assetOrError"]["assetMaterializations"][0]
        labels = {entry["label"] for entry in materialization["metadataEntries"]}
        days = {f"2024-07-0{day}" for day in range(1, built_home.days + 1)}
        assert materialization["partition"] in days
        assert {
            "dagster/row_count",
            "rows_read",
            "rows_quarantined",
            "quarantined_by_reason",
        } <= labels
    finally:
        # dagster dev may still be starting its daemon when the assertions are done; it can
        # take longer than 30 s to stop then (seen in CI). Stop it, then kill what remains.
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
