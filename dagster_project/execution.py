"""Running the cityops jobs in process, as ``cityops run``, ``bench/`` and ``make dev`` need it.

The Dagster instance lives under ``$CITYOPS_HOME/dagster`` (``dagster_instance_folder``
writes its ``dagster.yaml``), so the runs of ``cityops run`` show in the UI of ``make dev``.
``execute_ingestion`` runs ``ingest_sources`` for one delivery day, ``execute_build`` runs
``build_warehouse`` once over a day range; both tag the run with this process (a run whose
process dies is then found, ``dagster_project/dead_runs.py``) and never raise on a failed run:
the caller reads the result, ``blocking_failures`` names the blocking checks that stopped it,
and ``collect_run`` stores its check results in the quality results store.

No command-line code here: the CLI (``dagster_project/cli/``), the benchmark (``bench/``) and
the Makefile import this module, never the other way round.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from rich.console import Console

from dagster_project.tags import RANGE_END_TAG, RANGE_START_TAG
from ingestion.settings import Paths

# Warnings about the run environment (a dead run marked failed, a key generated, results not
# stored) go to stderr, beside the command's own output.
err = Console(stderr=True)

# The instance's dagster.yaml as cityops writes it. Runs the daemon launches (schedule, sensors,
# backfills and launches in the UI) wait in Dagster's run queue and start one at a time: every
# build writes the one working warehouse, and DuckDB refuses a second writer's lock, so two
# builds at once fail (Dagster's default is 10 runs at once). One run already keeps the
# 2 cores busy (docs/decisions.md). Dagster's run monitoring (in the daemon) fails a run
# stuck starting or canceling for 3 minutes; a run whose process died after it started is
# found by cityops itself (dagster_project/dead_runs.py): with the default run launcher,
# Dagster's monitoring checks no worker's health.
_INSTANCE_SETTINGS = """\
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1
# Runs stuck starting or canceling are failed after 3 minutes. A run whose process died is
# failed by cityops' fail_dead_runs sensor and at the start of `cityops run`.
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_resume_run_attempts: 0
  poll_interval_seconds: 60
"""
INSTANCE_CONFIG = (
    "# Written by cityops (dagster_project/execution.py); edit freely, cityops leaves an edited\n"
    "# file alone.\n" + _INSTANCE_SETTINGS
)
# Files cityops wrote with other settings or another header; such a file is replaced by
# INSTANCE_CONFIG.
_WRITTEN_BY_THE_CLI = (
    "# Written by cityops (dagster_project/cli.py); edit freely, cityops leaves an edited file "
    "alone.\n"
)
_EARLIER_INSTANCE_CONFIGS = (
    "telemetry:\n  enabled: false\n",
    _WRITTEN_BY_THE_CLI
    + "telemetry:\n  enabled: false\nconcurrency:\n  runs:\n    max_concurrent_runs: 1\n",
    _WRITTEN_BY_THE_CLI + _INSTANCE_SETTINGS,
)


def dagster_instance_folder(folder: Path) -> Path:
    """Create a Dagster instance folder with cityops' ``dagster.yaml`` if it has none.

    A ``dagster.yaml`` that cityops wrote with other settings is brought up to date; one
    edited by hand is left as it is.
    """
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "dagster.yaml"
    if not config.exists() or config.read_text(encoding="utf-8") in _EARLIER_INSTANCE_CONFIGS:
        config.write_text(INSTANCE_CONFIG, encoding="utf-8")
    return folder


def use_dagster_home(home: Paths) -> Path:
    """Point Dagster at the persistent instance under $CITYOPS_HOME, unless set already."""
    if "DAGSTER_HOME" not in os.environ:
        os.environ["DAGSTER_HOME"] = str(home.dagster_home)
    return dagster_instance_folder(Path(os.environ["DAGSTER_HOME"]))


def open_instance(home: Paths) -> Any:
    """The home's Dagster instance, once runs whose process died are marked failed.

    A killed ``cityops run`` (or a run worker of the daemon) leaves its run ``STARTED``,
    which would hold the run queue for good (``dagster_project/dead_runs.py``).
    """
    from dagster import DagsterInstance

    from dagster_project.dead_runs import fail_dead_runs

    use_dagster_home(home)
    instance = DagsterInstance.get()
    for dead in fail_dead_runs(instance):
        err.print(
            f"[yellow]Marked failed: {dead.describe()}; its process is gone (killed or "
            "crashed).[/yellow]"
        )
    return instance


def run_config(
    home: Paths, *, force: bool = False, accept_smaller_resend: bool = False
) -> dict[str, Any]:
    """Run config of the cityops jobs: the home, re-ingest or not, Dagster's console quiet.

    ``accept_smaller_resend`` reaches the ingestion assets through the ``cityops`` resource.
    """
    resource = {
        "home": str(home.home),
        "force": force,
        "accept_smaller_resend": accept_smaller_resend,
    }
    return {
        "resources": {"cityops": {"config": resource}},
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }


def pii_key_file(home: Paths) -> tuple[Path, bool]:
    """The home's generated key file (``.secrets/pii_key``, mode 600); True when made now."""
    import secrets

    key_file = home.home / ".secrets" / "pii_key"
    if key_file.exists():
        return key_file, False
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(secrets.token_hex(32), encoding="utf-8")
    key_file.chmod(0o600)
    return key_file, True


def use_pii_key(home: Paths) -> None:
    """Use $CITYOPS_PII_KEY, or a key generated once into an ignored file under the home."""
    if os.environ.get("CITYOPS_PII_KEY"):
        return
    key_file, created = pii_key_file(home)
    if created:
        err.print(
            f"Generated a pseudonymisation key in {key_file} (set CITYOPS_PII_KEY to use yours)."
        )
    os.environ["CITYOPS_PII_KEY"] = key_file.read_text(encoding="utf-8").strip()


def execute_ingestion(instance: Any, day: dt.date, config: dict[str, Any]) -> Any:
    """Run ``ingest_sources`` for one delivery day (its daily partition)."""
    from dagster_project.dead_runs import process_tags
    from dagster_project.definitions import defs

    return defs.resolve_job_def("ingest_sources").execute_in_process(
        partition_key=day.isoformat(),
        instance=instance,
        run_config=config,
        tags=process_tags(),
        raise_on_error=False,
    )


def execute_build(instance: Any, first: dt.date, last: dt.date, config: dict[str, Any]) -> Any:
    """Run ``build_warehouse`` once over ``first`` … ``last`` (partition-range tags)."""
    from dagster_project.dead_runs import process_tags
    from dagster_project.definitions import defs

    tags = {
        RANGE_START_TAG: first.isoformat(),
        RANGE_END_TAG: last.isoformat(),
        **process_tags(),
    }
    return defs.resolve_job_def("build_warehouse").execute_in_process(
        instance=instance, run_config=config, tags=tags, raise_on_error=False
    )


def blocking_failures(result: Any) -> list[str]:
    """``asset:check`` of every blocking check that failed with severity ERROR in a run."""
    from dagster import AssetCheckSeverity

    return [
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed
        and evaluation.severity == AssetCheckSeverity.ERROR
        and evaluation.blocking
    ]


def collect_run(instance: Any, home: Paths, run_id: str) -> None:
    """Store one run's check evaluations; a failure to collect warns but never fails the run."""
    from dagster_project.defs.quality.results import collect

    try:
        collect(instance, home, [run_id])
    except Exception as error:  # the run's own outcome matters more than its bookkeeping
        err.print(
            f"[yellow]Could not store the check results of run {run_id}: {error}[/yellow] "
            "(`cityops quality --collect` retries)."
        )
