"""Data-quality results: every check outcome in one Parquet store, and what is read from it.

Every check in this project is a Dagster asset check: the volume checks
(:mod:`quality.volume`), every dbt test (through dagster-dbt), the Great Expectations suites
(``gx_*``) and the freshness checks. Dagster records each outcome as an
``ASSET_CHECK_EVALUATION`` event in its instance, whatever produced it, and records it before
a blocking failure stops the run. ``dagster_project/defs/quality/results.py`` reads those
events after every run and hands them to :func:`store_results` as :class:`CheckResult`
values. This module never imports Dagster: the store, the "latest result" rules and the exit
code of ``cityops quality`` are plain functions, tested without it.

The store::

    $CITYOPS_HOME/lake/quality/check_results/evaluated_date=YYYY-MM-DD/part-0.parquet

- **One row per evaluation**, keyed ``evaluation_id = "<run id>:<event storage id>"``. The
  storage id alone is not unique: Dagster's default SQLite storage numbers the events of each
  run in its own file, and a new instance starts again from 1, while run ids are UUIDs.
- **Idempotent, append-only in effect.** Storing evaluations that are already there changes
  nothing (the partition is not even rewritten), so the CLI after each job and the run
  sensors under ``dagster dev`` may both collect the same run. Rows are never updated.
- **Atomic.** A partition (the Beijing day the checks ran) is rewritten as a whole into
  ``lake/_tmp`` and renamed into place (:mod:`ingestion.lake`); a file lock serialises
  writers, so two collectors cannot lose each other's rows. Readers see the old file or the
  new one.

Two kinds of result, because a check answers one of two questions (``check_scope``):

- ``asset``: "is the asset right now?" — dbt tests (they test the whole table) and
  freshness checks. The newest evaluation is the state of the check.
- ``partition``: "was this delivery day right?" — the volume, Great Expectations and
  delivery-fault checks of a lake table (``raw/<table>``), which judge the run's delivery
  days. A failed day stays failed until a later evaluation of that day passes, even when
  newer days pass (a missing partition of 07-30 is not fixed by a good 07-31).

A failed evaluation **blocks** when its severity is ERROR and the check is blocking; a check
that did not say whether it blocks is taken to block (dbt tests at severity error stop the
build whether or not Dagster calls them blocking).

Two classes of check (:func:`check_class`), because they fail for different reasons. *Data
checks* (volume, dbt tests, Great Expectations, delivery faults) judge what was delivered:
a failure is a failure (检查失败). *Timeliness checks* (freshness) judge when it arrived,
against the wall clock: data replayed from the past, like the July 2024 demo, is late by it
whatever its quality, so a failure is a lag (时效滞后), counted apart from the data checks'
pass rate. The quality mart (``fct_check_results``) classifies the same way.

Quarantine counts come from the ingestion accounting records, read by
:func:`ingestion.status.partition_status` (what ``cityops status`` shows), not from here.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from ingestion import lake
from ingestion.settings import Paths, duckdb_config
from quality.volume import ERROR, WARN

SHANGHAI = ZoneInfo("Asia/Shanghai")
SEVERITIES = (ERROR, WARN)
ENGINES = ("volume", "gx", "faults", "freshness", "dbt", "other")
# Engines whose checks judge arrival against the wall clock (the rest judge the data).
WALL_CLOCK_ENGINES = frozenset({"freshness"})
DATA_CHECKS = "data"
TIMELINESS_CHECKS = "timeliness"
CHECK_CLASSES = (DATA_CHECKS, TIMELINESS_CHECKS)
# The outcome of an evaluation: passed, failed (a data check) or late (a timeliness check).
PASSED, FAILED, LATE = "passed", "failed", "late"
ASSET_SCOPE = "asset"
PARTITION_SCOPE = "partition"
SCOPES = (ASSET_SCOPE, PARTITION_SCOPE)

# A check may state what it is in its metadata; otherwise it is inferred from its name.
ENGINE_METADATA_KEY = "cityops/engine"
SCOPE_METADATA_KEY = "cityops/scope"
# The delivery days a partition check judged (the volume checks list them).
DAYS_METADATA_KEY = "days"
FRESHNESS_METADATA_KEY = "dagster/freshness_params"  # build_time_partition_freshness_checks
DBT_FAILED_ROWS_KEY = "dagster_dbt/failed_row_count"

# Quarantine reason names (中文) live beside the dbt seed that the quality mart joins.
REASON_NAMES_CSV = Path(__file__).resolve().parents[1] / "dbt" / "seeds" / "quarantine_reasons.csv"

SCHEMA = pa.schema(
    [
        ("evaluation_id", pa.string()),
        ("run_id", pa.string()),
        ("event_storage_id", pa.int64()),
        ("job_name", pa.string()),
        ("check_name", pa.string()),
        ("asset_key", pa.string()),
        ("source_table", pa.string()),
        ("engine", pa.string()),
        ("check_scope", pa.string()),
        ("partition_start", pa.date32()),
        ("partition_end", pa.date32()),
        ("passed", pa.bool_()),
        ("severity", pa.string()),
        ("is_blocking", pa.bool_()),
        ("description", pa.string()),
        ("metadata_json", pa.string()),
        ("evaluated_at", pa.timestamp("us", tz="UTC")),
    ]
)
COLUMNS = tuple(SCHEMA.names)


@dataclass(frozen=True)
class CheckResult:
    """One evaluation of one asset check, as stored.

    ``asset_key`` is Dagster's ``raw/hotline_orders`` form. ``partition_start`` and
    ``partition_end`` bound the delivery days the evaluation is about (one day, a backfill
    range, or none for a run outside any partition). ``evaluated_at`` is in UTC.
    """

    run_id: str
    event_storage_id: int
    job_name: str
    check_name: str
    asset_key: str
    engine: str
    check_scope: str
    partition_start: dt.date | None
    partition_end: dt.date | None
    passed: bool
    severity: str
    is_blocking: bool | None
    description: str
    metadata_json: str
    evaluated_at: dt.datetime

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.check_name}: severity {self.severity!r} not in {SEVERITIES}")
        if self.engine not in ENGINES:
            raise ValueError(f"{self.check_name}: engine {self.engine!r} not in {ENGINES}")
        if self.check_scope not in SCOPES:
            raise ValueError(f"{self.check_name}: scope {self.check_scope!r} not in {SCOPES}")
        if self.evaluated_at.tzinfo is None:
            raise ValueError(f"{self.check_name}: evaluated_at must carry its time zone")

    @property
    def evaluation_id(self) -> str:
        """Unique across runs and instances: ``<run id>:<event storage id>``."""
        return f"{self.run_id}:{self.event_storage_id}"

    @property
    def source_table(self) -> str | None:
        """The lake table when the checked asset is one (``raw/<table>``)."""
        return source_table(self.asset_key)

    @property
    def evaluated_date(self) -> dt.date:
        """The Beijing day the check ran: the store's partition."""
        return self.evaluated_at.astimezone(SHANGHAI).date()

    @property
    def is_blocking_failure(self) -> bool:
        """Failed at severity ERROR, and the check blocks (or did not say it does not)."""
        return is_blocking_failure(self.passed, self.severity, self.is_blocking)

    @property
    def check_class(self) -> str:
        """See :func:`check_class`."""
        return check_class(self.engine)

    def days(self) -> list[dt.date]:
        """Every delivery day the evaluation covers."""
        if self.partition_start is None or self.partition_end is None:
            return []
        span = (self.partition_end - self.partition_start).days
        return [self.partition_start + dt.timedelta(days=n) for n in range(span + 1)]

    def row(self) -> dict[str, Any]:
        """The stored row (the columns of :data:`SCHEMA`)."""
        values = {
            **asdict(self),
            "evaluation_id": self.evaluation_id,
            "source_table": self.source_table,
        }
        values["evaluated_at"] = self.evaluated_at.astimezone(dt.UTC)
        return {name: values[name] for name in COLUMNS}


