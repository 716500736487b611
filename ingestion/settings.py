"""Where everything lives: one ``$CITYOPS_HOME`` (default ``./data``), read when asked."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

DEFAULT_HOME = "data"
DEFAULT_DUCKDB_MEMORY_LIMIT = "4GB"
DEFAULT_DUCKDB_THREADS = "2"


@dataclass(frozen=True)
class Paths:
    """The folders under ``$CITYOPS_HOME``."""

    home: Path

    @property
    def landing(self) -> Path:
        """Files as the sources deliver them: ``landing/<source>/<YYYY-MM-DD>/``."""
        return self.home / "landing"

    @property
    def lake(self) -> Path:
        """The Parquet lake."""
        return self.home / "lake"

    @property
    def raw(self) -> Path:
        """Typed, validated Parquet: ``lake/raw/<table>/dt=YYYY-MM-DD/``."""
        return self.lake / "raw"

    @property
    def quarantine(self) -> Path:
        """Rejected rows with their reason and raw text: ``lake/quarantine/<table>/dt=…/``."""
        return self.lake / "quarantine"

    @property
    def ingestion_log(self) -> Path:
        """One JSON accounting record per table and partition, plus ``runs.jsonl``."""
        return self.lake / "_ingestion_log"

    @property
    def staging(self) -> Path:
        """Temporary files before their atomic rename; same file system as the lake."""
        return self.lake / "_tmp"

    @property
    def check_results(self) -> Path:
        """Every asset check evaluation: ``lake/quality/check_results/evaluated_date=…/``."""
        return self.lake / "quality" / "check_results"

    @property
    def warehouse(self) -> Path:
        """DuckDB files built by dbt."""
        return self.home / "warehouse"

    @property
    def notifications(self) -> Path:
        """The notifier's delivery log: ``notify/deliveries.jsonl``, one line per attempt."""
        return self.home / "notify" / "deliveries.jsonl"

    @property
    def dispatch(self) -> Path:
        """The 吹哨 dispatch exchange: ``dispatch/outbox/`` (orders), ``dispatch/acks/``."""
        return self.home / "dispatch"

    @property
    def dagster_home(self) -> Path:
        """Dagster's instance (run and event storage) for ``cityops run`` and ``dagster dev``."""
        return self.home / "dagster"

    def landing_day(self, source: str, day: date) -> Path:
        """The folder holding one source's delivery for one day."""
        return self.landing / source / day.isoformat()

    def raw_partition(self, table: str, day: date) -> Path:
        """The Hive partition folder of one lake table and day."""
        return self.raw / table / f"dt={day.isoformat()}"

    def quarantine_partition(self, table: str, day: date) -> Path:
        """The Hive partition folder of one table's quarantined rows for one day."""
        return self.quarantine / table / f"dt={day.isoformat()}"


def paths(home: str | os.PathLike[str] | None = None) -> Paths:
    """Resolve ``$CITYOPS_HOME`` (or ``home``) to absolute :class:`Paths`."""
    chosen = home if home is not None else os.environ.get("CITYOPS_HOME", DEFAULT_HOME)
    return Paths(Path(chosen).expanduser().resolve())


def duckdb_config(memory_limit: str | None = None) -> dict[str, str]:
    """The limits of the pipeline's own DuckDB connections, the same as dbt's profile sets.

    ``CITYOPS_DUCKDB_MEMORY_LIMIT`` (default 4GB) and ``CITYOPS_DUCKDB_THREADS`` (default 2).
    Without them a connection may use 80 % of the machine's memory (DuckDB's default). Not
    for a second connection to a file this process already has open with other settings
    (DuckDB refuses that), hence not for the working warehouse's read-only readers.
    ``memory_limit`` overrides the variable for a connection that needs less.
    """
    return {
        "memory_limit": memory_limit
        or os.environ.get("CITYOPS_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT),
        "threads": os.environ.get("CITYOPS_DUCKDB_THREADS", DEFAULT_DUCKDB_THREADS),
    }
