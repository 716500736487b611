"""``cityops bench latency``: how long from a landed batch to a readable warning and a notice.

One run, in a home of its own (``$CITYOPS_HOME/bench/latency-x<scale>-<days>d``):

1. the demo generates ``days + 1`` days (reused when the same data is there);
2. the live home gets the first ``days`` days, built and published by ``cityops run``
   (reused; a previous run's replayed day is removed and its snapshot rolled back first);
3. the last day's IoT and weather files land at their delivery times, ``speed`` times faster
   than real time, from ``start_at`` to ``until`` (earlier files land at once and are not
   counted), while ``cityops live``'s runner takes them, with a webhook on 127.0.0.1
   receiving the notices;
4. the day's other deliveries land and the daily build runs over the day, timed;
5. the live indicators' warnings of both are compared (:func:`live.reconcile.differences`).

The report gives, per landed file, the seconds from its landing to the end of each stage
(p50, p95, max), the cycle times, the notices received, the daily build's time and the
reconciliation, and judges the live path's targets (p95 to notification ≤ 60 s and to the
readable warning ≤ 30 s at district scale; ≤ 120 s at city volume).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ingestion.processes import environment
from ingestion.settings import Paths
from live import replay
from live.latency import STAGES, file_latencies, paced_cycles, summarise
from live.reconcile import differences
from live.runner import LiveRunner
from live.store import LivePaths, read_cycles
from serving import current_snapshot, previous_snapshot, rollback, serving_path

START = dt.date(2024, 7, 1)
BASE_MARKER = "bench-base.json"
# The live path's targets, seconds at the 95th percentile: (readable, notified) by scale.
DISTRICT_TARGETS = (30.0, 60.0)
CITY_TARGETS = (None, 120.0)


@dataclass(frozen=True)
class LatencyPlan:
    """What one latency run replays, and where."""

    scale: float
    days: int
    seed: int
    speed: float
    start_at: dt.time
    until: dt.time
    home: Path

    @property
    def day(self) -> dt.date:
        """The replayed day: the one after the history."""
        return START + dt.timedelta(days=self.days)

    @property
    def source(self) -> Paths:
        """Where the demo generates every day."""
        return Paths(self.home / "source")

    @property
    def live(self) -> Paths:
        """The home the live path and the daily build run in."""
        return Paths(self.home / "live")


def prepare(plan: LatencyPlan, log: Callable[[str], None]) -> None:
    """Generate the days, build the history, and take away a previous run's replayed day."""
    log(f"generating {plan.days + 1} days at scale {plan.scale:g} (reused when there) …")
    generated = replay.cityops(
        "generate", "--start", START.isoformat(), "--days", str(plan.days + 1),
        "--seed", str(plan.seed), "--scale", f"{plan.scale:g}", home=plan.source.home,
    )  # fmt: skip
    if generated.returncode != 0:
        raise RuntimeError(f"cityops generate failed:\n{generated.stderr[-3000:]}")
    _forget_day(plan)
    replay.prepare(plan.source, plan.day, plan.live, log=log)
    marker = plan.live.home / BASE_MARKER
    snapshot = current_snapshot(plan.live)
    if snapshot is not None and not marker.exists():
        # The notices sent before the replay: a later run forgets the replay's (_forget_day).
        sent = plan.live.notifications.stat().st_size if plan.live.notifications.exists() else 0
        marker.write_text(
            json.dumps({"snapshot": snapshot.name, "notifications_bytes": sent}), encoding="utf-8"
        )


def _forget_day(plan: LatencyPlan) -> None:
    """Remove what an earlier run left of the replayed day, so it lands anew."""
    home = plan.live
    marker = home.home / BASE_MARKER
    if not marker.exists():
        return
    base_state = json.loads(marker.read_text(encoding="utf-8"))
    base = base_state["snapshot"]
    current, previous = current_snapshot(home), previous_snapshot(home)
    if current is not None and current.name != base:
        if previous is None or previous.name != base:
            raise RuntimeError(
                f"{home.home}: the history's snapshot {base} is gone; remove the folder."
            )
        rollback(home)
    replay.forget_day(home, plan.day)
    # The notices of the earlier replay were delivered: forgotten, they are sent again, so
    # that every run measures the webhook's receipt.
    log_file, sent = home.notifications, base_state.get("notifications_bytes")
    if sent is not None and log_file.exists() and log_file.stat().st_size > sent:
        with log_file.open("r+b") as handle:
            handle.truncate(sent)


