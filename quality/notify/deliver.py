"""Deliver notices to every active channel, with retries, an attempt log and de-duplication.

The log (one JSON line per attempt) is also the memory of what was sent: a (channel, key) with
an ``ok: true`` line is never sent again, so re-running a job does not repeat a warning, and a
notice that failed everywhere is tried again by the next call. Delivery failures are reported,
never raised; only programming and configuration errors raise.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx
from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_exponential

from quality.notify.channels import (
    SHANGHAI,
    Outcome,
    build_request,
    encode_body,
    read_response,
    redact,
    secret_parts,
)
from quality.notify.config import ChannelConfig, NotifyConfig, RetryPolicy
from quality.notify.notice import LEVEL_RANK, Notice

_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
_ERROR_CHARS = 300


@dataclass
class ChannelReport:
    """Counts for one channel in one ``notify()`` call."""

    name: str
    kind: str
    status: str
    sent: int = 0
    skipped_duplicate: int = 0
    filtered_by_level: int = 0
    failed: int = 0


@dataclass(frozen=True)
class Failure:
    """A notice a channel did not accept after its attempts; the error has no URL or secret."""

    channel: str
    key: str
    attempts: int
    error: str


@dataclass
class DeliveryReport:
    """What one ``notify()`` call did, per channel, plus every failure."""

    channels: dict[str, ChannelReport] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no channel failed a notice (unconfigured channels are not failures)."""
        return not self.failures

    def total(self, counter: str) -> int:
        """A count summed over channels (``sent``, ``skipped_duplicate``, ``failed`` …)."""
        return sum(getattr(report, counter) for report in self.channels.values())

    def summary(self) -> str:
        """A few lines for a CLI or a Dagster log: totals, each channel, each failure."""
        lines = [
            f"notify: {self.total('sent')} sent, {self.total('skipped_duplicate')} duplicate, "
            f"{self.total('filtered_by_level')} below level, {self.total('failed')} failed"
        ]
        width = max((len(name) for name in self.channels), default=0)
        for report in self.channels.values():
            head = f"  {report.name:<{width}}  {report.kind:<8}"
            if report.status.startswith("active"):
                lines.append(
                    f"{head}  sent {report.sent}, duplicate {report.skipped_duplicate}, "
                    f"below level {report.filtered_by_level}, failed {report.failed}"
                )
            else:
                lines.append(f"{head}  {report.status}")
        for failure in self.failures:
            lines.append(
                f"  FAILED {failure.channel} {failure.key} "
                f"after {failure.attempts} attempt(s): {failure.error}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def notify(
    notices: Iterable[Notice],
    config: NotifyConfig,
    log_path: Path,
    *,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] | None = None,
) -> DeliveryReport:
    """Send each notice to each active channel once, logging every attempt to ``log_path``.

    - A notice below a channel's ``min_level`` is skipped (notices without a level never are).
    - A (channel, key) already logged ``ok: true``, or repeated in ``notices``, is skipped.
    - Connection errors, timeouts, HTTP 5xx/429 and robot rate-limit codes are retried with
      exponential back-off (``config.retry``), waiting through ``sleep``; other errors fail at
      once. Failures are counted and listed in the report, never raised.

    ``client`` lets a caller share connections; it is not closed here. ``now`` gives the
    signing and logging time (default: the clock, in Asia/Shanghai).
    """
    clock = now or (lambda: datetime.now(SHANGHAI))
    notices = list(notices)
    report = DeliveryReport()
    for channel in config.channels:
        report.channels[channel.name] = ChannelReport(channel.name, channel.kind, channel.status)
    active = config.active_channels
    if not active or not notices:
        return report

    log_path = Path(log_path)
    delivered = read_delivered(log_path)
    with _http_client(client, config.retry) as http, _open_log(log_path) as log:
        for channel in active:
            counts = report.channels[channel.name]
            threshold = LEVEL_RANK[channel.min_level]
            seen: set[str] = set()
            for notice in notices:
                if notice.level is not None and LEVEL_RANK[notice.level] < threshold:
                    counts.filtered_by_level += 1
                    continue
                if notice.key in seen or (channel.name, notice.key) in delivered:
                    counts.skipped_duplicate += 1
                    continue
                seen.add(notice.key)
                outcome, attempts = _deliver(http, channel, notice, config.retry, log, sleep, clock)
                if outcome.ok:
                    counts.sent += 1
                    delivered.add((channel.name, notice.key))
                else:
                    counts.failed += 1
                    report.failures.append(
                        Failure(channel.name, notice.key, attempts, outcome.error or "failed")
                    )
    return report


