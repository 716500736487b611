"""``cityops``: the operator's command line for the city-operations lakehouse.

Every command is a thin front over importable code (``ingestion``, ``quality``, ``catalog``)
or over the Dagster definitions; heavy imports happen inside commands so ``--help`` is instant.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dagster_project.cli_bench import app as bench_app
from dagster_project.cli_catalog import app as catalog_app
from dagster_project.cli_dashboards import app as dashboards_app
from dagster_project.cli_progress import LineProgress, progress
from dagster_project.cli_quality import collect_run, quality
from ingestion.settings import Paths, paths

app = typer.Typer(
    help=(
        "cityops — 城运指标湖仓 city-operations lakehouse for 静安区 一网统管.\n\n"
        "Data lives under $CITYOPS_HOME (default ./data): landing/, lake/raw/, "
        "lake/quarantine/, warehouse/."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(bench_app, name="bench")
app.add_typer(catalog_app, name="catalog")
app.add_typer(dashboards_app, name="dashboards")
# Wide enough for the status table when output goes to a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)

DEMO_START = dt.date(2024, 7, 1)
DEMO_DAYS = 30


def _progress() -> Progress | LineProgress:
    return progress(
        err,
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter(f"{value!r} is not a date like 2024-07-01") from error


@app.command()
def generate(
    start: Annotated[str, typer.Option(help="First delivery day (YYYY-MM-DD).")] = "2024-07-01",
    days: Annotated[int, typer.Option(min=1, help="Number of days to generate.")] = DEMO_DAYS,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bytes.")] = 7,
    scale: Annotated[
        float, typer.Option(min=0.001, help="Volume multiplier; 1.0 ≈ one Jing'an district day.")
    ] = 1.0,
    fault_rate: Annotated[
        float,
        typer.Option(min=0.0, max=0.5, help="Share of records per table and day given a fault."),
    ] = 0.002,
    no_faults: Annotated[bool, typer.Option("--no-faults", help="Plant no faults at all.")] = False,
    force: Annotated[
        bool, typer.Option(help="Regenerate even if the same data is already there.")
    ] = False,
) -> None:
    """Generate realistic demo source files for 静安区 into $CITYOPS_HOME/landing/.

    12345 hotline orders (GB18030 CSV), grid cases (JSON Lines), IoT registry and hourly
    readings (gzip CSV), enterprise registry (XLSX), business-district flows, wet-market
    prices and weather (JSON), with planted incidents and faults listed in
    landing/_manifest.json.
    """
    from demo import generate as run_generator

    home = paths()
    first = _day(start)
    assert first is not None
    rate = 0.0 if no_faults else fault_rate
    wanted = {
        "start": first.isoformat(),
        "days": days,
        "seed": seed,
        "scale": scale,
        "fault_rate": rate,
    }
    if not force and _already_generated(home, wanted):
        console.print(f"Landing data for {wanted} already in {home.landing}; use --force to redo.")
        return
    with _progress() as progress:
        task = progress.add_task("generate", total=None)

        def report(stage: str, done: int, total: int) -> None:
            progress.update(
                task, description=f"generate: {stage} done", completed=done, total=total
            )

        manifest = run_generator(
            home.home, first, days, seed=seed, scale=scale, fault_rate=rate, progress=report
        )
    records = manifest.get("records", {})
    table = Table(title=f"Generated into {home.landing}")
    table.add_column("table")
    table.add_column("records", justify="right")
    for name, count in records.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(
        f"{len(manifest.get('incidents', []))} incidents and "
        f"{sum(f['count'] for f in manifest.get('faults', []))} faults planted; "
        f"see {home.landing / '_manifest.json'}"
    )


def _already_generated(home: Paths, wanted: dict[str, Any]) -> bool:
    manifest_path = home.landing / "_manifest.json"
    if not manifest_path.exists():
        return False
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    recorded = {key: manifest.get("generator", {}).get(key) for key in wanted}
    if recorded != wanted:
        return False
    return all(
        (home.landing / entry["path"]).is_file()
        and (home.landing / entry["path"]).stat().st_size == entry["bytes"]
        for entry in manifest.get("files", [])
    )


# The instance's dagster.yaml as cityops writes it. Runs the daemon launches (schedule, sensors,
# backfills and launches in the UI) wait in Dagster's run queue and start one at a time: every
# build writes the one working warehouse, and DuckDB refuses a second writer's lock, so two
# builds at once fail (Dagster's default is 10 runs at once). One run already keeps the
# 2 cores busy (docs/decisions.md). Dagster's run monitoring (in the daemon) fails a run
# stuck starting or canceling for 3 minutes; a run whose process died after it started is
# found by cityops itself (dagster_project/dead_runs.py): with the default run launcher,
# Dagster's monitoring checks no worker's health.
INSTANCE_CONFIG = """\
# Written by cityops (dagster_project/cli.py); edit freely, cityops leaves an edited file alone.
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1
# Runs stuck starting or canceling are failed after 3 minutes. A run whose process died is
# failed by cityops' fail_dead_runs sensor and at the start of `cityops run`.
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_resume_run_attempts: 0
  poll_interval_seconds: 60
