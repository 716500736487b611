"""The live path's files: its copy of the published warehouse, and the store readers open.

Under ``$CITYOPS_HOME``::

    live/cityops_live.duckdb   the live copy: the serving snapshot, then the live runs' writes
    live/state.json            which snapshot the copy was made from, and its last delivery day
    live/cycles.jsonl          one line per cycle: the batches and the time of every stage
    live/status.json           the running process's heartbeat
    serving/live.duckdb        the vital-sign marts of the newest cycle, for readers

Only the live process opens the copy. Readers open ``serving/live.duckdb``, replaced whole by
a rename after every cycle (a reader keeps the file it opened), or the serving snapshot when
that is newer (:func:`freshest_vitals`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from ingestion import files
from ingestion.lake import append_jsonl
from ingestion.processes import owned_name, remove_dead_entries
from ingestion.settings import Paths
from live.engine import Span
from serving import (
    copy_database,
    current_name,
    current_snapshot,
    remove_database,
    serving_dir,
    serving_path,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
LIVE_STORE = "live.duckdb"
# The vital-sign marts readers query, one row per indicator series, warning, step or order.
# The live indicators' rows (indicators.yml `live: true`) come from the live copy; the others'
# from the snapshot it was made from: the live copy recomputes them too, but without the
# day's hotline, grid and business deliveries, which only the daily build ingests.
MIXED_TABLES = (
    "fct_indicator_latest",
    "fct_warning_events",
    "fct_warning_escalations",
    "fct_whistle_orders",
)
# A live run evaluates warnings from a period on (engine.Span): the live indicators' rows
# from then on come from the live copy, the earlier ones from the snapshot, split on these
# columns. Every warning the snapshot holds from before then had closed before it (live_span),
# so its steps and order are earlier too. A series of fct_indicator_latest that has no value
# in the live span keeps its row from the snapshot.
SPLIT_COLUMNS = {
    "fct_indicator_values": "period_start",
    "fct_warning_events": "opened_at",
    "fct_warning_escalations": "reached_at",
    "fct_whistle_orders": "opened_at",
}
SERIES = ("indicator_code", "area_level", "area_code", "subject_code")
# The mixed tables with the data's as-of time (`as_of_at`) on every row.
AS_OF_TABLES = ("fct_warning_events", "fct_whistle_orders")
# Whole from the live copy (the registry, the street names `cityops warnings --street`
# resolves) or from the snapshot (a daily score of every dimension).
COPIED_TABLES = (("vitals", "dim_indicators"), ("places", "dim_streets"))
BASE_TABLES = (("vitals", "fct_street_health_daily"),)
# The indicator values of the data's last days only: the live panel's recent history, not
# the whole series (which grows with history; the serving snapshot has it).
STORE_VALUE_DAYS = 2


@dataclass(frozen=True)
class LivePaths:
    """The live path's files under one home."""

    home: Paths

    @property
    def folder(self) -> Path:
        """``$CITYOPS_HOME/live``."""
        return self.home.home / "live"

    @property
    def database(self) -> Path:
        """The live copy dbt's ``live`` target writes (dbt/profiles.yml)."""
        return self.folder / "cityops_live.duckdb"

    @property
    def state(self) -> Path:
        """The copy's origin: ``{"snapshot": …, "base_day": …}``."""
        return self.folder / "state.json"

    @property
    def cycles(self) -> Path:
        """One JSON line per cycle."""
        return self.folder / "cycles.jsonl"

    @property
    def status(self) -> Path:
        """The heartbeat of the running ``cityops live``."""
        return self.folder / "status.json"

    @property
    def dbt_target(self) -> Path:
        """The dbt target folder (the parse and the artifacts of the newest run)."""
        return self.folder / "dbt"

    @property
    def store(self) -> Path:
        """What readers open: ``serving/live.duckdb``."""
        return serving_dir(self.home) / LIVE_STORE


@dataclass(frozen=True)
class Base:
    """The snapshot the live copy was made from, and the newest delivery day it holds."""

    snapshot: str
    base_day: dt.date


def read_base(live: LivePaths) -> Base | None:
    """The live copy's origin, or None when there is no usable copy."""
    if not live.state.exists() or not live.database.exists():
        return None
    state = json.loads(live.state.read_text(encoding="utf-8"))
    return Base(state["snapshot"], dt.date.fromisoformat(state["base_day"]))


