"""Write-audit-publish: the serving snapshot readers use while the warehouse is rebuilt.

The unit-sized tests build tiny warehouses by hand; the last one runs a real ``dbt build``
on the small lake while another process queries the serving snapshot without pause.
"""

import json
import shutil
import subprocess
import sys
import time

import duckdb
import pytest

import serving
from ingestion.settings import paths
from tests.integration.dbt_runner import copy_built_home, run_dbt

pytestmark = pytest.mark.integration


def _tiny_warehouse(home, rows):
    """A working warehouse with a vitals mart of ``rows`` rows, a restricted and a staging view."""
    warehouse = home / "warehouse"
    warehouse.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse / "cityops.duckdb")) as con:
        for schema in ("vitals", "restricted", "staging"):
            con.execute(f"create schema if not exists {schema}")
        con.execute(
            "create or replace table vitals.fct_warning_events as select range as id from range(?)",
            [rows],
        )
        con.execute("create or replace view restricted.callers as select '13800000000' as phone")
        con.execute("create or replace table staging.scratch as select 1 as x")


def test_publish_copies_the_marts_but_not_restricted_or_staging(tmp_path):
    home = paths(tmp_path)
    _tiny_warehouse(tmp_path, 3)

    snapshot = serving.publish(home, run_id="run-one")

    assert serving.serving_path(home).is_symlink()
    assert serving.serving_path(home).resolve() == snapshot.path
    with duckdb.connect(str(serving.serving_path(home)), read_only=True) as con:
        assert con.execute("select count(*) from vitals.fct_warning_events").fetchone() == (3,)
        schemas = {
            row[0]
            for row in con.execute("select schema_name from information_schema.schemata").fetchall()
        }
        assert con.execute("select run_id, table_count from _serving.snapshot").fetchone() == (
            "run-one",
            1,
        )
    assert {"vitals", "_serving"} <= schemas
    assert not {"restricted", "staging"} & schemas
    assert list((tmp_path / "serving" / "_tmp").iterdir()) == []
    # The staging table forced the table-by-table copy, and the snapshot says so.
    assert (snapshot.copy_method, snapshot.held_back) == (serving.TABLE_COPY, ("staging.scratch",))
    assert serving.describe(snapshot.path) == snapshot
    assert "staging.scratch" in snapshot.copy_note()


def _warehouse_of_views(home, lake_file):
    """A working warehouse as dbt leaves it: marts are tables, staging and restricted views."""
    warehouse = home / "warehouse"
    warehouse.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute(
            "copy (select '13800000000' as phone, 'P1' as person) to ? (format parquet)",
            [str(lake_file)],
        )
    with duckdb.connect(str(warehouse / "cityops.duckdb")) as con:
        for schema in ("vitals", "events", "restricted", "staging"):
            con.execute(f"create schema {schema}")
        con.execute("create table vitals.fct_warning_events as select range as id from range(4)")
        con.execute("comment on table vitals.fct_warning_events is '预警事件'")
        con.execute("create table events.fct_orders as select 'O' || range as id from range(2)")
        con.execute(f"create view restricted.stg_people as select * from '{lake_file}'")
        con.execute("create view staging.stg_ids as select person from restricted.stg_people")
        con.execute("create view events.recent_orders as select * from events.fct_orders")


def _objects(path):
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            "tables": con.execute(
                "select schema_name || '.' || table_name from duckdb_tables() "
                "where not internal order by all"
            ).fetchall(),
            "views": con.execute(
                "select view_name from duckdb_views() where not internal"
            ).fetchall(),
            "schemas": {
                row[0]
                for row in con.execute(
                    "select schema_name from information_schema.schemata"
                ).fetchall()
            },
            "snapshot": con.execute("select run_id, table_count from _serving.snapshot").fetchone(),
        }


