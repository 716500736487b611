"""Per-channel circuit breaker, kept in the delivery log rather than in memory.

A channel that failed ``failures`` notices in a row is *open*: its notices are logged as not
attempted instead of each waiting out a deadline. ``cooldown_seconds`` after its last failure
it is *half-open*: the next notice goes out as a probe; delivered closes the breaker, failed
opens it again for another cool-down.

The state is replayed from the delivery log at the start of every ``notify()`` call, so it
holds across processes (``cityops notify``, each Dagster run, each sensor evaluation) without
a second file that could disagree with the log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vitals.notify.config import BreakerPolicy

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"

# Log outcomes that end a notice undelivered after at least one request (attempt >= 1).
FAILED_OUTCOMES = frozenset({"failed", "deadline_exceeded"})


@dataclass
class CircuitBreaker:
    """One channel's breaker: its consecutive failed notices and when the last one ended."""

    policy: BreakerPolicy
    failures: int = 0
    last_failure_at: dt.datetime | None = None

    def state(self, now: dt.datetime) -> str:
        """``closed``, ``open`` (skip the notice) or ``half_open`` (send it as a probe)."""
        if self.failures < self.policy.failures:
            return CLOSED
        probe_at = self.probe_at
        if probe_at is not None and now < probe_at:
            return OPEN
        return HALF_OPEN

    @property
    def probe_at(self) -> dt.datetime | None:
        """When an open breaker lets a probe through (``None`` while it is closed)."""
        if self.failures < self.policy.failures or self.last_failure_at is None:
            return None
        return self.last_failure_at + dt.timedelta(seconds=self.policy.cooldown_seconds)

    def record(self, delivered: bool, at: dt.datetime | None) -> None:
        """Count one notice's end: a delivery closes the breaker, a failure adds to the run.

        A failure without a time (an unreadable log line) leaves no cool-down to wait for.
        """
        if delivered:
            self.failures, self.last_failure_at = 0, None
        else:
            self.failures += 1
            self.last_failure_at = at

    def describe(self, now: dt.datetime) -> str:
        """A short state for reports, e.g. ``open until 14:15:30 (3 failed notices in a row)``."""
        state = self.state(now)
        if state == CLOSED:
            return CLOSED
        failed = f"{self.failures} failed notices in a row"
        if state == OPEN:
            return f"open until {self.probe_at:%Y-%m-%d %H:%M:%S} ({failed})"
        return f"half-open: the next notice is a probe ({failed})"


def replay(
    records: Iterable[Mapping[str, Any]], channels: Iterable[str], policy: BreakerPolicy
) -> dict[str, CircuitBreaker]:
    """Each channel's breaker as the log leaves it (records in file order).

    A ``delivered`` line (or, in logs written before outcomes were logged, an ``ok`` line)
    closes a channel's breaker; a ``failed`` or ``deadline_exceeded`` line of a request counts
    one failed notice; lines of notices not attempted (attempt 0) and ``retrying`` lines
    change nothing.
    """
    breakers = {name: CircuitBreaker(policy) for name in channels}
    for record in records:
        breaker = breakers.get(record.get("channel"))  # type: ignore[arg-type]
        if breaker is None:
            continue
        if record.get("ok") is True:
            breaker.record(True, None)
        elif record.get("outcome") in FAILED_OUTCOMES and _attempt(record) >= 1:
            breaker.record(False, _parse_at(record))
    return breakers


def _attempt(record: Mapping[str, Any]) -> int:
    attempt = record.get("attempt")
    return attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else 0


def _parse_at(record: Mapping[str, Any]) -> dt.datetime | None:
    value = record.get("at")
    if not isinstance(value, str):
        return None
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None
