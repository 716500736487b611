"""Dagster wiring: real definitions, real materializations, the CLI driving a real instance."""

import datetime as dt
import json
import shutil
from collections import Counter

import dagster as dg
import pytest

from dagster_project.defs.ingestion.assets import RAW_ASSETS
from dagster_project.defs.ingestion.partitions import DAILY
from dagster_project.defs.ingestion.resources import CityopsHome
from ingestion.pipeline import read_log
from ingestion.settings import paths
from ingestion.sources import CONTRACTS
from tests.cli_runner import cityops

pytestmark = pytest.mark.integration


def test_definitions_have_one_daily_partitioned_asset_per_source_table():
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    raw = {key for key in graph.get_all_asset_keys() if key.path[0] == "raw"}
    assert {key.to_user_string() for key in raw} == {f"raw/{c.table}" for c in CONTRACTS}
    for key in raw:
        assert graph.get(key).partitions_def == DAILY
    assert defs.resolve_job_def("ingest_sources").partitions_def == DAILY


def test_materializing_a_partition_records_the_accounting_as_metadata(small_landing, tmp_path):
    landing_paths, _ = small_landing
    shutil.copytree(landing_paths.landing, tmp_path / "landing")
    result = dg.materialize(
        RAW_ASSETS,
        partition_key="2024-07-02",
        resources={"cityops": CityopsHome(home=str(tmp_path))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    events = result.get_asset_materialization_events()
    assert len(events) == len(CONTRACTS)
    home = paths(tmp_path)
    for event in events:
        table = event.asset_key.path[-1]
        metadata = event.materialization.metadata
        log = read_log(home, table, dt.date(2024, 7, 2))
        assert metadata["rows_read"].value == log["rows_read"]
        assert metadata["dagster/row_count"].value == log["rows_written"]
        assert metadata["rows_quarantined"].value == log["rows_quarantined"]
        assert metadata["quarantined_by_reason"].value == log["quarantined_by_reason"]


# The built home's `cityops run`, if this test is its worker's first user.
@pytest.mark.timeout(1200)
def test_cli_generate_run_status_on_a_fresh_home(built_home):
    # generate, generate again, run (tests/conftest.py).
    home, days = built_home.home, built_home.days
    generated, again, first = built_home.generated, built_home.again, built_home.run
    assert generated.returncode == 0, generated.stderr
    assert "already" in again.stdout  # regenerating the same data is skipped

    assert first.returncode == 0, first.stderr
    assert "Lake totals" in first.stdout

    status = cityops("status", "--json", home=home)
    rows = json.loads(status.stdout)
    assert len(rows) == days * len(CONTRACTS)
    assert {row["status"] for row in rows} == {"ok"}

    assert "Warehouse built" in first.stdout
    assert (home / "warehouse" / "cityops.duckdb").exists()

    # Each job's check results were stored; every job succeeded, so nothing blocks.
    quality = cityops("quality", "--json", home=home)
    assert quality.returncode == 0, quality.stderr
    stored = json.loads(quality.stdout)["results"]
    assert {"volume", "dbt"} <= {result["engine"] for result in stored}
    assert {result["job_name"] for result in stored} == {"ingest_sources", "build_warehouse"}

    # Every run is in the persistent Dagster instance that `dagster dev` reads: one ingestion
    # run per day, then one warehouse build over the whole range.
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    jobs = Counter(record.dagster_run.job_name for record in instance.get_run_records())
    assert jobs == {"ingest_sources": days, "build_warehouse": 1}
    instance.dispose()

    # That re-running is safe (every partition skipped) is shown by the crash test's runs on
    # a copy of this home (tests/integration/test_crash.py).


def test_a_missing_delivery_fails_only_its_partition(tmp_path):
    home = tmp_path / "home"
    assert cityops("generate", "--days", "1", "--scale", "0.01", home=home).returncode == 0
    shutil.rmtree(home / "landing" / "weather")
    result = cityops("run", home=home)
    assert result.returncode == 1
    assert "Failed partitions: 2024-07-01" in result.stderr
    rows = {row["table"]: row for row in json.loads(cityops("status", "--json", home=home).stdout)}
    assert rows["weather_hourly"]["status"] == "failed"
    assert "MissingDelivery" in rows["weather_hourly"]["last_error"]
    assert rows["hotline_orders"]["status"] == "ok"