def needs_rebase(live: LivePaths) -> bool:
    """True when the serving snapshot is not the one the live copy was made from."""
    name = current_name(live.home)
    if name is None:
        return False
    base = read_base(live)
    return base is None or base.snapshot != name


def rebase(live: LivePaths) -> Base:
    """Replace the live copy with a copy of the current serving snapshot.

    The snapshot is immutable once published, so no lock is needed to copy it; the copy is
    written beside the target and renamed over it.
    """
    snapshot = current_snapshot(live.home)
    if snapshot is None:
        raise FileNotFoundError(
            f"No serving snapshot under {serving_dir(live.home)}: the live path starts from "
            "a published warehouse. Run `cityops run` first."
        )
    live.folder.mkdir(parents=True, exist_ok=True)
    remove_dead_entries(live.folder, unowned_max_age=None)
    staged = live.folder / owned_name("copy.duckdb")
    copy_database(snapshot.path, staged)
    with duckdb.connect(str(staged), read_only=True) as con:
        row = con.execute(
            "select max(last_delivery_date) from things.fct_device_readings_hourly"
        ).fetchone()
    if row is None or row[0] is None:
        remove_database(staged)
        raise RuntimeError(f"{snapshot.path} holds no readings: nothing to continue from.")
    remove_database(live.database)
    os.replace(staged, live.database)
    base = Base(snapshot.name, row[0])
    files.write_json(live.state, {"snapshot": base.snapshot, "base_day": base.base_day.isoformat()})
    return base


def base_snapshot_path(live: LivePaths, base: Base) -> Path:
    """The snapshot file the live copy was made from (kept while it is current or previous)."""
    kept = serving_dir(live.home) / "snapshots" / base.snapshot
    return kept if kept.exists() else serving_path(live.home)


def live_span(
    live: LivePaths, base: Base, live_codes: list[str], first_day: dt.date, warm_up_days: int
) -> Span:
    """The periods a live run over ``first_day`` onwards measures and evaluates.

    Evaluation starts with the first live day, or earlier at the start of a live indicator's
    warning that the snapshot has open then (or closing only then): the state before a
    warning's first period is "not in warning", the state the hysteresis starts from, so the
    evaluated periods get the same states as a build over all history.
    """
    with duckdb.connect(str(base_snapshot_path(live, base)), read_only=True) as con:
        since = warnings_start(con, live_codes, first_day)
    start = dt.datetime.combine(since.date() - dt.timedelta(days=warm_up_days), dt.time())
    return Span(warnings_from=since, periods_from=start)


def warnings_start(
    con: duckdb.DuckDBPyConnection, codes: list[str], first_day: dt.date
) -> dt.datetime:
    """Where evaluation starts: ``first_day``, or the start of a warning open across it.

    Moved back to the first period of any ``codes`` warning in ``vitals.fct_warning_events``
    that is open across the start (or closes only at it), until none is.
    """
    since = dt.datetime.combine(first_day, dt.time())
    while True:
        row = con.execute(
            "select min(opened_at) from vitals.fct_warning_events "
            "where list_contains($codes, indicator_code) and opened_at < $since "
            "and (closed_at is null or closed_at >= $since)",
            {"codes": codes, "since": since},
        ).fetchone()
        if row is None or row[0] is None:
            return since
        since = row[0]


def publish_store(
    live: LivePaths,
    base: Base,
    live_codes: list[str],
    *,
    cycle_id: str,
    since: dt.datetime | None = None,
) -> dt.datetime | None:
    """Write the vital-sign marts readers see into ``serving/live.duckdb``; the data's as-of.

    Rows of the ``live_codes`` indicators from ``since`` on (the span the live run evaluated;
    None: all) come from the live copy, every other row from the snapshot the copy was made
    from (:data:`MIXED_TABLES`, :data:`SPLIT_COLUMNS`).
    """
    return _write_store(
        live,
        live.database,
        base_snapshot_path(live, base),
        live_codes,
        cycle_id,
        base.snapshot,
        since,
    )


