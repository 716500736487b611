"""``cityops bench``: measure the pipeline against a raw-DuckDB baseline at a chosen scale.

A thin front over :mod:`bench`; registered in ``dagster_project/cli/__init__.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from dagster_project.cli.common import console, err
from ingestion.settings import DEFAULT_DUCKDB_MEMORY_LIMIT, duckdb_config

app = typer.Typer(
    add_completion=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback(invoke_without_command=True)
def bench(
    context: typer.Context,
    scale: Annotated[
        str,
        typer.Option(
            help="small (CI: scale 0.02, 5 days), medium (30-day demo + 1), district-year "
            "(366 days at scale 1.0) or city (scale 16.0, 91 days)."
        ),
    ] = "small",
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for report.json and report.md (default $CITYOPS_HOME/bench/SCALE)."
        ),
    ] = None,
    memory_limit: Annotated[
        str, typer.Option(help="DuckDB memory_limit for dbt and the baseline.")
    ] = DEFAULT_DUCKDB_MEMORY_LIMIT,
    threads: Annotated[
        int, typer.Option(min=1, help="DuckDB threads for dbt and the baseline.")
    ] = int(duckdb_config()["threads"]),
    repeat: Annotated[
        int, typer.Option(min=1, help="Timed runs of each dashboard query (after one warm-up).")
    ] = 20,
    histories: Annotated[
        str | None,
        typer.Option(
            help="History lengths in days instead of the scale's, ascending and comma-separated "
            "(e.g. `3,6`: 7 days generated). The report names them; for a shorter run at the "
            "scale's daily volume.",
        ),
    ] = None,
    work: Annotated[
        Path | None,
        typer.Option(
            help="Scratch folder for the generated home (default: a new temporary folder)."
        ),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the scratch folder (data, logs) afterwards.")
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Continue an interrupted run in --work; finished stages are kept."
        ),
    ] = False,
) -> None:
    """Benchmark against a raw-DuckDB baseline: ingestion, builds, memory, dashboard queries.

    Every stage runs in its own process, one at a time: generation, one `ingest_sources` run
    per day, full `build_warehouse` builds from an empty warehouse at two history lengths,
    the one-day incremental build after each, every dashboard chart's query on the serving
    snapshot, and the raw-DuckDB baseline (the same compiled SQL in one DuckDB process).
    Writes report.json and report.md (docs/performance.md explains them). Heavy: run
    medium, district-year and city under `nice -n 19`.

    `cityops bench latency` measures the live path instead (its own --help).
    """
    if context.invoked_subcommand is not None:
        return
    from bench import report as bench_report
    from bench.measure import StageFailed
    from bench.run import disk_usage, remove_work, run_bench
    from bench.scales import SCALES
    from ingestion.settings import paths

    if scale not in SCALES:
        raise typer.BadParameter(
            f"{scale!r}: choose one of {', '.join(SCALES)}", param_hint="--scale"
        )
    if resume and work is None:
        raise typer.BadParameter("--resume needs the --work folder of the interrupted run")
    chosen = SCALES[scale]
    if histories is not None:
        try:
            chosen = chosen.with_histories(tuple(int(part) for part in histories.split(",")))
        except ValueError as error:
            raise typer.BadParameter(
                f"{histories!r}: two or more ascending day counts, e.g. 3,6",
                param_hint="--histories",
            ) from error
    folder = (out or paths().home / "bench" / scale).resolve()
    scratch = (work or Path(tempfile.mkdtemp(prefix=f"cityops-bench-{scale}-"))).resolve()
    started_at = dt.datetime.now(dt.UTC)
    host = bench_report.machine()
    err.print(
        f"bench {scale}: {chosen.days} days at scale {chosen.scale}, histories "
        f"{chosen.histories}; scratch {scratch}"
    )

    def show(step, result, reused) -> None:
        if result is None:
            err.print(f"  {step.name} …")
        else:
            note = " (from the interrupted run)" if reused else ""
            err.print(
                f"  {step.name}: {result.wall_seconds:,.1f} s, peak "
                f"{result.peak_tree_rss_bytes / 1e6:,.0f} MB{note}"
            )

    try:
        results = run_bench(
            chosen,
            scratch,
            memory_limit=memory_limit,
            threads=threads,
            repeat=repeat,
            resume=resume,
            on_stage=show,
        )
    except StageFailed as error:
        err.print(str(error), style="red", markup=False)  # a log tail may hold "[…]"
        err.print(
            f"Scratch kept in {scratch}. Resume: cityops bench --scale {scale} --work {scratch} "
            "--resume"
        )
        raise typer.Exit(code=1) from error
    home = scratch / "home"
    sizes = {
        "lake_bytes": disk_usage(home / "lake" / "raw"),
        "warehouse_bytes": (home / "warehouse" / "cityops.duckdb").stat().st_size,
        "snapshot_bytes": (home / "serving" / "current.duckdb").resolve().stat().st_size,
    }
    document = bench_report.build_report(
        chosen,
        results,
        memory_limit=memory_limit,
        threads=threads,
        repeat=repeat,
        started_at=started_at,
        host=host,
        sizes=sizes,
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(
        json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    text = bench_report.markdown(document)
    (folder / "report.md").write_text(text, encoding="utf-8")
    if keep:
        err.print(f"Scratch kept in {scratch}.")
    else:
        remove_work(scratch)
    for row in document["comparison"]:
        ratio = "—" if row["ratio"] is None else f"{row['ratio']:.2f}×"
        console.print(
            f"{row['stage']}: ours {row['ours']:,.2f}, baseline {row['baseline']:,.2f}, {ratio}"
        )
    for target in document["targets"]:
        console.print(
            f"{'met ' if target['met'] else 'MISSED'}  {target['target']}: {target['measured']}"
        )
    console.print(f"Report: {folder / 'report.md'} and report.json")


@app.command()
def latency(
    scale: Annotated[
        float, typer.Option(min=0.001, help="Volume multiplier: 1.0 is the district, 16.0 a city.")
    ] = 1.0,
    days: Annotated[int, typer.Option(min=1, help="Days of history before the replayed day.")] = 14,
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 7,
    speed: Annotated[
        float, typer.Option(min=1.0, help="Replay this many times faster than real time.")
    ] = 60.0,
    start_at: Annotated[
        str, typer.Option("--from", help="First delivery time paced (HH:MM); earlier land at once.")
    ] = "00:00",
    until: Annotated[str, typer.Option(help="Last delivery time replayed (HH:MM).")] = "23:59",
    home: Annotated[
        Path | None,
        typer.Option(
            help="Home of the run (default $CITYOPS_HOME/bench/latency-x<scale>-<days>d)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Latency of the live path (四早): landing → ingested → warning readable → notice received.

    Generates `--days` days plus one (reused), builds the history with `cityops run`
    (reused), replays the next day's IoT and weather deliveries at `--speed` times real
    time through `cityops live`'s runner with a webhook on 127.0.0.1, then runs the daily
    build over that day, timed, and compares the live indicators' warnings of both. Reports
    p50/p95/max per landed file for each stage and judges the targets (p95 ≤ 30 s to a
    readable warning and ≤ 60 s to the notice; ≤ 120 s at scale 16). Progress goes to
    stderr; the report also to latency.json in the home.
    """
    from bench import latency as bench_latency
    from dagster_project.cli.common import parse_time
    from dagster_project.execution import use_pii_key
    from ingestion.files import write_json
    from ingestion.settings import paths

    first, last = parse_time(start_at), parse_time(until)
    assert first is not None and last is not None
    folder = home or paths().home / "bench" / f"latency-x{scale:g}-{days}d"
    plan = bench_latency.LatencyPlan(scale, days, seed, speed, first, last, folder.resolve())
    bench_latency.prepare(plan, err.print)
    use_pii_key(plan.live)
    report = bench_latency.measure(plan, err.print)
    write_json(plan.home / "latency.json", report, indent=2)
    if as_json:
        console.print_json(data=report)
        return
    _print_latency(report, bench_latency.stage_label)


