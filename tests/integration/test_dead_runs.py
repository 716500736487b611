"""What a killed process leaves behind: its Dagster run, its staged files, its dbt child.

Each test kills or ends real processes; the end-to-end ``kill -9`` of ``cityops run`` in
each phase is ``test_crash.py``.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import serving
from dagster_project.dead_runs import HOST_TAG, PID_TAG
from dagster_project.defs.operations.sensors import fail_dead_runs
from ingestion import lake
from ingestion.processes import hostname, remove_dead_entries
from ingestion.settings import paths

pytestmark = pytest.mark.integration

PLUGIN = Path(__file__).resolve().parents[2] / "dbt" / "plugins" / "cityops_lifetime.py"


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    return ended.pid


@pytest.fixture
def sleeper():
    """A live process, killed at the end."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield process
    process.kill()
    process.wait()


def _touch(path: Path, *, age_seconds: float = 0.0, folder: bool = False) -> Path:
    if folder:
        path.mkdir()
        (path / "duckdb_temp_block").write_bytes(b"x")
    else:
        path.write_bytes(b"staged")
    moment = time.time() - age_seconds
    os.utime(path, (moment, moment))
    return path


def test_staged_files_of_dead_writers_are_removed_and_live_writers_files_kept(tmp_path, sleeper):
    staging = tmp_path / "_tmp"
    staging.mkdir()
    dead, live = _dead_pid(), sleeper.pid
    # Removed: a dead writer's staged file, spill folder and DuckDB spill file; a file from
    # before owners were recorded, untouched for 7 hours; a file of a pid that a process
    # took over after the file was last written (written a day ago; the live process is new).
    removed = {
        _touch(staging / f"pid{dead}-a.parquet.tmp"),
        _touch(staging / f"pid{dead}-b.duckdb.tmp", folder=True),
        _touch(staging / f"duckdb_temp_{dead}_0_storage_DEFAULT-0.tmp"),
        _touch(staging / "c.parquet.tmp", age_seconds=7 * 3600),
        _touch(staging / f"pid{live}-d.parquet.tmp", age_seconds=24 * 3600),
    }
    # Kept: a live writer's files (this process's and another's), and an unowned fresh file.
    kept = {
        _touch(staging / f"pid{live}-e.parquet.tmp"),
        _touch(staging / f"pid{os.getpid()}-f.parquet.tmp"),
        _touch(staging / "g.parquet.tmp"),
    }

    assert set(remove_dead_entries(staging)) == removed
    assert set(staging.iterdir()) == kept


def test_lake_staging_names_carry_their_writer():
    staged = lake.staging_path(Path("/nonexistent-not-created") / "x", ".parquet.tmp")
    assert staged.name.startswith(f"pid{os.getpid()}-")


def test_a_publication_removes_what_a_crashed_publication_staged(tmp_path, sleeper):
    home = paths(tmp_path)
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    with duckdb.connect(str(warehouse / "cityops.duckdb")) as con:
        con.execute("create schema vitals")
        con.execute("create table vitals.fct_warning_events as select 1 as id")
    staged = tmp_path / "serving" / "_tmp"
    staged.mkdir(parents=True)
    dead = _dead_pid()
    crashed = [
        _touch(staged / f"pid{dead}-20240701T000000000000Z-run.duckdb"),
        _touch(staged / f"pid{dead}-20240701T000000000000Z-run.duckdb.wal"),
        _touch(staged / f"pid{dead}-20240701T000000000000Z-run.duckdb.tmp", folder=True),
    ]
    link = tmp_path / "serving" / f".pid{dead}-current.duckdb"
    link.symlink_to("snapshots/gone.duckdb")
    running = _touch(staged / f"pid{sleeper.pid}-20240701T000000000001Z-run.duckdb")

    serving.publish(home, run_id="after-the-crash")

    assert not any(path.exists() or path.is_symlink() for path in [*crashed, link])
    # Another publication still writing keeps its file.
    assert list(staged.iterdir()) == [running]