"""
# What earlier versions wrote; such a file is replaced by INSTANCE_CONFIG.
_EARLIER_INSTANCE_CONFIGS = (
    "telemetry:\n  enabled: false\n",
    "# Written by cityops (dagster_project/cli.py); edit freely, cityops leaves an edited file "
    "alone.\ntelemetry:\n  enabled: false\nconcurrency:\n  runs:\n    max_concurrent_runs: 1\n",
)


def dagster_instance_folder(folder: Path) -> Path:
    """Create a Dagster instance folder with cityops' ``dagster.yaml`` if it has none.

    A ``dagster.yaml`` an earlier cityops wrote is brought up to date; one edited by hand is
    left as it is.
    """
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "dagster.yaml"
    if not config.exists() or config.read_text(encoding="utf-8") in _EARLIER_INSTANCE_CONFIGS:
        config.write_text(INSTANCE_CONFIG, encoding="utf-8")
    return folder


def _dagster_home(home: Paths) -> Path:
    """Point Dagster at the persistent instance under $CITYOPS_HOME, unless set already."""
    if "DAGSTER_HOME" not in os.environ:
        os.environ["DAGSTER_HOME"] = str(home.dagster_home)
    return dagster_instance_folder(Path(os.environ["DAGSTER_HOME"]))


def _instance(home: Paths) -> Any:
    """The home's Dagster instance, once runs whose process died are marked failed.

    A killed ``cityops run`` (or a run worker of the daemon) leaves its run ``STARTED``,
    which would hold the run queue for good (``dagster_project/dead_runs.py``).
    """
    from dagster import DagsterInstance

    from dagster_project.dead_runs import fail_dead_runs

    _dagster_home(home)
    instance = DagsterInstance.get()
    for dead in fail_dead_runs(instance):
        err.print(
            f"[yellow]Marked failed: {dead.describe()}; its process is gone (killed or "
            "crashed).[/yellow]"
        )
    return instance


def run_config(
    home: Paths, *, force: bool = False, accept_smaller_resend: bool = False
) -> dict[str, Any]:
    """Run config of the cityops jobs: the home, re-ingest or not, Dagster's console quiet.

    ``accept_smaller_resend`` reaches the ingestion assets through the ``cityops`` resource.
    """
    resource = {
        "home": str(home.home),
        "force": force,
        "accept_smaller_resend": accept_smaller_resend,
    }
    return {
        "resources": {"cityops": {"config": resource}},
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }


ACCEPT_SMALLER_RESEND_HELP = (
    "Confirm re-sent days that leave a partition with fewer than half its rows (or none), "
    "which ingestion otherwise refuses. Check the files with the source first; use with "
    "--start/--end for the days concerned."
)


@app.command()
def run(
    start: Annotated[str | None, typer.Option(help="First partition day to run.")] = None,
    end: Annotated[str | None, typer.Option(help="Last partition day to run (inclusive).")] = None,
    force: Annotated[
        bool, typer.Option(help="Re-ingest partitions even when their landing files are unchanged.")
    ] = False,
    accept_smaller_resend: Annotated[
        bool, typer.Option("--accept-smaller-resend", help=ACCEPT_SMALLER_RESEND_HELP)
    ] = False,
) -> None:
    """Ingest every day that has landing data, then build the warehouse.

    Runs the Dagster job ``ingest_sources`` once per daily partition (unchanged partitions
    are skipped), then ``build_warehouse`` (dbt) once over the whole day range. Runs are
    recorded in the Dagster instance under $CITYOPS_HOME/dagster so ``make dev`` shows them.
    The pseudonymisation key comes from $CITYOPS_PII_KEY, or is generated once into
    $CITYOPS_HOME/.secrets/pii_key. Re-running is always safe. A failed partition or a
    blocking check that fails with severity ERROR on a lake table stops before the build,
    so the serving snapshot keeps only data whose blocking checks passed. A re-sent day that
    would shrink a partition to fewer than half its rows (or none) fails that day until
    confirmed with `--accept-smaller-resend`. Landing folders and files that are not read (a
    misnamed day folder, a file no contract matches) are listed at the end.
    """
    from dagster_project.dead_runs import process_tags
    from dagster_project.definitions import defs
    from ingestion.landing import landing_days, record_landing_problems
    from ingestion.sources import CONTRACTS

    home = paths()
    instance = _instance(home)
    problems = record_landing_problems(home)
    first, last = _day(start), _day(end)
    days = sorted(
        {
            day
            for contract in CONTRACTS
            for day in landing_days(home, contract)
            if (first is None or day >= first) and (last is None or day <= last)
        }
    )
    if not days:
        _print_landing_problems(problems)
        err.print(f"[red]No landing data under {home.landing}.[/red] Run `cityops generate` first.")
        raise typer.Exit(code=1)
    job = defs.resolve_job_def("ingest_sources")
    config = run_config(home, force=force, accept_smaller_resend=accept_smaller_resend)
    run_ids: list[str] = []
    failed: list[str] = []
    blocked: list[str] = []
    with _progress() as progress:
        task = progress.add_task("ingest_sources", total=len(days))
        for day in days:
            progress.update(task, description=f"ingest_sources {day}")
            result = job.execute_in_process(
                partition_key=day.isoformat(),
                instance=instance,
                run_config=config,
                tags=process_tags(),
                raise_on_error=False,
            )
            collect_run(instance, home, result.run_id)  # check results, also of a failed run
            run_ids.append(result.run_id)
            if not result.success:
                failed.append(day.isoformat())
            blocked += [f"{day} {name}" for name in _blocking_failures(result)]
            progress.advance(task)
    _print_totals(home)
    _print_landing_problems(problems)
    if failed:
        err.print(f"[red]Failed partitions: {', '.join(failed)}[/red] — see `cityops status`.")
        _print_ingestion_failures(home, set(run_ids))
        if blocked:
            # A blocking check that fails with ERROR fails its run (Dagster raises it).
            err.print(f"[red]Blocking checks failed:[/red] {'; '.join(blocked)}")
            err.print("`cityops quality --failed-only` says why.")
        err.print(
            "The warehouse was not rebuilt and the serving snapshot is unchanged; "
            "fix the deliveries and run again."
        )
        raise typer.Exit(code=1)
    _build_warehouse(home, days[0], days[-1], instance, config)


def _print_landing_problems(problems: list[Any]) -> None:
    """What lies under landing/ unread (misnamed day folders, files no contract matches)."""
    if not problems:
        return
    console.print(
        f"[yellow]Not ingested: {len(problems)} item(s) under landing/[/yellow] "
        "(recorded in lake/_ingestion_log/landing_problems.json):"
    )
    for problem in problems:
        console.print(f"  {problem.path}  {problem.kind}: {problem.detail}")


def _print_ingestion_failures(home: Paths, run_ids: set[str]) -> None:
    """The error of every partition that failed in these runs, refused re-sends first."""
    from ingestion.pipeline import iter_runs

    failures = [
        attempt
        for attempt in iter_runs(home)
        if attempt.get("run_id") in run_ids and attempt["status"] == "failed"
    ]
    latest = {(attempt["table"], attempt["dt"]): attempt for attempt in failures}
    ordered = sorted(latest.values(), key=lambda a: (a.get("blocked") is None, a["dt"]))
    for attempt in ordered:
        label = "refused" if attempt.get("blocked") else "failed"
        err.print(f"[red]{attempt['table']} {attempt['dt']} {label}:[/red] {attempt['error']}")


def _blocking_failures(result: Any) -> list[str]:
    """``asset:check`` of every blocking check that failed with severity ERROR in a run."""
    from dagster import AssetCheckSeverity

    return [
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed
        and evaluation.severity == AssetCheckSeverity.ERROR
        and evaluation.blocking
    ]


def pii_key_file(home: Paths) -> tuple[Path, bool]:
    """The home's generated key file (``.secrets/pii_key``, mode 600); True when made now."""
    import secrets

    key_file = home.home / ".secrets" / "pii_key"
    if key_file.exists():
        return key_file, False
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(secrets.token_hex(32), encoding="utf-8")
    key_file.chmod(0o600)
    return key_file, True


