"""Ingest one source table for one day: landing files → typed Parquet + quarantine + accounting log.

The guarantees, each tested in ``tests/integration/test_ingestion.py``:

- **Nothing lost.** rows read = rows written + rows quarantined + duplicates dropped, per
  delivered file and for the partition, checked before anything is published; a partition
  that does not balance is never published. A file with no record at all is recorded with a
  warning, never skipped in silence.
- **Nothing wiped by mistake.** A re-send that would leave a partition with fewer than half
  of the rows it has (or none) is refused, unless the operator confirms it.
- **Nothing duplicated.** One row per key per partition; re-running replaces, never appends.
- **Atomic.** Files are staged beside the lake and renamed into place, so a crash leaves the
  previous partition readable.
- **Idempotent and incremental.** Unchanged landing files already ingested under the same
  contract are skipped; a changed re-send re-ingests the partition.

Appending a batch (the live path, ``append=True``): when a partition's earlier files are all
still there unchanged and only new files have landed, only the new files are read, and their
rows become a new part of the partition (``part-1.parquet``, ``part-2.parquet``, …) beside the
base file ``part-0.parquet``, with the same books per file. An append is refused, and the
partition ingested whole instead, when a new row's key is already in the partition (a
correction, which needs the newest-version rule over all files), when the contract changed,
or when the parts on disk are not the ones the accounting record lists (a crash between
publishing a part and recording it). A full ingestion (the daily run, or any re-ingestion)
writes the partition as one base file again and removes the appended parts, so a day built
from its batches ends byte for byte as if ingested at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import time
import uuid
from collections import Counter
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
from ingestion.validate import (
    Counts,
    FileCounts,
    append,
    keys_taken,
    prepare,
    validate,
    withdrawn_keys,
)

# A re-send that would keep fewer than this share of the rows the partition has is refused
# unless confirmed: a day re-sent as an empty or header-only file, a cut export, a file in the
# wrong encoding. Corrections add or change records, they rarely remove half a day.
SMALLER_RESEND_LIMIT = 0.5
WITHDRAWN_SAMPLE = 10  # keys of withdrawn records listed in the accounting record


class MissingDelivery(FileNotFoundError):
    """A source delivered no file for a partition."""


class AccountingError(RuntimeError):
    """Rows read do not equal rows written + quarantined + dropped as duplicates."""


class SmallerResend(RuntimeError):
    """A re-send would replace a partition with far fewer rows; refused until confirmed."""


def log_path(paths: Paths, table: str, day: dt.date) -> Path:
    """Where the accounting record of one table and day lives."""
    return paths.ingestion_log / table / f"dt={day.isoformat()}.json"


def runs_path(paths: Paths) -> Path:
    """The append-only history of every ingestion attempt, including failures."""
    return paths.ingestion_log / "runs.jsonl"


def read_log(paths: Paths, table: str, day: dt.date) -> dict[str, Any] | None:
    """The last successful accounting record of a partition, if any."""
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
    accept_smaller_resend: bool = False,
    run_id: str | None = None,
    append: bool = False,
) -> dict[str, Any]:
    """Ingest ``contract``'s files for ``day`` and return the partition's accounting record.

    ``accept_smaller_resend`` confirms a re-send that leaves the partition with fewer than
    half its rows (or none), which is otherwise refused with :class:`SmallerResend`.
    ``append`` reads only newly landed files when the partition allows it (module docstring);
    without it, a partition holding appended parts is ingested whole into one file.
    """
    run_id = run_id or uuid.uuid4().hex
    started = _now()
    attempt = {
        "table": contract.table,
        "dt": day.isoformat(),
        "run_id": run_id,
        "started_at": started,
    }
    try:
        # The live path (live/) and the daily pipeline may ingest the same partition at
        # once; one at a time, each re-reads the landing folder under the lock.
        with lake.locked_folder(paths.ingestion_log / contract.table):
            return _ingest_locked(
                contract, day, paths, attempt, force, accept_smaller_resend, append
            )
    except Exception as error:
        failure = {
            "status": "failed",
            "error": f"{type(error).__name__}: {error}",
            "finished_at": _now(),
        }
        if isinstance(error, SmallerResend):
            failure["blocked"] = "smaller_resend"
        lake.append_jsonl(runs_path(paths), {**attempt, **failure})
        raise


def _ingest_locked(
    contract: Contract,
    day: dt.date,
    paths: Paths,
    attempt: dict[str, Any],
    force: bool,
    accept_smaller_resend: bool,
    append: bool,
) -> dict[str, Any]:
    """:func:`ingest_partition`'s work, with the table's ingestion lock held."""
    clock = time.perf_counter()
    files = landing_files(paths, contract, day)
    if not files and not contract.quiet_days:
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
    intact = (
        not force
        and previous is not None
        and previous["contract"] == contract.fingerprint()
        and _layout_on_disk(paths, contract.table, day) == _layout_logged(previous)
    )
    log = None
    if intact and previous is not None:
        known = set(_identities(previous["files"]))
        new = [
            (file, entry)
            for file, entry in zip(files, inventory, strict=True)
            if _identities([entry])[0] not in known
        ]
        if not new and known == set(_identities(inventory)):
            if append or previous.get("parts", [lake.PART_FILE]) == [lake.PART_FILE]:
                lake.append_jsonl(
                    runs_path(paths), {**attempt, "status": "skipped", "finished_at": _now()}
                )
                return {**previous, "status": "skipped"}
        elif append and known <= set(_identities(inventory)):
            log = _append(contract, day, paths, new, previous)
    if log is None:
        log = _ingest(contract, day, paths, files, inventory, previous, accept_smaller_resend)
    log.update(
        run_id=attempt["run_id"],
        started_at=attempt["started_at"],
        finished_at=_now(),
        duration_s=round(time.perf_counter() - clock, 3),
    )
    lake.write_json(log_path(paths, contract.table, day), log)
    lake.append_jsonl(runs_path(paths), {**attempt, **_summary(log)})
    return log


def _layout_on_disk(paths: Paths, table: str, day: dt.date) -> tuple[list[str], list[str]]:
    """The part files of a partition and of its quarantine."""
    return (
        lake.parts(paths.raw_partition(table, day)),
        lake.parts(paths.quarantine_partition(table, day)),
    )


def _layout_logged(log: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The part files an accounting record says the partition has (older records: one)."""
    quarantine = [lake.PART_FILE] if log["rows_quarantined"] else []
    return log.get("parts", [lake.PART_FILE]), log.get("quarantine_parts", quarantine)