def test_a_warehouse_of_tables_and_views_is_copied_whole_without_its_views(tmp_path):
    home = paths(tmp_path)
    _warehouse_of_views(tmp_path, tmp_path / "people.parquet")

    snapshot = serving.publish(home, run_id="whole")

    found = _objects(snapshot.path)
    # The two tables, the snapshot's own record, and no view (dbt's views read the lake).
    assert found["tables"] == [
        ("_serving.snapshot",),
        ("events.fct_orders",),
        ("vitals.fct_warning_events",),
    ]
    assert found["views"] == []
    assert not {"restricted", "staging"} & found["schemas"]
    assert found["snapshot"] == ("whole", 2)
    # Copied as a file, not table by table: `create table … as select` drops a table's comment.
    with duckdb.connect(str(snapshot.path), read_only=True) as con:
        assert con.execute(
            "select comment from duckdb_tables() where table_name = 'fct_warning_events'"
        ).fetchone() == ("预警事件",)
    assert list((tmp_path / "serving" / "_tmp").iterdir()) == []
    assert not list((tmp_path / "serving" / "snapshots").glob("*.wal"))
    assert (snapshot.copy_method, snapshot.held_back) == (serving.FILE_COPY, ())
    assert serving.describe(snapshot.path) == snapshot


def test_rows_still_in_the_warehouse_write_ahead_log_reach_the_snapshot(tmp_path):
    home = paths(tmp_path)
    _warehouse_of_views(tmp_path, tmp_path / "people.parquet")
    work = tmp_path / "warehouse" / "cityops.duckdb"
    # A writer that stopped without a checkpoint leaves its last rows only in the log.
    with duckdb.connect(str(work)) as con:
        con.execute("pragma disable_checkpoint_on_shutdown")
        con.execute("insert into vitals.fct_warning_events select 100 + range from range(3)")
    assert work.with_name("cityops.duckdb.wal").exists()

    snapshot = serving.publish(home, run_id="with-log")

    with duckdb.connect(str(snapshot.path), read_only=True) as con:
        # 4 rows written before, 3 only in the log.
        assert con.execute("select count(*) from vitals.fct_warning_events").fetchone() == (7,)
    assert not snapshot.path.with_name(snapshot.path.name + ".wal").exists()


def test_clear_data_in_a_restricted_table_never_reaches_the_snapshot_file(tmp_path):
    home = paths(tmp_path)
    _warehouse_of_views(tmp_path, tmp_path / "people.parquet")
    with duckdb.connect(str(tmp_path / "warehouse" / "cityops.duckdb")) as con:
        # A restricted model materialized as a table: its pages hold the clear phone number.
        con.execute(
            "create table restricted.callers as "
            "select '139' || lpad(range::varchar, 8, '0') as phone from range(5000)"
        )

    snapshot = serving.publish(home, run_id="tables")

    # Copied table by table (dropping the table from a whole copy would leave its pages in
    # the file's free blocks), so not one of the 5,000 numbers is anywhere in the file.
    assert b"13900004999" not in snapshot.path.read_bytes()
    found = _objects(snapshot.path)
    assert found["tables"] == [
        ("_serving.snapshot",),
        ("events.fct_orders",),
        ("vitals.fct_warning_events",),
    ]
    assert found["snapshot"] == ("tables", 2)
    assert snapshot.held_back == ("restricted.callers",)
    assert serving.describe(snapshot.path).copy_method == serving.TABLE_COPY


def test_cityops_publish_warns_when_a_table_forces_the_slow_copy(tmp_path):
    from typer.testing import CliRunner

    from dagster_project.cli import app

    _warehouse_of_views(tmp_path, tmp_path / "people.parquet")
    env = {"CITYOPS_HOME": str(tmp_path)}
    whole = CliRunner().invoke(app, ["publish"], env=env)
    assert whole.exit_code == 0, whole.output
    assert "current:" in whole.stdout and "copied as one file" in whole.stdout
    assert "Slow publication" not in whole.stderr
    with duckdb.connect(str(tmp_path / "warehouse" / "cityops.duckdb")) as con:
        con.execute("create table staging.scratch as select 1 as x")

    slow = CliRunner().invoke(app, ["publish"], env=env)

    assert slow.exit_code == 0, slow.output
    assert "Slow publication" in slow.stderr and "staging.scratch" in slow.stderr
    # Both snapshots (two files, though published within one second), each with how it was
    # copied.
    status = CliRunner().invoke(app, ["publish", "--status"], env=env)
    current, previous = (
        next(line for line in status.stdout.splitlines() if line.startswith(label))
        for label in ("current:", "previous:")
    )
    assert "table by table" in current and "copied as one file" in previous


