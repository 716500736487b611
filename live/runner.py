"""The live cycle: landed batches → lake → live models → live store → notices.

:meth:`LiveRunner.cycle` does one pass and records it in ``live/cycles.jsonl``; :meth:`run`
polls the landing folders and cycles whenever a batch has landed. Batches that land while a
cycle runs are taken together by the next one, so the path keeps up with any cadence at the
price of latency, never by dropping a batch.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from ingestion import files
from ingestion.contract import Contract
from ingestion.lake import PART_GLOB
from ingestion.landing import day_folders, landing_files
from ingestion.pipeline import ingest_partition, read_log
from ingestion.settings import Paths
from ingestion.sources import BY_TABLE
from live.engine import LiveDbt, warm_up_days
from live.store import (
    Base,
    LivePaths,
    append_cycle,
    live_span,
    needs_rebase,
    publish_store,
    read_base,
    rebase,
)
from vitals.dispatch import send_orders
from vitals.notify import NotifyConfig, load_config, notify
from vitals.notify.deliver import read_delivered
from vitals.registry import load_registry
from vitals.warnings import connect, recent_notices

# The fast sources: the IoT platform's reading batches and alarm events, hourly weather.
LIVE_TABLES = ("iot_readings", "weather_hourly")
# Warning steps of the data's last hours are news; older ones were sent or are history.
NOTIFY_WINDOW_HOURS = 48


def live_contracts() -> tuple[Contract, ...]:
    """The contracts of the live tables."""
    return tuple(BY_TABLE[table] for table in LIVE_TABLES)


@dataclass(frozen=True)
class Landed:
    """A landed file not yet in its partition's accounting."""

    table: str
    day: dt.date
    path: str
    landed_at: float  # the file's modification time: when it was renamed into landing

    def as_record(self) -> dict[str, Any]:
        """The file in a cycle's record."""
        return {
            "table": self.table,
            "day": self.day.isoformat(),
            "path": self.path,
            "landed_at": self.landed_at,
        }


def pending_files(home: Paths, after: dt.date) -> list[Landed]:
    """Files of the live tables, delivered for days after ``after``, not yet ingested.

    A file is new when its path and size are not in the partition's accounting record.
    """
    found = []
    for contract in live_contracts():
        for day, _ in day_folders(home, contract.source):
            if day <= after:
                continue
            log = read_log(home, contract.table, day)
            known = {(entry["path"], entry["bytes"]) for entry in (log or {}).get("files", [])}
            for file in landing_files(home, contract, day):
                stat = file.stat()
                relative = file.relative_to(home.landing).as_posix()
                if (relative, stat.st_size) not in known:
                    found.append(Landed(contract.table, day, relative, stat.st_mtime))
    return found


def live_days(home: Paths, after: dt.date) -> list[dt.date]:
    """Delivery days after ``after`` that the lake holds a live table's partition for."""
    days: set[dt.date] = set()
    for table in LIVE_TABLES:
        folder = home.raw / table
        if not folder.is_dir():
            continue
        for partition in folder.glob("dt=*"):
            day = dt.date.fromisoformat(partition.name[3:])
            if day > after:
                days.add(day)
    return sorted(days)


def data_horizon(home: Paths, days: list[dt.date]) -> dt.datetime | None:
    """The end of the hour of the newest reading the live days hold: how far periods reach."""
    parts = [
        str(path)
        for day in days
        for path in home.raw_partition("iot_readings", day).glob(PART_GLOB)
    ]
    if not parts:
        return None
    with duckdb.connect() as con:
        row = con.execute(
            "select date_trunc('hour', max(reading_at)) + interval 1 hour from read_parquet(?)",
            [parts],
        ).fetchone()
    return row[0] if row else None


def _now() -> float:
    return time.time()


