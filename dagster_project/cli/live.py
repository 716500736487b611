"""``cityops live``: the live path (四早), and the replay of a day's batches into it."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from dagster_project.cli.common import console, err, parse_day, parse_time

if TYPE_CHECKING:
    from ingestion.settings import Paths
    from live.runner import CycleRecord


def live(
    replay: Annotated[
        str | None,
        typer.Option(
            help="Replay this demo day (YYYY-MM-DD): its IoT and weather batches land again at "
            "their cadence into $CITYOPS_HOME/replays/DAY, built through the day before."
        ),
    ] = None,
    speed: Annotated[
        float, typer.Option(min=1.0, help="Replay this many times faster than real time.")
    ] = 60.0,
    start_at: Annotated[
        str | None,
        typer.Option(
            "--from", help="Replay from this time of day (HH:MM); earlier batches land at once."
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Replay the batches landed until this time of day (HH:MM).")
    ] = None,
    poll: Annotated[
        float, typer.Option(min=0.1, help="Seconds between looks at the landing folders.")
    ] = 1.0,
    once: Annotated[
        bool, typer.Option("--once", help="Take what has landed through the path once, then exit.")
    ] = False,
) -> None:
    """Run the live path (实时预警): each landed batch to a warning, a 吹哨 order and a notice.

    Watches the landing folders of the fast sources (IoT readings and alarm events, hourly
    weather) under $CITYOPS_HOME. Each batch is ingested through its contract, the same dbt
    models as the daily build run on the live copy of the published warehouse, the vital-sign
    marts are published to serving/live.duckdb (what `cityops warnings` reads when it is
    newer) and new warning steps are sent to the channels of notify.yml. Every cycle is
    logged in live/cycles.jsonl. Stop with Ctrl-C.

    With --replay DAY it first prepares a home with the demo's days before DAY (built with
    `cityops run`, reused afterwards), then lands DAY's batches at --speed times real time
    and prints each cycle and the latency figures.
    """
    from dagster_project.execution import use_pii_key
    from ingestion.settings import paths
    from live.runner import LiveRunner
    from serving import serving_path

    home = paths()
    if replay is None:
        use_pii_key(home)
        runner = LiveRunner(home, log=err.print)
        if not serving_path(home).exists():
            err.print(
                f"[red]No serving snapshot in {home.home}: the live path continues a published "
                "warehouse. Run `cityops run` first.[/red]"
            )
            raise typer.Exit(code=2)
        if once:
            runner.dbt.parse()
            record = runner.cycle()
            _print_cycle(record) if record else console.print("没有新到的批次 (nothing landed).")
            return
        console.print(f"实时预警 live path on {home.home} — Ctrl-C to stop")
        try:
            runner.run(poll_seconds=poll, on_cycle=_print_cycle)
        except KeyboardInterrupt:
            console.print("stopped")
        return
    day = parse_day(replay)
    assert day is not None
    _replay(home, day, speed, parse_time(start_at), parse_time(until), poll)


def _replay(
    home: Paths,
    day: dt.date,
    speed: float,
    start_at: dt.time | None,
    until: dt.time | None,
    poll: float,
) -> None:
    from dagster_project.execution import use_pii_key
    from live import replay as replaying
    from live.runner import LiveRunner

    target = replaying.replay_home(home, day)
    use_pii_key(target)
    replaying.prepare(home, day, target, log=err.print)
    replaying.forget_day(target, day)  # a replay run before: the day lands anew
    replayer = replaying.Replayer(home, target, day, speed=speed, start_at=start_at, until=until)
    console.print(
        f"回放 {day}: {len(replayer.deliveries)} 个批次文件, ×{speed:g} 实时 → {target.home}"
    )
    runner = LiveRunner(target, log=err.print)
    started = time.time()
    runner.dbt.parse()
    landing = threading.Thread(
        target=replayer.run,
        kwargs={"caught_up": lambda: replayer.taken_by(runner.idle_since)},
        name="replay",
        daemon=True,
    )
    landing.start()

    def stop() -> bool:
        return replayer.done and replayer.taken_by(runner.idle_since)

    try:
        runner.run(poll_seconds=poll, stop=stop, on_cycle=_print_cycle)
    except KeyboardInterrupt:
        console.print("stopped")
    _print_summary(target, replayer.paced_from, started)


def _print_cycle(record: CycleRecord) -> None:
    stages = record.stages
    if record.error:
        console.print(f"[red]周期 {record.cycle_id} 失败: {record.error}[/red]")
        return
    newest = max((landed.landed_at for landed in record.files), default=record.started_at)
    parts = [
        f"{dt.datetime.fromtimestamp(record.started_at):%H:%M:%S}",
        f"{len(record.files)} 个文件",
        f"数据至 {record.as_of[:16] if record.as_of else '—'}",
    ]
    for stage, label in (("ingested", "入湖"), ("published", "预警可查"), ("notified", "通知")):
        if stage in stages:
            parts.append(f"{label} +{stages[stage] - newest:.1f}s")
    if record.span and record.window and record.span[1] < record.window[0]:
        # A live warning open across the first live day: evaluated from its first period.
        parts.append(f"自 {record.span[1][5:16].replace('T', ' ')} 起评估")
    if record.new_notices:
        parts.append(f"[bold]新预警步骤 {len(record.new_notices)}[/bold]")
    if record.dispatched:
        parts.append(f"[bold]派发吹哨工单 {record.dispatched}[/bold]")
    console.print(" · ".join(parts))


def _print_summary(target: Paths, paced_from: float | None, started: float) -> None:
    from live.latency import STAGES, file_latencies, paced_cycles, summarise
    from live.store import LivePaths, read_cycles
    from vitals import warnings as vital_warnings

    live_paths = LivePaths(target)
    latencies = file_latencies(paced_cycles(read_cycles(live_paths), started, paced_from))
    table = Table(title="从落地到各阶段的时延 (秒, 按节奏落地的每个文件)", title_justify="left")
    for column in ("阶段", "文件数", "p50", "p95", "最大"):
        table.add_column(column)
    for stage, label in STAGES.items():
        figures = summarise(latencies[stage])
        table.add_row(
            label,
            str(figures["count"]),
            *(
                f"{figures[key]:.1f}" if figures[key] is not None else "—"
                for key in ("p50", "p95", "max")
            ),
        )
    console.print(table)
    with vital_warnings.connect(live_paths.store) as con:
        result = vital_warnings.list_warnings(con, min_level=3, days=1)
    console.print(f"橙色及以上预警 (数据截至 {result['as_of']:%Y-%m-%d %H:%M}):")
    for warning in result["warnings"]:
        order = warning["whistle_order"]
        console.print(
            f"  {warning['peak_level_name']} {warning['indicator_name']} · "
            f"{warning['area_name']} · {warning['opened_at']:%m-%d %H:%M}"
            + (
                f" · 吹哨 {order['whistle_order_id']} → {order['responsible_unit_name']}"
                if order
                else ""
            )
        )
    console.print(f"`CITYOPS_HOME={target.home} cityops warnings` lists them again.")
