"""The demo's disposal system: it takes the platform's 吹哨 orders and reports back.

In the district, the units work the 吹哨 orders in the 城运 dispatch platform, which exports
the day's steps every day. Here that system is simulated: :func:`simulate` reads the orders
in the platform's outbox (``vitals/dispatch.py``), acknowledges each, and lands the steps a
unit would take under ``landing/disposal/<day>/feedback_YYYYMMDD.csv``
(``ingestion/disposal/contract.py``), for every step that happened before the end of the
data; later steps have not happened yet, so those orders are still open.

The behaviour is drawn per order from the seed and the order's number (the same outbox gives
the same files), and each unit has its own pace (a factor on its delays, drawn from the seed
and the unit's code): most orders are received within the level's limit, some late, some never;
some are returned (退单) and re-dispatched to a co-unit; most are handled before their
deadline, some after; the 城运中心 (D15) verifies, and fails about one in seven the first time.
Delays are illustrative (assumption), not measured.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo.common import csv_text, headers, py_rng
from ingestion import files, reference
from ingestion.disposal.contract import (
    CONTRACT,
    HANDLED,
    HANDLING,
    RECEIVED,
    RETURNED,
    VERIFICATION_FAILED,
    VERIFIED,
)
from ingestion.landing import landing_days
from ingestion.settings import Paths
from ingestion.sources import CONTRACTS
from vitals.dispatch import acknowledge, read_orders

LIMITS_FILE = Path(__file__).resolve().parents[1] / "dbt" / "seeds" / "whistle_receive_limits.csv"
VERIFIER = ("D15", "区城运中心")
NEVER_RECEIVED = 0.06
LATE_RECEIPT = 0.15
RETURNED_SHARE = 0.10
LATE_HANDLING = 0.2
FAILED_VERIFICATION = 0.15
RETURN_REASONS = ("非本单位职责", "地址不详，无法定位", "已由其他单位处置")
HANDLING_NOTES = {
    "default": "已到场处置，现场恢复正常。",
    "010102": "已到场劝导，噪声已停止。",
}
FAILED_NOTES = ("现场复核仍有问题，请继续处置。", "反馈与现场不符，退回重办。")


@dataclass(frozen=True)
class Step:
    """One event the disposal system reports."""

    order_id: str
    kind: str
    at: dt.datetime
    unit: tuple[str, str]
    note: str = ""
    reason: str = ""


def receive_limits() -> dict[int, int]:
    """Minutes to receive an order, per level (the dbt seed ``whistle_receive_limits``)."""
    with LIMITS_FILE.open(encoding="utf-8") as handle:
        return {
            int(row["level"]): int(row["receive_limit_minutes"]) for row in csv.DictReader(handle)
        }


def data_end(home: Paths) -> dt.datetime:
    """The end of the newest delivery day of the other sources: later steps have not happened."""
    days = [
        day
        for contract in CONTRACTS
        if contract.source != CONTRACT.source
        for day in landing_days(home, contract)
    ]
    if not days:
        raise FileNotFoundError(f"no deliveries under {home.landing}: run `cityops generate` first")
    return dt.datetime.combine(max(days) + dt.timedelta(days=1), dt.time())


@functools.cache
def _unit_names() -> dict[str, str]:
    """Unit code → name: the departments and the street offices (reference data, read once)."""
    names = {
        row["department_code"]: row["department_name"] for row in reference.load("departments")
    }
    for row in reference.load("streets"):
        names[f"S{row['street_code']}"] = f"{row['street_name']}办事处"
    return names


def _minutes(value: float) -> dt.timedelta:
    return dt.timedelta(minutes=value)


def unit_pace(seed: int, unit_code: str) -> float:
    """A unit's factor on its delays: some units are quicker than others, every time."""
    return py_rng(seed, "disposal-unit", unit_code).uniform(0.6, 1.6)