@dataclass
class CycleRecord:
    """What one cycle did and when each stage ended (Unix seconds)."""

    cycle_id: str
    started_at: float
    files: list[Landed] = field(default_factory=list)
    rebased_from: str | None = None
    ingested: list[dict[str, Any]] = field(default_factory=list)
    window: tuple[str, str] | None = None
    span: tuple[str, str] | None = None
    hours_from: str | None = None
    models: int = 0
    as_of: str | None = None
    new_notices: list[str] = field(default_factory=list)
    notify_summary: str = ""
    dispatched: int = 0
    stages: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    def mark(self, stage: str) -> None:
        """Record the end of ``stage`` now."""
        self.stages[stage] = _now()

    def as_record(self) -> dict[str, Any]:
        """The JSON line of ``live/cycles.jsonl``."""
        return {
            "cycle_id": self.cycle_id,
            "started_at": self.started_at,
            "files": [landed.as_record() for landed in self.files],
            "rebased_from": self.rebased_from,
            "ingested": self.ingested,
            "window": list(self.window) if self.window else None,
            "span": list(self.span) if self.span else None,
            "hours_from": self.hours_from,
            "models": self.models,
            "as_of": self.as_of,
            "new_notices": self.new_notices,
            "notify_summary": self.notify_summary,
            "dispatched": self.dispatched,
            "stages": self.stages,
            "error": self.error,
        }


