"""Freshness SLAs: by when each lake table's daily partition must have arrived, in Beijing time.

The lake is partitioned by delivery day (Asia/Shanghai), so an SLA reads "partition D is in
the lake by D+1 HH:MM". At a moment ``now`` the *expected* partition is the newest day whose
deadline has passed: before today's HH:MM that is the day before yesterday, from HH:MM on it
is yesterday. A table is overdue when its expected partition has not been ingested.

This is the same rule as Dagster's ``build_time_partition_freshness_checks`` with
``deadline_cron = "MM HH * * *"`` over the daily partitions
(``dagster_project/defs/quality/freshness.py``): the checks read Dagster's materializations,
:func:`freshness_status` reads the ingestion accounting records, so ``cityops freshness``
works without Dagster. Both agree while ingestion runs through
Dagster, which writes one accounting record per materialized partition.

No deadline comes from ``domain.md`` or from the sources' agreements: every hour below is an
assumption (``assumed=True``) derived from the shape of each delivery (hourly batches,
nightly platform exports, office-hours reports from other bureaus), to be confirmed with the
district's data owners. Severity is WARN except for the two
feeds behind the hourly vital signs (see ``reason``); the checks never block, because a
missing partition already blocks the build through the volume check.

Two clocks. The SLAs are promises in real time, so the checks judge them against the wall
clock, and that verdict stands: when every feed stops, only the wall clock sees it. Data
replayed from the past (the July 2024 demo) is therefore always late by the wall clock,
which says nothing about its sources. Beside that verdict, :func:`data_clock` reads the
data's own time: the end of the newest delivery day any table has in the lake. Judged at
that moment, a table is *behind the data* when it lacks a partition the other feeds make
due: one feed lagging the rest, in a replay as in production. Every deadline falls after
midnight on D+1, so at the end of day D the day before is due from every table
(``dbt/models/marts/quality/fct_source_freshness.sql`` applies the same rule; a unit test
keeps the SLAs so). The dashboard shows both (数据时效滞后：按系统时间判断, and 相对最新交付日).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ingestion.pipeline import landing_days, read_log
from ingestion.settings import Paths
from ingestion.sources import BY_TABLE, CONTRACTS
from quality.volume import ERROR, WARN

TIMEZONE = "Asia/Shanghai"
SHANGHAI = ZoneInfo(TIMEZONE)
SEVERITIES = (WARN, ERROR)


class SlaError(ValueError):
    """The SLA table is invalid; the message names every problem."""


@dataclass(frozen=True)
class FreshnessSla:
    """Partition D of ``table`` must be in the lake by D+1 ``hour``:``minute`` Beijing time."""

    table: str
    hour: int
    minute: int
    severity: str
    reason: str
    assumed: bool = True

    @property
    def label(self) -> str:
        """The table's Chinese name, from its contract (typed once)."""
        contract = BY_TABLE.get(self.table)
        return contract.title if contract else self.table

    @property
    def deadline(self) -> str:
        """The rule in words: ``D+1 02:00``."""
        return f"D+1 {self.hour:02d}:{self.minute:02d}"

    @property
    def deadline_label(self) -> str:
        """The rule in Chinese: ``次日 02:00 前``."""
        return f"次日 {self.hour:02d}:{self.minute:02d} 前"

    @property
    def cron(self) -> str:
        """The deadline as a daily cron expression, read in Asia/Shanghai."""
        return f"{self.minute} {self.hour} * * *"

    def deadline_of(self, day: dt.date) -> dt.datetime:
        """When partition ``day`` must have arrived (aware, Asia/Shanghai)."""
        return dt.datetime.combine(
            day + dt.timedelta(days=1), dt.time(self.hour, self.minute), tzinfo=SHANGHAI
        )

    def expected_partition(self, now: dt.datetime) -> dt.date:
        """The newest partition whose deadline has passed at ``now`` (an aware datetime)."""
        local = _aware(now).astimezone(SHANGHAI)
        today_deadline = local.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        last_tick = local.date() if local >= today_deadline else local.date() - dt.timedelta(days=1)
        return last_tick - dt.timedelta(days=1)