def _print_latency(report: dict, label: Callable[[str], str]) -> None:
    from rich.table import Table

    plan = report["plan"]
    table = Table(
        title=f"实时预警时延 — scale {plan['scale']:g}, {plan['history_days']} 天历史, "
        f"{plan['day']} {plan['from']}–{plan['until']} ×{plan['speed']:g}; "
        f"{report['files']} 个文件, {report['cycles']} 个周期",
        title_justify="left",
    )
    for column in ("从落地到", "文件数", "p50 s", "p95 s", "最大 s"):
        table.add_column(column)
    for stage, figures in report["latency"].items():
        table.add_row(
            label(stage),
            str(figures["count"]),
            *(
                "—" if figures[key] is None else f"{figures[key]:.1f}"
                for key in ("p50", "p95", "max")
            ),
        )
    console.print(table)
    cycle = report["cycle_seconds"]
    console.print(
        f"周期 p50 {cycle['p50'] or 0:.1f} s · p95 {cycle['p95'] or 0:.1f} s · 失败 "
        f"{report['failed_cycles']} · 收到通知 {report['notices_received']} · 日批构建 "
        f"{report['daily_build_seconds']} s ({'ok' if report['daily_build_ok'] else 'FAILED'}) · "
        f"对账 {'一致' if report['reconciled'] else '不一致: ' + str(report['differences'])}"
    )
    for stage, target in report["targets"].items():
        verdict = "达标 met" if target["met"] else "未达标 MISSED"
        p95 = "—" if target["p95"] is None else f"{target['p95']:.1f}"
        console.print(f"目标 {label(stage)}: p95 {p95} ≤ {target['limit']:g} s: {verdict}")
