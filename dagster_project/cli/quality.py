"""``cityops quality`` and ``freshness``: the latest data-quality results and the SLAs.

``quality`` reads the quality results store (``quality.results``: Parquet under
``$CITYOPS_HOME/lake/quality/check_results``) with an in-memory DuckDB, never the working
warehouse (locked while a build runs) nor the serving snapshot (not updated when a blocking
check fails, which is when this command matters most). ``freshness`` judges each source's
SLA from the ingestion accounting (``quality.freshness``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from dagster_project.cli.common import console, err, parse_day
from dagster_project.execution import open_instance
from ingestion.settings import Paths, paths

SHANGHAI = ZoneInfo("Asia/Shanghai")
NO_RESULTS_EXIT = 2
DESCRIPTION_WIDTH = 160


def _collect_all(home: Paths) -> None:
    from dagster_project.defs.quality.results import collect

    instance = open_instance(home)
    try:
        report = collect(instance, home)
    finally:
        instance.dispose()
    err.print(f"Collected: {report.summary()}.")


def quality(
    day: Annotated[
        str | None,
        typer.Option(help="Results for this delivery day (YYYY-MM-DD) instead of the latest."),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            help="Only assets whose key contains this, e.g. hotline_orders or raw/weather."
        ),
    ] = None,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all",
            help="List every check, passing ones too (about 500 dbt tests); by default a "
            "summary per source and the failed checks.",
        ),
    ] = False,
    failed_only: Annotated[
        bool,
        typer.Option(
            "--failed-only", help="Only the failed checks, without the summary per source."
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Machine-readable output, every check (or --failed-only)."),
    ] = False,
    collect: Annotated[
        bool,
        typer.Option(
            "--collect",
            help="First store the check results of every run in the Dagster instance "
            "(runs started from the UI while the collecting sensors were off).",
        ),
    ] = False,
) -> None:
    """Show the latest data-quality result of every check, and quarantine counts by reason.

    Every asset check is here: volume checks, dbt tests, Great Expectations suites,
    freshness checks. Results are grouped by data source (the checked asset); a check of a
    lake table's delivery days also shows days whose newest result still fails. Below them:
    rows quarantined by reason on each table's newest delivery day (or `--day`).

    Reads the quality results store ($CITYOPS_HOME/lake/quality/check_results), which
    `cityops run` fills after every job. Exit code: 1 when the latest result of a blocking
    check (severity ERROR) failed, 2 when there are no results yet, else 0.
    """
    from quality import results as quality_results

    home = paths()
    chosen_day = parse_day(day)
    if collect:
        _collect_all(home)
    latest = quality_results.latest(home, day=chosen_day, source=source)
    # Text lists the failed checks unless --all; JSON, for scripts, holds every check.
    every = (show_all or as_json) and not failed_only
    shown = [result for result in latest if every or not result.passed]
    counts = quality_results.summary(latest)
    partitions, quarantined = quality_results.quarantine_counts(home, day=chosen_day)
    if source:
        partitions = [row for row in partitions if source.lower() in f"raw/{row['table']}"]
        quarantined = [row for row in quarantined if source.lower() in f"raw/{row.table}"]
    if as_json:
        payload = {
            "store": str(home.check_results),
            "day": chosen_day.isoformat() if chosen_day else None,
            "summary": counts,
            "results": quality_results.as_json_ready(shown),
            "quarantine": [
                {
                    **{k: v for k, v in vars(row).items() if k != "day"},
                    "day": row.day.isoformat(),
                    "share_of_read": row.share_of_read,
                }
                for row in quarantined
            ],
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    elif not latest:
        scope = f" for {chosen_day}" if chosen_day else ""
        scope += f" matching {source!r}" if source else ""
        err.print(
            f"[yellow]还没有检查结果 — no check results yet{scope}:[/yellow] run `cityops run` "
            "first (or `cityops quality --collect` after runs started from the Dagster UI). "
            f"Store: {home.check_results}"
        )
    else:
        if not failed_only:
            _print_sources(latest)
        _print_results(home, shown, counts, chosen_day)
        _print_quarantine(partitions, quarantined, quality_results.reason_names(), chosen_day)
    if not latest:
        raise typer.Exit(code=NO_RESULTS_EXIT)
    if counts["blocking_failed"]:
        raise typer.Exit(code=1)


RESULT_STYLES = {"passed": "[green]通过[/green]", "warn": "[yellow]失败[/yellow]"}


def _window(start: dt.date | None, end: dt.date | None) -> str:
    if start is None or end is None:
        return "—"
    return start.isoformat() if start == end else f"{start.isoformat()}…{end:%m-%d}"


def _result_cell(latest: Any) -> str:
    if latest.passed:
        return RESULT_STYLES["passed"]
    if latest.is_blocking_failure:
        return "[bold white on red]失败·阻断[/]"
    return RESULT_STYLES["warn"]


def _print_sources(latest: list[Any]) -> None:
    """One line per data source: how many checks, passed, warned, failed blocking."""
    by_source: dict[str, list[int]] = {}
    for result in latest:
        row = by_source.setdefault(result.result.asset_key, [0, 0, 0, 0])
        row[0] += 1
        if result.passed:
            row[1] += 1
        elif result.is_blocking_failure:
            row[3] += 1
        else:
            row[2] += 1
    table = Table(title="按数据源汇总 (by source)", title_justify="left")
    for column in ("数据源", "检查数", "通过", "失败", "失败·阻断"):
        table.add_column(column, justify="left" if column == "数据源" else "right")
    for source, (checks, passed, warned, blocking) in sorted(by_source.items()):
        table.add_row(
            source,
            str(checks),
            str(passed),
            f"[yellow]{warned}[/yellow]" if warned else "0",
            f"[bold red]{blocking}[/]" if blocking else "0",
        )
    console.print(table)


def _print_results(home: Paths, shown: list[Any], counts: dict[str, Any], day: Any) -> None:
    newest = max((latest.result.evaluated_at for latest in shown), default=None)
    title = "数据质量检查 — " + (f"交付日 {day} 的结果" if day else "最新结果")
    if newest is not None:
        title += f" · 最近一次检查 {newest.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 北京时间"
    table = Table(title=title, title_justify="left")
    for column in ("数据源", "检查", "引擎", "严重级别", "结果", "日期", "说明"):
        table.add_column(column, overflow="fold", max_width=DESCRIPTION_WIDTH)
    previous_source = None
    for latest in shown:
        result = latest.result
        if previous_source is not None and result.asset_key != previous_source:
            table.add_section()
        dates = _window(result.partition_start, result.partition_end)
        note = result.description
        if latest.open_failures:
            failed_days = ", ".join(
                f"{failure.day:%m-%d}({failure.severity})" for failure in latest.open_failures
            )
            note = f"未恢复的失败交付日: {failed_days}. {note}".strip()
        table.add_row(
            result.asset_key if result.asset_key != previous_source else "",
            result.check_name,
            result.engine,
            # A passed check's severity is only the level it would fail at.
            f"[dim]{latest.severity}[/dim]" if latest.passed else latest.severity,
            _result_cell(latest),
            dates,
            note,
        )
        previous_source = result.asset_key
    if shown:
        console.print(table)
    else:
        console.print("No failed checks.")
    line = f"通过 {counts['passed']} / 失败 {counts['failed']}（共 {counts['checks']} 项检查）"
    if counts["blocking_failed"]:
        names = ", ".join(counts["blocking_failures"])
        console.print(f"{line} · [bold red]阻断失败 {counts['blocking_failed']}: {names}[/]")
    else:
        console.print(f"{line} · 无阻断失败")
    console.print(f"Store: {home.check_results}")


def _print_quarantine(
    partitions: list[Any], quarantined: list[Any], names: dict[str, str], day: Any
) -> None:
    if not partitions:
        return
    scope = f"交付日 {day}" if day else "各表最新交付日"
    table = Table(title=f"隔离记录（按原因）— {scope}", title_justify="left")
    for column in ("数据源", "日期", "原因", "隔离行数", "读入行数", "占比"):
        numeric = column in ("隔离行数", "读入行数", "占比")
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for row in quarantined:
        name = names.get(row.reason)
        table.add_row(
            row.table,
            row.day.isoformat(),
            f"{row.reason} {name}" if name else row.reason,
            f"{row.rows:,}",
            f"{row.rows_read:,}",
            f"{row.share_of_read:.2%}" if row.share_of_read is not None else "—",
        )
    clean = sorted(
        {f"{p['table']} {p['dt']}" for p in partitions}
        - {f"{row.table} {row.day.isoformat()}" for row in quarantined}
    )
    if quarantined:
        console.print(table)
    if clean:
        console.print("无隔离: " + ", ".join(clean))


def freshness(
    now: Annotated[
        str | None,
        typer.Option(
            help="Judge freshness at this moment (ISO, e.g. 2024-07-31T09:00; without a zone "
            "it is Beijing time). Default: the wall clock."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show each source's freshness SLA (数据时效) and whether its newest due partition arrived.

    An SLA reads "partition D is in the lake by D+1 HH:MM Beijing time"; the expected
    partition is the newest whose deadline has passed, and a source is overdue when that
    partition has not been ingested (from the ingestion accounting under lake/_ingestion_log).
    Exits with 1 when any source is overdue. "Now" is the wall clock, so the July 2024 demo
    data is reported stale, correctly; `--now 2024-07-31T09:00` judges it as of that morning.
    The same SLAs are the Dagster freshness checks (quality/freshness.py).
    """
    from quality.freshness import SHANGHAI, freshness_status

    if now is None:
        moment = dt.datetime.now(SHANGHAI)
    else:
        try:
            moment = dt.datetime.fromisoformat(now)
        except ValueError as error:
            raise typer.BadParameter(f"{now!r} is not a time like 2024-07-31T09:00") from error
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=SHANGHAI)
    rows = freshness_status(paths(), moment)
    overdue = [row for row in rows if row.is_overdue]
    if as_json:
        payload = [row.as_dict() for row in rows]
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        local = moment.astimezone(SHANGHAI)
        table = Table(
            title=f"数据时效 SLA — 判定时间 {local:%Y-%m-%d %H:%M} 北京时间 · "
            f"超时 {len(overdue)}/{len(rows)}",
            title_justify="left",
        )
        for column in FRESHNESS_COLUMNS:
            table.add_column(column, overflow="fold")
        for row in rows:
            colour = "red" if row.sla.severity == "ERROR" else "yellow"
            table.add_row(
                row.sla.label,
                row.sla.table,
                row.sla.deadline_label,
                row.sla.severity,
                row.expected.isoformat(),
                row.latest.isoformat() if row.latest else "—",
                row.latest_delivered.isoformat() if row.latest_delivered else "—",
                f"[{colour}]超时[/{colour}]" if row.is_overdue else "[green]按时[/green]",
                _overdue_cell(row) if row.is_overdue else "",
            )
        console.print(table)
        if any(row.sla.assumed for row in rows):
            console.print("时限为假设值，待与各数据提供方确认（quality/freshness.py 记录了依据）。")
    if overdue:
        raise typer.Exit(code=1)


FRESHNESS_COLUMNS = (
    "数据源",
    "表",
    "时限",
    "级别",
    "应到分区",
    "最新分区",
    "最新落地",
    "状态",
    "超时",
)


def _overdue_cell(row: Any) -> str:
    from quality.freshness import format_overdue

    if row.latest is None:
        return "从未入湖"
    if row.overdue_since is None:  # the due day precedes the table's first partition
        return "应到分区缺失"
    return format_overdue(row.overdue_seconds)