WRITER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
open(sys.argv[2], "w").close()
time.sleep(60)
"""


def test_publish_fails_and_switches_nothing_while_a_writer_holds_the_warehouse(tmp_path):
    home = paths(tmp_path)
    _warehouse_of_views(tmp_path, tmp_path / "people.parquet")
    first = serving.publish(home, run_id="before")
    ready = tmp_path / "writer-ready"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path / "warehouse" / "cityops.duckdb"), str(ready)]
    )
    try:
        while not ready.exists():
            assert writer.poll() is None, "the writer process ended early"
            time.sleep(0.05)
        with pytest.raises(duckdb.IOException, match="lock"):
            serving.publish(home, run_id="during")
    finally:
        writer.kill()
        writer.wait()

    assert serving.current_snapshot(home) == first
    assert list((tmp_path / "serving" / "_tmp").iterdir()) == []


def test_rollback_restores_the_previous_snapshot_and_old_ones_are_pruned(tmp_path):
    home = paths(tmp_path)
    published = []
    for rows in (1, 2, 3, 4):
        _tiny_warehouse(tmp_path, rows)
        published.append(serving.publish(home, run_id=f"run-{rows}", keep=2))
        time.sleep(1.01)  # snapshot names carry the second

    kept = sorted(p.name for p in (tmp_path / "serving" / "snapshots").iterdir())
    rolled = serving.rollback(home)

    # Keep 2: the newest two survive (they are also current and previous).
    assert kept == sorted(s.name for s in published[2:])
    assert rolled.run_id == "run-3"
    assert serving.current_snapshot(home).run_id == "run-3"
    assert serving.previous_snapshot(home).run_id == "run-4"
    with duckdb.connect(str(serving.serving_path(home)), read_only=True) as con:
        assert con.execute("select count(*) from vitals.fct_warning_events").fetchone() == (3,)


def test_publish_refuses_a_warehouse_without_marts_and_switches_nothing(tmp_path):
    home = paths(tmp_path)
    _tiny_warehouse(tmp_path, 5)
    first = serving.publish(home, run_id="good")
    with duckdb.connect(str(tmp_path / "warehouse" / "cityops.duckdb")) as con:
        con.execute("drop schema vitals cascade")

    with pytest.raises(serving.PublishError, match="no marts"):
        serving.publish(home, run_id="bad")

    assert serving.current_snapshot(home) == first
    assert list((tmp_path / "serving" / "_tmp").iterdir()) == []


def test_rollback_without_a_previous_snapshot_says_so(tmp_path):
    home = paths(tmp_path)
    _tiny_warehouse(tmp_path, 1)
    serving.publish(home, run_id="only")
    with pytest.raises(serving.PublishError, match="No previous snapshot"):
        serving.rollback(home)


READER = """
import json, sys, time, duckdb
current, stop, out = sys.argv[1:4]
queries, errors, runs = 0, [], set()
while True:
    try:
        with duckdb.connect(current, read_only=True) as con:
            runs.add(con.execute("select run_id from _serving.snapshot").fetchone()[0])
            con.execute(
                "select dimension, count(*), max(level) from vitals.fct_indicator_values "
                "group by dimension"
            ).fetchall()
            con.execute("select count(*) from vitals.fct_whistle_orders").fetchone()
        queries += 1
    except Exception as error:
        errors.append(repr(error))
    if __import__("os").path.exists(stop):
        break
    time.sleep(0.02)
json.dump({"queries": queries, "errors": errors, "runs": sorted(runs)}, open(out, "w"))
"""


def test_readers_never_fail_while_the_warehouse_is_rebuilt_and_republished(
    small_warehouse, tmp_path
):
    # The first build: a copy of the session's built small warehouse (tests/conftest.py).
    built, built_target = small_warehouse
    copy_built_home(built, tmp_path)
    home = paths(tmp_path)
    target = shutil.copytree(built_target, tmp_path / "target")
    serving.publish(home, run_id="first-build")
    stop, out = tmp_path / "stop", tmp_path / "reader.json"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(serving.serving_path(home)), str(stop), str(out)]
    )
    try:
        # A full rebuild holds the working warehouse's write lock for its whole run; the
        # reader only ever opens the serving snapshot, which is then switched under it.
        rebuilt = run_dbt(
            tmp_path, target, "build", "--full-refresh", "--exclude", "test_type:unit"
        )
        serving.publish(home, run_id="second-build")
        time.sleep(1)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    result = json.loads(out.read_text())

    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    assert result["errors"] == []
    assert result["queries"] > 50
    assert result["runs"] == ["first-build", "second-build"]