def is_blocking_failure(passed: bool, severity: str, is_blocking: bool | None) -> bool:
    """A failure that stops the build: severity ERROR on a check not declared non-blocking."""
    return not passed and severity == ERROR and is_blocking is not False


def check_class(engine: str) -> str:
    """``timeliness`` for an engine that judges arrival against the wall clock, else ``data``."""
    return TIMELINESS_CHECKS if engine in WALL_CLOCK_ENGINES else DATA_CHECKS


def outcome(engine: str, passed: bool) -> str:
    """``passed``; else ``late`` for a timeliness check and ``failed`` for a data check."""
    if passed:
        return PASSED
    return LATE if check_class(engine) == TIMELINESS_CHECKS else FAILED


def infer_engine(check_name: str, metadata: Mapping[str, Any]) -> str:
    """Which kind of check produced a result: volume, gx, faults, freshness, dbt or other.

    The metadata key ``cityops/engine`` wins; then the names this project gives its checks
    (``volume_*``, ``gx_*``, ``freshness_*``); then what dagster-dbt and Dagster's freshness
    checks put in their metadata.
    """
    stated = metadata.get(ENGINE_METADATA_KEY)
    if stated in ENGINES:
        return str(stated)
    if check_name.startswith("volume"):
        return "volume"
    if check_name.startswith("gx_"):
        return "gx"
    if check_name.startswith("freshness") or FRESHNESS_METADATA_KEY in metadata:
        return "freshness"
    unique_id = str(metadata.get("unique_id") or "")
    if unique_id.startswith("test.") or any(key.startswith("dagster_dbt/") for key in metadata):
        return "dbt"
    return "other"