class LiveRunner:
    """The live path of one home."""

    def __init__(
        self,
        home: Paths,
        *,
        notify_config: NotifyConfig | None = None,
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.home = home
        self.live = LivePaths(home)
        self.dbt = LiveDbt(home, self.live.dbt_target)
        self.notify_config = notify_config or load_config()
        self.log = log
        self.base: Base | None = read_base(self.live)
        indicators = load_registry().indicators
        self.live_codes = [indicator.code for indicator in indicators if indicator.live]
        self.warm_up = warm_up_days(indicators)
        # The live store may lag the lake: at start, and after a failed cycle (its batches are
        # ingested already, so only this flag brings the next cycle).
        self.dirty = True
        # Notice keys this process has published (the "new" steps of a cycle are the others).
        self.seen_notices: set[str] = set()
        # The newest cycle's record, repeated in every heartbeat.
        self.last_cycle: dict[str, Any] | None = None
        # When a look at the landing folders last found nothing to do (wall clock).
        self.idle_since: float | None = None
        # The hour of the oldest reading landed since the models last ran, or None while no
        # reading has: a cycle aggregates readings from that hour on. Unknown (False) in a new
        # process, on a new copy and after a partition was ingested whole: then every hour.
        self.hours_known = False
        self.oldest_hour: dt.datetime | None = None

    def cycle(self) -> CycleRecord | None:
        """Take every batch landed since the last cycle through the live path, or None.

        A failure (no snapshot yet, a dbt error, a full disk) is recorded in the cycle and
        logged; the next look tries again.
        """
        record = CycleRecord(uuid.uuid4().hex[:12], _now())
        try:
            if self.base is None or needs_rebase(self.live):
                self.base = rebase(self.live)
                self.hours_known = False
                record.rebased_from = self.base.snapshot
                self.log(f"live copy made from {self.base.snapshot} (data to {self.base.base_day})")
            record.files = pending_files(self.home, self.base.base_day)
            if not record.files and record.rebased_from is None and not self.dirty:
                return None
            record.mark("detected")
            self._ingest(record)
            record.mark("ingested")
            days = live_days(self.home, self.base.base_day)
            span = None
            if days:
                record.window = (days[0].isoformat(), days[-1].isoformat())
                span = live_span(self.live, self.base, self.live_codes, days[0], self.warm_up)
                record.span = (span.periods_from.isoformat(), span.warnings_from.isoformat())
                horizon = data_horizon(self.home, days)
                hours_from = (self.oldest_hour or horizon) if self.hours_known else None
                record.hours_from = hours_from.isoformat() if hours_from else None
                record.models = self.dbt.run(
                    days[0], days[-1], until=horizon, span=span, hours_from=hours_from
                )
            self.hours_known, self.oldest_hour = True, None
            record.mark("computed")
            as_of = publish_store(
                self.live,
                self.base,
                self.live_codes,
                cycle_id=record.cycle_id,
                since=span.warnings_from if span else None,
            )
            record.as_of = as_of.isoformat() if as_of else None
            record.mark("published")
            self._notify(record)
            record.mark("notified")
            # The orders this cycle opened go to the disposal system at once.
            record.dispatched = send_orders(self.home, self.live.store).new
            self.dirty = False
        except Exception as error:  # recorded, and the next look tries again
            self.dirty = True
            record.error = f"{type(error).__name__}: {error}"
            self.log(f"live cycle {record.cycle_id} failed: {record.error}")
        append_cycle(self.live, record.as_record())
        return record

    def _ingest(self, record: CycleRecord) -> None:
        partitions = sorted({(landed.table, landed.day) for landed in record.files})
        for table, day in partitions:
            run_id = f"live-{record.cycle_id}"
            before = (read_log(self.home, table, day) or {}).get("parts", [])
            # Only the newly landed batches are read when the partition allows it.
            log = ingest_partition(BY_TABLE[table], day, self.home, run_id=run_id, append=True)
            if table == "iot_readings" and log["status"] != "skipped":
                self._readings_landed(day, log, before)
            record.ingested.append(
                {
                    "table": table,
                    "day": day.isoformat(),
                    "status": log["status"],
                    "mode": log.get("mode"),
                    "rows_written": log["rows_written"],
                    "rows_quarantined": log["rows_quarantined"],
                }
            )

    def _readings_landed(self, day: dt.date, log: dict[str, Any], before: list[str]) -> None:
        """Move :attr:`oldest_hour` back to the oldest reading of the parts just appended."""
        if log.get("mode") != "append":
            self.hours_known = False
            return
        partition = self.home.raw_partition("iot_readings", day)
        added = [str(partition / part) for part in log["parts"] if part not in before]
        if not added:
            return
        with duckdb.connect() as con:
            row = con.execute(
                "select date_trunc('hour', min(reading_at)) from read_parquet(?)", [added]
            ).fetchone()
        if row and row[0] is not None:
            self.oldest_hour = min(filter(None, (self.oldest_hour, row[0])))

    def _notify(self, record: CycleRecord) -> None:
        with connect(self.live.store) as con:
            notices = recent_notices(con, hours=NOTIFY_WINDOW_HOURS)
        # New: neither delivered on a channel nor seen by an earlier cycle of this process
        # (with no channel configured, nothing is ever delivered).
        known = {key for _, key in read_delivered(self.home.notifications)} | self.seen_notices
        record.new_notices = [notice.key for notice in notices if notice.key not in known]
        self.seen_notices |= {notice.key for notice in notices}
        report = notify(notices, self.notify_config, self.home.notifications)
        record.notify_summary = report.summary()

    def run(
        self,
        *,
        poll_seconds: float = 1.0,
        stop: Callable[[], bool] = lambda: False,
        on_cycle: Callable[[CycleRecord], None] = lambda record: None,
    ) -> None:
        """Cycle whenever a batch lands, until ``stop()``; the heartbeat in ``live/status.json``."""
        self.dbt.parse()
        while not stop():
            looked_at = _now()
            record = self.cycle()
            if record is not None:
                self.idle_since = None
                on_cycle(record)
            elif self.idle_since is None:
                self.idle_since = looked_at
            self._heartbeat(record)
            if record is None:
                time.sleep(poll_seconds)

    def _heartbeat(self, record: CycleRecord | None) -> None:
        status: dict[str, Any] = {"pid": os.getpid(), "alive_at": _now()}
        if self.base is not None:
            status["base"] = {"snapshot": self.base.snapshot, "day": self.base.base_day.isoformat()}
        if record is not None:
            self.last_cycle = record.as_record()
        if self.last_cycle is not None:
            status["last_cycle"] = self.last_cycle
        files.write_json(self.live.status, status)
