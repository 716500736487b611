"""The raw-DuckDB baseline: the same work without Dagster and without dbt, in one process.

**Transformations.** Nothing is rewritten by hand. ``dbt compile --full-refresh`` gives each
model's SQL with ``ref``/``source`` resolved to relation names and the lake's ``read_parquet``
calls; the manifest gives the DAG and the materializations. It compiles against a copy of the
warehouse our full build left, so that a test which lists its relation's columns
(``no_clear_pii``) compiles to the same query as ours, and with no ``min_dt``/``max_dt`` and
``--full-refresh``, so that every incremental model compiles to its full build. The baseline
then, in one process with the profile's DuckDB settings (``memory_limit``, ``threads``,
``preserve_insertion_order``):

1. loads every seed with ``read_csv`` and the seed's declared ``column_types``;
2. runs every model in topological order: ``create view … as`` for views, ``create table …
   as`` for tables and for incremental models (built whole, as a full refresh would);
3. builds the one Python model (``dim_indicators``) by calling its own ``model()`` function,
   which calls the same registry loader and validator (``vitals.registry``);
4. sets up each connection exactly as dbt's are, through the dbt-duckdb plugin
   ``dbt/plugins/cityops_pii.py``: the pseudonymisation key (``configure_cursor``: ``set
   variable cityops_pii_key``) and the Python functions of ``quality/pii.py`` that scrub free
   text and scan for personal data (``configure_connection``: ``pii_scrub``, ``pii_scan`` …);
   ``pii_hash`` and the masks are plain SQL already inlined by the compiler;
5. runs every data test's compiled SQL as ``select count(*) from (…)``, like dbt's test
   wrapper, on a new connection of the same process, and counts failures;
6. publishes its warehouse with the same ``serving.publish`` as the Dagster asset.

Left out, because they are framework features rather than transformations: dbt's 36 unit
tests (fixtures, not data), Great Expectations suites, Data Docs, the catalogue export, the
freshness and volume checks, notifications, the Dagster event log and check-result collection.

**Ingestion.** Each landing file straight to Parquet with DuckDB's readers (GB18030 decoded
in Python first, XLSX read with openpyxl: DuckDB 2.0's ``encodings`` and ``excel`` extensions
are not installed offline), malformed lines skipped. It does much less work than ours: no
contract typing or validation, no quarantine, no de-duplication, no accounting, no atomic
publish, no SHA-256 of the files.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import shutil
import subprocess
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import yaml

from ingestion.contract import Contract
from ingestion.settings import Paths

REPO = Path(__file__).resolve().parents[1]
DBT_DIR = REPO / "dbt"
PII_PLUGIN = DBT_DIR / "plugins" / "cityops_pii.py"


# -- compile ---------------------------------------------------------------------------------


def compile_project(home: Paths, folder: Path) -> dict[str, Any]:
    """``dbt compile --full-refresh`` against the lake and warehouse of ``home``.

    The profile is dbt/profiles.yml with only ``path`` changed, to ``folder/warehouse/
    cityops.duckdb``: the compiled relation names are then ``"cityops"."<schema>"."<name>"``,
    the names the baseline database answers to. That file is a copy of ``home``'s working
    warehouse, removed afterwards, because some tests read the relation they test when they
    compile: ``no_clear_pii`` lists its text columns, and against an empty database it
    compiles to an empty query (all 65 did, before 2026-11-26, so the baseline skipped the
    PII scans ours runs). ``--full-refresh`` makes every incremental model compile to its
    full build although the relation exists. Returns timing and paths.
    """
    from dagster_project.defs.transformation.resources import dbt_executable
    from serving import copy_database, remove_database, working_path

    profiles = yaml.safe_load((DBT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    database = folder / "warehouse" / "cityops.duckdb"
    database.parent.mkdir(parents=True, exist_ok=True)
    profiles["cityops"]["outputs"]["local"]["path"] = str(database)
    profiles_dir = folder / "profiles"
    profiles_dir.mkdir(parents=True, exist_ok=True)
    (profiles_dir / "profiles.yml").write_text(yaml.safe_dump(profiles), encoding="utf-8")
    ours = working_path(home)
    if not ours.exists():
        raise FileNotFoundError(f"{ours}: the baseline compiles against our built warehouse")
    copy_database(ours, database)
    target = folder / "target"
    shutil.rmtree(target, ignore_errors=True)
    env = {**os.environ, "CITYOPS_HOME": str(home.home), "DBT_PROJECT_DIR": str(DBT_DIR)}
    command = [
        dbt_executable(),
        "compile",
        "--full-refresh",
        "--quiet",
        "--profiles-dir",
        str(profiles_dir),
        "--target-path",
        str(target),
        "--log-path",
        str(folder / "logs"),
    ]
    started = time.perf_counter()
    subprocess.run(command, cwd=DBT_DIR, env=env, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    remove_database(database)
    return {"seconds": round(seconds, 3), "manifest": str(target / "manifest.json")}


# -- transformations -------------------------------------------------------------------------


def build_order(manifest: dict[str, Any]) -> list[str]:
    """Seeds and models in an order where every node follows what it depends on."""
    nodes = {
        key: node
        for key, node in manifest["nodes"].items()
        if node["resource_type"] in ("seed", "model")
    }
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(key: str) -> None:
        if state.get(key) == "done":
            return
        if state.get(key) == "visiting":
            raise ValueError(f"dependency cycle at {key}")
        state[key] = "visiting"
        for parent in sorted(nodes[key]["depends_on"].get("nodes", [])):
            if parent in nodes:
                visit(parent)
        state[key] = "done"
        order.append(key)

    for key in sorted(nodes):
        visit(key)
    return order


def connect(database: Path, memory_limit: str, threads: int) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with dbt's profile settings, PII key and PII functions."""
    con = duckdb.connect(str(database))
    con.execute("set memory_limit = ?", [memory_limit])
    con.execute("set threads = ?", [threads])
    con.execute("set preserve_insertion_order = false")
    con.execute("set enable_progress_bar = false")
    plugin = _pii_plugin()
    plugin.configure_connection(con)  # the SQL functions of quality/pii.py (pii_scrub …)
    plugin.configure_cursor(con)
    return con