def _pii_key(home: Paths) -> None:
    """Use $CITYOPS_PII_KEY, or a key generated once into an ignored file under the home."""
    if os.environ.get("CITYOPS_PII_KEY"):
        return
    key_file, created = pii_key_file(home)
    if created:
        err.print(
            f"Generated a pseudonymisation key in {key_file} (set CITYOPS_PII_KEY to use yours)."
        )
    os.environ["CITYOPS_PII_KEY"] = key_file.read_text(encoding="utf-8").strip()


def execute_build(instance: Any, first: dt.date, last: dt.date, config: dict[str, Any]) -> Any:
    """Run ``build_warehouse`` once over ``first`` … ``last`` (partition-range tags)."""
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    from dagster_project.dead_runs import process_tags
    from dagster_project.definitions import defs

    tags = {
        ASSET_PARTITION_RANGE_START_TAG: first.isoformat(),
        ASSET_PARTITION_RANGE_END_TAG: last.isoformat(),
        **process_tags(),
    }
    return defs.resolve_job_def("build_warehouse").execute_in_process(
        instance=instance, run_config=config, tags=tags, raise_on_error=False
    )


def _build_warehouse(
    home: Paths, first: dt.date, last: dt.date, instance: Any, run_config: dict[str, Any]
) -> None:
    """One run of ``build_warehouse`` over the whole range: the daily facts in one dbt call."""
    _pii_key(home)
    with _progress() as progress:
        task = progress.add_task(f"build_warehouse {first} … {last} (dbt build)", total=None)
        result = execute_build(instance, first, last, run_config)
        progress.update(task, total=1, completed=1)
    collect_run(instance, home, result.run_id)
    if not result.success:
        err.print(
            "[red]The warehouse build failed[/red]; the Dagster run has the dbt log (make dev)."
        )
        err.print("`cityops quality --failed-only` lists the checks that failed.")
        raise typer.Exit(code=1)
    console.print(f"Warehouse built: {home.warehouse / 'cityops.duckdb'}")