class _Receiver:
    """A webhook on 127.0.0.1 that records when each notice arrived."""

    def __init__(self) -> None:
        self.received: list[float] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(time.time())
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode": 0}')

            def log_message(self, *arguments: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    @contextmanager
    def serving(self) -> Iterator[_Receiver]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def measure(plan: LatencyPlan, log: Callable[[str], None]) -> dict[str, Any]:
    """Replay the day into the live path, then run the daily build; the report."""
    receiver = _Receiver()
    replayer = replay.Replayer(
        plan.source, plan.live, plan.day, speed=plan.speed, start_at=plan.start_at, until=plan.until
    )
    no_channel = {
        f"CITYOPS_{name}": None for name in ("DINGTALK_WEBHOOK", "WECOM_WEBHOOK", "FEISHU_WEBHOOK")
    }
    with receiver.serving(), environment(CITYOPS_WEBHOOK_URL=receiver.url, **no_channel):
        runner = LiveRunner(plan.live, log=log)
        started = time.time()
        runner.dbt.parse()
        landing = threading.Thread(
            target=replayer.run,
            kwargs={"caught_up": lambda: replayer.taken_by(runner.idle_since)},
            daemon=True,
        )
        landing.start()
        runner.run(
            poll_seconds=0.5,
            stop=lambda: replayer.done and replayer.taken_by(runner.idle_since),
            on_cycle=lambda record: log(
                f"cycle: {len(record.files)} file(s), "
                + (record.error or f"{record.stages['notified'] - record.started_at:.1f} s")
            ),
        )
        cycles = paced_cycles(read_cycles(LivePaths(plan.live)), started, replayer.paced_from)
        paced_from = replayer.paced_from or started
        received = [moment for moment in receiver.received if moment >= paced_from]
        daily_seconds, daily_ok = _daily_build(plan, log)
    latencies = file_latencies(cycles)
    latencies["received"] = _to_receipt(cycles, received)
    differing = differences(LivePaths(plan.live).store, serving_path(plan.live), runner.live_codes)
    return {
        "plan": {
            "scale": plan.scale, "history_days": plan.days, "seed": plan.seed,
            "day": plan.day.isoformat(), "from": plan.start_at.isoformat("minutes"),
            "until": plan.until.isoformat("minutes"), "speed": plan.speed,
        },
        "files": sum(len(cycle["files"]) for cycle in cycles),
        "cycles": len([cycle for cycle in cycles if cycle["files"]]),
        "failed_cycles": len([cycle for cycle in cycles if cycle.get("error")]),
        "latency": {stage: summarise(values) for stage, values in latencies.items()},
        "cycle_seconds": summarise(
            [c["stages"]["notified"] - c["started_at"] for c in cycles if "notified" in c["stages"]]
        ),
        "notices_received": len(received),
        "daily_build_seconds": daily_seconds,
        "daily_build_ok": daily_ok,
        "reconciled": not differing,
        "differences": {
            table: {side: found["count"] for side, found in sides.items()}
            for table, sides in differing.items()
        },
        "targets": judge(plan.scale, latencies),
    }  # fmt: skip


def _to_receipt(cycles: list[dict[str, Any]], received: list[float]) -> list[float]:
    """Per file of a cycle that sent notices: its landing to the cycle's last notice received."""
    found = []
    for cycle in cycles:
        if not cycle.get("new_notices") or "published" not in cycle["stages"]:
            continue
        end = cycle["stages"].get("notified", cycle["stages"]["published"])
        arrived = [moment for moment in received if cycle["stages"]["published"] <= moment <= end]
        if arrived:
            found += [max(arrived) - landed["landed_at"] for landed in cycle["files"]]
    return found


def _daily_build(plan: LatencyPlan, log: Callable[[str], None]) -> tuple[float, bool]:
    """Land the day's other deliveries and run the daily build over the day; its seconds."""
    day = plan.day.isoformat()
    for folder in plan.source.landing.iterdir():
        if not (folder / day).is_dir():
            continue
        for file in (folder / day).iterdir():
            target = plan.live.landing / folder.name / day / file.name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(file, target)
    log(f"daily build of {day} (`cityops run --start {day} --end {day}`) …")
    clock = time.perf_counter()
    built = replay.cityops("run", "--start", day, "--end", day, home=plan.live.home)
    return round(time.perf_counter() - clock, 1), built.returncode == 0


def judge(scale: float, latencies: dict[str, list[float]]) -> dict[str, Any]:
    """The targets against the p95 figures: met, missed, or not applicable."""
    readable, notified = DISTRICT_TARGETS if scale < 16 else CITY_TARGETS
    result: dict[str, Any] = {}
    for stage, limit in (("published", readable), ("notified", notified)):
        p95 = summarise(latencies[stage])["p95"]
        if limit is not None:
            result[stage] = {"p95": p95, "limit": limit, "met": p95 is not None and p95 <= limit}
    return result


def stage_label(stage: str) -> str:
    """The report's name of a stage."""
    return STAGES.get(stage, "通知已收到 (webhook received)")
