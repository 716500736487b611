"""Deliver notices to every active channel: retries, deadlines, a circuit breaker, an attempt log.

The log (one JSON line per attempt, and one per notice not attempted) is also the memory of
what was sent: a (channel, key) with an ``ok: true`` line is never sent again, so re-running a
job does not repeat a warning, and a notice that was not delivered (failed, out of time,
skipped by an open circuit breaker) is tried again by the next call. Each channel's circuit
breaker is replayed from the same log (``vitals.notify.breaker``).

Channels are served in parallel, one thread each, so a stuck channel never delays the others;
within a channel, notices go one at a time, in order (robots rate-limit per robot). Every
notice on a channel has a total deadline, and the whole call has one too. Delivery failures
are reported, never raised; only programming and configuration errors raise.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_result,
    stop_after_attempt,
    wait_exponential,
)

from vitals.notify.breaker import OPEN, CircuitBreaker, replay
from vitals.notify.channels import (
    SHANGHAI,
    Outcome,
    build_request,
    encode_body,
    read_response,
    redact,
    secret_parts,
)
from vitals.notify.config import ChannelConfig, NotifyConfig, RetryPolicy
from vitals.notify.deadline import Deadline, DeadlineExceeded, post_within
from vitals.notify.notice import LEVEL_RANK, Notice

_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
_ERROR_CHARS = 300

# The ``outcome`` of a log line: what became of the notice on that channel at that line.
DELIVERED = "delivered"  # the robot accepted it (``ok: true``)
RETRYING = "retrying"  # this attempt failed; another follows after the back-off wait
FAILED = "failed"  # this attempt failed and was the last: not retryable, or attempts used up
DEADLINE_EXCEEDED = "deadline_exceeded"  # out of time: cut off, or no time for an(other) attempt
CIRCUIT_OPEN = "circuit_open"  # not attempted: the channel's circuit breaker is open
OUTCOMES = (DELIVERED, RETRYING, FAILED, DEADLINE_EXCEEDED, CIRCUIT_OPEN)


@dataclass
class ChannelReport:
    """Counts for one channel in one ``notify()`` call, and its circuit breaker at the end."""

    name: str
    kind: str
    status: str
    sent: int = 0
    skipped_duplicate: int = 0
    filtered_by_level: int = 0
    failed: int = 0
    not_attempted: int = 0
    circuit: str = "closed"


@dataclass(frozen=True)
class Failure:
    """A notice a channel did not accept; the error has no URL or secret.

    ``attempts`` is 0 for a notice not attempted (``outcome`` ``circuit_open``, or
    ``deadline_exceeded`` when the run's deadline had passed).
    """

    channel: str
    key: str
    attempts: int
    error: str
    outcome: str = FAILED


@dataclass
class DeliveryReport:
    """What one ``notify()`` call did, per channel, plus every notice not delivered."""

    channels: dict[str, ChannelReport] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every notice due was delivered (unconfigured channels are not failures)."""
        return not self.failures

    def total(self, counter: str) -> int:
        """A count summed over channels (``sent``, ``skipped_duplicate``, ``failed`` …)."""
        return sum(getattr(report, counter) for report in self.channels.values())

    def summary(self) -> str:
        """A few lines for a CLI or a Dagster log: totals, each channel, each failure."""
        head = (
            f"notify: {self.total('sent')} sent, {self.total('skipped_duplicate')} duplicate, "
            f"{self.total('filtered_by_level')} below level, {self.total('failed')} failed"
        )
        if self.total("not_attempted"):
            head += f", {self.total('not_attempted')} not attempted"
        lines = [head]
        width = max((len(name) for name in self.channels), default=0)
        for report in self.channels.values():
            head = f"  {report.name:<{width}}  {report.kind:<8}"
            if not report.status.startswith("active"):
                lines.append(f"{head}  {report.status}")
                continue
            counts = (
                f"sent {report.sent}, duplicate {report.skipped_duplicate}, "
                f"below level {report.filtered_by_level}, failed {report.failed}"
            )
            if report.not_attempted:
                counts += f", not attempted {report.not_attempted}"
            if report.circuit != "closed":
                counts += f"; circuit {report.circuit}"
            lines.append(f"{head}  {counts}")
        lines.extend(self._failure_lines())
        return "\n".join(lines)

    def _failure_lines(self) -> list[str]:
        lines = [
            f"  FAILED {failure.channel} {failure.key} "
            f"after {failure.attempts} attempt(s): {failure.error}"
            for failure in self.failures
            if failure.attempts
        ]
        # Notices not attempted share their reason: one line per channel and reason.
        skipped: dict[tuple[str, str], list[Failure]] = {}
        for failure in self.failures:
            if not failure.attempts:
                skipped.setdefault((failure.channel, failure.outcome), []).append(failure)
        for (channel, _), group in skipped.items():
            lines.append(f"  NOT ATTEMPTED {channel}: {len(group)} notice(s), {group[0].error}")
        if self.failures:
            lines.append(
                "  Notices not delivered are sent again by the next run; "
                "every attempt is in the delivery log."
            )
        return lines

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
    run_seconds: float | None = None,
) -> DeliveryReport:
    """Send each notice to each active channel once, logging every attempt to ``log_path``.

    - A notice below a channel's ``min_level`` is skipped (notices without a level never are).
    - A (channel, key) already logged ``ok: true``, or repeated in ``notices``, is skipped.
    - Connection errors, timeouts, HTTP 5xx/429 and robot rate-limit codes are retried with
      exponential back-off (``config.retry``), waiting through ``sleep``; other errors fail at
      once.
    - One notice on one channel gets ``config.deadline.notice_seconds`` for all its attempts
      and waits, the whole call ``config.deadline.run_seconds`` (or ``run_seconds`` when that
      is shorter: a caller with its own time limit, such as a Dagster sensor).
    - A channel whose circuit breaker is open (``config.breaker``) is not attempted.

    Notices not delivered are counted and listed in the report, never raised. ``client`` lets
    a caller share connections; it is not closed here. ``now`` gives the signing, logging and
    circuit-breaker time (default: the clock, in Asia/Shanghai).
    """
    clock = now or (lambda: datetime.now(SHANGHAI))
    notices = list(notices)
    report = DeliveryReport()
    for channel in config.channels:
        report.channels[channel.name] = ChannelReport(channel.name, channel.kind, channel.status)
    active = config.active_channels
    if not active or not notices:
        return report

    seconds = config.deadline.run_seconds
    if run_seconds is not None:
        seconds = min(seconds, run_seconds)
    run_deadline = Deadline.after(seconds, "the run deadline")
    log_path = Path(log_path)
    records = read_log(log_path)
    delivered = _delivered(records)
    breakers = replay(records, [channel.name for channel in active], config.breaker)
    with _http_client(client, config.retry) as http, _open_log(log_path) as handle:
        log = _Log(handle)
        with ThreadPoolExecutor(len(active), thread_name_prefix="cityops-notify") as pool:
            runs = [
                pool.submit(
                    _ChannelRun(
                        channel=channel,
                        config=config,
                        counts=report.channels[channel.name],
                        breaker=breakers[channel.name],
                        http=http,
                        log=log,
                        sleep=sleep,
                        clock=clock,
                        run_deadline=run_deadline,
                    ).serve,
                    notices,
                    {key for name, key in delivered if name == channel.name},
                )
                for channel in active
            ]
            for run in runs:  # in channel order, so the report reads the same every time
                report.failures.extend(run.result())
    return report


