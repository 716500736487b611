"""数字吹哨派单: every 吹哨 order the platform opens is sent to the disposal system.

The exchange is a pair of folders under ``$CITYOPS_HOME/dispatch`` (a file drop, as the
district's systems exchange work orders; assumption: the real interface was not available):

- ``outbox/<whistle_order_id>.json``: the platform writes each order once, atomically, when
  the serving snapshot or the live store first holds it. Sending again writes nothing:
  the file name is the order's number and an existing file is never rewritten.
- ``acks/<whistle_order_id>.json``: the disposal system writes one when it has taken the
  order over (``{"whistle_order_id", "received_at"}``). An order without one is still
  waiting; :func:`status` counts both.

What the units then do with an order comes back as a source of its own, the daily feedback
export (``ingestion/disposal/contract.py``), and closes the loop in ``fct_whistle_orders``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ingestion import files
from ingestion.settings import Paths
from vitals.warnings import jsonable

ORDER_COLUMNS = (
    "whistle_order_id",
    "warning_id",
    "opened_at",
    "opened_level",
    "indicator_code",
    "indicator_name",
    "dimension_name",
    "area_level",
    "area_code",
    "area_name",
    "street_code",
    "grid_code",
    "matter_code",
    "matter_name",
    "responsible_unit_code",
    "responsible_unit_name",
    "co_unit_codes",
    "time_limit_hours",
    "time_limit_workdays",
    "due_at",
    "detail",
)


def outbox(home: Paths) -> Path:
    """Where the platform drops the orders."""
    return home.dispatch / "outbox"


def acks(home: Paths) -> Path:
    """Where the disposal system acknowledges them."""
    return home.dispatch / "acks"


@dataclass(frozen=True)
class DispatchStatus:
    """The exchange at a glance."""

    sent: int
    acknowledged: int
    new: int = 0

    @property
    def waiting(self) -> int:
        """Orders sent and not yet acknowledged."""
        return self.sent - self.acknowledged

    def summary(self) -> str:
        """One line in Chinese."""
        return (
            f"吹哨工单派发：本次新派 {self.new} 张，累计 {self.sent} 张，"
            f"处置系统已确认接收 {self.acknowledged} 张，待确认 {self.waiting} 张"
        )


def send_orders(home: Paths, database: Path) -> DispatchStatus:
    """Write every order of ``database`` (a snapshot or the live store) not yet in the outbox."""
    columns = ", ".join(ORDER_COLUMNS)
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute(
            f"select {columns} from vitals.fct_whistle_orders order by opened_at, whistle_order_id"  # noqa: S608
        )
        rows = [dict(zip(ORDER_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    folder = outbox(home)
    new = 0
    for row in rows:
        path = folder / f"{row['whistle_order_id']}.json"
        if path.exists():
            continue
        order = {key: jsonable(value) for key, value in row.items()}
        order["sent_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        files.write_json(path, order, indent=2)
        new += 1
    return status(home, new=new)


def status(home: Paths, *, new: int = 0) -> DispatchStatus:
    """How many orders were sent and how many the disposal system acknowledged."""
    sent = {path.stem for path in outbox(home).glob("*.json")}
    acknowledged = {path.stem for path in acks(home).glob("*.json")} & sent
    return DispatchStatus(sent=len(sent), acknowledged=len(acknowledged), new=new)


def read_orders(home: Paths) -> list[dict[str, Any]]:
    """The orders in the outbox, oldest first (what the disposal system reads)."""
    orders = [json.loads(path.read_text(encoding="utf-8")) for path in outbox(home).glob("*.json")]
    return sorted(orders, key=lambda order: (order["opened_at"], order["whistle_order_id"]))


def acknowledge(home: Paths, order_id: str, received_at: dt.datetime) -> None:
    """The disposal system's receipt of one order (written by that system, or the demo's)."""
    path = acks(home) / f"{order_id}.json"
    if not path.exists():
        files.write_json(
            path, {"whistle_order_id": order_id, "received_at": received_at.isoformat()}
        )


def forget_order(home: Paths, order_id: str) -> None:
    """Remove an order and its acknowledgement (a replayed day is landed anew)."""
    (outbox(home) / f"{order_id}.json").unlink(missing_ok=True)
    (acks(home) / f"{order_id}.json").unlink(missing_ok=True)