def _print_totals(home: Paths) -> None:
    from ingestion.pipeline import read_log
    from ingestion.sources import CONTRACTS

    table = Table(title="Lake totals (all partitions)")
    for column in ("table", "partitions", "read", "written", "quarantined", "duplicates", "late"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for contract in CONTRACTS:
        logs = [
            log
            for path in sorted((home.ingestion_log / contract.table).glob("dt=*.json"))
            if (log := read_log(home, contract.table, dt.date.fromisoformat(path.stem[3:])))
        ]
        sums = [
            sum(log[k] for log in logs)
            for k in (
                "rows_read",
                "rows_written",
                "rows_quarantined",
                "duplicates_dropped",
                "late_rows",
            )
        ]
        table.add_row(contract.table, str(len(logs)), *(f"{n:,}" for n in sums))
    console.print(table)


@app.command()
def status(
    table_name: Annotated[
        str | None, typer.Option("--table", help="Only this lake table, e.g. hotline_orders.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show every source partition: rows, quarantined rows by reason, last run and failures.

    The last column gives the last error, else the quarantine reasons, files that yielded no
    record and the accounting's warnings. Below the tables: what lies under landing/ and is not
    ingested (a misnamed day folder, a file no contract matches), from a fresh scan.
    """
    from ingestion.landing import record_landing_problems
    from ingestion.status import partition_status

    home = paths()
    rows = partition_status(home, table_name)
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    problems = record_landing_problems(home)
    if not rows:
        _print_landing_problems(problems)
        err.print(f"No ingestion recorded under {home.lake}. Run `cityops run` first.")
        raise typer.Exit(code=1)
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["table"]].append(row)
    for name, partitions in grouped.items():
        states = Counter(row["status"] for row in partitions)
        summary = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
        table = Table(
            title=f"{name} — {len(partitions)} partitions: {summary}", title_justify="left"
        )
        for column in STATUS_COLUMNS:
            numeric = column in ("read", "written", "quarantined", "dups", "late")
            table.add_column(column, justify="right" if numeric else "left", overflow="fold")
        for row in partitions:
            table.add_row(
                row["dt"],
                _status_style(row["status"]),
                _number(row["rows_read"]),
                _number(row["rows_written"]),
                _number(row["rows_quarantined"]),
                _number(row["duplicates_dropped"]),
                _number(row["late_rows"]),
                (row["last_run_at"] or "—").replace("T", " ")[:16],
                _status_note(row),
            )
        console.print(table)
    _print_landing_problems(problems)


def _status_note(row: dict[str, Any]) -> str:
    """The last error, else quarantine reasons, files without records and warnings."""
    if row["last_error"]:
        return str(row["last_error"])
    notes = [" ".join(f"{k}={v}" for k, v in row["quarantined_by_reason"].items())]
    if row["files_without_records"]:
        notes.append("no record read from: " + ", ".join(row["files_without_records"]))
    if row["withdrawn_keys"]:
        notes.append(f"withdrawn keys: {row['withdrawn_keys']}")
    notes += row["warnings"]
    return "; ".join(note for note in notes if note) or "—"


STATUS_COLUMNS = (
    "dt",
    "status",
    "read",
    "written",
    "quarantined",
    "dups",
    "late",
    "last run (UTC)",
    "quarantine reasons / last error",
)


def _number(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _status_style(value: str) -> str:
    colour = {"ok": "green", "failed": "red", "missing": "yellow"}.get(value, "white")
    return f"[{colour}]{value}[/{colour}]"


LEVEL_STYLES = {
    "红": "bold white on red",
    "橙": "bold black on dark_orange",
    "黄": "black on yellow",
    "蓝": "white on blue",
}


@app.command()
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
    clock. Reads the serving snapshot read-only (what the last successful build published);
    thresholds live in vitals/indicators.yml.
    """
    from serving import serving_path
    from vitals import warnings as vital_warnings

    try:
        level = vital_warnings.level_number(min_level)
        with vital_warnings.connect(serving_path(paths())) as con:
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
    return f"{order['whistle_order_id']} {order['responsible_unit_name']} {order['status']}"


def _warning_place(warning: dict[str, Any]) -> str:
    name = warning["area_name"] or warning["area_code"]
    if warning["subject_code"] not in ("-", None):
        return f"{name} · {warning['subject_code']}"
    return name


def _warning_value(warning: dict[str, Any]) -> str:
    from vitals.warnings import format_value

    value = format_value(warning["peak_value"], warning["unit"])
    return f"{value} ({warning['peak_detail']})" if warning["peak_detail"] else value


@app.command()
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


@app.command()
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
    from serving import serving_path
    from vitals import warnings as vital_warnings
    from vitals.notify import load_config
    from vitals.notify import notify as deliver

    try:
        with vital_warnings.connect(serving_path(paths())) as con:
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


@app.command()
def publish(
    rollback: Annotated[
        bool, typer.Option("--rollback", help="Make the previous snapshot current again.")
    ] = False,
    show: Annotated[
        bool, typer.Option("--status", help="Only show the current and previous snapshots.")
    ] = False,
) -> None:
    """Publish the working warehouse as the serving snapshot, show it, or roll it back.

    `cityops run` publishes by itself after a build whose blocking checks passed; this
    command re-publishes the working warehouse by hand (after `dbt build` outside Dagster),
    `--status` shows what readers get, and `--rollback` restores the previous snapshot with
    an atomic switch. Readers (dashboards, analysts, `cityops warnings`) open
    $CITYOPS_HOME/serving/current.duckdb read-only.
    """
    import serving

    home = paths()
    try:
        if rollback:
            snapshot = serving.rollback(home)
            console.print(f"Rolled back: readers now get {snapshot.name} ({snapshot.run_id}).")
        elif not show:
            snapshot = serving.publish(home, run_id=f"manual-{os.getpid()}")
            console.print(f"Published {snapshot.name}: {snapshot.table_count} tables.")
            if snapshot.held_back:
                err.print(f"[yellow]Slow publication: {snapshot.copy_note()}.[/yellow]")
    except serving.PublishError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(code=2) from error
    for label, found in (
        ("current", serving.current_snapshot(home)),
        ("previous", serving.previous_snapshot(home)),
    ):
        if found is None:
            console.print(f"{label}: none")
        else:
            console.print(
                f"{label}: {found.name}  published {found.published_at:%Y-%m-%d %H:%M:%S %Z}  "
                f"run {found.run_id}  {found.table_count} tables  {found.copy_note()}"
            )
    console.print(f"Readers open {serving.serving_path(home)} (read-only).")


@app.command()
def backfill(
    start: Annotated[str, typer.Option(help="First day to re-run (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last day to re-run, inclusive (YYYY-MM-DD).")],
    accept_smaller_resend: Annotated[
        bool, typer.Option("--accept-smaller-resend", help=ACCEPT_SMALLER_RESEND_HELP)
    ] = False,
) -> None:
    """Re-ingest a range of days (even unchanged deliveries), rebuild and re-publish.

    The same runs as `cityops run --start … --end … --force`: every day's ingestion, then
    one `build_warehouse` run over the range (dbt, blocking tests, serving snapshot,
    notifications). Safe to repeat: ingestion replaces partitions atomically and the build
    re-derives the range's facts.
    """
    first, last = _day(start), _day(end)
    if first is not None and last is not None and first > last:
        err.print(f"[red]--start {start} is after --end {end}.[/red]")
        raise typer.Exit(code=2)
    run(start=start, end=end, force=True, accept_smaller_resend=accept_smaller_resend)


@app.command()
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


app.command()(quality)

if __name__ == "__main__":  # after every command is registered (python -m dagster_project.cli)
    app()
