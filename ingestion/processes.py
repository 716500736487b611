"""Which process owns a run or a staged file, whether it still lives, and what a crash left.

A ``kill -9`` (or a power cut) gives a process no chance to clean up: its Dagster run stays
``STARTED`` and its staged files stay in the staging folders. Whoever comes next must tell a
dead owner's leftovers from the work of a process that is still running, so every staged
name starts with its writer's pid (``pid1234-…``; DuckDB's own spill files are named
``duckdb_temp_<pid>_…``), and every ``cityops run`` records its pid and host as run tags.

A pid alone is not an identity: the kernel reuses pids. The rule used everywhere here is
"process *P*, known to be alive at time *T*, is still that process if a process *P* exists
now, is not a zombie, and started no later than *T*": a process that took over the pid after
the owner died started after everything the owner wrote. *T* is a staged file's
modification time or the time Dagster recorded the run's pid. The start time comes from
``/proc`` (Linux); elsewhere only the pid's existence is checked.

Plain Python, no Dagster: the lake, the serving snapshot and the Dagster wiring all use it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

# Seconds of slack when comparing a process's start with a time it was seen alive: /proc
# gives the boot time in whole seconds, so a start time read from it can be up to 1 s early.
# The slack only ever keeps a file (or a run) that could still be live.
START_SLACK_SECONDS = 2.0
# Staged entries without an owner in their name were written by cityops before owners were
# recorded (2026-12); they are removed once untouched this long. The longest staged write,
# a district-year publication, takes minutes.
UNOWNED_MAX_AGE_SECONDS = 6 * 3600
OWNER_PATTERN = re.compile(r"^(?:\.?pid|duckdb_temp_)(\d+)[-_]")
# Crash tests only: ``CITYOPS_TEST_PAUSE_AT=<point>=<marker file>`` stops the process at
# that point (see :func:`pause_point`).
PAUSE_VARIABLE = "CITYOPS_TEST_PAUSE_AT"


def hostname() -> str:
    """The name of this machine, as recorded with a run's pid."""
    return socket.gethostname()


def owned_name(name: str) -> str:
    """``name`` prefixed with this process as its owner: ``pid<pid>-<name>``."""
    return f"pid{os.getpid()}-{name}"


def owner_pid(name: str) -> int | None:
    """The pid in an owned name (ours, or a DuckDB spill file's), else None."""
    found = OWNER_PATTERN.match(name)
    return int(found.group(1)) if found else None


def _clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def _boot_time() -> float:
    with open("/proc/stat", encoding="ascii") as stat:
        for line in stat:
            if line.startswith("btime "):
                return float(line.split()[1])
    raise OSError("/proc/stat has no btime")


def started_at(pid: int) -> float | None:
    """When process ``pid`` started (Unix time), or None if there is no live such process.

    A zombie (dead, not yet reaped by its parent) counts as gone. Without ``/proc`` the
    start is unknown: 0.0 for a pid that exists, so any time ``T`` accepts it.
    """
    if pid <= 0:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None
    except OSError:
        return _exists_without_proc(pid)
    # The command name (field 2) may hold spaces and parentheses: split after the last ")".
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return _boot_time() + int(fields[19]) / _clock_ticks()


def _exists_without_proc(pid: int) -> float | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return 0.0
    return 0.0


def is_alive(pid: int, seen_at: float) -> bool:
    """Whether process ``pid``, known to be alive at ``seen_at`` (Unix time), still runs."""
    if not Path("/proc").is_dir():
        return _exists_without_proc(pid) is not None
    start = started_at(pid)
    return start is not None and start <= seen_at + START_SLACK_SECONDS


def remove_dead_entries(
    folder: Path,
    *,
    unowned_max_age: float | None = UNOWNED_MAX_AGE_SECONDS,
    now: float | None = None,
) -> list[Path]:
    """Delete what dead processes left in a staging folder; returns what was removed.

    An entry (file or folder) goes when its owner (the pid in its name) no longer runs, or,
    without an owner in its name, when nothing touched it for ``unowned_max_age`` seconds
    (None: never; for a folder that also holds what is not staged). An entry whose owner
    lives is never touched: it may be being written right now.
    """
    if not folder.is_dir():
        return []
    now = time.time() if now is None else now
    removed = []
    for entry in sorted(folder.iterdir()):
        if entry.name == ".lock":
            continue
        try:
            modified = entry.lstat().st_mtime
        except FileNotFoundError:  # its owner finished with it meanwhile
            continue
        pid = owner_pid(entry.name)
        if pid is None:
            if unowned_max_age is None or now - modified < unowned_max_age:
                continue
        elif pid == os.getpid() or is_alive(pid, modified):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def pause_point(point: str) -> None:
    """Crash tests only: stop here for good when ``CITYOPS_TEST_PAUSE_AT`` names ``point``.

    ``CITYOPS_TEST_PAUSE_AT=<point>=<marker file>`` makes the process write its pid to the
    marker file on reaching ``point`` and then sleep until it is killed, so a test can
    ``kill -9`` it at a known phase (``tests/integration/test_crash.py``). The points are
    ``ingestion`` (a partition's Parquet file staged, not yet renamed into the lake) and
    ``publish`` (the serving snapshot copied into ``serving/_tmp``, not yet switched in);
    dbt's own process has ``dbt`` (``dbt/plugins/cityops_lifetime.py``). Unset, this
    does nothing; nothing outside the tests sets it.
    """
    wanted = os.environ.get(PAUSE_VARIABLE, "")
    name, _, marker = wanted.partition("=")
    if name != point or not marker:
        return
    staged = Path(f"{marker}.tmp")
    staged.write_text(f"{os.getpid()}\n", encoding="ascii")
    os.replace(staged, marker)  # the test never reads a half-written pid
    print(f"cityops: paused at {point} ({PAUSE_VARIABLE})", file=sys.stderr, flush=True)
    while True:
        time.sleep(3600)


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, for None, remove) environment variables for the block, then restore them."""
    previous = {name: os.environ.get(name) for name in values}
    _apply_environment(values)
    try:
        yield
    finally:
        _apply_environment(previous)


def _apply_environment(values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