SLAS: tuple[FreshnessSla, ...] = (
    # ERROR: the hourly vital signs (smoke, ponding, air, lifts, traffic, rain, heat) read
    # these two feeds, so a stale feed silences warnings instead of raising them.
    FreshnessSla(
        table="iot_readings",
        hour=2,
        minute=0,
        severity=ERROR,
        reason="5-minute batches and one file per alarm; the last closes at 24:00, +2 h for a late "
        "batch or a re-send; the hourly vital signs go blind without it",
    ),
    FreshnessSla(
        table="weather_hourly",
        hour=2,
        minute=0,
        severity=ERROR,
        reason="hourly observations, complete after the 23:00 one, +2 h; the rainstorm and "
        "heat vital signs read it",
    ),
    # Overnight exports of the platforms, in time for the 06:30 daily pipeline.
    FreshnessSla(
        table="hotline_orders",
        hour=6,
        minute=0,
        severity=WARN,
        reason="the 12345 platform's overnight export of the day's change feed",
    ),
    FreshnessSla(
        table="grid_cases",
        hour=6,
        minute=0,
        severity=WARN,
        reason="网格/数字城管 API dump taken overnight",
    ),
    FreshnessSla(
        table="iot_devices",
        hour=6,
        minute=0,
        severity=WARN,
        reason="registry snapshot in the IoT platform's nightly batch; it changes slowly",
    ),
    # Deliveries from other bureaus and operators, sent once their office opens (08:30).
    FreshnessSla(
        table="enterprises",
        hour=10,
        minute=0,
        severity=WARN,
        reason="market-supervision workbook, sent by the bureau in office hours",
    ),
    FreshnessSla(
        table="enterprise_licences",
        hour=10,
        minute=0,
        severity=WARN,
        reason="second sheet of the same market-supervision workbook",
    ),
    FreshnessSla(
        table="business_district_flows",
        hour=10,
        minute=0,
        severity=WARN,
        reason="商圈 operators' footfall and sales report, sent in office hours",
    ),
    FreshnessSla(
        table="market_prices",
        hour=10,
        minute=0,
        severity=WARN,
        reason="wet markets' price report, sent in office hours",
    ),
    FreshnessSla(
        table="whistle_feedback",
        hour=6,
        minute=0,
        severity=WARN,
        reason="the disposal system's overnight export of the day's 吹哨 steps; a day without "
        "steps sends no file and is ingested empty, so the partition still arrives",
    ),
)


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; pass an aware datetime")
    return moment


def validate_slas(slas: Iterable[FreshnessSla], tables: Iterable[str]) -> dict[str, FreshnessSla]:
    """Check the SLA table against the lake tables; return it by table, or raise :class:`SlaError`.

    Every table needs exactly one SLA, no SLA may name an unknown table, the deadline must be
    a clock time (hour 0–23, minute 0–59), the severity WARN or ERROR and the reason non-empty.
    """
    known = list(tables)
    problems: list[str] = []
    by_table: dict[str, FreshnessSla] = {}
    for sla in slas:
        name = sla.table
        if name not in known:
            problems.append(f"{name}: no lake table of that name (known: {', '.join(known)})")
        if name in by_table:
            problems.append(f"{name}: more than one SLA")
        if not (isinstance(sla.hour, int) and 0 <= sla.hour <= 23):
            problems.append(f"{name}: hour {sla.hour!r} is not 0–23 (Beijing time on D+1)")
        if not (isinstance(sla.minute, int) and 0 <= sla.minute <= 59):
            problems.append(f"{name}: minute {sla.minute!r} is not 0–59")
        if sla.severity not in SEVERITIES:
            problems.append(f"{name}: severity {sla.severity!r} is not one of {SEVERITIES}")
        if not sla.reason.strip():
            problems.append(f"{name}: the reason is empty")
        by_table.setdefault(name, sla)
    problems += [f"{name}: no SLA" for name in known if name not in by_table]
    if problems:
        raise SlaError("invalid freshness SLA table:\n  " + "\n  ".join(problems))
    return by_table


SLA_BY_TABLE = validate_slas(SLAS, [contract.table for contract in CONTRACTS])


