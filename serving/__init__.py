"""Write-audit-publish: the serving snapshot that dashboards, analysts and exports read.

dbt builds into the working warehouse (``warehouse/cityops.duckdb``), which its writer locks
while it runs. Only after a build whose blocking checks all passed does :func:`publish` copy
the published schemas into a new DuckDB file and switch ``serving/current.duckdb`` to it
with an atomic rename of a symbolic link.

The copy is the warehouse file itself, copied by the kernel while a read-only attachment
holds the file's shared lock (no writer can start meanwhile), with the unpublished schemas
and every view then dropped from it. Those schemas hold only views over the lake (dbt
materializes ``staging`` and ``restricted`` as views), so nothing but view definitions
leaves the copy. A district-year warehouse (5.2 GB) copied in 6–13 s with 85 MB of RSS this
way, and in 80.5 s with 1.2 GB table by table, in the same hour. When a base table sits in
an unpublished schema, its pages could hold clear personal data that dropping would leave in
the file's free blocks, so the published tables are then copied one by one into a new file
instead (the test
``test_clear_data_in_a_restricted_table_never_reaches_the_snapshot_file`` shows why). Which
copy was made, and the tables that forced the slower one, are recorded in the snapshot
(``copy_method``, ``held_back``) and shown by ``cityops publish``, so the slow path never
goes unnoticed: a model materialized as a table in ``staging`` makes every publication of a
district-year 5 times slower (99 s instead of 20 s).

A reader opens either the old snapshot or the new one, never a half-written file and never
the locked working warehouse, and a query already running keeps reading the file it opened.
``serving/previous.duckdb`` points at the snapshot before, for :func:`rollback`.

Layout under ``$CITYOPS_HOME/serving/``::

    current.duckdb  -> snapshots/20240731T000000123456Z-1a2b3c4d.duckdb
    previous.duckdb -> snapshots/…
    snapshots/      every kept snapshot (the newest ``keep``, plus current and previous)
    _tmp/           a snapshot being written (never read), named after its writer's pid

A publication that crashed (``kill -9``, power cut) leaves its staged copy, as large as the
warehouse, in ``_tmp/``: each publication first removes what dead writers left there
(:func:`clean_staged`), never the file of a publication still running.

Each snapshot holds ``_serving.snapshot`` (one row: when and from which run it was
published, how many tables, how it was copied) besides the copied tables.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.processes import owned_name, pause_point, remove_dead_entries
from ingestion.settings import Paths, duckdb_config

# Views over the Parquet lake (staging) and clear personal data (restricted) stay in the
# working warehouse: the serving snapshot is self-contained and holds no clear PII.
UNPUBLISHED_SCHEMAS = ("staging", "restricted", "information_schema", "pg_catalog", "main")
CURRENT = "current.duckdb"
PREVIOUS = "previous.duckdb"
# A copy table by table streams; DuckDB's buffer would otherwise fill up to the pipeline's
# limit with pages of the warehouse it reads. A district-year warehouse (5 GB, 76 tables)
# copied in 151 s with 4GB (peak RSS 4.2 GB) and in 165 s with 1GB (1.2 GB).
COPY_MEMORY_LIMIT = "1GB"
# How a snapshot was copied: the warehouse file whole (views and unpublished schemas then
# dropped), or table by table because base tables sat in unpublished schemas.
FILE_COPY = "file"
TABLE_COPY = "tables"


class PublishError(RuntimeError):
    """Nothing was published or switched; the serving snapshot is unchanged."""


@dataclass(frozen=True)
class Snapshot:
    """One published snapshot file and what it says about itself."""

    path: Path
    published_at: dt.datetime
    run_id: str
    table_count: int
    copy_method: str
    # Base tables in unpublished schemas, which made the copy go table by table.
    held_back: tuple[str, ...]

    @property
    def name(self) -> str:
        """The file name, unique per publication."""
        return self.path.name

    def copy_note(self) -> str:
        """How the snapshot was copied, for logs and ``cityops publish``."""
        if self.copy_method == FILE_COPY:
            return "copied as one file"
        if self.copy_method == TABLE_COPY:
            return (
                f"copied table by table, the slower path, because of {len(self.held_back)} "
                f"table(s) in unpublished schemas: {', '.join(self.held_back)} "
                "(materialize them as views)"
            )
        return "copy not recorded"


def serving_dir(paths: Paths) -> Path:
    """``$CITYOPS_HOME/serving``."""
    return paths.home / "serving"


def serving_path(paths: Paths) -> Path:
    """What readers open, read-only: ``serving/current.duckdb``."""
    return serving_dir(paths) / CURRENT


def working_path(paths: Paths) -> Path:
    """The warehouse dbt builds into."""
    return paths.warehouse / "cityops.duckdb"


def publish(paths: Paths, *, run_id: str, keep: int = 3) -> Snapshot:
    """Copy the working warehouse into a new snapshot and make it the current one.

    Call only after the build's blocking checks passed (the Dagster job runs this asset
    downstream of every dbt model and test). Raises :class:`PublishError`, leaving the
    serving snapshot as it was, when the working warehouse is missing or holds no marts.
    """
    work = working_path(paths)
    if not work.exists():
        raise PublishError(f"No working warehouse at {work}; run the build first.")
    folder = serving_dir(paths)
    (folder / "snapshots").mkdir(parents=True, exist_ok=True)
    (folder / "_tmp").mkdir(exist_ok=True)
    clean_staged(paths)
    precise = dt.datetime.now(dt.UTC)
    now = precise.replace(microsecond=0)
    # Microseconds in the name: two publications within one second (by hand, run ids
    # `manual-<pid>` share their first 8 characters) must not overwrite each other's file.
    name = f"{precise:%Y%m%dT%H%M%S%fZ}-{run_id[:8]}.duckdb"
    staged = folder / "_tmp" / owned_name(name)
    remove_database(staged)
    try:
        tables, method, held_back = _copy_published_tables(work, staged, now=now, run_id=run_id)
    except Exception:
        remove_database(staged)
        raise
    pause_point("publish")
    final = folder / "snapshots" / name
    os.replace(staged, final)
    _switch(folder, final)
    _prune(folder, keep=keep)
    return Snapshot(final, now, run_id, tables, method, held_back)


def _copy_published_tables(
    work: Path, target: Path, *, now: dt.datetime, run_id: str
) -> tuple[int, str, tuple[str, ...]]:
    """Copy into ``target``; (tables published, how, base tables in unpublished schemas)."""
    with duckdb.connect(config=duckdb_config(COPY_MEMORY_LIMIT)) as con:
        con.execute("set enable_progress_bar = false")
        # Row order means nothing to a dashboard; not keeping it lets a copy of hundreds of
        # millions of rows stream within the memory limit.
        con.execute("set preserve_insertion_order = false")
        # This connection's own database is in memory: spill beside the snapshot, not in cwd.
        con.execute("set temp_directory = ?", [f"{target}.tmp"])
        # Read-only: a shared lock on the file until detached, so no writer starts meanwhile.
        con.execute("attach ? as work (read_only)", [str(work)])
        tables = con.execute(
            "select table_schema, table_name, list_contains($excluded, table_schema) "
            "from information_schema.tables "
            "where table_catalog = 'work' and table_type = 'BASE TABLE' order by all",
            {"excluded": list(UNPUBLISHED_SCHEMAS)},
        ).fetchall()
        published = [(schema, table) for schema, table, excluded in tables if not excluded]
        held_back = tuple(f"{schema}.{table}" for schema, table, excluded in tables if excluded)
        method = TABLE_COPY if held_back else FILE_COPY
        if not any(schema == "vitals" for schema, _ in published):
            raise PublishError(f"{work} holds no marts (no vitals schema): nothing to publish.")
        if method == TABLE_COPY:
            _copy_tables(con, target, published)
        else:
            copy_database(work, target)
            con.execute("detach work")
            con.execute("attach ? as snapshot", [str(target)])
            _drop_unpublished(con)
        con.execute("create schema snapshot._serving")
        con.execute(
            "create table snapshot._serving.snapshot as select ?::timestamptz as published_at, "
            "?::varchar as run_id, ?::integer as table_count, ?::varchar as copy_method, "
            "?::varchar[] as held_back",
            [now, run_id, len(published), method, held_back],
        )
        con.execute("checkpoint snapshot")
        con.execute("detach snapshot")
    return len(published), method, held_back


def clean_staged(paths: Paths) -> list[Path]:
    """Remove what crashed publications left: staged copies, their logs, spill folders, links.

    Only what a dead process wrote goes (the pid in each name tells whose it is); returns
    the paths removed.
    """
    folder = serving_dir(paths)
    removed = remove_dead_entries(folder / "_tmp")
    # Link temporaries (`.pid<pid>-current.duckdb`) beside the links readers open; nothing
    # else in this folder is touched.
    return removed + remove_dead_entries(folder, unowned_max_age=None)


def wal_path(database: Path) -> Path:
    """DuckDB's write-ahead log beside ``database``."""
    return database.with_name(database.name + ".wal")