def infer_scope(engine: str, asset_key: str, metadata: Mapping[str, Any], has_days: bool) -> str:
    """``partition`` for a check of a lake table's delivery days, else ``asset``.

    A check may say ``cityops/scope`` in its metadata. Lake tables (``raw/<table>``) are
    partitioned by delivery day, so their volume and Great Expectations checks judge the
    run's days; freshness checks judge "now" and dbt tests whole tables, so they are about
    the asset, as is every check of a run without delivery days.
    """
    stated = metadata.get(SCOPE_METADATA_KEY)
    if stated in SCOPES:
        return str(stated)
    if engine in ("dbt", "freshness") or not has_days or source_table(asset_key) is None:
        return ASSET_SCOPE
    return PARTITION_SCOPE


def metadata_days(metadata: Mapping[str, Any]) -> list[dt.date]:
    """The delivery days a check lists under ``days`` (ISO dates), if any."""
    listed = metadata.get(DAYS_METADATA_KEY)
    if not isinstance(listed, list):
        return []
    days = []
    for value in listed:
        with contextlib.suppress(TypeError, ValueError):
            days.append(dt.date.fromisoformat(str(value)))
    return days


def summarise(description: str | None, metadata: Mapping[str, Any], passed: bool) -> str:
    """One line for people: the check's own description, else what its metadata says.

    Volume checks explain themselves in ``reasons`` (one per day), Great Expectations suites
    list ``failed_expectations``, dbt tests count failing rows.
    """
    if description:
        return description.strip()
    for key in ("reasons", "reason", "failed_expectations"):
        value = metadata.get(key)
        if isinstance(value, list) and value:
            distinct = list(dict.fromkeys(str(item) for item in value if item))
            return "; ".join(distinct)
        if value:
            return str(value)
    failed_rows = metadata.get(DBT_FAILED_ROWS_KEY)
    if failed_rows is not None and not passed:
        return f"{failed_rows} failing rows (dbt test)"
    return ""


def source_table(asset_key: str) -> str | None:
    """The lake table a ``raw/<table>`` asset key names."""
    parts = asset_key.split("/")
    return parts[1] if len(parts) == 2 and parts[0] == "raw" else None


# --- the store ---------------------------------------------------------------------------


def _partition_dir(paths: Paths, day: dt.date) -> Path:
    return paths.check_results / f"evaluated_date={day.isoformat()}"


def store_results(paths: Paths, results: Iterable[CheckResult]) -> int:
    """Add evaluations to the store; returns how many were new (0 when all were stored)."""
    by_day: dict[dt.date, list[CheckResult]] = {}
    for result in results:
        by_day.setdefault(result.evaluated_date, []).append(result)
    if not by_day:
        return 0
    added = 0
    with lake.locked_folder(paths.check_results), duckdb.connect(config=duckdb_config()) as con:
        con.execute("set TimeZone = 'UTC'")
        for day, batch in sorted(by_day.items()):
            added += _merge_partition(con, paths, day, batch)
    return added