def read_log(log_path: Path) -> list[dict[str, Any]]:
    """The delivery log's records in file order; unreadable lines skipped.

    A line cut short by a crash is ignored rather than fatal: at worst that notice is sent again.
    """
    records: list[dict[str, Any]] = []
    if not log_path.exists():
        return records
    with log_path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
    return records


def read_delivered(log_path: Path) -> set[tuple[str, str]]:
    """The (channel, key) pairs with an ``ok: true`` attempt in the log."""
    return _delivered(read_log(log_path))


def _delivered(records: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    delivered: set[tuple[str, str]] = set()
    for record in records:
        if record.get("ok") is True:
            channel, key = record.get("channel"), record.get("key")
            if isinstance(channel, str) and isinstance(key, str):
                delivered.add((channel, key))
    return delivered


@dataclass(frozen=True)
class _Attempt:
    """One request: its number (0: not attempted), start, duration and how it ended."""

    number: int
    at: datetime
    elapsed_ms: int
    outcome: Outcome


class _Log:
    """The open delivery log, shared by the channel threads: one whole line per write."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self._lock = threading.Lock()

    def write(self, channel: ChannelConfig, notice: Notice, attempt: _Attempt, result: str) -> None:
        outcome = attempt.outcome
        record: dict[str, Any] = {
            "at": attempt.at.isoformat(timespec="milliseconds"),
            "channel": channel.name,
            "kind": channel.kind,
            "key": notice.key,
            "event": notice.event,
            "level": notice.level,
            "attempt": attempt.number,
            "ok": outcome.ok,
            "outcome": result,
            "status_code": outcome.status_code,
            "error": outcome.error,
            "elapsed_ms": attempt.elapsed_ms,
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        # One write and flush per line, so a crash loses at most the line being written.
        with self._lock:
            self._handle.write(line)
            self._handle.flush()


@dataclass
class _ChannelRun:
    """One channel's share of a ``notify()`` call, run in its own thread."""

    channel: ChannelConfig
    config: NotifyConfig
    counts: ChannelReport
    breaker: CircuitBreaker
    http: httpx.Client
    log: _Log
    sleep: Callable[[float], None]
    clock: Callable[[], datetime]
    run_deadline: Deadline

    def serve(self, notices: list[Notice], delivered: set[str]) -> list[Failure]:
        """Send the channel's notices in order; return those not delivered."""
        failures: list[Failure] = []
        threshold = LEVEL_RANK[self.channel.min_level]
        seen: set[str] = set()
        for notice in notices:
            if notice.level is not None and LEVEL_RANK[notice.level] < threshold:
                self.counts.filtered_by_level += 1
                continue
            if notice.key in seen or notice.key in delivered:
                self.counts.skipped_duplicate += 1
                continue
            seen.add(notice.key)
            skipped = self._not_to_attempt(notice)
            if skipped is not None:
                self.counts.not_attempted += 1
                failures.append(skipped)
                continue
            result, last = self._deliver(notice)
            self.breaker.record(last.outcome.ok, last.at)
            if last.outcome.ok:
                self.counts.sent += 1
            else:
                self.counts.failed += 1
                error = last.outcome.error or "failed"
                failures.append(Failure(self.channel.name, notice.key, last.number, error, result))
        self.counts.circuit = self.breaker.describe(self.clock())
        return failures

    def _not_to_attempt(self, notice: Notice) -> Failure | None:
        """Log and return the notice as not attempted when the breaker or the run says so."""
        at = self.clock()
        if self.breaker.state(at) == OPEN:
            result = CIRCUIT_OPEN
            error = (
                f"not attempted: circuit open after {self.breaker.failures} failed notices in a "
                f"row; a probe goes out after {self.breaker.probe_at:%Y-%m-%d %H:%M:%S}"
            )
        elif not self.run_deadline.remaining():
            result = DEADLINE_EXCEEDED
            error = f"not attempted: {self.run_deadline.label} had passed"
        else:
            return None
        not_attempted = _Attempt(0, at, 0, Outcome(ok=False, error=error))
        self.log.write(self.channel, notice, not_attempted, result)
        return Failure(self.channel.name, notice.key, 0, error, result)

    def _deliver(self, notice: Notice) -> tuple[str, _Attempt]:
        """One notice: attempts until delivered, a final failure or the deadline.

        Returns the notice's outcome and its last attempt, both logged.
        """
        retry = self.config.retry
        deadline = Deadline.after(self.config.deadline.notice_seconds, "the notice deadline")
        deadline = deadline.earliest(self.run_deadline)
        hidden = secret_parts(self.channel)
        attempts: list[_Attempt] = []

        def attempt() -> Outcome:
            sent_at = self.clock()
            started = time.perf_counter()
            outcome = _send_once(
                self.http, self.channel, notice, sent_at, retry.timeout_seconds, deadline
            )
            elapsed_ms = round((time.perf_counter() - started) * 1000)
            if outcome.error:
                outcome = replace(outcome, error=redact(outcome.error, hidden)[:_ERROR_CHARS])
            attempts.append(_Attempt(len(attempts) + 1, sent_at, elapsed_ms, outcome))
            return outcome

        def out_of_time(state: RetryCallState) -> bool:
            # Waiting makes no sense when the next attempt would start past the deadline.
            return deadline.remaining() <= state.upcoming_sleep

        retrying = Retrying(
            stop=stop_after_attempt(retry.attempts) | out_of_time,
            wait=wait_exponential(multiplier=retry.backoff_seconds, max=retry.max_backoff_seconds),
            retry=retry_if_result(lambda outcome: outcome.retryable),
            sleep=self.sleep,
            before_sleep=lambda state: self.log.write(self.channel, notice, attempts[-1], RETRYING),
            # After the last attempt, hand back its outcome instead of raising RetryError.
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )
        outcome: Outcome = retrying(attempt)
        last = attempts[-1]
        if outcome.ok:
            result = DELIVERED
        elif outcome.deadline_exceeded:
            result = DEADLINE_EXCEEDED
        elif outcome.retryable and last.number < retry.attempts:
            result = DEADLINE_EXCEEDED  # stopped by ``out_of_time``, not by the attempts
            error = (
                f"{outcome.error}; not retried: the next attempt would start after {deadline.label}"
            )
            last = replace(last, outcome=replace(outcome, error=error))
        else:
            result = FAILED
        self.log.write(self.channel, notice, last, result)
        return result, last


@contextmanager
def _http_client(client: httpx.Client | None, retry: RetryPolicy) -> Iterator[httpx.Client]:
    if client is not None:
        yield client
        return
    # Redirects are not followed: a robot answering 3xx is refusing (钉钉 sends 302 while it
    # throttles a robot for 10 minutes), and following would resend the body elsewhere.
    # No kept-alive connections: each request opens its own, so the deadline can always shut
    # the socket of a request it cuts off (vitals/notify/deadline.py).
    with httpx.Client(
        timeout=retry.timeout_seconds,
        follow_redirects=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    ) as owned:
        yield owned


@contextmanager
def _open_log(log_path: Path) -> Iterator[IO[str]]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as handle:
        yield handle


def _send_once(
    http: httpx.Client,
    channel: ChannelConfig,
    notice: Notice,
    sent_at: datetime,
    timeout: float,
    deadline: Deadline,
) -> Outcome:
    url, body = build_request(channel, notice, sent_at)
    left = deadline.remaining()
    if not left:
        error = f"deadline exceeded: {deadline.label} had passed"
        return Outcome(ok=False, error=error, deadline_exceeded=True)
    try:
        response = post_within(
            http,
            url,
            content=encode_body(body),
            headers=_HEADERS,
            timeout=min(timeout, left),
            seconds=left,
        )
    except DeadlineExceeded:
        return Outcome(
            ok=False,
            error=f"deadline exceeded: no complete answer within {deadline.label}",
            deadline_exceeded=True,
        )
    except httpx.TimeoutException as error:
        return Outcome(ok=False, retryable=True, error=f"timeout: {type(error).__name__}")
    except (httpx.NetworkError, httpx.RemoteProtocolError) as error:
        return Outcome(ok=False, retryable=True, error=f"{type(error).__name__}: {error}")
    except httpx.RequestError as error:
        return Outcome(ok=False, error=f"{type(error).__name__}: {error}")
    return read_response(channel.kind, response)