def read_delivered(log_path: Path) -> set[tuple[str, str]]:
    """The (channel, key) pairs with an ``ok: true`` attempt in the log; unreadable lines skipped.

    A line cut short by a crash is ignored rather than fatal: at worst that notice is sent again.
    """
    delivered: set[tuple[str, str]] = set()
    if not log_path.exists():
        return delivered
    with log_path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("ok") is True:
                channel, key = record.get("channel"), record.get("key")
                if isinstance(channel, str) and isinstance(key, str):
                    delivered.add((channel, key))
    return delivered


@contextmanager
def _http_client(client: httpx.Client | None, retry: RetryPolicy) -> Iterator[httpx.Client]:
    if client is not None:
        yield client
        return
    # Redirects are not followed: a robot answering 3xx is refusing (钉钉 sends 302 while it
    # throttles a robot for 10 minutes), and following would resend the body elsewhere.
    with httpx.Client(timeout=retry.timeout_seconds, follow_redirects=False) as owned:
        yield owned


@contextmanager
def _open_log(log_path: Path) -> Iterator[IO[str]]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as handle:
        yield handle


def _deliver(
    http: httpx.Client,
    channel: ChannelConfig,
    notice: Notice,
    retry: RetryPolicy,
    log: IO[str],
    sleep: Callable[[float], None],
    clock: Callable[[], datetime],
) -> tuple[Outcome, int]:
    """One notice to one channel with retries; returns the last outcome and the attempt count."""
    hidden = secret_parts(channel)
    attempt_number = 0

    def attempt() -> Outcome:
        nonlocal attempt_number
        attempt_number += 1
        sent_at = clock()
        started = time.perf_counter()
        outcome = _send_once(http, channel, notice, sent_at, retry.timeout_seconds)
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        if outcome.error:
            error = redact(outcome.error, hidden)[:_ERROR_CHARS]
            outcome = Outcome(outcome.ok, outcome.retryable, outcome.status_code, error)
        _write_attempt(log, channel, notice, attempt_number, outcome, elapsed_ms, sent_at)
        return outcome

    retrying = Retrying(
        stop=stop_after_attempt(retry.attempts),
        wait=wait_exponential(multiplier=retry.backoff_seconds, max=retry.max_backoff_seconds),
        retry=retry_if_result(lambda outcome: outcome.retryable),
        sleep=sleep,
        # After the last attempt, hand back its outcome instead of raising RetryError.
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )
    outcome: Outcome = retrying(attempt)
    return outcome, attempt_number


def _send_once(
    http: httpx.Client,
    channel: ChannelConfig,
    notice: Notice,
    sent_at: datetime,
    timeout: float,
) -> Outcome:
    url, body = build_request(channel, notice, sent_at)
    try:
        response = http.post(url, content=encode_body(body), headers=_HEADERS, timeout=timeout)
    except httpx.TimeoutException as error:
        return Outcome(ok=False, retryable=True, error=f"timeout: {type(error).__name__}")
    except (httpx.NetworkError, httpx.RemoteProtocolError) as error:
        return Outcome(ok=False, retryable=True, error=f"{type(error).__name__}: {error}")
    except httpx.RequestError as error:
        return Outcome(ok=False, error=f"{type(error).__name__}: {error}")
    return read_response(channel.kind, response)


def _write_attempt(
    log: IO[str],
    channel: ChannelConfig,
    notice: Notice,
    attempt: int,
    outcome: Outcome,
    elapsed_ms: int,
    at: datetime,
) -> None:
    record: dict[str, Any] = {
        "at": at.isoformat(timespec="milliseconds"),
        "channel": channel.name,
        "kind": channel.kind,
        "key": notice.key,
        "event": notice.event,
        "level": notice.level,
        "attempt": attempt,
        "ok": outcome.ok,
        "status_code": outcome.status_code,
        "error": outcome.error,
        "elapsed_ms": elapsed_ms,
    }
    # One write and flush per line, so a crash loses at most the line being written.
    log.write(json.dumps(record, ensure_ascii=False) + "\n")
    log.flush()