@dg.op
def _build():
    pass


@dg.job
def build_warehouse():
    _build()


def _started_run(instance, tags=None):
    return instance.create_run_for_job(
        build_warehouse, status=dg.DagsterRunStatus.STARTED, tags=tags
    )


# A run whose worker dies in its step: Dagster's in-process executor has recorded the worker's
# pid in an engine event ("Executing steps in process"), as a run worker the daemon launches
# does ("Started process for run"), and the run stays STARTED.
KILLED_WORKER = """
import os, sys
import dagster as dg

@dg.op
def dies():
    os._exit(9)

@dg.job
def build_warehouse():
    dies()

build_warehouse.execute_in_process(instance=dg.DagsterInstance.from_config(sys.argv[1]))
"""


def _run_of_a_killed_worker(instance, folder):
    subprocess.run([sys.executable, "-c", KILLED_WORKER, str(folder)], check=False)
    (record,) = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    return record.dagster_run


def test_runs_whose_process_died_are_marked_failed_and_live_ones_left(tmp_path, sleeper):
    here = hostname()
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        # A run the daemon launched: its worker's pid is in Dagster's own engine event.
        launched = _run_of_a_killed_worker(instance, tmp_path)
        # A killed `cityops run` (its tags), a live one, one on another host (cannot tell).
        killed = _started_run(instance, {PID_TAG: str(_dead_pid()), HOST_TAG: here})
        running = _started_run(instance, {PID_TAG: str(sleeper.pid), HOST_TAG: here})
        elsewhere = _started_run(instance, {PID_TAG: "1", HOST_TAG: f"not-{here}"})
        # Evaluated as the daemon does, twice: the second finds nothing left to do.
        context = dg.build_sensor_context(instance=instance)
        first, again = fail_dead_runs(context), fail_dead_runs(context)
        status = {
            name: instance.get_run_by_id(run.run_id).status
            for name, run in (
                ("killed", killed),
                ("running", running),
                ("elsewhere", elsewhere),
                ("launched", launched),
            )
        }
        failure = instance.get_run_by_id(killed.run_id).tags.get("dagster/failure_reason")

    assert status == {
        "killed": dg.DagsterRunStatus.FAILURE,
        "running": dg.DagsterRunStatus.STARTED,
        "elsewhere": dg.DagsterRunStatus.STARTED,
        "launched": dg.DagsterRunStatus.FAILURE,
    }
    assert failure == "UNEXPECTED_TERMINATION"
    assert "Marked 2 run(s)" in first.skip_message
    assert "live process" in again.skip_message


# The parent starts the child as dagster-dbt starts dbt, with the variable run_dbt sets; the
# child loads the plugin as dbt-duckdb does (name and config), prints its pid and sleeps.
CHILD = f"""
import importlib.util, os, time
spec = importlib.util.spec_from_file_location("cityops_lifetime", {str(PLUGIN)!r})
plugin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plugin)
plugin.Plugin("cityops_lifetime", {{}})
print(os.getpid(), flush=True)
time.sleep(600)
"""
PARENT = f"""
import os, subprocess, sys, time
environment = {{**os.environ, "CITYOPS_DBT_PARENT_PID": str(os.getpid())}}
child = subprocess.Popen([sys.executable, "-c", {CHILD!r}], env=environment)
time.sleep(600)
"""


def _child_pids(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def test_dbt_ends_when_the_process_that_started_it_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())  # the child has loaded the plugin
    try:
        assert _child_pids(parent.pid) == [child]
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        # Without the plugin the child would sleep its 600 s; it checks every 0.5 s.
        deadline = time.monotonic() + 30
        while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Path(f"/proc/{child}").exists()
    finally:
        if Path(f"/proc/{child}").exists():
            os.kill(child, signal.SIGKILL)