def seed_store(home: Paths) -> dt.datetime | None:
    """Make the live store the snapshot's marts when it is missing or older than the snapshot.

    Readers of the live store (the dashboards' live panel) then always find it, and it never
    shows less than the daily build published, also while ``cityops live`` is not running.
    """
    live = LivePaths(home)
    snapshot = current_snapshot(home)
    if snapshot is None:
        return None
    snapshot_as_of, store_now = store_as_of(snapshot.path), store_as_of(live.store)
    if store_now is not None and snapshot_as_of is not None and store_now >= snapshot_as_of:
        return store_now
    return _write_store(live, None, snapshot.path, [], "seed", snapshot.name)


def _write_store(
    live: LivePaths,
    work: Path | None,
    base: Path,
    live_codes: list[str],
    cycle_id: str,
    base_name: str,
    since: dt.datetime | None = None,
) -> dt.datetime | None:
    """The store from ``work`` (the live copy; None: the base alone) and ``base``."""
    staging = serving_dir(live.home) / "_tmp"
    staging.mkdir(parents=True, exist_ok=True)
    remove_dead_entries(staging)
    staged = staging / owned_name(f"live-{cycle_id}.duckdb")
    remove_database(staged)
    copy_from = "work" if work is not None else "base"
    try:
        with duckdb.connect(str(staged)) as con:
            if work is not None:
                con.execute("attach ? as work (read_only)", [str(work)])
            con.execute("attach ? as base (read_only)", [str(base)])
            con.execute("create schema vitals")
            con.execute("create schema places")
            # Identifiers below are this module's constants, never input.
            for schema, table in COPIED_TABLES:
                con.execute(
                    f'create table "{schema}"."{table}" as '  # noqa: S608
                    f'select * from {copy_from}."{schema}"."{table}"'
                )
            for schema, table in BASE_TABLES:
                con.execute(
                    f'create table "{schema}"."{table}" as '  # noqa: S608
                    f'select * from base."{schema}"."{table}"'
                )
            for table in (*MIXED_TABLES, "fct_indicator_values"):
                query = mixed_query(table, copy_from, split=since is not None)
                parameters = {
                    "codes": live_codes,
                    **({"since": since} if "$since" in query else {}),
                    **({"days": STORE_VALUE_DAYS} if "$days" in query else {}),
                }
                con.execute(f"create table vitals.{table} as {query}", parameters)
            if work is None:
                as_of = _as_of(con)
            else:
                # The live indicators' rows, the snapshot's older ones too, are as of the live
                # data: the end of the newest period measured.
                newest = "select max(period_end) from work.vitals.fct_indicator_values"
                row = con.execute(newest).fetchone()
                as_of = row[0] if row and row[0] is not None else _as_of(con)
                for table in AS_OF_TABLES:
                    con.execute(
                        f"update vitals.{table} set as_of_at = $as_of "  # noqa: S608
                        "where list_contains($codes, indicator_code)",
                        {"as_of": as_of, "codes": live_codes},
                    )
            for database in ("work", "base") if work is not None else ("base",):
                con.execute(f"detach {database}")
            con.execute("create schema _serving")
            con.execute(
                "create table _serving.live as select $cycle as cycle_id, "
                "cast($published as timestamptz) as published_at, "
                "cast($as_of as timestamp) as as_of_at, $base as base_snapshot",
                {
                    "cycle": cycle_id,
                    "published": dt.datetime.now(dt.UTC),
                    "as_of": as_of,
                    "base": base_name,
                },
            )
        os.replace(staged, live.store)
    finally:
        remove_database(staged)
    return as_of


def mixed_query(table: str, copy_from: str, *, split: bool) -> str:
    """The select of a mixed table's rows from the live copy and the snapshot.

    ``copy_from`` is the copy's alias (``work``; ``base`` when seeding from the snapshot
    alone), the snapshot's is ``base``. Parameters: ``$codes``, ``$since`` and ``$days``.
    """
    recent = table == "fct_indicator_values"
    return " union all by name ".join(
        _rows(database, table, live=side, recent=recent, split=split, copy_from=copy_from)
        for database, side in ((copy_from, True), ("base", False))
    )