def _merge_partition(
    con: duckdb.DuckDBPyConnection, paths: Paths, day: dt.date, batch: Sequence[CheckResult]
) -> int:
    incoming = pa.Table.from_pylist([result.row() for result in batch], schema=SCHEMA)
    con.register("incoming", incoming)
    folder = _partition_dir(paths, day)
    existing = folder / lake.PART_FILE
    if existing.exists():
        con.execute(
            "create or replace table stored as select * from read_parquet(?)", [str(existing)]
        )
    else:
        con.execute("create or replace table stored as select * from incoming limit 0")
    con.execute(
        "create or replace table fresh as "
        "select * from incoming "
        "where evaluation_id not in (select evaluation_id from stored) "
        "qualify row_number() over (partition by evaluation_id) = 1"
    )
    rows = con.execute("select count(*) from fresh").fetchall()[0][0]
    if rows:
        con.execute(
            "create or replace table merged as "
            "select * from (select * from stored union all by name select * from fresh) "
            "order by evaluated_at, evaluation_id"
        )
        staged = lake.stage_parquet(con, "merged", paths.staging)
        try:
            lake.publish(staged, folder)
        finally:
            lake.discard(staged)
    con.unregister("incoming")
    return int(rows)


def connect(paths: Paths) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose view ``check_results`` is the store (empty when absent).

    Only the Parquet files are read: never the working warehouse, which a running build
    locks, nor the serving snapshot, which a failed blocking check keeps from being updated.
    """
    con = duckdb.connect(config=duckdb_config())
    con.execute("set TimeZone = 'UTC'")
    files = sorted(paths.check_results.glob(f"evaluated_date=*/{lake.PART_FILE}"))
    if files:
        # File names come from the glob above, never from data; the relation API binds them.
        con.read_parquet(
            [str(file) for file in files], hive_partitioning=True, union_by_name=True
        ).create_view("stored_check_results")
        con.execute(
            "create view check_results as "
            "select * exclude (evaluated_date) from stored_check_results"
        )
    else:
        con.register("empty_check_results", SCHEMA.empty_table())
        con.execute("create view check_results as select * from empty_check_results")
    return con


def _result(row: Mapping[str, Any]) -> CheckResult:
    derived = ("evaluation_id", "source_table")
    values = {name: row[name] for name in COLUMNS if name not in derived}
    return CheckResult(**values)


def read_results(paths: Paths) -> list[CheckResult]:
    """Every stored evaluation, oldest first."""
    with connect(paths) as con:
        return _fetch(con, "select * from check_results order by evaluated_at, evaluation_id")


def _fetch(
    con: duckdb.DuckDBPyConnection, sql: str, parameters: Mapping[str, Any] | None = None
) -> list[CheckResult]:
    cursor = con.execute(sql, parameters or {})
    names = [column[0] for column in cursor.description]
    return [_result(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


# --- the latest results --------------------------------------------------------------------


@dataclass(frozen=True)
class OpenFailure:
    """A delivery day whose newest evaluation (of a partition check) failed."""

    day: dt.date
    severity: str
    is_blocking: bool | None
    evaluation_id: str

    @property
    def is_blocking_failure(self) -> bool:
        """See :func:`is_blocking_failure`."""
        return is_blocking_failure(False, self.severity, self.is_blocking)


@dataclass(frozen=True)
class LatestResult:
    """The state of one check on one asset: its newest evaluation and its failed days."""

    result: CheckResult
    open_failures: tuple[OpenFailure, ...] = field(default=())

    @property
    def passed(self) -> bool:
        """The newest evaluation passed and no day is still failing."""
        return self.result.passed and not self.open_failures

    @property
    def severity(self) -> str:
        """ERROR when a failure at ERROR is open, else the newest evaluation's severity."""
        failed = [self.result.severity] if not self.result.passed else []
        failed += [failure.severity for failure in self.open_failures]
        return ERROR if ERROR in failed else (WARN if failed else self.result.severity)

    @property
    def is_blocking_failure(self) -> bool:
        """The newest evaluation, or an open day, failed in a way that blocks."""
        return self.result.is_blocking_failure or any(
            failure.is_blocking_failure for failure in self.open_failures
        )

    @property
    def outcome(self) -> str:
        """``passed``, ``failed`` (a data check) or ``late`` (a timeliness check)."""
        return outcome(self.result.engine, self.passed)


