"""``kill -9`` of a real ``cityops run`` during ingestion, during dbt and during publish.

Each test starts ``cityops run`` as a user would, stops it at a known point of the phase
with the crash-test pause point (``CITYOPS_TEST_PAUSE_AT``, ``ingestion/processes.py``),
checks that the crash left what a crash leaves (a staged file, a run still ``STARTED``),
kills it with SIGKILL and runs ``cityops run`` again. Afterwards: the run succeeded, the
dead run is ``FAILURE`` and no run holds the one-at-a-time run queue, no staged file remains,
and the lake's partitions and the serving snapshot's tables equal those of a run that was
never interrupted: the session's ``built_home`` (tests/conftest.py), whose deliveries and
pseudonymisation key each crashed home starts from.
"""

import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.dead_runs import PID_TAG
from dagster_project.defs.operations.sensors import fail_dead_runs
from ingestion.lake import content_hash

# Each test runs `cityops run` twice on its own home (killed, then the recovery: ≈ 2 min on a
# quiet 2-core machine); the first one on a worker also builds the session's built_home.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

# The runs that hold a place in the daemon's run queue (Dagster's own list, not exported).
ACTIVE_RUN_STATUSES = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]

# Tables that record the history of runs rather than the data: the snapshot's own row (when,
# which run) and every check evaluation of every run. A home that ran more runs holds more
# of them by design; everything else must be equal.
RUN_HISTORY_TABLES = {
    "_serving.snapshot",
    "quality.fct_check_results",
    "quality.fct_check_results_daily",
}
# Columns that hold the wall-clock time of an ingestion, in a table otherwise compared.
RUN_HISTORY_COLUMNS = {"quality.fct_quarantine_daily": ("ingested_at",)}


def _cityops(*arguments, home, extra=None, **popen):
    """``cityops …`` on ``home`` in a child process (bare PATH, the home's own instance)."""
    environment = {
        **os.environ,
        "CITYOPS_HOME": str(home),
        "PATH": "/usr/bin:/bin",
        **(extra or {}),
    }
    environment.pop("DAGSTER_HOME", None)
    environment.pop("CITYOPS_PII_KEY", None)  # every home shares the template's key file
    command = [sys.executable, "-m", "dagster_project.cli", *arguments]
    return subprocess.Popen(command, env=environment, **popen)


