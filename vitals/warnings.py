"""Read warnings and 吹哨 orders from the serving snapshot; turn warning steps into notices.

The snapshot (``serving``) is opened read-only; everything here is a query over the
vitals marts dbt builds (``fct_warning_events``, ``fct_whistle_orders``,
``fct_warning_escalations``), as published after their checks passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from vitals.notify import Notice

SHANGHAI = ZoneInfo("Asia/Shanghai")
LEVEL_NAMES = {1: "蓝", 2: "黄", 3: "橙", 4: "红"}
LEVEL_NUMBERS = {name: number for number, name in LEVEL_NAMES.items()}
AREA_LEVEL_NAMES = {"district": "全区", "street": "街镇", "grid": "网格"}

WARNINGS_SQL = """
select
    events.warning_id,
    events.peak_level,
    events.peak_level_name,
    events.dimension,
    events.dimension_name,
    events.indicator_code,
    events.indicator_name,
    events.unit,
    events.area_level,
    events.area_code,
    events.area_name,
    events.street_code,
    events.subject_code,
    events.opened_at,
    events.closed_at,
    events.status,
    events.duration_hours,
    events.peak_value,
    events.peak_at,
    events.peak_detail,
    orders.whistle_order_id,
    orders.responsible_unit_name,
    orders.matter_name,
    orders.due_at,
    orders.handling_unit_name,
    orders.escalation_reason,
    orders.status as whistle_status
from vitals.fct_warning_events as events
left join vitals.fct_whistle_orders as orders
    on events.warning_id = orders.warning_id
where
    events.peak_level >= $min_level
    and (events.is_open or events.opened_at >= events.as_of_at - to_days($days))
    and ($open_only = false or events.is_open)
    -- A street sees its own warnings and the district-wide ones (heat, the district's AQI).
    and ($street is null or events.street_code = $street or events.area_level = 'district')
order by
    events.is_open desc,
    events.peak_level desc,
    (select dimension_order from vitals.dim_indicators as registry
        where registry.indicator_code = events.indicator_code),
    events.opened_at,
    events.area_level,
    events.area_code
"""


class WarehouseMissing(FileNotFoundError):
    """The warehouse file, or its vitals marts, do not exist yet."""


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only; explain what to run when it is missing."""
    if not warehouse.exists():
        raise WarehouseMissing(f"No serving snapshot at {warehouse}. Run `cityops run` first.")
    con = duckdb.connect(str(warehouse), read_only=True)
    found = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'vitals' and table_name = 'fct_warning_events'"
    ).fetchone()
    if not found or found[0] == 0:
        con.close()
        raise WarehouseMissing(f"{warehouse} has no vitals marts yet. Run `cityops run`.")
    return con


def resolve_street(con: duckdb.DuckDBPyConnection, street: str) -> str:
    """A street code from a code or a (partial) Chinese name; ValueError lists the streets."""
    rows = con.execute(
        "select street_code, street_name from places.dim_streets order by street_code"
    ).fetchall()
    for code, name in rows:
        if street in (code, name):
            return str(code)
    matches = [code for code, name in rows if street in name]
    if len(matches) == 1:
        return str(matches[0])
    known = ", ".join(f"{name} {code}" for code, name in rows)
    raise ValueError(f"Unknown street {street!r}. Known streets: {known}")


def list_warnings(
    con: duckdb.DuckDBPyConnection,
    *,
    street: str | None = None,
    min_level: int = 3,
    days: int = 30,
    open_only: bool = False,
) -> dict[str, Any]:
    """Warnings open now, or opened in the last ``days`` days of data, at ``min_level`` or above.

    "Now" is the end of the newest period in the warehouse (``as_of``), not the wall clock,
    so a demo or a backfill reads the same as live data. Returns ``as_of``, the filters and
    the warnings, each with its 吹哨 order (or None).
    """
    street_code = resolve_street(con, street) if street else None
    as_of_row = con.execute("select max(as_of_at) from vitals.fct_warning_events").fetchone()
    as_of = as_of_row[0] if as_of_row else None
    cursor = con.execute(
        WARNINGS_SQL,
        {"min_level": min_level, "days": days, "open_only": open_only, "street": street_code},
    )
    names = [column[0] for column in cursor.description]
    warnings = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        order_keys = (
            "whistle_order_id",
            "responsible_unit_name",
            "handling_unit_name",
            "matter_name",
            "due_at",
            "escalation_reason",
        )
        order = None
        if row["whistle_order_id"]:
            order = {key: row.pop(key) for key in order_keys}
            order["status"] = row.pop("whistle_status")
        else:
            for key in (*order_keys, "whistle_status"):
                row.pop(key)
        row["whistle_order"] = order
        warnings.append(row)
    return {
        "as_of": as_of,
        "street_code": street_code,
        "min_level": LEVEL_NAMES[min_level],
        "days": days,
        "open_count": sum(1 for warning in warnings if warning["closed_at"] is None),
        "warnings": warnings,
        "whistle_loop": whistle_loop(con, street_code=street_code, days=days),
    }


WHISTLE_LOOP_SQL = """
select
    count(*) as orders,
    count(*) filter (where is_open) as open_orders,
    count(*) filter (where is_open and is_escalated) as escalated_open_orders,
    count(*) filter (where is_received_on_time) as received_on_time_orders,
    count(*) filter (where is_handled_on_time) as handled_on_time_orders,
    count(verified_at) as verified_orders,
    count(*) filter (where is_verified_first_time) as verified_first_time_orders,
    count(*) filter (where return_count > 0) as returned_orders
from vitals.fct_whistle_orders
where opened_at >= as_of_at - to_days($days) and ($street is null or street_code = $street)
"""


