"""Ingest one source table for one day: landing files → typed Parquet + quarantine + accounting log.

The guarantees, each tested in ``tests/integration/test_ingestion.py``:

- **Nothing lost.** rows read = rows written + rows quarantined + duplicates dropped, checked
  before anything is published; a partition that does not balance is never published.
- **Nothing duplicated.** One row per key per partition; re-running replaces, never appends.
- **Atomic.** Files are staged beside the lake and renamed into place, so a crash leaves the
  previous partition readable.
- **Idempotent and incremental.** Unchanged landing files already ingested under the same
  contract are skipped; a changed re-send re-ingests the partition.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from ingestion import lake
from ingestion.contract import Contract
from ingestion.landing import landing_days as landing_days
from ingestion.landing import landing_files
from ingestion.landing import landing_fingerprints as landing_fingerprints
from ingestion.read import read_file
from ingestion.settings import Paths, duckdb_config
from ingestion.validate import append, prepare, validate


class MissingDelivery(FileNotFoundError):
    """A source delivered no file for a partition."""


class AccountingError(RuntimeError):
    """Rows read do not equal rows written + quarantined + dropped as duplicates."""


def log_path(paths: Paths, table: str, day: dt.date) -> Path:
    """Where the accounting record of one table and day lives."""
    return paths.ingestion_log / table / f"dt={day.isoformat()}.json"


def runs_path(paths: Paths) -> Path:
    """The append-only history of every ingestion attempt, including failures."""
    return paths.ingestion_log / "runs.jsonl"


def read_log(paths: Paths, table: str, day: dt.date) -> dict[str, Any] | None:
    """The last successful accounting record of a partition, if any."""
    import json

    path = log_path(paths, table, day)
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as handle:
        document: dict[str, Any] = json.load(handle)
    return document


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def ingest_partition(
    contract: Contract,
    day: dt.date,
    paths: Paths,
    *,
    force: bool = False,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Ingest ``contract``'s files for ``day`` and return the partition's accounting record."""
    run_id = run_id or uuid.uuid4().hex
    started, clock = _now(), time.perf_counter()
    attempt = {
        "table": contract.table,
        "dt": day.isoformat(),
        "run_id": run_id,
        "started_at": started,
    }
    try:
        files = landing_files(paths, contract, day)
        if not files:
            raise MissingDelivery(
                f"{contract.table}: no files matching {contract.file_glob!r} in "
                f"{paths.landing_day(contract.source, day)}"
            )
        inventory = [
            {
                "path": file.relative_to(paths.landing).as_posix(),
                "sha256": _sha256(file),
                "bytes": file.stat().st_size,
            }
            for file in files
        ]
        previous = read_log(paths, contract.table, day)
        if (
            not force
            and previous is not None
            and previous["files"] == inventory
            and previous["contract"] == contract.fingerprint()
            and (paths.raw_partition(contract.table, day) / lake.PART_FILE).exists()
        ):
            lake.append_jsonl(
                runs_path(paths), {**attempt, "status": "skipped", "finished_at": _now()}
            )
            return {**previous, "status": "skipped"}
        log = _ingest(contract, day, paths, files, inventory)
        log.update(
            run_id=run_id,
            started_at=started,
            finished_at=_now(),
            duration_s=round(time.perf_counter() - clock, 3),
        )
        lake.write_json(log_path(paths, contract.table, day), log)
        lake.append_jsonl(runs_path(paths), {**attempt, **_summary(log)})
        return log
    except Exception as error:
        failure = {
            "status": "failed",
            "error": f"{type(error).__name__}: {error}",
            "finished_at": _now(),
        }
        lake.append_jsonl(runs_path(paths), {**attempt, **failure})
        raise


def _summary(log: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "status",
        "finished_at",
        "rows_read",
        "rows_written",
        "rows_quarantined",
        "duplicates_dropped",
    )
    return {key: log[key] for key in keys}


def _ingest(
    contract: Contract,
    day: dt.date,
    paths: Paths,
    files: list[Path],
    inventory: list[dict[str, Any]],
) -> dict[str, Any]:
    rows_read = 0
    warnings: list[str] = []
    staged_rows = staged_quarantine = None
    # DuckDB spills what exceeds its memory limit here (beside the lake, removed afterwards).
    spill = lake.staging_path(paths.staging, ".duckdb.tmp")
    try:
        with duckdb.connect(config={**duckdb_config(), "temp_directory": str(spill)}) as con:
            prepare(con, contract)
            # One file at a time: Python holds one file's records, DuckDB the day's.
            for file, entry in zip(files, inventory, strict=True):
                read = read_file(file, contract, entry["path"])
                append(con, read.records, read.rejects)
                rows_read += read.rows_read
                warnings += read.warnings
                del read
            counts = validate(con, contract, day)
            accounted = counts.rows_written + counts.rows_quarantined + counts.duplicates_dropped
            if accounted != rows_read:
                raise AccountingError(
                    f"{contract.table} {day}: read {rows_read}, accounted for {accounted} "
                    f"({counts}); nothing was published"
                )
            staged_rows = lake.stage_parquet(con, "valid_rows", paths.staging)
            if counts.rows_quarantined:
                staged_quarantine = lake.stage_parquet(con, "quarantined_rows", paths.staging)
        lake.publish(staged_rows, paths.raw_partition(contract.table, day))
        staged_rows = None
        quarantine_dir = paths.quarantine_partition(contract.table, day)
        if staged_quarantine is not None:
            lake.publish(staged_quarantine, quarantine_dir)
            staged_quarantine = None
        else:
            lake.unpublish(quarantine_dir)
    finally:
        lake.discard(staged_rows, staged_quarantine)
        shutil.rmtree(spill, ignore_errors=True)
    return {
        "table": contract.table,
        "source": contract.source,
        "dt": day.isoformat(),
        "status": "ingested",
        "contract": contract.fingerprint(),
        "files": inventory,
        "rows_read": rows_read,
        "rows_written": counts.rows_written,
        "rows_quarantined": counts.rows_quarantined,
        "quarantined_by_reason": counts.quarantined_by_reason,
        "duplicates_dropped": counts.duplicates_dropped,
        "duplicates_by_kind": counts.duplicates_by_kind,
        "late_rows": counts.late_rows,
        "warnings": warnings,
    }


def iter_runs(paths: Paths) -> Iterator[dict[str, Any]]:
    """Every recorded ingestion attempt, oldest first."""
    import json

    path = runs_path(paths)
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)
