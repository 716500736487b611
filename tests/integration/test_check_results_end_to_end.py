"""Quality results end to end: real Dagster runs, the collector, `cityops quality`, the dbt mart.

The small generated lake (4 days, already ingested) is run through ``ingest_sources`` against
a real SQLite Dagster instance: the volume, Great Expectations, fault and freshness checks
evaluate for real. A blocking failure is planted the way it happens: the IoT feed goes
silent (header-only files) on 07-04, a busy Thursday, and the volume check fails at ERROR.
"""

import datetime as dt
import gzip
import json

import dagster as dg
import duckdb
import pytest
from typer.testing import CliRunner

from dagster_project.defs.quality.results import (
    collect,
    collect_check_results,
    collect_check_results_after_failure,
)
from ingestion.pipeline import read_log
from ingestion.sources import CONTRACTS
from quality.results import latest, read_results
from tests.integration.dbt_runner import run_dbt

pytestmark = pytest.mark.integration

VOLUME = "volume_within_baseline"


def _ingest(instance, home, day, *, accept_smaller_resend=False):
    from dagster_project.definitions import defs

    config = {"home": str(home.home), "force": True, "accept_smaller_resend": accept_smaller_resend}

    return defs.resolve_job_def("ingest_sources").execute_in_process(
        partition_key=day,
        instance=instance,
        run_config={
            "resources": {"cityops": {"config": config}},
            "loggers": {"console": {"config": {"log_level": "ERROR"}}},
        },
        raise_on_error=False,
    )


def _quality(home, *arguments):
    from dagster_project.cli import app

    return CliRunner().invoke(app, ["quality", *arguments], env={"CITYOPS_HOME": str(home.home)})


def _silence_readings(home, day):
    """Every hourly readings file of the day keeps only its header: a silent feed."""
    for path in sorted((home.landing / "iot" / day).glob("readings_*.csv.gz")):
        with gzip.open(path, "rb") as handle:
            header = handle.readline()
        with gzip.open(path, "wb") as handle:
            handle.write(header)


def _sensor_context(instance, result, status):
    event_type = "PIPELINE_SUCCESS" if status == "success" else "PIPELINE_FAILURE"
    event = next(e for e in result.all_events if e.event_type_value == event_type)
    context = dg.build_run_status_sensor_context(
        sensor_name="collect",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=event,
    )
    return context if status == "success" else context.for_run_failure()


