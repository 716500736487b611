"""``kill -9`` of a real ``cityops run`` during ingestion, during dbt and during publish.

One home is killed in each phase in turn. Each kill starts ``cityops run`` as a user would,
stops it at a known point of the phase with the crash-test pause point
(``CITYOPS_TEST_PAUSE_AT``, ``ingestion/processes.py``), checks that the crash left what a
crash leaves (a staged file, a run still ``STARTED``) and kills it with SIGKILL; the next
``cityops run`` starts from what the crash left. After a last run that finishes: every dead
run is ``FAILURE`` and no run holds the one-at-a-time run queue, no staged file remains,
and the lake's partitions and the serving snapshot's tables equal those of a run that was
never interrupted: the session's ``built_home`` (tests/conftest.py), which the crashed home
is a copy of.
"""

import gzip
import math
import os
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
from ingestion.pipeline import iter_runs
from ingestion.settings import paths
from ingestion.sources import CONTRACTS

# Four `cityops run`s on one home (two of them whole builds, one stopped in dbt); the first
# test on a worker also builds the session's built_home.
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
# Columns that hold the wall-clock time of an ingestion, or the verdict of the latest freshness
# check (run history), in a table otherwise compared.
_WALL_CLOCK = ("wall_clock_checked_at", "wall_clock_expected_date")
RUN_HISTORY_COLUMNS = {
    "quality.fct_quarantine_daily": ("ingested_at",),
    "quality.fct_source_freshness": (
        "last_ingested_at",
        *_WALL_CLOCK,
        "days_behind_wall_clock",
        "is_late_by_wall_clock",
        "wall_clock_severity",
        "wall_clock_status_name",
    ),
    "quality.fct_data_as_of": (
        *_WALL_CLOCK,
        "sources_checked",
        "sources_late_by_wall_clock",
        "wall_clock_lag_days",
        "data_note",
    ),
}


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


def _process_runs(home: Path, pid: int) -> list[dg.DagsterRun]:
    """Every run a `cityops run` process executed, newest first."""
    with _instance(home) as instance:
        return [
            record.dagster_run
            for record in instance.get_run_records()
            if record.dagster_run.tags.get(PID_TAG) == str(pid)
        ]


def _runs_of_process(home: Path, pid: int) -> list[tuple[str, dg.DagsterRunStatus]]:
    """(job, status) of every run a `cityops run` process executed, newest first."""
    return [(run.job_name, run.status) for run in _process_runs(home, pid)]


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


def _redeliver_unchanged(home: Path) -> str:
    """Re-send the first day's first readings file: new bytes (gzip level 1), the same rows.

    The next `cityops run` re-ingests that partition first (its landing file changed), and
    the lake and the warehouse it leads to equal the reference's, which never had the re-send.
    """
    first = sorted((home / "landing" / "iot").iterdir())[0]
    resent = sorted(first.glob("readings_*.csv.gz"))[0]
    resent.write_bytes(gzip.compress(gzip.decompress(resent.read_bytes()), compresslevel=1))
    return first.name


def _partition_statuses(home: Path, pid: int) -> list[str]:
    """The status (ingested, skipped …) of every partition the `cityops run` ``pid`` handled."""
    runs = {run.run_id for run in _process_runs(home, pid)}
    return [attempt["status"] for attempt in iter_runs(paths(home)) if attempt["run_id"] in runs]


def test_runs_killed_during_ingestion_dbt_and_publish_each_recover(built_home, reference, tmp_path):
    """One home, killed in each phase in turn; each next run recovers from the last crash.

    The home is a published copy of the reference with one re-sent (byte-different,
    row-identical) file, so that a run has a partition to ingest. Four `cityops run`s:
    killed during ingestion, killed during dbt, killed during publish, then one that
    finishes, and the home ends where the reference is.
    """
    home = built_home.copy(tmp_path / "home")
    resent_day = _redeliver_unchanged(home)
    before = (home / "serving" / "current.duckdb").resolve()

    # 1. Killed during ingestion. The crash left a staged Parquet file of the re-sent
    # partition and its run STARTED, which holds the one-at-a-time queue of the daemon.
    in_ingestion = _crash(home, "ingestion", tmp_path)
    assert _staged(home) and all(
        name.startswith(f"lake/_tmp/pid{in_ingestion}-") for name in _staged(home)
    )
    assert _runs_of_process(home, in_ingestion)[0] == (
        "ingest_sources",
        dg.DagsterRunStatus.STARTED,
    )
    assert not _queue_has_room(home)
    # Under the daemon, the fail_dead_runs sensor marks it failed within a minute.
    with _instance(home) as instance:
        fail_dead_runs(dg.build_sensor_context(instance=instance))
    assert _queue_has_room(home)

    # 2. The next run ingests the re-sent partition and is killed during dbt. The marker
    # holds dbt's pid: dbt paused with the warehouse open (its write lock held).
    in_dbt = _crash(home, "dbt", tmp_path)
    assert "ingested" in _partition_statuses(home, in_dbt)
    dbt = int((tmp_path / "paused-dbt").read_text())
    deadline = time.monotonic() + 60
    while Path(f"/proc/{dbt}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    dbt_ended = not Path(f"/proc/{dbt}").exists()
    if not dbt_ended:
        os.kill(dbt, signal.SIGKILL)  # do not leave it behind the failing test
    assert dbt_ended, "dbt outlived the cityops run that started it"
    assert _runs_of_process(home, in_dbt)[0] == ("build_warehouse", dg.DagsterRunStatus.STARTED)

    # 3. The next run marks the dead build failed itself, skips every partition (re-running
    # is safe) and is killed during publish: readers keep the snapshot they had.
    in_publish = _crash(home, "publish", tmp_path)
    assert "Marked failed: build_warehouse run" in (tmp_path / "crashed-publish.log").read_text()
    partitions = built_home.days * len(CONTRACTS)
    assert _partition_statuses(home, in_publish) == ["skipped"] * partitions
    # The staged snapshot, complete but never switched in, is as large as the warehouse.
    staged = _staged(home)
    assert staged and all(name.startswith(f"serving/_tmp/pid{in_publish}-") for name in staged)
    assert (home / "serving" / "current.duckdb").resolve() == before
    with duckdb.connect(str(home / "serving" / "current.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from _serving.snapshot").fetchone() == (1,)

    # 4. The next run finishes and publishes.
    code, output = _run("run", home=home)

    assert code == 0, output[-3000:]
    assert (home / "serving" / "current.duckdb").resolve() != before
    for killed, job in (
        (in_ingestion, "ingest_sources"),
        (in_dbt, "build_warehouse"),
        (in_publish, "build_warehouse"),
    ):
        # The run each process died in failed; the ones it finished before kept their outcome.
        runs = _runs_of_process(home, killed)
        assert runs[0] == (job, dg.DagsterRunStatus.FAILURE), (killed, runs)
        assert {status for _, status in runs[1:]} <= {dg.DagsterRunStatus.SUCCESS}
    assert _queue_has_room(home)
    assert _staged(home) == []
    assert _lake(home) == _lake(reference), f"re-sent on {resent_day}"
    ours, theirs = _snapshot(home), _snapshot(reference)
    assert sorted(ours) == sorted(theirs)
    assert [name for name in ours if not _same_rows(ours[name], theirs[name])] == []
