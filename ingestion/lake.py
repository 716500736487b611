"""Atomic writes into the lake: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from ingestion import files
from ingestion.processes import owned_name, pause_point, remove_dead_entries

PART_FILE = "part-0.parquet"
# A partition is its base file plus, between two full ingestions, the live path's appended
# parts part-1.parquet, part-2.parquet, … (ingestion.pipeline: "Appending a batch").
PART_GLOB = "part-*.parquet"


def part_name(number: int) -> str:
    """The file name of a partition's ``number``-th part (0: the base file)."""
    return f"part-{number}.parquet"


def parts(partition_dir: Path) -> list[str]:
    """The names of a partition's part files, in part order (none if the folder is missing)."""
    names = [path.name for path in partition_dir.glob(PART_GLOB)]
    return sorted(names, key=lambda name: int(name[5:-8]) if name[5:-8].isdigit() else -1)


def staging_path(staging: Path, suffix: str) -> Path:
    """A new unique path in the staging folder (created if missing); nothing is made there.

    The name starts with this process's pid, so that :func:`clean_staging` can tell what a
    crashed process left from what a live one is writing.
    """
    staging.mkdir(parents=True, exist_ok=True)
    return staging / owned_name(f"{uuid.uuid4().hex}{suffix}")


def clean_staging(staging: Path) -> list[Path]:
    """Remove staged files and spill folders whose writer died (a crash); returns them."""
    return remove_dead_entries(staging)


def stage_parquet(con: duckdb.DuckDBPyConnection, relation: str, staging: Path) -> Path:
    """Write a DuckDB table to a temporary zstd Parquet file beside the lake and return it."""
    path = staging_path(staging, ".parquet.tmp")
    # The path is generated here, never taken from data; DuckDB's COPY takes no parameter.
    target = str(path).replace("'", "''")
    con.execute(
        f"copy (select * from {relation}) to '{target}' "
        "(format parquet, compression zstd, row_group_size 500000)"
    )
    return path


def publish(staged: Path, partition_dir: Path, name: str = PART_FILE) -> Path:
    """Move a staged file into its partition folder with one atomic rename.

    Publishing the base file (``name`` = :data:`PART_FILE`) replaces the whole partition:
    the appended parts it now holds are removed right after the rename.
    """
    pause_point("ingestion")
    partition_dir.mkdir(parents=True, exist_ok=True)
    final = partition_dir / name
    os.replace(staged, final)
    if name == PART_FILE:
        _remove_appended(partition_dir)
    return final


def _remove_appended(partition_dir: Path) -> None:
    for name in parts(partition_dir):
        if name != PART_FILE:
            (partition_dir / name).unlink(missing_ok=True)


def unpublish(partition_dir: Path) -> None:
    """Remove a partition's files and its folder, if present."""
    _remove_appended(partition_dir)
    final = partition_dir / PART_FILE
    if final.exists():
        final.unlink()
    if partition_dir.exists() and not any(partition_dir.iterdir()):
        partition_dir.rmdir()


def discard(*paths: Path | None) -> None:
    """Delete staged files that will not be published."""
    for path in paths:
        if path is not None and path.exists():
            path.unlink()


def write_json(path: Path, document: Any) -> None:
    """Write a JSON document atomically (``ingestion.files``), keys sorted."""
    files.write_json(path, document, indent=2, sort_keys=True)


def append_jsonl(path: Path, document: Any) -> None:
    """Append one JSON line (a single short write, so concurrent appends do not interleave)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(document, ensure_ascii=False, sort_keys=True) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)


def content_hash(path: Path) -> str:
    """A hash of a Parquet file's rows, independent of row order and file layout."""
    with duckdb.connect() as con:
        row = con.execute(
            "select md5(coalesce(string_agg(line, chr(10) order by line), '')) "
            "from (select cast(t as varchar) as line from read_parquet(?) as t)",
            [str(path)],
        ).fetchone()
    return str(row[0]) if row else ""


@contextlib.contextmanager
def locked_folder(folder: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<folder>/.lock`` (created with the folder if needed).

    For stores that several processes update by read-merge-replace (Dagster may run checks
    in parallel processes): the quality results store, the GX project.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
