"""Great Expectations and delivery-fault checks in real Dagster runs over the small lake.

- every fault the generator planted is counted, by kind, by the ``delivery_faults`` check of
  its table and day (exactly the manifest's count), and the file-level faults fail it;
- the clean lake passes every table's ``gx_suite`` at ERROR;
- a partition that breaks its suite stops everything downstream: no dbt model is built and
  the serving snapshot is not published.
"""

import datetime as dt
import shutil
from collections import defaultdict

import dagster as dg
import duckdb
import pytest

from ingestion.settings import paths
from ingestion.sources import CONTRACTS
from tests.conftest import SMALL
from tests.integration.dbt_runner import TEST_KEY

pytestmark = pytest.mark.integration

DAYS = [SMALL["start"] + dt.timedelta(days=n) for n in range(SMALL["days"])]


def _run_config(home):
    return {
        "resources": {"cityops": {"config": {"home": str(home)}}},
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }


def _evaluations(result):
    return [
        event.event_specific_data
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
    ]


@pytest.fixture(scope="module")
def ingested(small_landing, tmp_path_factory):
    """The small landing ingested through the Dagster job, one run per day, with its checks."""
    from dagster_project.definitions import defs

    landing_paths, manifest = small_landing
    home = tmp_path_factory.mktemp("checked_home")
    shutil.copytree(landing_paths.landing, home / "landing")
    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("ingest_sources")
    evaluations = {}
    for day in DAYS:
        result = job.execute_in_process(
            partition_key=day.isoformat(),
            instance=instance,
            run_config=_run_config(home),
            raise_on_error=False,
        )
        assert result.success, day
        for evaluation in _evaluations(result):
            evaluations[(evaluation.asset_key.path[-1], evaluation.check_name, day)] = evaluation
    return paths(home), manifest, evaluations


def test_every_planted_fault_is_counted_by_kind_in_its_delivery_faults_check(ingested):
    _, manifest, evaluations = ingested
    planted = defaultdict(int)
    for fault in manifest["faults"]:
        planted[(fault["table"], dt.date.fromisoformat(fault["date"]), fault["kind"])] += fault[
            "count"
        ]
    assert {kind for _, _, kind in planted} == {
        "malformed_record",
        "exact_duplicate",
        "superseded_version",
        "late_record",
        "out_of_range",
        "unknown_code",
        "invalid_format",
        "encoding_mismatch",
        "truncated_file",
    }
    for (table, day, kind), count in planted.items():
        evaluation = evaluations[(table, "delivery_faults", day)]
        counted = evaluation.metadata["faults"].value[day.isoformat()]
        assert counted.get(kind) == count, (table, day, kind)


def test_file_level_faults_fail_the_check_as_warnings(ingested):
    _, manifest, evaluations = ingested
    whole_file = {
        (f["table"], dt.date.fromisoformat(f["date"]), f["kind"])
        for f in manifest["faults"]
        if f["kind"] in ("encoding_mismatch", "truncated_file")
    }
    assert {kind for _, _, kind in whole_file} == {"encoding_mismatch", "truncated_file"}
    for table, day, kind in whole_file:
        evaluation = evaluations[(table, "delivery_faults", day)]
        assert not evaluation.passed
        assert evaluation.severity == dg.AssetCheckSeverity.WARN
        assert kind in evaluation.metadata["over_tolerance"].value[day.isoformat()]


def test_the_clean_lake_passes_every_suite_at_error_level(ingested):
    _, _, evaluations = ingested
    suites = {key: e for key, e in evaluations.items() if key[1] == "gx_suite"}
    assert len(suites) == len(CONTRACTS) * len(DAYS)
    blocking = [
        (key, e.description)
        for key, e in suites.items()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]
    assert blocking == []
    readings = suites[("iot_readings", "gx_suite", DAYS[1])]
    assert readings.metadata["rows"].value[0] > 1000
    assert readings.metadata["expectations"].value >= 8


def _break_a_partition(home, tmp_path):
    """A copy of the home with one grid partition hand-edited past its contract."""
    shutil.copytree(home.home, tmp_path / "home")
    broken = paths(tmp_path / "home")
    day = DAYS[-1]
    # An unknown grid code, written straight into the lake as no ingestion would.
    part = next(broken.raw_partition("grid_cases", day).glob("*.parquet"))
    with duckdb.connect() as con:
        con.execute(
            "copy (select * replace (case when _source_record = (select min(_source_record) "
            "from read_parquet($1, hive_partitioning = false)) then 'JA999-99' else grid_code "
            "end as grid_code) from read_parquet($1, hive_partitioning = false)) to '"
            + str(tmp_path / "part.parquet")
            + "' (format parquet)",
            [str(part)],
        )
    shutil.move(tmp_path / "part.parquet", part)
    return broken, day


def test_a_partition_breaking_its_suite_blocks_the_build_and_the_publish(
    ingested, tmp_path, monkeypatch
):
    from dagster_project.definitions import defs
    from serving import current_snapshot

    broken, day = _break_a_partition(ingested[0], tmp_path)
    monkeypatch.setenv("CITYOPS_PII_KEY", TEST_KEY)

    result = defs.resolve_job_def("daily_pipeline").execute_in_process(
        partition_key=day.isoformat(),
        instance=dg.DagsterInstance.ephemeral(),
        run_config=_run_config(broken.home),
        raise_on_error=False,
    )

    evaluations = _evaluations(result)
    suite = next(
        e
        for e in evaluations
        if e.check_name == "gx_suite" and e.asset_key.path[-1] == "grid_cases"
    )
    assert not suite.passed
    assert suite.severity == dg.AssetCheckSeverity.ERROR
    assert "known_grid_code" in suite.description
    # It is the only blocking failure of the run, so it alone stopped what follows (the
    # freshness checks fail too, July 2024 being long past, but they never block).
    errors = [
        (e.asset_key.to_user_string(), e.check_name)
        for e in evaluations
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR and e.blocking
    ]
    assert errors == [("raw/grid_cases", "gx_suite")]
    materialized = {tuple(e.asset_key.path) for e in result.get_asset_materialization_events()}
    assert all(key[0] == "raw" for key in materialized), materialized
    assert current_snapshot(broken) is None
    assert not (broken.warehouse / "cityops.duckdb").exists()


def test_cityops_run_stops_before_the_build_on_a_blocking_check(ingested, tmp_path):
    from typer.testing import CliRunner

    from dagster_project.cli import app
    from serving import current_snapshot

    broken, day = _break_a_partition(ingested[0], tmp_path)
    result = CliRunner().invoke(
        app,
        ["run"],
        env={
            "CITYOPS_HOME": str(broken.home),
            "DAGSTER_HOME": str(tmp_path / "dagster"),
            "CITYOPS_PII_KEY": TEST_KEY,
        },
    )
    assert result.exit_code == 1, result.output[-2000:]
    assert f"Failed partitions: {day}" in result.output
    assert f"{day} raw/grid_cases:gx_suite" in result.output
    assert not (broken.warehouse / "cityops.duckdb").exists()
    assert current_snapshot(broken) is None
