"""Row-count checks per lake partition against a trailing, holiday-aware baseline.

A delivery day's ``rows_written`` (from its ingestion accounting record) is compared with
the same table's earlier days within ``weeks`` weeks: the same weekday of the same day type
(workday / rest day, from ``chinese_calendar``: 调休 make-up days are workdays, 法定节假日 rest
days), or every day of the same type when fewer than ``min_peers`` same-weekday days exist.

- A missing or failed partition fails with severity ERROR (blocking): it never passes.
- An empty partition with nothing delivered, where the baseline expects at least
  ``empty_is_error_above`` rows, fails with ERROR too (a feed that went silent). A delivery
  whose every row was quarantined (a file in the wrong encoding) is a WARN: it is not lost,
  the quarantine holds it with its reason, and `cityops status` shows it. An empty day of a
  quiet change feed (new enterprise licences) is judged like any other count; an event feed
  that sends nothing on a quiet day (``Contract.quiet_days``: the 吹哨 feedback) is not judged.
- A count outside ``[mean × (1 − tolerance), mean × (1 + tolerance)]`` fails with WARN.
- Without enough history there is no baseline; the check passes and says so.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

import chinese_calendar

from ingestion.pipeline import read_log
from ingestion.settings import Paths
from ingestion.sources import BY_TABLE

ERROR = "ERROR"
WARN = "WARN"


@dataclass(frozen=True)
class VolumeResult:
    """The outcome of one table-day volume check."""

    table: str
    day: dt.date
    passed: bool
    severity: str
    rows: int | None
    baseline_mean: float | None
    lower: float | None
    upper: float | None
    peers: tuple[dt.date, ...]
    reason: str


def _is_workday(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # outside the calendar's years: weekdays work
        return day.weekday() < 5


def _counts(paths: Paths, table: str, day: dt.date) -> tuple[int, int] | None:
    """(rows read, rows written) of a partition ingested without error, else None."""
    log = read_log(paths, table, day)
    if not log or log.get("status") not in ("ingested", "skipped"):
        return None
    return int(log.get("rows_read") or 0), int(log.get("rows_written") or 0)


def _rows(paths: Paths, table: str, day: dt.date) -> int | None:
    counts = _counts(paths, table, day)
    return counts[1] if counts else None


def check_volume(
    paths: Paths,
    table: str,
    day: dt.date,
    *,
    weeks: int = 4,
    min_peers: int = 2,
    tolerance: float = 0.5,
    empty_is_error_above: float = 100,
) -> VolumeResult:
    """Check one partition's row count; see the module docstring for the rules."""
    counts = _counts(paths, table, day)
    rows = counts[1] if counts else None
    if rows is None:
        return VolumeResult(
            table, day, False, ERROR, None, None, None, None, (), "missing partition"
        )
    contract = BY_TABLE.get(table)
    if contract is not None and contract.quiet_days:
        # An event feed's count follows the events (吹哨 steps), not a delivery's size.
        return VolumeResult(
            table, day, True, WARN, rows, None, None, None, (), "event feed: any count is usual"
        )
    workday = _is_workday(day)
    history = {}
    for back in range(1, weeks * 7 + 1):
        earlier = day - dt.timedelta(days=back)
        if _is_workday(earlier) != workday:
            continue
        count = _rows(paths, table, earlier)
        if count:
            history[earlier] = count
    same_weekday = {d: n for d, n in history.items() if d.weekday() == day.weekday()}
    peers = same_weekday if len(same_weekday) >= min_peers else history
    if len(peers) < min_peers:
        return VolumeResult(
            table,
            day,
            True,
            WARN,
            rows,
            None,
            None,
            None,
            tuple(sorted(peers)),
            "no baseline yet (too few earlier days of this day type)",
        )
    mean = statistics.fmean(peers.values())
    lower, upper = mean * (1 - tolerance), mean * (1 + tolerance)
    if rows == 0 and counts and counts[0] > 0:
        return VolumeResult(
            table,
            day,
            False,
            WARN,
            0,
            mean,
            lower,
            upper,
            tuple(sorted(peers)),
            f"all {counts[0]} delivered rows were quarantined (see cityops status)",
        )
    if rows == 0 and mean >= empty_is_error_above:
        return VolumeResult(
            table,
            day,
            False,
            ERROR,
            0,
            mean,
            lower,
            upper,
            tuple(sorted(peers)),
            f"empty partition where about {mean:.0f} rows are usual",
        )
    passed = lower <= rows <= upper
    reason = (
        "within baseline"
        if passed
        else (
            f"{rows} rows is {'below' if rows < lower else 'above'} the baseline band "
            f"[{lower:.0f}, {upper:.0f}]"
        )
    )
    return VolumeResult(
        table, day, passed, WARN, rows, mean, lower, upper, tuple(sorted(peers)), reason
    )
