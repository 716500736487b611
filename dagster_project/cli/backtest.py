"""``cityops backtest``: the warnings scored against the incidents the generator planted.

Generates (or reuses) a home of its own, builds it with ``cityops run``, and reports recall,
detection delay, precision and noise per indicator (:mod:`vitals.backtest`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from dagster_project.cli.common import console, err, parse_day


def backtest(
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")] = "2024-07-01",
    days: Annotated[int, typer.Option(min=1, help="Number of days.")] = 90,
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 11,
    scale: Annotated[float, typer.Option(min=0.001, help="Volume multiplier.")] = 1.0,
    fault_rate: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="Share of records given a delivery fault.")
    ] = 0.002,
    home: Annotated[
        Path | None,
        typer.Option(
            help="Home to generate and build into; default "
            "$CITYOPS_HOME/backtests/seed<S>-<start>-<N>d-x<scale>."
        ),
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Build again even if the home is built already.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit with 1 when a target does not hold.")
    ] = False,
) -> None:
    """Backtest the vital-sign warnings against planted incidents (预警回测).

    Generates demo data with the given seed into a home of its own (reused when it is there
    already), builds it (`cityops run`; skipped when its serving snapshot is newer than its
    data), and compares the warnings with the incidents listed in
    landing/_manifest.json: recall at the expected indicator, area and level; detection
    delay in data time; precision of 橙/红 warnings; 橙/红 warnings per week and
    notifications per day outside incidents, at the min_level of notify.yml. Each figure is
    checked against its target (docs/domain.md §3.4). Progress goes to stderr.
    """
    from dagster_project.cli import pipeline
    from ingestion.settings import paths
    from serving import serving_path
    from vitals import backtest as scoring
    from vitals.notify.config import load_config

    first = parse_day(start)
    assert first is not None
    if home is None:
        base = Path(os.environ.get("CITYOPS_HOME", "data"))
        home = base / "backtests" / f"seed{seed}-{first}-{days}d-x{scale:g}"
    os.environ["CITYOPS_HOME"] = str(home.resolve())
    home_paths = paths()
    # Generation and the build print tables; --json keeps stdout for the report.
    with contextlib.redirect_stdout(sys.stderr):
        pipeline.generate(
            start=first.isoformat(),
            days=days,
            seed=seed,
            scale=scale,
            fault_rate=fault_rate,
            no_faults=fault_rate == 0,
            force=False,
        )
        snapshot = serving_path(home_paths)
        manifest = home_paths.landing / "_manifest.json"
        built = snapshot.exists() and snapshot.stat().st_mtime > manifest.stat().st_mtime
        if rebuild or not built:
            pipeline.run(start=None, end=None, force=False, accept_smaller_resend=False)
        else:
            err.print(f"Reusing the built home {home}; --rebuild to build it again.")
    import duckdb

    with duckdb.connect(str(serving_path(home_paths)), read_only=True) as con:
        report = scoring.score(con, scoring.load_incidents(manifest), load_config().min_level)
    if as_json:
        payload = {"home": str(home), "seed": seed, "scale": scale, **report.as_dict()}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_report(report)
    if check and not report.targets_hold:
        raise typer.Exit(code=1)


def _print_report(report: Any) -> None:
    data = report.as_dict()
    console.print(
        f"预警回测 {data['first_period']} … {data['as_of']} ({data['days']:g} 天) · "
        f"通知级别 {report.notify_min_level}色及以上 · 预警 {data['warnings_by_level']}"
    )
    targets = Table(title="Targets", title_justify="left")
    for column in ("figure", "value", "target", "holds"):
        targets.add_column(column)
    for name, figure in data["targets"].items():
        value = figure["value"]
        targets.add_row(
            name,
            "—" if value is None else value if isinstance(value, str) else f"{value:g}",
            figure["target"],
            "[green]yes[/green]" if figure["holds"] else "[red]no[/red]",
        )
    console.print(targets)
    expectations = Table(title="Planted incidents", title_justify="left")
    for column in ("incident", "n", "indicator", "level", "met", "on time", "delay h (max)"):
        expectations.add_column(column, justify="right" if column == "n" else "left")
    groups: dict[tuple[str, str, str, str], list[Any]] = {}
    for item in report.expectations:
        key = (item.kind, item.indicator, item.area_level, item.min_level)
        groups.setdefault(key, []).append(item)
    for (kind, indicator, area_level, level), items in groups.items():
        delays = [i.delay_hours for i in items if i.delay_hours is not None]
        met = sum(i.met for i in items)
        on_time = sum(i.on_time for i in items)
        first = items[0].incident_start
        expectations.add_row(
            kind if len(items) > 1 else f"{kind} {first:%m-%d %H:%M}",
            str(len(items)),
            f"{indicator} ({area_level})",
            level,
            f"{met}/{len(items)}" if met == len(items) else f"[red]{met}/{len(items)}[/red]",
            f"{on_time}/{len(items)}"
            if on_time == len(items)
            else f"[red]{on_time}/{len(items)}[/red]",
            f"{max(delays):g}" if delays else "—",
        )
    console.print(expectations)
    indicators = Table(title="Per indicator", title_justify="left")
    for column in (
        "indicator",
        "met",
        "warnings",
        "橙/红",
        "in incidents",
        "outside",
        "notices outside",
    ):
        indicators.add_column(column, justify="left" if column == "indicator" else "right")
    for row in report.indicators:
        indicators.add_row(
            row.indicator,
            f"{row.met}/{row.expectations}" if row.expectations else "",
            str(row.warnings),
            str(row.orange_red),
            str(row.orange_red_in_incidents),
            str(row.orange_red_outside),
            str(row.notifications_outside),
        )
    console.print(indicators)