def _rows(
    database: str, table: str, *, live: bool, recent: bool, split: bool, copy_from: str
) -> str:
    """The select of one side of a mixed table: the live indicators' rows or the others'.

    With ``split``, the live indicators' rows before ``$since`` come from the base side.
    """
    # Identifiers are this module's constants; the codes, days and time are parameters.
    source = f"{database}.vitals.{table}"
    is_live = "list_contains($codes, indicator_code)"
    column = SPLIT_COLUMNS.get(table)
    if not split:
        which = is_live if live else f"not {is_live}"
    elif live:
        which = f"{is_live} and {column} >= $since" if column else is_live
    elif column:
        which = f"(not {is_live} or {column} < $since)"
    else:
        # A series without a value in the live span keeps the snapshot's row.
        key = " and ".join(f"copy.{name} = kept.{name}" for name in SERIES)
        which = (
            f"(not {is_live} or not exists "  # noqa: S608
            f"(select 1 from {copy_from}.vitals.{table} as copy where {key}))"
        )
    sql = f"select * from {source} as kept where {which}"  # noqa: S608
    if recent:
        newest = f"(select max(period_start) from {source})"  # noqa: S608
        sql += f" and period_start >= {newest} - to_days($days)"
    return sql


def _as_of(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    row = con.execute("select max(as_of_at) from vitals.fct_warning_events").fetchone()
    return row[0] if row else None


def store_as_of(path: Path) -> dt.datetime | None:
    """The data's as-of time in a store with vitals marts, or None when it has none.

    The live store records it (``_serving.live``); a snapshot has it on its warnings.
    """
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            recorded = con.execute(
                "select 1 from information_schema.tables "
                "where table_schema = '_serving' and table_name = 'live'"
            ).fetchone()
            if recorded:
                row = con.execute("select as_of_at from _serving.live").fetchone()
                return row[0] if row else None
            return _as_of(con)
    except duckdb.Error:
        return None


def freshest_vitals(home: Paths) -> Path:
    """The store with the newer vital signs: the live store or the serving snapshot.

    The live store is newer while ``cityops live`` runs ahead of the daily build; after a
    daily build caught up (or when the live path stopped) the snapshot is at least as new.
    """
    snapshot = serving_path(home)
    live = LivePaths(home).store
    live_as_of = store_as_of(live)
    if live_as_of is None:
        return snapshot
    snapshot_as_of = store_as_of(snapshot)
    return live if snapshot_as_of is None or live_as_of > snapshot_as_of else snapshot


def append_cycle(live: LivePaths, record: dict[str, Any]) -> None:
    """Append one cycle's record to ``live/cycles.jsonl``."""
    append_jsonl(live.cycles, record)


def read_cycles(live: LivePaths) -> list[dict[str, Any]]:
    """Every recorded cycle, oldest first."""
    if not live.cycles.exists():
        return []
    with live.cycles.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# `cityops live` writes its heartbeat at least once per poll and once per cycle; a cycle of a
# district takes about 15 s. Silent for this long, it is stopped or stuck.
STALE_AFTER_SECONDS = 180


@dataclass(frozen=True)
class Health:
    """What ``live/status.json`` says about the live path: ``state`` and when it was seen."""

    state: str  # not_started, alive, stale
    alive_at: float | None = None
    pid: int | None = None
    last_error: str | None = None

    def describe(self) -> str:
        """One line for logs and notices."""
        if self.state == "not_started":
            return "实时预警进程未启动 (cityops live has not run in this home)"
        seen = dt.datetime.fromtimestamp(self.alive_at or 0, dt.UTC).astimezone(SHANGHAI)
        line = f"cityops live (pid {self.pid}) last seen {seen:%Y-%m-%d %H:%M:%S}"
        if self.last_error:
            line += f"; last cycle failed: {self.last_error[:300]}"
        return line


def health(home: Paths, now: float) -> Health:
    """The live path's state from its heartbeat file at Unix time ``now``."""
    live = LivePaths(home)
    if not live.status.exists():
        return Health("not_started")
    status = json.loads(live.status.read_text(encoding="utf-8"))
    last = status.get("last_cycle") or {}
    alive_at = float(status["alive_at"])
    state = "alive" if now - alive_at <= STALE_AFTER_SECONDS else "stale"
    return Health(state, alive_at, status.get("pid"), last.get("error"))