def remove_database(database: Path) -> None:
    """Delete a DuckDB file and its write-ahead log, where they exist."""
    database.unlink(missing_ok=True)
    wal_path(database).unlink(missing_ok=True)


def copy_database(source: Path, target: Path) -> None:
    """Copy a DuckDB file and its write-ahead log, if any (replayed when the copy opens).

    Whatever was at ``target`` goes first, so no stale log is replayed into the copy. The
    caller keeps writers away from ``source`` meanwhile.
    """
    remove_database(target)
    shutil.copyfile(source, target)
    if wal_path(source).exists():
        shutil.copyfile(wal_path(source), wal_path(target))


def _copy_tables(
    con: duckdb.DuckDBPyConnection, target: Path, published: list[tuple[str, str]]
) -> None:
    """Copy ``published`` from the attached ``work`` into a new ``snapshot``, then detach work."""
    con.execute("attach ? as snapshot", [str(target)])
    for schema in sorted({schema for schema, _ in published}):
        con.execute(f'create schema snapshot."{schema}"')
    for schema, table in published:
        # Identifiers come from the catalogue, not from input; quoted as identifiers.
        con.execute(
            f'create table snapshot."{schema}"."{table}" as select * from work."{schema}"."{table}"'
        )
    con.execute("detach work")