def _identities(files: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """What identifies a delivery: each file's path, hash and size (not its counts)."""
    return [(entry["path"], entry["sha256"], entry["bytes"]) for entry in files]


def _summary(log: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "status",
        "mode",
        "finished_at",
        "rows_read",
        "rows_written",
        "rows_quarantined",
        "duplicates_dropped",
        "withdrawn_keys",
    )
    return {key: log[key] for key in keys}


def _read_files(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    files: list[Path],
    inventory: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Load ``files`` into ``con`` for :func:`validate`; each file's inventory entry, as read.

    One file at a time: Python holds one file's records, DuckDB all of them.
    """
    prepare(con, contract)
    entries = []
    for file, entry in zip(files, inventory, strict=True):
        read = read_file(file, contract, entry["path"])
        append(con, read.records, read.rejects)
        entries.append(
            {
                **entry,
                "outcome": read.outcome,
                "rows_read": read.rows_read,
                "warnings": read.warnings,
            }
        )
        del read
    return entries


def _connect(spill: Path) -> duckdb.DuckDBPyConnection:
    """The pipeline's DuckDB, spilling what exceeds its memory limit to ``spill``."""
    return duckdb.connect(config={**duckdb_config(), "temp_directory": str(spill)})


def _ingest(
    contract: Contract,
    day: dt.date,
    paths: Paths,
    files: list[Path],
    inventory: list[dict[str, Any]],
    previous: dict[str, Any] | None,
    accept_smaller_resend: bool,
) -> dict[str, Any]:
    staged_rows = staged_quarantine = None
    # DuckDB spills what exceeds its memory limit here (beside the lake, removed afterwards).
    spill = lake.staging_path(paths.staging, ".duckdb.tmp")
    raw_file = paths.raw_partition(contract.table, day) / lake.PART_FILE
    try:
        with _connect(spill) as con:
            entries = _read_files(con, contract, files, inventory)
            counts = validate(con, contract, day)
            files_log = _check_books(contract, day, entries, counts)
            previous_written = previous["rows_written"] if previous else None
            if previous_written and not accept_smaller_resend:
                _refuse_a_smaller_resend(contract, day, previous, files_log, counts)
            withdrawn = withdrawn_keys(con, contract, raw_file, WITHDRAWN_SAMPLE)
            staged_rows = lake.stage_parquet(con, "valid_rows", paths.staging)
            if counts.rows_quarantined:
                staged_quarantine = lake.stage_parquet(con, "quarantined_rows", paths.staging)
        quarantine_dir = paths.quarantine_partition(contract.table, day)
        if staged_quarantine is not None:
            lake.publish(staged_quarantine, quarantine_dir)
            staged_quarantine = None
        else:
            lake.unpublish(quarantine_dir)
        lake.publish(staged_rows, paths.raw_partition(contract.table, day))
        staged_rows = None
    finally:
        lake.discard(staged_rows, staged_quarantine)
        shutil.rmtree(spill, ignore_errors=True)
    return {
        "table": contract.table,
        "source": contract.source,
        "dt": day.isoformat(),
        "status": "ingested",
        "mode": "full",
        "contract": contract.fingerprint(),
        "delivery": contract.delivery,
        "files": files_log,
        "parts": [lake.PART_FILE],
        "quarantine_parts": [lake.PART_FILE] if counts.rows_quarantined else [],
        "rows_read": sum(entry["rows_read"] for entry in files_log),
        "rows_written": counts.rows_written,
        "rows_quarantined": counts.rows_quarantined,
        "quarantined_by_reason": counts.quarantined_by_reason,
        "duplicates_dropped": counts.duplicates_dropped,
        "duplicates_by_kind": counts.duplicates_by_kind,
        "late_rows": counts.late_rows,
        "previous_rows_written": previous_written,
        "smaller_resend_accepted": bool(
            previous_written and _is_much_smaller(counts.rows_written, previous_written)
        ),
        "withdrawn_keys": withdrawn[0],
        "withdrawn_key_sample": withdrawn[1],
        "warnings": _warnings(files_log),
    }


def _warnings(files_log: list[dict[str, Any]]) -> list[str]:
    return [f"{entry['path']}: {warning}" for entry in files_log for warning in entry["warnings"]]


def _append(
    contract: Contract,
    day: dt.date,
    paths: Paths,
    new: list[tuple[Path, dict[str, Any]]],
    previous: dict[str, Any],
) -> dict[str, Any] | None:
    """Add the rows of ``new`` files to the partition as one more part, or return None.

    None when a new row's key is already in the partition: the caller then ingests it whole.

    The new part is published before the accounting record that lists it is written: a crash
    in between leaves a part the record does not list, and the next ingestion of the
    partition, seeing it, ingests the partition whole.
    """
    raw_dir = paths.raw_partition(contract.table, day)
    quarantine_dir = paths.quarantine_partition(contract.table, day)
    raw_parts, quarantine_parts = _layout_logged(previous)
    name = lake.part_name(1 + max(_part_number(part) for part in raw_parts + quarantine_parts))
    staged_rows = staged_quarantine = None
    spill = lake.staging_path(paths.staging, ".duckdb.tmp")
    try:
        with _connect(spill) as con:
            entries = _read_files(con, contract, [f for f, _ in new], [e for _, e in new])
            counts = validate(con, contract, day)
            files_log = _check_books(contract, day, entries, counts)
            if keys_taken(con, contract, [raw_dir / part for part in raw_parts]):
                return None
            if counts.rows_written:
                staged_rows = lake.stage_parquet(con, "valid_rows", paths.staging)
            if counts.rows_quarantined:
                staged_quarantine = lake.stage_parquet(con, "quarantined_rows", paths.staging)
        if staged_quarantine is not None:
            lake.publish(staged_quarantine, quarantine_dir, name)
            staged_quarantine = None
            quarantine_parts = [*quarantine_parts, name]
        if staged_rows is not None:
            lake.publish(staged_rows, raw_dir, name)
            staged_rows = None
            raw_parts = [*raw_parts, name]
    finally:
        lake.discard(staged_rows, staged_quarantine)
        shutil.rmtree(spill, ignore_errors=True)
    all_files = sorted([*previous["files"], *files_log], key=lambda entry: entry["path"])
    return {
        **previous,
        "status": "ingested",
        "mode": "append",
        "files": all_files,
        "parts": raw_parts,
        "quarantine_parts": quarantine_parts,
        "rows_read": previous["rows_read"] + sum(entry["rows_read"] for entry in files_log),
        "rows_written": previous["rows_written"] + counts.rows_written,
        "rows_quarantined": previous["rows_quarantined"] + counts.rows_quarantined,
        "quarantined_by_reason": _add(
            previous["quarantined_by_reason"], counts.quarantined_by_reason
        ),
        "duplicates_dropped": previous["duplicates_dropped"] + counts.duplicates_dropped,
        "duplicates_by_kind": _add(previous["duplicates_by_kind"], counts.duplicates_by_kind),
        "late_rows": previous["late_rows"] + counts.late_rows,
        "previous_rows_written": previous["rows_written"],
        "smaller_resend_accepted": False,
        "withdrawn_keys": 0,
        "withdrawn_key_sample": [],
        "warnings": _warnings(all_files),
    }


def _part_number(name: str) -> int:
    return int(name.removeprefix("part-").removesuffix(".parquet"))


def _add(first: dict[str, int], second: dict[str, int]) -> dict[str, int]:
    """Two count maps summed, keys sorted as the books write them."""
    total = Counter(first)
    total.update(second)
    return {key: total[key] for key in sorted(total)}


def _check_books(
    contract: Contract, day: dt.date, entries: list[dict[str, Any]], counts: Counts
) -> list[dict[str, Any]]:
    """Each file's accounting entry; :class:`AccountingError` unless every file balances.

    Per file: rows read = rows written + rows quarantined + duplicates dropped (a dropped
    copy is charged to the file it came from). The partition's totals are these sums.
    """
    known = {entry["path"] for entry in entries}
    strangers = sorted(set(counts.files) - known)
    unbalanced = []
    files_log = []
    for entry in entries:
        file_counts = counts.files.get(entry["path"], FileCounts())
        if file_counts.rows_accounted != entry["rows_read"]:
            unbalanced.append(
                f"{entry['path']}: read {entry['rows_read']}, "
                f"accounted for {file_counts.rows_accounted} ({file_counts})"
            )
        files_log.append(
            {
                **entry,
                "rows_written": file_counts.rows_written,
                "rows_quarantined": file_counts.rows_quarantined,
                "quarantined_by_reason": file_counts.quarantined_by_reason,
                "duplicates_dropped": file_counts.duplicates_dropped,
                "duplicates_by_kind": file_counts.duplicates_by_kind,
            }
        )
    if strangers or unbalanced:
        problems = unbalanced + [f"rows of a file that was not read: {name}" for name in strangers]
        raise AccountingError(
            f"{contract.table} {day}: the books do not balance; nothing was published. "
            + "; ".join(problems)
        )
    return files_log


def _is_much_smaller(rows_written: int, previous_written: int) -> bool:
    return rows_written == 0 or rows_written < previous_written * SMALLER_RESEND_LIMIT


def _refuse_a_smaller_resend(
    contract: Contract,
    day: dt.date,
    previous: dict[str, Any],
    files_log: list[dict[str, Any]],
    counts: Counts,
) -> None:
    """Raise :class:`SmallerResend` when the new delivery would shrink the partition too far."""
    before = int(previous["rows_written"])
    if not _is_much_smaller(counts.rows_written, before):
        return
    now = "; ".join(_describe_file(entry) for entry in files_log)
    earlier = "; ".join(
        f"{entry['path']} ({entry['bytes']:,} bytes)" for entry in previous.get("files", [])
    )
    one_day = f"--start {day} --end {day}"
    raise SmallerResend(
        f"{contract.table} {day}: the re-sent delivery would replace {before:,} rows with "
        f"{counts.rows_written:,} (limit: at least {SMALLER_RESEND_LIMIT:.0%} of the rows, "
        f"never none). Delivered now: {now}. Before: {earlier}. Nothing was published: the "
        f"lake keeps the previous partition. Check the files with the source; if the smaller "
        f"delivery is right, run `cityops run {one_day} --accept-smaller-resend`, otherwise "
        "ask the source to send the day again."
    )


def _describe_file(entry: dict[str, Any]) -> str:
    parts = [f"{entry['bytes']:,} bytes", f"{entry['rows_read']:,} read"]
    parts.append(f"{entry['rows_written']:,} written")
    for reason, n in entry["quarantined_by_reason"].items():
        parts.append(f"{n:,} {reason}")
    parts += entry["warnings"]
    return f"{entry['path']} ({', '.join(parts)})"


def iter_runs(paths: Paths) -> Iterator[dict[str, Any]]:
    """Every recorded ingestion attempt, oldest first."""
    path = runs_path(paths)
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)
