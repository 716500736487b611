"""dbt in the live process: the project parsed once, the live models run per cycle.

A dbt process starts in about 7 s (imports, profile, parse) before it runs a model; the live
process keeps dbt loaded and hands the parsed manifest to every run (dbt's programmatic
``dbtRunner``), so a cycle pays only for the models. The models are the project's own, run
against the ``live`` target (dbt/profiles.yml): the live copy of the published warehouse.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.processes import environment
from ingestion.settings import Paths
from vitals.registry import Indicator

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt"
TARGET = "live"
# The models a landed IoT or weather batch can change, up to the marts the live store
# publishes: the hourly readings and alarms, air quality, the weather facts, every
# dimension's indicators, values and levels, warning states, steps and 吹哨 orders. A comma
# is dbt's intersection: downstream of the fast sources and upstream of the marts.
LIVE_SELECTION = (
    *(
        f"{source}+,+{mart}"
        for source in ("stg_iot__readings", "stg_weather__observations")
        for mart in ("fct_whistle_orders", "fct_indicator_latest")
    ),
    # The disposal feedback view the 吹哨 orders read (the copy, a snapshot, has no views).
    "stg_disposal__whistle_feedback",
)
# The longest look-back of a live indicator's model other than its baseline (the water-meter
# silence counts back 168 hours, dbt var `silent_meter_max_hours`); the warm-up covers it.
MODEL_LOOK_BACK_DAYS = 7


@dataclass(frozen=True)
class Span:
    """The periods a live run measures: a bounded span, so a cycle does not grow with history.

    ``warnings_from`` is the first period whose warning state is evaluated: the first live
    day's start, or the start of a warning the published snapshot still had open then.
    ``periods_from`` is earlier by the warm-up (whole days): the periods whose values the
    baselines of the evaluated periods compare with. dbt reads them as
    ``CITYOPS_WARNINGS_FROM`` and ``CITYOPS_PERIODS_FROM`` (dbt/macros/lake.sql).
    """

    warnings_from: dt.datetime
    periods_from: dt.datetime


def warm_up_days(indicators: Iterable[Indicator]) -> int:
    """Days of values before the evaluated periods the live indicators' levels depend on."""
    baselines = [
        7 * indicator.baseline_weeks
        for indicator in indicators
        if indicator.live and indicator.threshold_kind != "fixed"
    ]
    return max([MODEL_LOOK_BACK_DAYS, *baselines])


class LiveRunError(RuntimeError):
    """A live dbt run failed; the live store keeps the previous cycle's marts."""


class LiveDbt:
    """The cityops dbt project, parsed once for one home, run on the live copy."""

    def __init__(self, home: Paths, target_path: Path) -> None:
        self.home = home
        self.target_path = target_path
        self._manifest: Any = None

    def _common(self) -> list[str]:
        return [
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target",
            TARGET,
            "--target-path",
            str(self.target_path),
            "--log-path",
            str(self.target_path),
            "--quiet",
        ]

    def _environment(
        self,
        first: dt.date | None = None,
        last: dt.date | None = None,
        until: dt.datetime | None = None,
        span: Span | None = None,
        hours_from: dt.datetime | None = None,
    ) -> Any:
        if not os.environ.get("CITYOPS_PII_KEY"):
            raise LiveRunError("CITYOPS_PII_KEY is not set: dbt needs the pseudonymisation key.")
        return environment(
            CITYOPS_HOME=str(self.home.home),
            DBT_PROJECT_DIR=str(DBT_PROJECT_DIR),
            CITYOPS_MIN_DT=first.isoformat() if first else None,
            CITYOPS_MAX_DT=last.isoformat() if last else None,
            # Periods end with the newest data (dbt/macros/lake.sql, periods_until).
            CITYOPS_PERIODS_UNTIL=until.isoformat(sep=" ") if until else None,
            CITYOPS_PERIODS_FROM=span.periods_from.isoformat(sep=" ") if span else None,
            CITYOPS_WARNINGS_FROM=span.warnings_from.isoformat(sep=" ") if span else None,
            CITYOPS_HOURS_FROM=hours_from.isoformat(sep=" ") if hours_from else None,
            # This process is dbt's parent for as long as it lives: no watcher thread.
            CITYOPS_DBT_PARENT_PID=None,
        )

    def parse(self) -> None:
        """Parse the project for this home (the source locations and profile depend on it)."""
        from dbt.cli.main import dbtRunner

        self.target_path.mkdir(parents=True, exist_ok=True)
        with self._environment():
            result = dbtRunner().invoke(["parse", *self._common()])
        if not result.success:
            raise LiveRunError(f"dbt could not parse the project: {result.exception}")
        self._manifest = result.result

    def run(
        self,
        first: dt.date,
        last: dt.date,
        *,
        until: dt.datetime | None = None,
        span: Span | None = None,
        hours_from: dt.datetime | None = None,
    ) -> int:
        """Run the live models over the delivery days ``first`` … ``last``; models run.

        ``until`` is the latest period end measured (the end of the newest reading's hour);
        ``span`` the first periods measured and evaluated (None: all of them); ``hours_from``
        the first hour whose readings are aggregated again (None: every hour of the days).
        """
        from dbt.cli.main import dbtRunner

        if self._manifest is None:
            self.parse()
        with self._environment(first, last, until, span, hours_from):
            try:
                result = dbtRunner(manifest=self._manifest).invoke(
                    ["run", *self._common(), "--select", *LIVE_SELECTION]
                )
            finally:
                release_database()
        if not result.success:
            raise LiveRunError(_failure(result))
        return len(result.result.results)


def release_database() -> None:
    """Close the DuckDB connection dbt-duckdb keeps for the process after a run.

    dbt-duckdb holds its database open in a class-level environment until the process ends;
    the live process must let go of the live copy between runs, to read it from another
    connection and to replace it with a new copy. ``close_all_connections`` forgets the
    environment; closing it first closes the file.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV  # no public accessor
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


def _failure(result: Any) -> str:
    """The failed models and their messages, or the exception dbt raised."""
    if result.exception is not None:
        return f"dbt failed: {result.exception}"
    failed = [
        f"{item.node.name}: {item.message}"
        for item in result.result.results
        if str(item.status) not in ("success", "RunStatus.Success")
    ]
    return "dbt failed: " + "; ".join(failed or ["no model reported an error"])