def _drop_unpublished(con: duckdb.DuckDBPyConnection) -> None:
    """Drop, in the attached ``snapshot``, every view and the schemas that are not published."""
    views = con.execute(
        "select schema_name, view_name from duckdb_views() "
        "where database_name = 'snapshot' and not internal order by all"
    ).fetchall()
    for schema, view in views:
        con.execute(f'drop view snapshot."{schema}"."{view}"')
    schemas = con.execute(
        "select schema_name from duckdb_schemas() "
        "where database_name = 'snapshot' and not internal "
        "and list_contains($excluded, schema_name) order by all",
        {"excluded": list(UNPUBLISHED_SCHEMAS)},
    ).fetchall()
    for (schema,) in schemas:
        if schema != "main":
            con.execute(f'drop schema snapshot."{schema}" cascade')


def _link(folder: Path, name: str, target: Path) -> None:
    """Point ``folder/name`` at ``target`` atomically (a new link renamed over the old)."""
    temporary = folder / f".{owned_name(name)}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(os.path.relpath(target, folder))
    os.replace(temporary, folder / name)


def _target(folder: Path, name: str) -> Path | None:
    link = folder / name
    if not link.is_symlink():
        return None
    return (folder / os.readlink(link)).resolve()


def _switch(folder: Path, new: Path) -> None:
    old = _target(folder, CURRENT)
    if old is not None and old.exists():
        _link(folder, PREVIOUS, old)
    _link(folder, CURRENT, new)


def _prune(folder: Path, *, keep: int) -> None:
    snapshots = sorted((folder / "snapshots").glob("*.duckdb"), reverse=True)
    protected = {_target(folder, CURRENT), _target(folder, PREVIOUS)}
    for stale in snapshots[keep:]:
        if stale.resolve() not in protected:
            stale.unlink(missing_ok=True)


def rollback(paths: Paths) -> Snapshot:
    """Make the previous snapshot current again (and the current one previous)."""
    folder = serving_dir(paths)
    current, previous = _target(folder, CURRENT), _target(folder, PREVIOUS)
    if previous is None or not previous.exists():
        raise PublishError(f"No previous snapshot under {folder} to roll back to.")
    _link(folder, CURRENT, previous)
    if current is not None and current.exists():
        _link(folder, PREVIOUS, current)
    snapshot = describe(previous)
    return snapshot


def describe(path: Path) -> Snapshot:
    """What a snapshot file says about itself (``_serving.snapshot``)."""
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute("select * from _serving.snapshot")
        names = [column[0] for column in cursor.description]
        row = cursor.fetchone()
    if row is None:
        raise PublishError(f"{path} is not a serving snapshot")
    found = dict(zip(names, row, strict=True))
    return Snapshot(
        path.resolve(),
        found["published_at"],
        found["run_id"],
        found["table_count"],
        # Snapshots published before 2026-11-26 do not record how they were copied.
        found.get("copy_method") or "unrecorded",
        tuple(found.get("held_back") or ()),
    )


def current_name(paths: Paths) -> str | None:
    """The file name of the current snapshot, from the link alone (nothing is opened)."""
    target = _target(serving_dir(paths), CURRENT)
    return target.name if target is not None and target.exists() else None


def current_snapshot(paths: Paths) -> Snapshot | None:
    """The snapshot readers open now, or None before the first publication."""
    target = _target(serving_dir(paths), CURRENT)
    return describe(target) if target is not None and target.exists() else None


def previous_snapshot(paths: Paths) -> Snapshot | None:
    """The snapshot a rollback would restore, if any."""
    target = _target(serving_dir(paths), PREVIOUS)
    return describe(target) if target is not None and target.exists() else None


def remove(paths: Paths) -> None:
    """Delete every snapshot (tests and ``make clean``)."""
    shutil.rmtree(serving_dir(paths), ignore_errors=True)