def whistle_loop(
    con: duckdb.DuckDBPyConnection, *, street_code: str | None = None, days: int = 30
) -> dict[str, int]:
    """The 数字吹哨 loop over the orders opened in the data's last ``days`` days."""
    cursor = con.execute(WHISTLE_LOOP_SQL, {"street": street_code, "days": days})
    names = [column[0] for column in cursor.description]
    row = cursor.fetchone()
    return {name: int(value or 0) for name, value in zip(names, row or (), strict=False)}


def loop_summary(loop: dict[str, int]) -> str:
    """The loop in one Chinese line: orders, open, escalated, on-time and first-time rates."""
    orders = loop.get("orders", 0)
    if not orders:
        return "数字吹哨：无工单"

    def share(count: int, of: int) -> str:
        return f"{count / of:.0%}" if of else "—"

    received = share(loop["received_on_time_orders"], orders)
    handled = share(loop["handled_on_time_orders"], orders)
    first_time = share(loop["verified_first_time_orders"], loop["verified_orders"])
    return (
        f"数字吹哨：{orders} 张，未办结 {loop['open_orders']}（其中升级督办 "
        f"{loop['escalated_open_orders']}），按时签收 {received}，按时反馈 {handled}，"
        f"一次核查通过 {first_time}，退单 {loop['returned_orders']}"
    )


ESCALATIONS_SQL = """
select
    escalation_id,
    warning_id,
    event_kind,
    level,
    level_name,
    indicator_code,
    indicator_name,
    dimension_name,
    unit,
    area_level,
    area_code,
    area_name,
    street_code,
    reached_at,
    known_at,
    value,
    detail
from vitals.fct_warning_escalations
where reached_at >= (select max(as_of_at) from vitals.fct_warning_events) - to_hours($hours)
order by reached_at, level
"""


def recent_notices(con: duckdb.DuckDBPyConnection, *, hours: int = 48) -> list[Notice]:
    """One notice per warning opened or escalated in the last ``hours`` hours of data.

    The key is the escalation id (warning and level), so the notifier's de-duplication
    sends each step once however often this runs; older steps (a backfill's history) are
    not sent at all.
    """
    cursor = con.execute(ESCALATIONS_SQL, {"hours": hours})
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return [_notice(row) for row in rows]


def _notice(row: dict[str, Any]) -> Notice:
    verb = "发布" if row["event_kind"] == "opened" else "升级"
    value = format_value(row["value"], row["unit"])
    place = f"{AREA_LEVEL_NAMES[row['area_level']]} {row['area_name'] or row['area_code']}"
    # When the data showed it: the alarm or report that tipped a count, else the period's end.
    reached = row["known_at"].replace(tzinfo=SHANGHAI)
    lines = [
        f"维度：{row['dimension_name']}",
        f"指标：{row['indicator_name']}（{row['indicator_code']}）",
        f"区域：{place}",
        f"时间：{reached:%Y-%m-%d %H:%M}",
        f"指标值：{value}",
    ]
    if row["detail"]:
        lines.append(f"说明：{row['detail']}")
    heading = f"{row['level_name']}色预警" if verb == "发布" else f"预警升级为{row['level_name']}色"
    title = f"【{heading}】{place} {row['indicator_name']} {value}"
    return Notice(
        key=row["escalation_id"],
        event="opened" if row["event_kind"] == "opened" else "escalated",
        level=row["level_name"],
        title=title,
        lines=tuple(lines),
        occurred_at=reached,
        fields={
            "warning_id": row["warning_id"],
            "indicator_code": row["indicator_code"],
            "area_level": row["area_level"],
            "area_code": row["area_code"],
            "street_code": row["street_code"],
            "value": row["value"],
        },
    )


def format_value(value: float | None, unit: str) -> str:
    """A value with its Chinese unit label, e.g. "58.2 毫米", "93.5%", "1,161 件"."""
    if value is None:
        return "—"
    from vitals.registry import UNITS

    number = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"
    label = UNITS.get(unit, unit)
    return f"{number}{label}" if unit in ("percent",) else f"{number} {label}"


def as_json_ready(result: dict[str, Any]) -> dict[str, Any]:
    """The result of :func:`list_warnings` with dates as ISO strings."""
    return jsonable(result)


def jsonable(value: Any) -> Any:
    """``value`` with every date and datetime inside it as an ISO string."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def level_number(name: str) -> int:
    """蓝/黄/橙/红 (or blue/yellow/orange/red) as 1–4; ValueError otherwise."""
    english = {"blue": 1, "yellow": 2, "orange": 3, "red": 4}
    number = LEVEL_NUMBERS.get(name) or english.get(name.lower())
    if number is None:
        raise ValueError(f"Unknown level {name!r}: use 蓝, 黄, 橙 or 红")
    return number


def group_by_level_and_dimension(
    warnings: Iterable[dict[str, Any]],
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Warnings grouped as {level name: {dimension name: [warning, …]}}, worst level first."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for warning in sorted(warnings, key=lambda w: -w["peak_level"]):
        level = grouped.setdefault(warning["peak_level_name"], {})
        level.setdefault(warning["dimension_name"], []).append(warning)
    return grouped
