"""``cityops warnings``, ``indicators`` and ``notify``: the vital-sign warnings.

Thin fronts over :mod:`vitals`: the warnings read from the serving snapshot, the indicator
registry validated and listed, the notices sent to the channels of ``notify.yml``.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from dagster_project.cli.common import console, err
from ingestion.settings import paths

LEVEL_STYLES = {
    "红": "bold white on red",
    "橙": "bold black on dark_orange",
    "黄": "black on yellow",
    "蓝": "white on blue",
}


def warnings(
    street: Annotated[
        str | None,
        typer.Option(
            help="Only this street (and district-wide warnings): its 12-digit code or "
            "(part of) its Chinese name."
        ),
    ] = None,
    min_level: Annotated[
        str, typer.Option("--min-level", help="Lowest level shown: 蓝, 黄, 橙 or 红.")
    ] = "橙",
    days: Annotated[
        int, typer.Option(help="Also show warnings opened in the data's last N days.")
    ] = 30,
    open_only: Annotated[
        bool, typer.Option("--open-only", help="Only warnings still open.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List vital-sign warnings (城市生命体征预警) by level and dimension, with 吹哨 orders.

    Shows the warnings open at the warehouse's newest period, then those opened in the last
    `--days` days of data and since cleared. "Now" is the data's as-of time, not the wall
    clock. Reads the serving snapshot read-only (what the last successful build published),
    or the live path's store (serving/live.duckdb) when `cityops live` has newer data;
    thresholds live in vitals/indicators.yml.
    """
    from live.store import freshest_vitals
    from vitals import warnings as vital_warnings

    try:
        level = vital_warnings.level_number(min_level)
        with vital_warnings.connect(freshest_vitals(paths())) as con:
            result = vital_warnings.list_warnings(
                con, street=street, min_level=level, days=days, open_only=open_only
            )
    except (vital_warnings.WarehouseMissing, ValueError) as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(code=2) from error
    if as_json:
        payload = vital_warnings.as_json_ready(result)
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    as_of = result["as_of"]
    console.print(
        f"城市生命体征预警 — 数据截至 {as_of:%Y-%m-%d %H:%M} · {result['min_level']}色及以上 · "
        f"预警中 {result['open_count']} 条 · 近 {days} 天共 {len(result['warnings'])} 条"
        + (f" · 街镇 {result['street_code']}" if result["street_code"] else "")
    )
    console.print(vital_warnings.loop_summary(result["whistle_loop"]))
    if not result["warnings"]:
        console.print("No warnings at this level. Try --min-level 蓝.")
        return
    grouped = vital_warnings.group_by_level_and_dimension(result["warnings"])
    for level_name, dimensions in grouped.items():
        count = sum(len(items) for items in dimensions.values())
        table = Table(
            title=f"[{LEVEL_STYLES[level_name]}] {level_name}色预警 [/] {count} 条",
            title_justify="left",
        )
        for column in ("维度", "指标", "区域", "发布", "解除", "峰值", "吹哨工单"):
            table.add_column(column, overflow="fold")
        for dimension, items in dimensions.items():
            for warning in items:
                order = warning["whistle_order"]
                table.add_row(
                    dimension,
                    warning["indicator_name"],
                    _warning_place(warning),
                    f"{warning['opened_at']:%m-%d %H:%M}",
                    "预警中"
                    if warning["closed_at"] is None
                    else f"{warning['closed_at']:%m-%d %H:%M}",
                    _warning_value(warning),
                    _whistle_cell(order),
                )
        console.print(table)


def _whistle_cell(order: dict[str, Any] | None) -> str:
    if order is None:
        return ""
    unit = order["handling_unit_name"] or order["responsible_unit_name"]
    cell = f"{order['whistle_order_id']} {unit} {order['status']}"
    return cell + (f" · 督办：{order['escalation_reason']}" if order["escalation_reason"] else "")


def _warning_place(warning: dict[str, Any]) -> str:
    name = warning["area_name"] or warning["area_code"]
    if warning["subject_code"] not in ("-", None):
        return f"{name} · {warning['subject_code']}"
    return name


def _warning_value(warning: dict[str, Any]) -> str:
    from vitals.warnings import format_value

    value = format_value(warning["peak_value"], warning["unit"])
    return f"{value} ({warning['peak_detail']})" if warning["peak_detail"] else value


def indicators(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Validate the indicator registry (vitals/indicators.yml) and list it.

    Exits with 2 and names every problem (indicator and field) when the registry is invalid.
    """
    from vitals.registry import DIMENSIONS, RegistryError, load_registry

    try:
        registry = load_registry()
    except RegistryError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(code=2) from error
    rows = registry.rows()
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(
        title=f"城市生命体征指标 — {len(rows)} indicators in {len(DIMENSIONS)} dimensions "
        f"({registry.path})",
        title_justify="left",
    )
    for column in ("维度", "编码", "指标", "单位", "粒度", "区域", "阈值 蓝/黄/橙/红", "吹哨"):
        table.add_column(column, overflow="fold")
    for row in rows:
        thresholds = "/".join(
            "—" if row[f"threshold_{colour}"] is None else f"{row[f'threshold_{colour}']:g}"
            for colour in ("blue", "yellow", "orange", "red")
        )
        kind = {"fixed": "", "baseline_sigma": " σ", "baseline_ratio": " ×基线"}[
            row["threshold_kind"]
        ]
        table.add_row(
            row["dimension_name"],
            row["indicator_code"],
            row["indicator_name"],
            row["unit_name"],
            {"hour": "时", "day": "日"}[row["grain"]],
            row["area_levels"],
            thresholds + kind,
            row["whistle_matter_code"] or "",
        )
    console.print(table)


def notify(
    hours: Annotated[
        int, typer.Option(help="Send warnings opened or escalated in the data's last N hours.")
    ] = 48,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the notices instead of sending them.")
    ] = False,
) -> None:
    """Send vital-sign warning notices to the channels configured in notify.yml.

    Each warning step (opened, escalated) is sent once per channel: deliveries are logged in
    $CITYOPS_HOME/notify/deliveries.jsonl and a step already delivered is skipped. Channel
    URLs and secrets come from the environment (.env.example lists them). Deadlines (per
    notice, per call) and a circuit breaker per channel bound the time a stuck channel can
    take; what is not delivered is sent again by the next call. Exits 1 when a notice was
    not delivered.
    """
    from live.store import freshest_vitals
    from vitals import warnings as vital_warnings
    from vitals.notify import load_config
    from vitals.notify import notify as deliver

    try:
        with vital_warnings.connect(freshest_vitals(paths())) as con:
            notices = vital_warnings.recent_notices(con, hours=hours)
    except vital_warnings.WarehouseMissing as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(code=2) from error
    if dry_run:
        for notice in notices:
            console.print(f"[bold]{notice.title}[/bold]  ({notice.key})")
        console.print(f"{len(notices)} notices (dry run, nothing sent)")
        return
    config = load_config()
    console.print(config.describe())
    report = deliver(notices, config, paths().notifications)
    console.print(report.summary())
    if not report.ok:
        raise typer.Exit(code=1)
