"""Runs whose process died, found through the Dagster instance and marked failed.

A ``kill -9``, an out-of-memory kill or a reboot ends a run's process without a word: the
run stays ``STARTED`` in the instance, and with one run at a time (``dagster.yaml``) every
run the daemon queues afterwards waits forever. Dagster's run monitoring does not help
here: with the default run launcher it checks no worker's health (verified with real
processes, docs/decisions.md), and ``cityops run`` executes its jobs in its own process,
not through a launcher at all.

So cityops tells for itself. A run's process is known from

- the run tags ``cityops/pid`` and ``cityops/host``, which ``cityops run`` sets on every run
  it executes (:func:`process_tags`); the process was alive when it created the run;
- else Dagster's own engine event with a ``pid`` (``Started process for run``, ``Executing
  steps in process``), which every run worker records when it starts: the runs the daemon
  launches run beside it, on this host.

A run in progress (starting, started, canceling) whose process no longer runs
(:func:`ingestion.processes.is_alive`) is reported failed (a canceling one, canceled),
with a message saying what happened and what to do. ``cityops run`` and ``backfill`` do this
before they start, and the ``fail_dead_runs`` sensor every minute under the daemon.
A run whose process is on another host, or not known yet, is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dagster_project.tags import FAILURE_REASON_TAG
from ingestion.processes import hostname, is_alive

PID_TAG = "cityops/pid"
HOST_TAG = "cityops/host"


@dataclass(frozen=True)
class DeadRun:
    """A run in progress whose process is gone."""

    run_id: str
    job_name: str
    pid: int
    status: str  # as it was: STARTING, STARTED or CANCELING

    def describe(self) -> str:
        """One line for logs and the command line."""
        return f"{self.job_name} run {self.run_id} (pid {self.pid}, was {self.status})"


def process_tags() -> Mapping[str, str]:
    """The tags that tie a run to this process: pid and host."""
    import os

    return {PID_TAG: str(os.getpid()), HOST_TAG: hostname()}


def _run_process(instance: Any, record: Any) -> tuple[int, float] | None:
    """The run's pid and a time it was known alive, or None when not known (yet)."""
    from dagster import DagsterEventType

    tags = record.dagster_run.tags
    if PID_TAG in tags:
        if tags.get(HOST_TAG) != hostname():
            return None
        return int(tags[PID_TAG]), record.create_timestamp.timestamp()
    events = instance.get_records_for_run(
        record.dagster_run.run_id, of_type=DagsterEventType.ENGINE_EVENT, limit=20
    ).records
    for event in events:
        data = event.event_log_entry.dagster_event.engine_event_data
        pid = data.metadata.get("pid") if data is not None else None
        if pid is not None and str(pid.value).isdigit():
            return int(pid.value), event.timestamp
    return None


def dead_runs(instance: Any) -> list[DeadRun]:
    """Runs starting, started or canceling whose process on this host no longer runs."""
    from dagster import DagsterRunStatus, RunsFilter

    in_progress = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
    found = []
    for record in instance.get_run_records(filters=RunsFilter(statuses=in_progress)):
        known = _run_process(instance, record)
        if known is None or is_alive(*known):
            continue
        run = record.dagster_run
        found.append(DeadRun(run.run_id, run.job_name, known[0], run.status.value))
    return found


def fail_dead_runs(instance: Any) -> list[DeadRun]:
    """Mark every run whose process died as failed (canceled if it was canceling)."""
    from dagster import DagsterRunStatus

    marked = []
    for dead in dead_runs(instance):
        run = instance.get_run_by_id(dead.run_id)
        if run is None or run.is_finished:  # it ended meanwhile (another reaper, the daemon)
            continue
        message = (
            f"The process of this run (pid {dead.pid}) is gone: it was killed or crashed "
            "(kill -9, out of memory, a restart). cityops marked the run failed so that "
            "queued runs can start. Nothing it staged was published; run it again "
            "(`cityops run`, or re-execute it in the UI): re-running is safe."
        )
        if run.status == DagsterRunStatus.CANCELING:
            instance.report_run_canceled(run, message)
        else:
            # Dagster's reason for a run whose process ended unexpectedly, read from the run's
            # tags: the UI shows it, and run retries (when enabled) decide by it.
            instance.add_run_tags(run.run_id, {FAILURE_REASON_TAG: "UNEXPECTED_TERMINATION"})
            instance.report_run_failed(run, message)
        marked.append(dead)
    return marked
