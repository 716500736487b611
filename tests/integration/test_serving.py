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

from ingestion.settings import paths
from quality import serving
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
