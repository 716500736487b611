"""One bench stage in its own process: ``python -m bench.worker <stage> <json args> <result>``.

The parent (:func:`bench.measure.run_stage`) samples this process tree's memory; the worker
adds the kernel's exact high-water marks (``getrusage``) to the result it writes.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingestion import files
from ingestion.settings import paths


def _days(values: list[str]) -> list[dt.date]:
    return [dt.date.fromisoformat(value) for value in values]


def generate(args: dict[str, Any]) -> dict[str, Any]:
    """Generate the landing files (the demo generator, two worker processes)."""
    from demo import generate as run_generator

    home = paths(args["home"])
    started = time.perf_counter()
    manifest = run_generator(
        home.home,
        dt.date.fromisoformat(args["start"]),
        args["days"],
        seed=args["seed"],
        scale=args["scale"],
        fault_rate=args["fault_rate"],
    )
    files = manifest.get("files", [])
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "records": manifest.get("records", {}),
        "files": len(files),
        "bytes": sum(entry["bytes"] for entry in files),
    }


def parse(args: dict[str, Any]) -> dict[str, Any]:
    """``dbt parse`` for this home (partial parsing, as ``make setup`` prepares it)."""
    from bench import ours

    return ours.parse_project(paths(args["home"]))


def ingest(args: dict[str, Any]) -> dict[str, Any]:
    """Our ingestion: one ``ingest_sources`` Dagster run per day."""
    from bench import ours

    records = ours.ingest_days(paths(args["home"]), _days(args["days"]), Path(args["journal"]))
    return {"days": records}


def build(args: dict[str, Any]) -> dict[str, Any]:
    """Our build: one ``build_warehouse`` run over a range (from scratch when ``fresh``)."""
    from bench import ours

    home = paths(args["home"])
    if args["fresh"]:
        ours.remove_warehouse(home)
    first, last = _days([args["first"], args["last"]])
    result = ours.build(home, first, last)
    result["warehouse_bytes"] = (home.warehouse / "cityops.duckdb").stat().st_size
    return result


def compile_sql(args: dict[str, Any]) -> dict[str, Any]:
    """``dbt compile`` for the baseline."""
    from bench import baseline

    return baseline.compile_project(paths(args["home"]), Path(args["folder"]))


def baseline_ingest(args: dict[str, Any]) -> dict[str, Any]:
    """Landing files straight to Parquet with DuckDB."""
    from bench import baseline

    return baseline.ingest(paths(args["home"]), Path(args["lake"]), _days(args["days"]))


def baseline_build(args: dict[str, Any]) -> dict[str, Any]:
    """The compiled models as plain DuckDB SQL in this one process."""
    from bench import baseline

    return baseline.build(
        Path(args["manifest"]),
        Path(args["folder"]),
        memory_limit=args["memory_limit"],
        threads=args["threads"],
    )


def queries(args: dict[str, Any]) -> dict[str, Any]:
    """Every dashboard query against a serving snapshot, timed."""
    from bench import dashboard_queries

    snapshot = Path(args["snapshot"])
    return {
        "snapshot": str(snapshot.resolve()),
        "snapshot_bytes": snapshot.resolve().stat().st_size,
        "queries": dashboard_queries.measure(snapshot, args["repeat"]),
    }


def compare(args: dict[str, Any]) -> dict[str, Any]:
    """Row counts of every table in two snapshots (ours, the baseline's)."""
    import duckdb

    counts = {}
    for side in ("ours", "baseline"):
        with duckdb.connect(args[side], read_only=True) as con:
            tables = con.execute(
                "select schema_name, table_name from duckdb_tables() "
                "where schema_name != '_serving'"
            ).fetchall()
            counts[side] = {
                f"{schema}.{table}": con.execute(
                    f'select count(*) from "{schema}"."{table}"'  # noqa: S608 (catalogue names)
                ).fetchall()[0][0]
                for schema, table in tables
            }
    names = sorted(set(counts["ours"]) | set(counts["baseline"]))
    differences = [
        {"table": name, "ours": counts["ours"].get(name), "baseline": counts["baseline"].get(name)}
        for name in names
        if counts["ours"].get(name) != counts["baseline"].get(name)
    ]
    return {
        "tables": len(names),
        "equal": len(names) - len(differences),
        "differences": differences,
        "rows": counts["ours"],
    }


STAGES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "generate": generate,
    "parse": parse,
    "ingest": ingest,
    "build": build,
    "compile": compile_sql,
    "baseline_ingest": baseline_ingest,
    "baseline_build": baseline_build,
    "queries": queries,
    "compare": compare,
}


def main(argv: list[str]) -> None:
    """Run the stage named in ``argv`` and write its result with the process's peak RSS."""
    stage, arguments, result_path = argv[1], json.loads(argv[2]), Path(argv[3])
    result = STAGES[stage](arguments)
    # ru_maxrss is in KiB on Linux.
    result["max_process_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result["max_descendant_rss_bytes"] = (
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    )
    files.write_json(result_path, result, indent=1)


if __name__ == "__main__":
    main(sys.argv)