LATEST_SQL = """
with

candidates as (

    select *
    from check_results
    where ($source is null or contains(lower(asset_key), lower($source)))
        and ($day is null or $day between partition_start and partition_end)

),

newest as (

    select *
    from candidates
    qualify row_number() over (
        partition by check_name, asset_key
        order by evaluated_at desc, event_storage_id desc
    ) = 1

)

-- The lake tables (the sources proper) first, then the models.
select * from newest order by not starts_with(asset_key, 'raw/'), asset_key, check_name
"""

OPEN_FAILURES_SQL = """
with

days as (

    select
        check_name,
        asset_key,
        evaluation_id,
        passed,
        severity,
        is_blocking,
        evaluated_at,
        event_storage_id,
        unnest(generate_series(partition_start, partition_end, interval 1 day))::date as day
    from check_results
    where check_scope = 'partition'
        and partition_start is not null
        and ($source is null or contains(lower(asset_key), lower($source)))

),

newest_per_day as (

    select *
    from days
    qualify row_number() over (
        partition by check_name, asset_key, day
        order by evaluated_at desc, event_storage_id desc
    ) = 1

)

select check_name, asset_key, day, severity, is_blocking, evaluation_id
from newest_per_day
where not passed
order by check_name, asset_key, day
"""


def latest(
    paths: Paths, *, day: dt.date | None = None, source: str | None = None
) -> list[LatestResult]:
    """The state of every check, per (check, asset): lake tables first, then by asset, check.

    Without ``day``: the newest evaluation of each check on each asset; a partition check
    also carries the days whose newest evaluation failed (:class:`OpenFailure`). With
    ``day``: the newest evaluation covering that delivery day. ``source`` keeps the assets
    whose key contains it (``hotline`` matches ``raw/hotline_orders`` and the dbt models
    ``staging/stg_hotline__orders`` …).
    """
    parameters = {"day": day, "source": source}
    with connect(paths) as con:
        newest = _fetch(con, LATEST_SQL, _bind(LATEST_SQL, parameters))
        open_failures: dict[tuple[str, str], list[OpenFailure]] = {}
        if day is None:
            cursor = con.execute(OPEN_FAILURES_SQL, _bind(OPEN_FAILURES_SQL, parameters))
            for check_name, asset_key, *failure in cursor.fetchall():
                open_failures.setdefault((check_name, asset_key), []).append(OpenFailure(*failure))
    return [
        LatestResult(result, tuple(open_failures.get((result.check_name, result.asset_key), ())))
        for result in newest
    ]