def _pii_plugin() -> Any:
    spec = importlib.util.spec_from_file_location("cityops_pii_plugin", PII_PLUGIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Plugin("cityops_pii", {})


class _PythonModelContext:
    """The part of dbt's ``dbt`` object a Python model's ``model(dbt, session)`` uses here."""

    def config(self, **_: Any) -> None:
        """Materialization settings; the baseline always builds a table."""


def _python_model(node: dict[str, Any], con: duckdb.DuckDBPyConnection) -> Any:
    path = DBT_DIR / node["original_file_path"]
    spec = importlib.util.spec_from_file_location(f"dbt_python_model_{node['name']}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model(_PythonModelContext(), con)


def _quote(relation: str) -> str:
    """Check that a relation name from the manifest is a quoted three-part name."""
    parts = relation.split(".")
    if len(parts) != 3 or not all(p.startswith('"') and p.endswith('"') for p in parts):
        raise ValueError(f"unexpected relation name {relation!r}")
    return relation


def build_node(con: duckdb.DuckDBPyConnection, node: dict[str, Any]) -> None:
    """Create one seed or model (its schema first)."""
    relation = _quote(node["relation_name"])
    schema = relation.rsplit(".", 1)[0]
    con.execute(f"create schema if not exists {schema}")
    materialized = node["config"]["materialized"]
    if node["resource_type"] == "seed":
        path = Path(node["root_path"]) / node["original_file_path"]
        types = node["config"].get("column_types") or {}
        delimiter = node["config"].get("delimiter") or ","
        con.execute(
            f"create or replace table {relation} as "  # noqa: S608 (relation from the manifest)
            "select * from read_csv(?, header = true, delim = ?, types = ?)",
            [str(path), delimiter, types],
        )
    elif node.get("language") == "python":
        table = _python_model(node, con)
        con.register("python_model_result", table)
        con.execute(f"create or replace table {relation} as select * from python_model_result")  # noqa: S608
        con.unregister("python_model_result")
    elif materialized == "view":
        con.execute(f"create or replace view {relation} as {node['compiled_code']}")
    elif materialized in ("table", "incremental"):
        con.execute(f"create or replace table {relation} as {node['compiled_code']}")
    else:
        raise ValueError(f"{node['unique_id']}: materialization {materialized} not supported")


def _is_empty_test(sql: str) -> bool:
    """A test that compiled to a query that cannot return a row (``… where false``).

    ``no_clear_pii`` compiles to one for every relation when compiled against a database where
    the relations do not exist (a relation without text columns compiles to ``limit 0``).
    """
    return " ".join(sql.split()).lower().endswith("where false")


def build(manifest_path: Path, folder: Path, *, memory_limit: str, threads: int) -> dict[str, Any]:
    """Seeds, models, data tests and the serving snapshot, timed; in ``folder``."""
    import serving
    from ingestion.settings import paths

    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    home = paths(folder)
    database = serving.working_path(home)
    serving.remove_database(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    nodes: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    with connect(database, memory_limit, threads) as con:
        started = time.perf_counter()
        for key in build_order(manifest):
            node = manifest["nodes"][key]
            clock = time.perf_counter()
            build_node(con, node)
            nodes.append(
                {
                    "node": key,
                    "kind": node["resource_type"],
                    "materialized": node["config"]["materialized"],
                    "seconds": round(time.perf_counter() - clock, 4),
                }
            )
        con.execute("checkpoint")
    models_done = time.perf_counter()
    # The tests on a new connection of the same process. At district-year one of them ran out
    # of memory (3.7 of 3.7 GiB used) on the connection that had just built the models; every
    # test passed on a new connection.
    with connect(database, memory_limit, threads) as con:
        for key, node in sorted(manifest["nodes"].items()):
            if node["resource_type"] != "test":
                continue
            clock = time.perf_counter()
            try:
                failures = con.execute(
                    f"select count(*) from ({node['compiled_code']}) as dbt_internal_test"  # noqa: S608
                ).fetchall()[0][0]
            except duckdb.Error as error:
                raise RuntimeError(f"baseline test {key} could not run: {error}") from error
            tests.append(
                {
                    "node": key,
                    "failures": failures,
                    "severity": node["config"].get("severity", "error"),
                    "seconds": round(time.perf_counter() - clock, 4),
                    "empty": _is_empty_test(node["compiled_code"]),
                }
            )
        tests_done = time.perf_counter()
    snapshot = serving.publish(home, run_id="baseline")
    published = time.perf_counter()
    by_kind: dict[str, float] = defaultdict(float)
    for item in nodes:
        by_kind[f"{item['kind']}:{item['materialized']}"] += item["seconds"]
    return {
        "models_seconds": round(models_done - started, 3),
        "tests_seconds": round(tests_done - models_done, 3),
        "snapshot_seconds": round(published - tests_done, 3),
        "total_seconds": round(published - started, 3),
        "nodes": len(nodes),
        "seconds_by_kind": {kind: round(value, 3) for kind, value in sorted(by_kind.items())},
        "tests": len(tests),
        "tests_failed": sorted(t["node"] for t in tests if t["failures"]),
        "tests_empty": sorted(t["node"] for t in tests if t["empty"]),
        "slowest": sorted(nodes, key=lambda item: -item["seconds"])[:8],
        "slowest_tests": [
            {"node": t["node"], "seconds": t["seconds"]}
            for t in sorted(tests, key=lambda item: -item["seconds"])[:8]
        ],
        "snapshot": str(snapshot.path),
        "snapshot_tables": snapshot.table_count,
        "warehouse_bytes": database.stat().st_size,
    }


# -- ingestion -------------------------------------------------------------------------------


def _write(con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation, out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    relation.write_parquet(str(out), compression="zstd")
    return con.execute("select count(*) from read_parquet(?)", [str(out)]).fetchall()[0][0]


def _read(
    con: duckdb.DuckDBPyConnection, contract: Contract, files: list[Path], scratch: Path
) -> duckdb.DuckDBPyRelation:
    names = [str(file) for file in files]
    if contract.format == "csv" and contract.encoding.replace("-", "").lower() != "utf8":
        # DuckDB reads UTF-8/16 and Latin-1 only; decode to UTF-8 copies first.
        scratch.mkdir(parents=True, exist_ok=True)
        names = []
        for number, file in enumerate(files):
            text = file.read_bytes().decode(contract.encoding, errors="replace")
            copy = scratch / f"{number}.csv"
            copy.write_text(text, encoding="utf-8")
            names.append(str(copy))
    if contract.format == "csv":
        # One header per table and day (re-sends included): sniffed once, not per file as
        # union_by_name would (4× slower on 25 hourly batches).
        return con.sql(
            "select * from read_csv($files, header = true, ignore_errors = true)",
            params={"files": names},
        )
    if contract.format == "jsonl":
        return con.sql(
            "select * from read_json($files, format = 'newline_delimited', ignore_errors = true)",
            params={"files": names},
        )
    if contract.format == "json":
        # {"stations": [{"stationId", "stationName", "hourly": [{…}, …]}]} → one row per hour.
        return con.sql(
            "select station.stationId, station.stationName, "
            "unnest(station.hourly, recursive := true) "
            "from (select unnest(stations) as station from read_json($files))",
            params={"files": names},
        )
    if contract.format == "xlsx":
        import pyarrow as pa
        from openpyxl import load_workbook

        tables = []
        for file in files:
            workbook = load_workbook(file, read_only=True, data_only=True)
            rows = workbook[contract.sheet].iter_rows(values_only=True)
            header = [str(value) for value in next(rows)]
            columns = list(zip(*rows, strict=False)) or [()] * len(header)
            tables.append(
                pa.table(
                    {
                        name: pa.array(list(values))
                        for name, values in zip(header, columns, strict=False)
                    }
                )
            )
            workbook.close()
        return con.from_arrow(pa.concat_tables(tables, promote_options="permissive"))
    raise ValueError(f"{contract.table}: format {contract.format} not supported")


def ingest(landing: Paths, lake: Path, days: list[dt.date]) -> dict[str, Any]:
    """Every landing file of ``days`` to ``lake/<table>/dt=…/part-0.parquet``, timed per table."""
    from ingestion.pipeline import landing_files
    from ingestion.sources import CONTRACTS

    tables: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        for contract in CONTRACTS:
            rows = files_read = 0
            clock = time.perf_counter()
            for day in days:
                files = landing_files(landing, contract, day)
                if not files:
                    continue
                out = lake / contract.table / f"dt={day.isoformat()}" / "part-0.parquet"
                scratch = lake / "_tmp" / contract.table
                rows += _write(con, _read(con, contract, files, scratch), out)
                files_read += len(files)
                shutil.rmtree(scratch, ignore_errors=True)
            seconds = time.perf_counter() - clock
            tables[contract.table] = {
                "rows": rows,
                "files": files_read,
                "seconds": round(seconds, 3),
                "rows_per_second": round(rows / seconds, 1) if seconds else None,
            }
    return {"tables": tables, "seconds": round(time.perf_counter() - started, 3)}