def _run(*arguments, home):
    process = _cityops(*arguments, home=home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, _ = process.communicate(timeout=1200)
    return process.returncode, output.decode(errors="replace")


@pytest.fixture
def reference(built_home):
    """The home after one `cityops run` that nobody interrupted (read only)."""
    return built_home.home


def _crash(home: Path, point: str, work: Path) -> int:
    """Start `cityops run`, wait until it pauses at ``point``, ``kill -9`` it; its pid."""
    marker, log = work / f"paused-{point}", work / f"crashed-{point}.log"
    with log.open("wb") as output:
        process = _cityops(
            "run",
            home=home,
            extra={"CITYOPS_TEST_PAUSE_AT": f"{point}={marker}"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        while not marker.exists():
            if process.poll() is not None:
                pytest.fail(f"cityops run ended before {point}:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    return process.pid


def _instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home / "dagster"))


def _runs_of_process(home: Path, pid: int) -> list[tuple[str, dg.DagsterRunStatus]]:
    """(job, status) of every run a `cityops run` process executed, newest first."""
    with _instance(home) as instance:
        return [
            (record.dagster_run.job_name, record.dagster_run.status)
            for record in instance.get_run_records()
            if record.dagster_run.tags.get(PID_TAG) == str(pid)
        ]


def _queue_has_room(home: Path) -> bool:
    """What the daemon's run queue decides: runs in progress below max_concurrent_runs."""
    with _instance(home) as instance:
        limit = instance.get_concurrency_config().run_queue_config.max_concurrent_runs
        active = instance.get_run_records(dg.RunsFilter(statuses=ACTIVE_RUN_STATUSES))
        return len(active) < limit


def _staged(home: Path) -> list[str]:
    """Every staged file or spill folder under the home (empty after a clean finish)."""
    folders = [
        home / "lake" / "_tmp",
        home / "serving" / "_tmp",
        home / "warehouse" / "cityops.duckdb.tmp",
    ]
    found = [path for folder in folders if folder.is_dir() for path in folder.iterdir()]
    found += (home / "serving").glob(".pid*")  # link temporaries
    return sorted(str(path.relative_to(home)) for path in found)


def _lake(home: Path) -> dict[str, str]:
    """Every raw and quarantine partition file, by path, with a hash of its rows."""
    return {
        str(path.relative_to(home)): content_hash(path)
        for folder in ("raw", "quarantine")
        for path in sorted((home / "lake" / folder).glob("*/dt=*/*.parquet"))
    }


def _snapshot(home: Path) -> dict[str, list[tuple]]:
    """Every table of the serving snapshot but the run history, as lists of rows."""
    found = {}
    with duckdb.connect(str(home / "serving" / "current.duckdb"), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' order by all"
        ).fetchall()
        for schema, table in tables:
            name = f"{schema}.{table}"
            if name in RUN_HISTORY_TABLES:
                continue
            relation = con.table(f'"{schema}"."{table}"')
            skipped = RUN_HISTORY_COLUMNS.get(name, ())
            columns = [f'"{column}"' for column in relation.columns if column not in skipped]
            found[name] = relation.select(*columns).fetchall()
    return found


def _rounded(value):
    """Floats to 9 significant digits, lists and structs (DuckDB gives lists, dicts) as tuples."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, list | tuple):
        return tuple(_rounded(item) for item in value)
    if isinstance(value, dict):
        return tuple((key, _rounded(item)) for key, item in value.items())
    return value


def _close(value, twin) -> bool:
    if isinstance(value, float) and isinstance(twin, float):
        return math.isclose(value, twin, rel_tol=1e-6)
    if isinstance(value, tuple) and isinstance(twin, tuple) and len(value) == len(twin):
        return all(_close(item, other) for item, other in zip(value, twin, strict=True))
    return value == twin


def _same_rows(rows: list[tuple], others: list[tuple]) -> bool:
    """The same rows in any order, floating-point numbers to about 9 digits.

    DuckDB sums in parallel, in no fixed order: two builds of the same lake differ in the
    last bits of a sum (121409719.42 and 121409719.42000002). Rows left over after comparing
    rounded values (rounding on either side of a digit) are paired by closeness.
    """
    ours, theirs = Counter(map(_rounded, rows)), Counter(map(_rounded, others))
    left, right = list((ours - theirs).elements()), list((theirs - ours).elements())
    if len(left) != len(right):
        return False
    for row in left:
        twin = next((other for other in right if _close(row, other)), None)
        if twin is None:
            return False
        right.remove(twin)
    return True


def _assert_recovered(home: Path, reference: Path, killed: int, job: str) -> None:
    # The run the process died in failed; the ones it finished before kept their outcome.
    runs = _runs_of_process(home, killed)
    assert runs[0] == (job, dg.DagsterRunStatus.FAILURE)
    assert {status for _, status in runs[1:]} <= {dg.DagsterRunStatus.SUCCESS}
    assert _queue_has_room(home)
    assert _staged(home) == []
    assert _lake(home) == _lake(reference)
    ours, theirs = _snapshot(home), _snapshot(reference)
    assert sorted(ours) == sorted(theirs)
    assert [name for name in ours if not _same_rows(ours[name], theirs[name])] == []


def test_a_run_killed_during_ingestion_is_failed_by_the_sensor_and_the_next_run_recovers(
    built_home, reference, tmp_path
):
    home = built_home.landing_copy(tmp_path / "home")

    killed = _crash(home, "ingestion", tmp_path)
    # The crash left a staged Parquet file of the first partition and its run STARTED, which
    # holds the one-at-a-time queue of the daemon.
    assert _staged(home) and all(
        name.startswith(f"lake/_tmp/pid{killed}-") for name in _staged(home)
    )
    assert _runs_of_process(home, killed)[0] == ("ingest_sources", dg.DagsterRunStatus.STARTED)
    assert not _queue_has_room(home)
    # Under the daemon, the fail_dead_runs sensor marks it failed within a minute.
    with _instance(home) as instance:
        fail_dead_runs(dg.build_sensor_context(instance=instance))
    assert _queue_has_room(home)
    code, output = _run("run", home=home)

    assert code == 0, output[-3000:]
    _assert_recovered(home, reference, killed, "ingest_sources")


def test_a_run_killed_during_dbt_takes_dbt_with_it_and_the_next_run_recovers(
    built_home, reference, tmp_path
):
    # A home whose deliveries are ingested and never built: its runs skip every partition
    # and go straight to dbt, which the recovery must then build and publish from nothing.
    home = built_home.copy(tmp_path / "home")
    for folder in ("warehouse", "serving"):
        shutil.rmtree(home / folder)

    killed = _crash(home, "dbt", tmp_path)
    # The marker holds dbt's pid: dbt paused with the warehouse open (its write lock held).
    dbt = int((tmp_path / "paused-dbt").read_text())
    deadline = time.monotonic() + 60
    while Path(f"/proc/{dbt}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    dbt_ended = not Path(f"/proc/{dbt}").exists()
    if not dbt_ended:
        os.kill(dbt, signal.SIGKILL)  # do not leave it behind the failing test
    assert dbt_ended, "dbt outlived the cityops run that started it"
    assert _runs_of_process(home, killed)[0] == ("build_warehouse", dg.DagsterRunStatus.STARTED)
    # The next `cityops run` marks the dead run failed itself before it starts.
    code, output = _run("run", home=home)

    assert code == 0, output[-3000:]
    assert "Marked failed: build_warehouse run" in output
    _assert_recovered(home, reference, killed, "build_warehouse")


def test_a_run_killed_during_publish_leaves_readers_the_old_snapshot_and_the_next_run_recovers(
    built_home, reference, tmp_path
):
    # A home already published once: the crash must not disturb what readers open.
    home = built_home.copy(tmp_path / "home")
    before = (home / "serving" / "current.duckdb").resolve()

    killed = _crash(home, "publish", tmp_path)
    # The staged snapshot, complete but never switched in, is as large as the warehouse.
    staged = _staged(home)
    assert staged and all(name.startswith(f"serving/_tmp/pid{killed}-") for name in staged)
    assert (home / "serving" / "current.duckdb").resolve() == before
    with duckdb.connect(str(home / "serving" / "current.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from _serving.snapshot").fetchone() == (1,)
    code, output = _run("run", home=home)

    assert code == 0, output[-3000:]
    assert (home / "serving" / "current.duckdb").resolve() != before
    _assert_recovered(home, reference, killed, "build_warehouse")
