"""Sensors: landing files, failed and dead runs, and the live path's heartbeat."""

import datetime as dt
import json
import time

import dagster as dg

from dagster_project.dead_runs import fail_dead_runs as mark_dead_runs_failed
from dagster_project.defs.ingestion.partitions import DAILY
from dagster_project.defs.operations.jobs import DAILY_PIPELINE
from dagster_project.tags import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG
from ingestion.pipeline import landing_fingerprints
from ingestion.settings import paths
from live.store import Health, health
from vitals.notify import Notice, load_config, notify

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# Dagster abandons a sensor evaluation after 60 s (DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS) and
# evaluates it again: notifying within 45 s leaves the tick time to finish and save its cursor.
SENSOR_NOTIFY_SECONDS = 45


@dg.sensor(
    job=DAILY_PIPELINE,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Starts daily_pipeline for every landing day whose files are new or changed "
        "(name, size, modification time) since the last evaluation."
    ),
)
def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """One run request per landing day whose delivery changed; the cursor holds the digests."""
    fingerprints = landing_fingerprints(paths())
    seen = json.loads(context.cursor) if context.cursor else {}
    valid = set(DAILY.get_partition_keys())
    requests = [
        dg.RunRequest(partition_key=day, run_key=f"{day}:{digest}")
        for day, digest in fingerprints.items()
        if seen.get(day) != digest and day in valid
    ]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(fingerprints))


def _post(notice: Notice) -> str:
    """Send one operational notice to every configured channel, within a sensor's time."""
    report = notify(
        [notice], load_config(), paths().notifications, run_seconds=SENSOR_NOTIFY_SECONDS
    )
    return report.summary()


def failure_notice(run: dg.DagsterRun, message: str, at: dt.datetime) -> Notice:
    """The notice a failed run sends (no level: pipeline notices always go out)."""
    partition = run.tags.get(PARTITION_TAG) or (
        f"{run.tags.get(RANGE_START_TAG, '')}…{run.tags.get(RANGE_END_TAG, '')}"
    ).strip("…")
    return Notice(
        key=f"run_failed|{run.run_id}",
        event="run_failed",
        level=None,
        title=f"【流水线失败】{run.job_name} {partition}".strip(),
        lines=(
            f"作业：{run.job_name}",
            f"分区：{partition or '—'}",
            f"运行：{run.run_id}",
            f"原因：{message[:500]}",
            "处理：make dev 打开 Dagster 查看日志；修复后重跑（重跑是安全的）。",
        ),
        occurred_at=at,
        fields={"run_id": run.run_id, "job": run.job_name, "partition": partition},
    )


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts every failed run to the channels of notify.yml (once per run).",
)
def notify_on_run_failure(context: dg.RunFailureSensorContext) -> None:
    """Send the failure to every configured channel; the delivery log de-duplicates."""
    message = context.failure_event.message or "run failed"
    notice = failure_notice(context.dagster_run, message, dt.datetime.now(SHANGHAI))
    context.log.info(_post(notice))


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Marks runs whose process died (kill -9, out of memory, a restart) as failed, so "
        "that the one-at-a-time run queue moves on; notify_on_run_failure then posts them."
    ),
)
def fail_dead_runs(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    """Fail every run in progress whose process is gone (``dagster_project/dead_runs.py``)."""
    marked = mark_dead_runs_failed(context.instance)
    for dead in marked:
        context.log.warning(f"Marked failed, its process is gone: {dead.describe()}")
    if marked:
        return dg.SkipReason(f"Marked {len(marked)} run(s) whose process died as failed.")
    return dg.SkipReason("Every run in progress has a live process.")


def live_down_notice(found: Health, at: dt.datetime) -> Notice:
    """The notice a silent live path sends, once per outage (keyed by when it was last seen)."""
    return Notice(
        key=f"live_down|{found.alive_at:.0f}",
        event="run_failed",
        level=None,
        title="【实时预警中断】cityops live 无心跳",
        lines=(
            found.describe(),
            "影响：传感器批次不再实时预警，预警要等日批构建（次日 06:30）。",
            "处理：查看 live/cycles.jsonl 与进程日志，重新启动 `cityops live`（重启是安全的）。",
        ),
        occurred_at=at,
        fields={"pid": found.pid, "alive_at": found.alive_at},
    )


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches the live path's heartbeat (live/status.json): when `cityops live` has been "
        "silent for 3 minutes, posts it once to the channels of notify.yml."
    ),
)
def live_path_heartbeat(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    """Supervise ``cityops live`` (docs/decisions.md, Live path) through its heartbeat file."""
    found = health(paths(), time.time())
    if found.state == "stale":
        notice = live_down_notice(found, dt.datetime.now(SHANGHAI))
        context.log.warning(f"{found.describe()}; {_post(notice)}")
    return dg.SkipReason(f"{found.state}: {found.describe()}")


defs = dg.Definitions(
    jobs=[DAILY_PIPELINE],
    sensors=[landing_sensor, notify_on_run_failure, fail_dead_runs, live_path_heartbeat],
)