def test_check_results_are_collected_shown_and_modelled(lake_copy, tmp_path):
    home, _ = lake_copy
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        clean = _ingest(instance, home, "2024-07-03")
        assert clean.success

        # The success sensor stores the run's evaluations; collecting again adds nothing.
        collect_check_results(_sensor_context(instance, clean, "success"))
        stored = read_results(home)
        again = collect(instance, home, [clean.run_id])

        volume = [r for r in stored if r.check_name == VOLUME]
        assert again.added == 0 and again.evaluations == len(stored)
        assert {r.source_table for r in volume} == {c.table for c in CONTRACTS}
        assert all(r.run_id == clean.run_id and r.engine == "volume" for r in volume)
        assert all(r.partition_start == r.partition_end == dt.date(2024, 7, 3) for r in volume)
        assert {r.engine for r in stored} >= {"volume", "gx", "freshness"}

        before = _quality(home)
        assert before.exit_code == 0, before.output
        assert "raw/iot_readings" in before.output and "无阻断失败" in before.output

        # 07-04: the IoT readings feed goes silent. The fixture's lake already holds 07-04, so
        # the empty re-send is first refused (the partition keeps its rows); once the operator
        # accepts it, the volume check fails at ERROR, blocks, and the run fails; the failure
        # sensor stores the evaluation all the same.
        _silence_readings(home, "2024-07-04")
        refused = _ingest(instance, home, "2024-07-04")
        assert not refused.success
        assert read_log(home, "iot_readings", dt.date(2024, 7, 4))["rows_read"] > 0
        silent = _ingest(instance, home, "2024-07-04", accept_smaller_resend=True)
        assert not silent.success
        assert read_log(home, "iot_readings", dt.date(2024, 7, 4))["rows_read"] == 0
        collect_check_results_after_failure(_sensor_context(instance, silent, "failure"))

    after = _quality(home, "--json")
    payload = json.loads(after.stdout)
    assert after.exit_code == 1
    assert payload["summary"]["blocking_failures"] == [f"raw/iot_readings:{VOLUME}"]
    # July 2024 judged by today's wall clock: every freshness check is late, not failed.
    assert payload["summary"]["late"] == len(CONTRACTS)
    freshness_results = [r for r in payload["results"] if r["engine"] == "freshness"]
    assert {(r["check_class"], r["outcome"]) for r in freshness_results} == {("timeliness", "late")}
    failure = next(
        r for r in payload["results"]
        if r["asset_key"] == "raw/iot_readings" and r["check_name"] == VOLUME
    )  # fmt: skip
    assert "2024-07-04: empty partition where about" in failure["description"]
    assert failure["severity"] == "ERROR" and failure["is_blocking_failure"]
    # The day before is still fine: `--day` shows that day's own results.
    assert _quality(home, "--day", "2024-07-03").exit_code == 0
    failed_only = _quality(home, "--failed-only", "--source", "iot_readings")
    assert "失败·阻断" in failed_only.output and "阻断失败 1" in failed_only.output

    # The dbt quality mart over the same store and accounting records.
    built = run_dbt(
        home.home,
        tmp_path / "target",
        "build",
        "--select",
        "quarantine_reasons path:models/staging/quality+",
    )
    assert built.returncode == 0, built.stdout[-3000:]
    stored = read_results(home)
    with duckdb.connect(str(home.warehouse / "cityops.duckdb"), read_only=True) as con:
        facts = con.execute(
            "select count(*), count(*) filter (where not is_passed), "
            "count(*) filter (where is_blocking_failure) from quality.fct_check_results"
        ).fetchall()[0]
        silent_day = con.execute(
            "select evaluation_count, failed_count, worst_severity, is_latest_passed "
            "from quality.fct_check_results_daily where check_date = date '2024-07-04' "
            "and asset_key = 'raw/iot_readings' and check_name = ?",
            [VOLUME],
        ).fetchall()
        quarantined = dict(
            con.execute(
                "select table_name, sum(rows_quarantined) from quality.fct_quarantine_daily "
                "group by table_name"
            ).fetchall()
        )
        outcomes = con.execute(
            "select check_class, outcome, count(*) from quality.fct_check_results "
            "group by all order by all"
        ).fetchall()
        sources = con.execute(
            "select table_name, newest_partition_date, data_status_name, wall_clock_status_name "
            "from quality.fct_source_freshness order by table_name"
        ).fetchall()
        as_of = con.execute(
            "select is_demo, data_as_of_date, sources_late_by_wall_clock, data_note "
            "from quality.fct_data_as_of"
        ).fetchall()
    assert facts == (
        len(stored),
        sum(not r.passed for r in stored),
        sum(r.is_blocking_failure for r in stored),
    )
    assert silent_day == [(1, 1, "ERROR", False)]
    # Freshness failures are lags (时效滞后), the rest are data checks that passed or failed.
    freshness = sum(r.engine == "freshness" for r in stored)
    assert ("timeliness", "late", freshness) in outcomes
    assert {(c, o) for c, o, _ in outcomes} <= {
        ("data", "passed"),
        ("data", "failed"),
        ("timeliness", "late"),
    }
    # Every table delivered up to 07-04 (the silent feed's empty partition included): on time
    # by the data's own newest day, late by the wall clock; the generator's manifest says demo.
    tables = sorted(contract.table for contract in CONTRACTS)
    assert sources == [(table, dt.date(2024, 7, 4), "按时", "时效滞后") for table in tables]
    [(is_demo, as_of_date, late_sources, note)] = as_of
    assert (is_demo, as_of_date, late_sources) == (True, dt.date(2024, 7, 4), len(tables))
    assert note.startswith("演示数据：数据截至 2024-07-04。") and "均为滞后" in note
    logs = [
        read_log(home, contract.table, dt.date(2024, 7, day))
        for contract in CONTRACTS
        for day in range(1, 5)
    ]
    expected = {}
    for log in logs:
        expected[log["table"]] = expected.get(log["table"], 0) + log["rows_quarantined"]
    assert quarantined == expected
    # The store's own view agrees: one blocking failure, named.
    assert [s.result.check_name for s in latest(home) if s.is_blocking_failure] == [VOLUME]
