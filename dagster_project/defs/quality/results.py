"""Collect asset check evaluations from the Dagster instance into the quality results store.

Every check reaches Dagster's event log as an ``ASSET_CHECK_EVALUATION`` event, whether a
volume check, a dbt test (dagster-dbt), a Great Expectations suite or a freshness check
produced it, and it is recorded before a failed blocking check stops the run. So one
collector serves every engine, and a failure that kept the serving snapshot from being
published is still collected. :func:`collect` turns the events of finished runs into
:class:`quality.results.CheckResult` values and stores them; storing is idempotent, so a run
may be collected any number of times.

Who collects:

- ``cityops run`` / ``cityops backfill``, after each job they execute in process (also when
  it failed);
- the two run sensors below, for runs that the daemon starts under ``dagster dev`` (the
  schedule, ``landing_sensor``, the UI). They are on by default, like
  ``notify_on_run_failure``: collecting is idempotent and only reads the instance, and a
  switched-off collector would silently leave daemon runs out of ``cityops quality``;
- ``cityops quality --collect``, which catches up with every run in the instance.

The events are read per run (``instance.get_records_for_run``): that works on every event
log storage, including the default SQLite one, whose storage ids count per run — hence the
store's key ``<run id>:<storage id>``.
"""

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg
from dagster import DagsterEventType, EventLogEntry

from dagster_project.tags import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG
from ingestion.settings import Paths, paths
from quality.results import (
    CheckResult,
    infer_engine,
    infer_scope,
    metadata_days,
    store_results,
    summarise,
)


@dataclass(frozen=True)
class CollectReport:
    """What one collection did."""

    runs: int
    evaluations: int
    added: int

    def summary(self) -> str:
        """One line for logs."""
        return (
            f"{self.evaluations} check evaluations in {self.runs} runs, "
            f"{self.added} new in the quality results store"
        )


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:  # a partition key that is not a day
        return None


def run_window(run: dg.DagsterRun) -> tuple[dt.date | None, dt.date | None]:
    """The delivery days a run covered: its partition, its partition range, or none."""
    tags = run.tags
    if PARTITION_TAG in tags:
        day = _day(tags[PARTITION_TAG])
        return day, day
    return _day(tags.get(RANGE_START_TAG)), _day(tags.get(RANGE_END_TAG))


def plain_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Check metadata as JSON-ready values (``MetadataValue.value``; the rest as text)."""
    values = {key: getattr(value, "value", value) for key, value in metadata.items()}
    return json.loads(json.dumps(values, default=str))


def check_result(entry: EventLogEntry, storage_id: int, run: dg.DagsterRun) -> CheckResult:
    """One stored result from one ``ASSET_CHECK_EVALUATION`` event of ``run``."""
    event = entry.dagster_event
    assert event is not None
    evaluation: dg.AssetCheckEvaluation = event.event_specific_data  # type: ignore[assignment]
    metadata = plain_metadata(evaluation.metadata)
    asset_key = evaluation.asset_key.to_user_string()
    engine = infer_engine(evaluation.check_name, metadata)
    # The days the result is about: the check's own partition, the days it lists, the run's.
    listed = metadata_days(metadata)
    if _day(evaluation.partition):
        start = end = _day(evaluation.partition)
    elif listed:
        start, end = min(listed), max(listed)
    else:
        start, end = run_window(run)
    return CheckResult(
        run_id=run.run_id,
        event_storage_id=storage_id,
        job_name=run.job_name,
        check_name=evaluation.check_name,
        asset_key=asset_key,
        engine=engine,
        check_scope=infer_scope(engine, asset_key, metadata, start is not None),
        partition_start=start,
        partition_end=end,
        passed=evaluation.passed,
        severity=evaluation.severity.value,
        is_blocking=evaluation.blocking,
        description=summarise(evaluation.description, metadata, evaluation.passed),
        metadata_json=json.dumps(metadata, ensure_ascii=False, sort_keys=True),
        evaluated_at=dt.datetime.fromtimestamp(entry.timestamp, dt.UTC),
    )


def results_of_run(instance: dg.DagsterInstance, run_id: str) -> list[CheckResult]:
    """Every check evaluation a run recorded (none for an unknown run)."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return []
    records = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    return [check_result(record.event_log_entry, record.storage_id, run) for record in records]


def collect(
    instance: dg.DagsterInstance, home: Paths, run_ids: Iterable[str] | None = None
) -> CollectReport:
    """Store the check evaluations of the given runs (default: every finished run)."""
    if run_ids is None:
        run_ids = [
            record.dagster_run.run_id
            for record in instance.get_run_records()
            if record.dagster_run.is_finished
        ]
    runs = list(run_ids)
    results = [result for run_id in runs for result in results_of_run(instance, run_id)]
    added = store_results(home, results)
    return CollectReport(runs=len(runs), evaluations=len(results), added=added)


def home_of_run(run: dg.DagsterRun) -> Paths:
    """The ``$CITYOPS_HOME`` a run worked on: its ``cityops`` resource config, else the env."""
    resources = (run.run_config or {}).get("resources", {})
    configured = (resources.get("cityops") or {}).get("config", {}).get("home")
    return paths(configured)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="collect_check_results",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Stores the asset check evaluations of every successful run in the quality results "
        "store ($CITYOPS_HOME/lake/quality/check_results), which `cityops quality` and the "
        "quality mart read."
    ),
)
def collect_check_results(context: dg.RunStatusSensorContext) -> None:
    """Collect the run that succeeded (idempotent: the CLI may have collected it already)."""
    run = context.dagster_run
    report = collect(context.instance, home_of_run(run), [run.run_id])
    context.log.info(report.summary())


@dg.run_failure_sensor(
    name="collect_check_results_after_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Stores the asset check evaluations of every failed run, so a blocking check that "
        "stopped the build (and the serving snapshot) shows in `cityops quality`."
    ),
)
def collect_check_results_after_failure(context: dg.RunFailureSensorContext) -> None:
    """Collect the run that failed."""
    run = context.dagster_run
    report = collect(context.instance, home_of_run(run), [run.run_id])
    context.log.info(report.summary())


defs = dg.Definitions(sensors=[collect_check_results, collect_check_results_after_failure])