def _bind(sql: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The named parameters a statement uses (DuckDB rejects unused ones)."""
    return {name: value for name, value in parameters.items() if f"${name}" in sql}


def blocking_failures(results: Iterable[LatestResult]) -> list[LatestResult]:
    """The checks whose current state blocks: what makes ``cityops quality`` exit 1."""
    return [result for result in results if result.is_blocking_failure]


def summary(results: Sequence[LatestResult]) -> dict[str, Any]:
    """Counts for the summary line: passed, failed (of which late), blocking failures (named).

    ``late`` counts the timeliness checks among the failed: late against the wall clock.
    """
    blocking = blocking_failures(results)
    return {
        "checks": len(results),
        "passed": sum(result.passed for result in results),
        "failed": sum(not result.passed for result in results),
        "late": sum(result.outcome == LATE for result in results),
        "blocking_failed": len(blocking),
        "blocking_failures": [
            f"{result.result.asset_key}:{result.result.check_name}" for result in blocking
        ],
    }


# --- quarantine counts ---------------------------------------------------------------------


@dataclass(frozen=True)
class QuarantineCount:
    """Rows one table's delivery day quarantined for one reason, with the day's totals."""

    table: str
    day: dt.date
    reason: str
    rows: int
    rows_read: int
    rows_written: int
    rows_quarantined: int
    duplicates_dropped: int

    @property
    def share_of_read(self) -> float | None:
        """The reason's rows as a share of the rows read that day."""
        return self.rows / self.rows_read if self.rows_read else None


def quarantine_rows(partitions: Iterable[Mapping[str, Any]]) -> list[QuarantineCount]:
    """One :class:`QuarantineCount` per partition and reason with rows quarantined.

    ``partitions`` are accounting records as :func:`ingestion.status.partition_status`
    returns them (``table``, ``dt``, ``rows_read`` …, ``quarantined_by_reason``); partitions
    never ingested (``rows_read`` is None) have nothing to count.
    """
    counts = []
    for partition in partitions:
        if partition.get("rows_read") is None:
            continue
        for reason, rows in sorted((partition.get("quarantined_by_reason") or {}).items()):
            if not rows:
                continue
            counts.append(
                QuarantineCount(
                    table=partition["table"],
                    day=dt.date.fromisoformat(partition["dt"]),
                    reason=reason,
                    rows=int(rows),
                    rows_read=int(partition["rows_read"]),
                    rows_written=int(partition.get("rows_written") or 0),
                    rows_quarantined=int(partition.get("rows_quarantined") or 0),
                    duplicates_dropped=int(partition.get("duplicates_dropped") or 0),
                )
            )
    return counts


def newest_days(partitions: Iterable[Mapping[str, Any]]) -> dict[str, dt.date]:
    """Per table, the newest delivery day that was ingested."""
    newest: dict[str, dt.date] = {}
    for partition in partitions:
        if partition.get("rows_read") is None:
            continue
        day = dt.date.fromisoformat(partition["dt"])
        newest[partition["table"]] = max(day, newest.get(partition["table"], day))
    return newest


def quarantine_counts(
    paths: Paths, *, day: dt.date | None = None, table: str | None = None
) -> tuple[list[Mapping[str, Any]], list[QuarantineCount]]:
    """The ingested partitions of ``day`` (default: each table's newest) and their reasons.

    Reads the ingestion accounting records through :func:`ingestion.status.partition_status`
    (the reader ``cityops status`` uses). Returns the partitions, so a day without any
    quarantine still shows, and the per-reason counts.
    """
    from ingestion.status import partition_status

    partitions = [row for row in partition_status(paths, table) if row["rows_read"] is not None]
    if day is not None:
        chosen = [row for row in partitions if row["dt"] == day.isoformat()]
    else:
        newest = newest_days(partitions)
        chosen = [row for row in partitions if row["dt"] == newest[row["table"]].isoformat()]
    return chosen, quarantine_rows(chosen)


def reason_names() -> dict[str, str]:
    """Quarantine reason code → 中文名称, from the dbt seed ``quarantine_reasons``."""
    if not REASON_NAMES_CSV.exists():
        return {}
    with REASON_NAMES_CSV.open(encoding="utf-8", newline="") as handle:
        return {row["reason_code"]: row["reason_name"] for row in csv.DictReader(handle)}


def as_json_ready(results: Sequence[LatestResult]) -> list[dict[str, Any]]:
    """Latest results as JSON-ready dicts (dates and times as ISO text)."""
    payload = []
    for latest_result in results:
        row = latest_result.result.row()
        row["metadata"] = json.loads(row.pop("metadata_json") or "{}")
        row.update(
            passed=latest_result.passed,
            severity=latest_result.severity,
            newest_evaluation_passed=latest_result.result.passed,
            is_blocking_failure=latest_result.is_blocking_failure,
            check_class=latest_result.result.check_class,
            outcome=latest_result.outcome,
            open_failures=[
                {
                    "day": failure.day.isoformat(),
                    "severity": failure.severity,
                    "is_blocking": failure.is_blocking,
                    "evaluation_id": failure.evaluation_id,
                }
                for failure in latest_result.open_failures
            ],
        )
        payload.append({key: _plain(value) for key, value in row.items()})
    return payload


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
