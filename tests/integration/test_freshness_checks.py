"""Freshness checks: a source that stops delivering trips its check; the others stay fresh.

The data covers the three days before today (Beijing time), so the test holds at any hour:
whatever the wall clock, each SLA's expected partition is yesterday or the day before, which
every source delivered except the stopped one.
"""

import datetime as dt

import dagster as dg
import pytest
from typer.testing import CliRunner

from dagster_project.defs.quality.freshness import FRESHNESS_CHECKS, FRESHNESS_SENSOR
from ingestion.pipeline import landing_files
from ingestion.settings import paths
from ingestion.sources import BY_TABLE, CONTRACTS
from quality.freshness import SHANGHAI, SLA_BY_TABLE, freshness_status

pytestmark = pytest.mark.integration

STOPPED = "iot_readings"


@pytest.fixture(scope="module")
def stopped_feed(tmp_path_factory):
    """Three days ingested through ``ingest_sources``; readings stop after the first day."""
    from dagster_project.definitions import defs
    from demo import generate

    today = dt.datetime.now(SHANGHAI).date()
    days = [today - dt.timedelta(days=back) for back in (3, 2, 1)]
    home = paths(tmp_path_factory.mktemp("freshness_home"))
    generate(home.home, start=days[0], days=3, seed=5, scale=0.001, fault_rate=0.0)
    # The sensor platform stops sending readings batches (its device registry still arrives).
    for day in days[1:]:
        for batch in landing_files(home, BY_TABLE[STOPPED], day):
            batch.unlink()
    home.dagster_home.mkdir()
    instance = dg.DagsterInstance.local_temp(str(home.dagster_home))
    run_config = {"resources": {"cityops": {"config": {"home": str(home.home)}}}}
    runs = {
        day: defs.resolve_job_def("ingest_sources").execute_in_process(
            partition_key=day.isoformat(),
            instance=instance,
            run_config=run_config,
            raise_on_error=False,
        )
        for day in days
    }
    return home, instance, days, runs


def _failed_steps(result: dg.ExecuteInProcessResult) -> list[str]:
    return sorted(event.step_key for event in result.all_events if event.is_step_failure)


def _freshness_checked(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        evaluation.asset_key.path[-1]
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.check_name == "freshness_check"
    }


def test_a_source_that_stops_delivering_trips_its_freshness_check(stopped_feed):
    from dagster_project.definitions import defs

    home, instance, days, runs = stopped_feed
    # Only the stopped feed failed, with a missing delivery, on the days it sent nothing.
    assert runs[days[0]].success
    assert [_failed_steps(runs[day]) for day in days[1:]] == [[f"raw__{STOPPED}"]] * 2
    # The checks ran inside each ingestion run too, after their asset: all of them on the first
    # day, every one but the stopped feed's afterwards (one check per table, so the failed
    # asset holds back no other table's check).
    assert _freshness_checked(runs[days[0]]) == set(SLA_BY_TABLE)
    assert [_freshness_checked(runs[day]) for day in days[1:]] == [
        set(SLA_BY_TABLE) - {STOPPED}
    ] * 2

    before = dt.datetime.now(SHANGHAI)
    job = dg.define_asset_job(
        "freshness_now", selection=dg.AssetSelection.checks(*FRESHNESS_CHECKS)
    )
    checked = (
        dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
        .resolve_job_def("freshness_now")
        .execute_in_process(instance=instance)
    )
    after = dt.datetime.now(SHANGHAI)

    evaluations = {
        evaluation.asset_key.path[-1]: evaluation
        for evaluation in checked.get_asset_check_evaluations()
    }
    assert checked.success  # a failed freshness check never fails the run
    assert set(evaluations) == {contract.table for contract in CONTRACTS}
    outcome = {table: (e.passed, e.severity.value) for table, e in evaluations.items()}
    # Exactly the stopped feed fails, with its SLA's severity (ERROR); the others pass.
    assert outcome == {
        table: (table != STOPPED, sla.severity) for table, sla in SLA_BY_TABLE.items()
    }
    # Dagster expected the same partition as the plain SLA arithmetic (yesterday or the day
    # before, depending on the hour); a deadline may pass between `before` and `after`.
    stopped_sla = SLA_BY_TABLE[STOPPED]
    expected = {stopped_sla.expected_partition(before), stopped_sla.expected_partition(after)}
    assert expected <= {days[1], days[2]}
    assert any(day.isoformat() in evaluations[STOPPED].description for day in expected)

    # The plain status (ingestion accounting, no Dagster) agrees, and says since when.
    status = {row.sla.table: row for row in freshness_status(home, after)}
    assert {table for table, row in status.items() if row.is_overdue} == {STOPPED}
    assert status[STOPPED].latest == days[0]
    assert status[STOPPED].overdue_since == stopped_sla.deadline_of(days[1])
    assert status["weather_hourly"].latest == days[2]


def test_cityops_freshness_reports_the_stopped_source_and_exits_1(stopped_feed):
    from dagster_project.cli import app

    home, _, days, _ = stopped_feed
    runner = CliRunner()
    as_json = runner.invoke(app, ["freshness", "--json"], env={"CITYOPS_HOME": str(home.home)})
    table = runner.invoke(app, ["freshness"], env={"CITYOPS_HOME": str(home.home)})
    # As of 11:00 on the second day only the first day is due, and every source sent it.
    earlier = runner.invoke(
        app,
        ["freshness", "--now", f"{days[1].isoformat()}T11:00"],
        env={"CITYOPS_HOME": str(home.home)},
    )

    import json

    rows = json.loads(as_json.stdout)
    assert as_json.exit_code == 1
    assert [row["table"] for row in rows if row["is_overdue"]] == [STOPPED]
    assert next(r for r in rows if r["table"] == STOPPED)["latest_partition"] == str(days[0])
    assert table.exit_code == 1
    assert "物联感知读数" in table.stdout and f"超时 1/{len(SLA_BY_TABLE)}" in table.stdout
    assert earlier.exit_code == 0, earlier.stdout
    assert f"超时 0/{len(SLA_BY_TABLE)}" in earlier.stdout


def test_the_freshness_sensor_targets_every_check_and_starts_stopped():
    context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral())

    request = FRESHNESS_SENSOR(context)

    # Nothing evaluated yet on a new instance: every table's check is requested once.
    assert {key.asset_key.path[-1] for key in request.asset_check_keys} == set(SLA_BY_TABLE)
    assert {key.name for key in request.asset_check_keys} == {"freshness_check"}
    assert FRESHNESS_SENSOR.default_status == dg.DefaultSensorStatus.STOPPED