def order_steps(
    order: dict[str, Any], rng: random.Random, limits: dict[int, int], pace: float = 1.0
) -> list[Step]:
    """Every step the units take on one order, in time order, however far in the future.

    ``pace`` stretches the responsible unit's receipt and return delays (:func:`unit_pace`).
    """
    order_id = order["whistle_order_id"]
    opened = dt.datetime.fromisoformat(order["opened_at"])
    due = dt.datetime.fromisoformat(order["due_at"])
    names = _unit_names()
    code = order["responsible_unit_code"]
    unit = (code, order.get("responsible_unit_name") or names.get(code, code))
    if rng.random() < NEVER_RECEIVED:
        return []
    limit = limits.get(int(order["opened_level"]), 60)
    late = rng.random() < LATE_RECEIPT
    share = rng.uniform(1.2, 4.0) if late else min(0.95, rng.uniform(0.1, 0.9) * pace)
    at = opened + _minutes(limit * share)
    steps = [Step(order_id, RECEIVED, at, unit)]
    if rng.random() < RETURNED_SHARE:
        at += _minutes(rng.uniform(10, 60) * pace)
        steps.append(Step(order_id, RETURNED, at, unit, reason=rng.choice(RETURN_REASONS)))
        co_units = [c for c in (order.get("co_unit_codes") or "").split("|") if c]
        street_unit = f"S{order['street_code']}"
        next_code = next((c if c != "S00" else street_unit for c in co_units), street_unit)
        unit = (next_code, names.get(next_code, next_code))
        at += _minutes(rng.uniform(15, 60))
        steps.append(Step(order_id, RECEIVED, at, unit))
    at += _minutes(rng.uniform(5, 30))
    steps.append(Step(order_id, HANDLING, at, unit))
    allowed = max(due - opened, dt.timedelta(hours=1))
    share = rng.uniform(1.1, 2.0) if rng.random() < LATE_HANDLING else rng.uniform(0.3, 0.95)
    at = max(at + _minutes(10), opened + allowed * share)
    note = HANDLING_NOTES.get(order.get("matter_code") or "", HANDLING_NOTES["default"])
    steps.append(Step(order_id, HANDLED, at, unit, note=note))
    at += _minutes(rng.uniform(60, 480))
    if rng.random() < FAILED_VERIFICATION:
        steps.append(
            Step(order_id, VERIFICATION_FAILED, at, VERIFIER, note=rng.choice(FAILED_NOTES))
        )
        at += _minutes(rng.uniform(10, 60))
        steps.append(Step(order_id, HANDLING, at, unit))
        at += _minutes(rng.uniform(120, 720))
        steps.append(Step(order_id, HANDLED, at, unit, note="已二次处置，问题已解决。"))
        at += _minutes(rng.uniform(60, 480))
    steps.append(Step(order_id, VERIFIED, at, VERIFIER, note="现场核查通过。"))
    return steps


def simulate(home: Paths, seed: int = 7) -> dict[str, int]:
    """Acknowledge the outbox's orders and land the steps that happened; counts by kind.

    Idempotent: the same outbox and data give the same files, and a day's file is rewritten
    only when its content changes (a new order added steps to it).
    """
    end = data_end(home)
    limits = receive_limits()
    by_day: dict[dt.date, list[tuple[str, Step]]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for order in read_orders(home):
        opened = dt.datetime.fromisoformat(order["opened_at"])
        if opened >= end:
            continue
        acknowledge(home, order["whistle_order_id"], opened)
        counts["orders"] += 1
        rng = py_rng(seed, "disposal", order["whistle_order_id"])
        pace = unit_pace(seed, order["responsible_unit_code"])
        steps = order_steps(order, rng, limits, pace)
        for number, step in enumerate(steps, start=1):
            if step.at < end:
                by_day[step.at.date()].append((f"{step.order_id}-{number:02d}", step))
                counts[step.kind] += 1
    for day, steps in sorted(by_day.items()):
        _write_day(home, day, sorted(steps, key=lambda item: (item[1].at, item[0])))
    counts["days"] = len(by_day)
    return dict(counts)


def _write_day(home: Paths, day: dt.date, steps: list[tuple[str, Step]]) -> None:
    rows = [
        (
            feedback_id,
            step.order_id,
            step.kind,
            step.at.strftime("%Y-%m-%d %H:%M:%S"),
            step.unit[0],
            step.unit[1],
            step.note,
            step.reason,
        )
        for feedback_id, step in steps
    ]
    data = csv_text(headers(CONTRACT), rows).encode("utf-8")
    target = home.landing_day(CONTRACT.source, day) / f"feedback_{day:%Y%m%d}.csv"
    if not target.exists() or target.read_bytes() != data:
        files.write_bytes(target, data)