@dataclass(frozen=True)
class FreshnessStatus:
    """One table's freshness at ``now``."""

    sla: FreshnessSla
    now: dt.datetime
    expected: dt.date
    latest: dt.date | None
    latest_delivered: dt.date | None
    is_overdue: bool
    overdue_since: dt.datetime | None
    overdue_seconds: float | None
    # Judged at the data's own time (:func:`data_clock`) instead of ``now``; None without data.
    data_now: dt.datetime | None = None
    expected_by_data: dt.date | None = None
    is_behind_data: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (dates ISO, times ISO with +08:00)."""
        return {
            "table": self.sla.table,
            "label": self.sla.label,
            "deadline": self.sla.deadline,
            "deadline_cron": self.sla.cron,
            "timezone": TIMEZONE,
            "severity": self.sla.severity,
            "assumed": self.sla.assumed,
            "reason": self.sla.reason,
            "now": self.now.isoformat(timespec="seconds"),
            "expected_partition": self.expected.isoformat(),
            "expected_deadline": self.sla.deadline_of(self.expected).isoformat(),
            "latest_partition": self.latest.isoformat() if self.latest else None,
            "latest_delivered": self.latest_delivered.isoformat()
            if self.latest_delivered
            else None,
            "is_overdue": self.is_overdue,
            "overdue_since": self.overdue_since.isoformat() if self.overdue_since else None,
            "overdue_seconds": self.overdue_seconds,
            "data_now": self.data_now.isoformat(timespec="seconds") if self.data_now else None,
            "expected_partition_by_data": self.expected_by_data.isoformat()
            if self.expected_by_data
            else None,
            "is_behind_data": self.is_behind_data,
        }


def ingested_days(paths: Paths, table: str) -> set[dt.date]:
    """Partitions whose accounting record says they were ingested (the lake serves them)."""
    days = set()
    for record in sorted((paths.ingestion_log / table).glob("dt=*.json")):
        try:
            day = dt.date.fromisoformat(record.stem.removeprefix("dt="))
        except ValueError:
            continue
        log = read_log(paths, table, day)
        if log and log.get("status") in ("ingested", "skipped"):
            days.add(day)
    return days


def data_clock(ingested: Iterable[Iterable[dt.date]]) -> dt.datetime | None:
    """The data's own "now": the end of the newest delivery day any table has ingested.

    ``ingested`` holds each table's ingested partitions. That day's partition is in the lake,
    so its day is over, whatever the wall clock says; None when nothing was ingested.
    """
    newest = max((day for days in ingested for day in days), default=None)
    if newest is None:
        return None
    return dt.datetime.combine(newest + dt.timedelta(days=1), dt.time(0), tzinfo=SHANGHAI)


def table_freshness(
    sla: FreshnessSla,
    ingested: set[dt.date],
    now: dt.datetime,
    latest_delivered: dt.date | None = None,
    data_now: dt.datetime | None = None,
) -> FreshnessStatus:
    """Freshness of one table from the set of its ingested partitions.

    Overdue means the expected partition is missing (as in Dagster's check; older gaps are
    the volume check's). It has been overdue since the deadline of the partition after the
    newest one ingested before the expected day; with nothing ingested before that day there
    is no such time (``overdue_since`` is None). With ``data_now`` (:func:`data_clock`) the
    same rule is also applied at the data's own time: ``is_behind_data``.
    """
    expected_by_data = sla.expected_partition(data_now) if data_now is not None else None
    now = _aware(now).astimezone(SHANGHAI)
    expected = sla.expected_partition(now)
    is_overdue = expected not in ingested
    overdue_since = overdue_seconds = None
    if is_overdue:
        earlier = [day for day in ingested if day < expected]
        if earlier:
            overdue_since = sla.deadline_of(max(earlier) + dt.timedelta(days=1))
            overdue_seconds = (now - overdue_since).total_seconds()
    return FreshnessStatus(
        sla=sla,
        now=now,
        expected=expected,
        latest=max(ingested) if ingested else None,
        latest_delivered=latest_delivered,
        is_overdue=is_overdue,
        overdue_since=overdue_since,
        overdue_seconds=overdue_seconds,
        data_now=data_now.astimezone(SHANGHAI) if data_now is not None else None,
        expected_by_data=expected_by_data,
        is_behind_data=expected_by_data not in ingested if expected_by_data else None,
    )


def freshness_status(
    paths: Paths, now: dt.datetime, slas: Sequence[FreshnessSla] = SLAS
) -> list[FreshnessStatus]:
    """Every table's freshness at ``now`` (and at the data's own time, :func:`data_clock`).

    From the ingestion accounting and the landing folders.
    """
    ingested = {sla.table: ingested_days(paths, sla.table) for sla in slas}
    data_now = data_clock(ingested.values())
    rows = []
    for sla in slas:
        delivered = landing_days(paths, BY_TABLE[sla.table])
        rows.append(
            table_freshness(
                sla,
                ingested[sla.table],
                now,
                latest_delivered=max(delivered) if delivered else None,
                data_now=data_now,
            )
        )
    return rows


def format_overdue(seconds: float | None) -> str:
    """``3 天 4 小时`` / ``25 分钟``; ``—`` when there is no time to show."""
    if seconds is None:
        return "—"
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时"
    if hours:
        return f"{hours} 小时 {minutes} 分钟"
    return f"{minutes} 分钟"
