"""``cityops generate``, ``run``, ``backfill``, ``status`` and ``publish``: the pipeline.

Generate demo deliveries, ingest and build (through :mod:`dagster_project.execution`), show
each partition's accounting and publish or roll back the serving snapshot. Heavy imports
happen inside the commands so ``--help`` is instant.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections import Counter, defaultdict
from typing import Annotated, Any

import typer
from rich.table import Table

from dagster_project.cli.common import bar, console, err, parse_day
from dagster_project.execution import (
    blocking_failures,
    collect_run,
    execute_build,
    execute_ingestion,
    open_instance,
    run_config,
    use_pii_key,
)
from ingestion.settings import Paths, paths

DEMO_DAYS = 30


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
    batch_minutes: Annotated[
        int, typer.Option(help="Minutes per IoT readings batch: 5, 10, 15, 20, 30 or 60 (hourly).")
    ] = 5,
    force: Annotated[
        bool, typer.Option(help="Regenerate even if the same data is already there.")
    ] = False,
) -> None:
    """Generate realistic demo source files for 静安区 into $CITYOPS_HOME/landing/.

    12345 hotline orders (GB18030 CSV), grid cases (JSON Lines), IoT registry and readings
    in 5-minute batches with one file per alarm (gzip CSV), enterprise registry (XLSX),
    business-district flows, wet-market prices and hourly weather (JSON), with planted
    incidents and faults and each file's delivery time listed in landing/_manifest.json.
    """
    from demo import VERSION
    from demo import generate as run_generator

    home = paths()
    first = parse_day(start)
    assert first is not None
    rate = 0.0 if no_faults else fault_rate
    wanted = {
        "version": VERSION,
        "start": first.isoformat(),
        "days": days,
        "seed": seed,
        "scale": scale,
        "fault_rate": rate,
        "batch_minutes": batch_minutes,
    }
    if not force and _already_generated(home, wanted):
        console.print(f"Landing data for {wanted} already in {home.landing}; use --force to redo.")
        return
    with bar() as progress:
        task = progress.add_task("generate", total=None)

        def report(stage: str, done: int, total: int) -> None:
            progress.update(
                task, description=f"generate: {stage} done", completed=done, total=total
            )

        manifest = run_generator(
            home.home,
            first,
            days,
            seed=seed,
            scale=scale,
            fault_rate=rate,
            progress=report,
            batch_minutes=batch_minutes,
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


ACCEPT_SMALLER_RESEND_HELP = (
    "Confirm re-sent days that leave a partition with fewer than half its rows (or none), "
    "which ingestion otherwise refuses. Check the files with the source first; use with "
    "--start/--end for the days concerned."
)


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
    from ingestion.landing import landing_days, record_landing_problems
    from ingestion.sources import CONTRACTS

    home = paths()
    instance = open_instance(home)
    problems = record_landing_problems(home)
    first, last = parse_day(start), parse_day(end)
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
    config = run_config(home, force=force, accept_smaller_resend=accept_smaller_resend)
    run_ids: list[str] = []
    failed: list[str] = []
    blocked: list[str] = []
    with bar() as progress:
        task = progress.add_task("ingest_sources", total=len(days))
        for day in days:
            progress.update(task, description=f"ingest_sources {day}")
            result = execute_ingestion(instance, day, config)
            collect_run(instance, home, result.run_id)  # check results, also of a failed run
            run_ids.append(result.run_id)
            if not result.success:
                failed.append(day.isoformat())
            blocked += [f"{day} {name}" for name in blocking_failures(result)]
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


def _build_warehouse(
    home: Paths, first: dt.date, last: dt.date, instance: Any, config: dict[str, Any]
) -> None:
    """One run of ``build_warehouse`` over the whole range: the daily facts in one dbt call."""
    use_pii_key(home)
    with bar() as progress:
        task = progress.add_task(f"build_warehouse {first} … {last} (dbt build)", total=None)
        result = execute_build(instance, first, last, config)
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
    first, last = parse_day(start), parse_day(end)
    if first is not None and last is not None and first > last:
        err.print(f"[red]--start {start} is after --end {end}.[/red]")
        raise typer.Exit(code=2)
    run(start=start, end=end, force=True, accept_smaller_resend=accept_smaller_resend)
