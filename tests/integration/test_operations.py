"""Operations in Dagster: the graph snapshot, the landing sensor, failure alerts, backfill."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.defs.operations.sensors import (
    landing_sensor,
    live_path_heartbeat,
    notify_on_run_failure,
)
from ingestion.settings import paths
from tests.integration.dbt_runner import TEST_KEY

pytestmark = pytest.mark.integration

SNAPSHOT = Path(__file__).with_name("snapshots") / "definitions.json"


def _graph_snapshot() -> dict:
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    return {
        "assets": sorted(key.to_user_string() for key in graph.get_all_asset_keys()),
        "checks": sorted(
            f"{check.asset_key.to_user_string()}:{check.name}" for check in graph.asset_check_keys
        ),
        "jobs": sorted(
            job.name for job in defs.resolve_all_job_defs() if job.name != "__ASSET_JOB"
        ),
        "schedules": sorted(schedule.name for schedule in defs.schedules),
        "sensors": sorted(sensor.name for sensor in defs.sensors),
    }


def test_the_orchestration_graph_matches_its_reviewed_snapshot():
    """Asset keys, checks, jobs, schedules and sensors; UPDATE_SNAPSHOTS=1 rewrites the file."""
    current = _graph_snapshot()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, ensure_ascii=False, indent=1) + "\n", "utf-8")
    assert current == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_dagster_definitions_validate_passes(tmp_path):
    validated = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            "definitions",
            "validate",
            "-m",
            "dagster_project.definitions",
        ],
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert validated.returncode == 0, validated.stderr[-3000:]
    assert "All code locations passed validation" in validated.stderr + validated.stdout


def test_every_job_runs_its_steps_in_the_run_process():
    # The daemon and `dagster dev` launch runs with the job's executor; Dagster's default
    # (multiprocess) would re-import the definitions in a new process for every step.
    from dagster_project.definitions import defs

    jobs = {job.name: job.executor_def.name for job in defs.resolve_all_job_defs()}
    assert {"daily_pipeline", "ingest_sources", "build_warehouse", "__ASSET_JOB"} <= set(jobs)
    assert set(jobs.values()) == {dg.in_process_executor.name}, jobs


def test_the_instance_starts_the_runs_the_daemon_launches_one_at_a_time(tmp_path):
    from dagster_project.execution import _EARLIER_INSTANCE_CONFIGS, dagster_instance_folder

    fresh, edited = tmp_path / "fresh", tmp_path / "edited"
    earlier = [tmp_path / f"earlier{number}" for number in range(len(_EARLIER_INSTANCE_CONFIGS))]
    for folder, config in zip(earlier, _EARLIER_INSTANCE_CONFIGS, strict=True):
        folder.mkdir()
        (folder / "dagster.yaml").write_text(config, encoding="utf-8")
    edited.mkdir()
    (edited / "dagster.yaml").write_text("concurrency:\n  runs:\n    max_concurrent_runs: 3\n")
    limits, telemetry, monitoring = {}, {}, {}
    for folder in (fresh, *earlier, edited):
        dagster_instance_folder(folder)
        with dg.DagsterInstance.from_config(str(folder)) as instance:
            assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
            # What the daemon's run queue reads (QueuedRunCoordinatorDaemon).
            queue = instance.get_concurrency_config().run_queue_config
            limits[folder.name] = queue.max_concurrent_runs
            telemetry[folder.name] = instance.telemetry_enabled
            # What the daemon's run monitoring reads (MonitoringDaemon).
            monitoring[folder.name] = (
                instance.run_monitoring_enabled,
                instance.run_monitoring_start_timeout_seconds,
            )
    # A new folder and one an earlier cityops wrote get one run at a time, no telemetry and run
    # monitoring; an edited file is kept as it is (it says nothing of telemetry or monitoring:
    # Dagster's defaults, telemetry on and monitoring off).
    assert limits == {"fresh": 1, "earlier0": 1, "earlier1": 1, "earlier2": 1, "edited": 3}
    assert telemetry == {
        "fresh": False,
        "earlier0": False,
        "earlier1": False,
        "earlier2": False,
        "edited": True,
    }
    assert monitoring == {
        "fresh": (True, 180),
        "earlier0": (True, 180),
        "earlier1": (True, 180),
        "earlier2": (True, 180),
        "edited": (False, 180),
    }


def test_a_daily_pipeline_backfill_runs_day_by_day_and_a_warehouse_backfill_in_one_run():
    from dagster_project.definitions import defs

    # Ingestion takes one day per run; dbt's daily facts take a whole range in one run. The
    # mix is why Dagster warns about daily_pipeline (silenced in pyproject.toml's pytest
    # settings, as the outcome is the intended one).
    daily = defs.resolve_job_def("daily_pipeline").backfill_policy
    assert daily == dg.BackfillPolicy.multi_run(max_partitions_per_run=1)
    assert defs.resolve_job_def("build_warehouse").backfill_policy == dg.BackfillPolicy.single_run()


def test_the_landing_sensor_requests_each_new_or_changed_delivery_day_once(lake_copy, monkeypatch):
    home, manifest = lake_copy
    monkeypatch.setenv("CITYOPS_HOME", str(home.home))
    days = [f"2024-07-0{day}" for day in range(1, 5)]

    first = landing_sensor(dg.build_sensor_context(cursor=None))
    again = landing_sensor(dg.build_sensor_context(cursor=first.cursor))
    # A re-sent file (here: touched) changes its day's digest.
    resent = next((home.landing / "hotline").glob("2024-07-03/*"))
    os.utime(resent, ns=(resent.stat().st_atime_ns, resent.stat().st_mtime_ns + 1_000_000_000))
    changed = landing_sensor(dg.build_sensor_context(cursor=again.cursor))

    assert [request.partition_key for request in first.run_requests] == days
    assert again.run_requests == []
    assert [request.partition_key for request in changed.run_requests] == ["2024-07-03"]
    assert manifest["generator"]["days"] == 4


def test_a_failed_run_is_posted_to_the_notification_channels(tmp_path, robot, monkeypatch):
    from dagster_project.definitions import defs

    for name in ("DINGTALK_WEBHOOK", "WECOM_WEBHOOK", "FEISHU_WEBHOOK"):
        monkeypatch.delenv(f"CITYOPS_{name}", raising=False)
    monkeypatch.setenv("CITYOPS_WEBHOOK_URL", robot.url("/hook"))
    monkeypatch.setenv("CITYOPS_HOME", str(tmp_path))
    instance = dg.DagsterInstance.ephemeral()
    # No landing files at all: every ingestion asset fails with MissingDelivery.
    failed = defs.resolve_job_def("ingest_sources").execute_in_process(
        partition_key="2024-07-02",
        instance=instance,
        run_config={"resources": {"cityops": {"config": {"home": str(tmp_path)}}}},
        raise_on_error=False,
    )
    failure = next(
        event for event in failed.all_events if event.event_type_value == "PIPELINE_FAILURE"
    )
    context = dg.build_run_status_sensor_context(
        sensor_name="notify_on_run_failure",
        dagster_instance=instance,
        dagster_run=failed.dagster_run,
        dagster_event=failure,
    ).for_run_failure()

    notify_on_run_failure(context)
    notify_on_run_failure(context)  # evaluated twice: still one message

    assert not failed.success
    bodies = [request.body for request in robot.at("/hook")]
    assert len(bodies) == 1
    assert bodies[0]["event"] == "run_failed"
    assert bodies[0]["key"] == f"run_failed|{failed.run_id}"
    assert "ingest_sources" in bodies[0]["title"] and "2024-07-02" in bodies[0]["title"]
    assert (tmp_path / "notify" / "deliveries.jsonl").exists()


def test_a_silent_live_path_is_posted_once_and_a_running_one_not(tmp_path, robot, monkeypatch):
    for name in ("DINGTALK_WEBHOOK", "WECOM_WEBHOOK", "FEISHU_WEBHOOK"):
        monkeypatch.delenv(f"CITYOPS_{name}", raising=False)
    monkeypatch.setenv("CITYOPS_WEBHOOK_URL", robot.url("/hook"))
    monkeypatch.setenv("CITYOPS_HOME", str(tmp_path))
    context = dg.build_sensor_context()
    # Never started: nothing to say.
    assert "not_started" in live_path_heartbeat(context).skip_message
    status = tmp_path / "live" / "status.json"
    status.parent.mkdir()
    status.write_text(json.dumps({"pid": 4242, "alive_at": time.time() - 30}))
    assert "alive" in live_path_heartbeat(context).skip_message
    assert robot.at("/hook") == []
    # Silent for four minutes: one notice, however often the sensor looks.
    silent_since = time.time() - 240
    status.write_text(json.dumps({"pid": 4242, "alive_at": silent_since}))
    assert "stale" in live_path_heartbeat(context).skip_message
    live_path_heartbeat(context)
    bodies = [request.body for request in robot.at("/hook")]
    assert len(bodies) == 1
    assert bodies[0]["key"] == f"live_down|{silent_since:.0f}"
    assert "cityops live" in bodies[0]["title"]


def test_backfill_reingests_and_republishes_a_day_range(lake_copy, monkeypatch):
    from typer.testing import CliRunner

    from dagster_project.cli import app

    home, _ = lake_copy
    before = json.loads((home.ingestion_log / "hotline_orders" / "dt=2024-07-02.json").read_text())
    result = CliRunner().invoke(
        app,
        ["backfill", "--start", "2024-07-02", "--end", "2024-07-02"],
        env={"CITYOPS_HOME": str(home.home), "CITYOPS_PII_KEY": TEST_KEY},
    )
    after = json.loads((home.ingestion_log / "hotline_orders" / "dt=2024-07-02.json").read_text())
    from serving import current_snapshot

    assert result.exit_code == 0, result.output[-3000:]
    # Forced: the unchanged delivery was ingested again, with the same accounting.
    assert after["run_id"] != before["run_id"]
    assert after["rows_written"] == before["rows_written"]
    assert current_snapshot(paths(home.home)) is not None
    reversed_range = CliRunner().invoke(
        app, ["backfill", "--start", "2024-07-03", "--end", "2024-07-01"]
    )
    assert reversed_range.exit_code == 2
