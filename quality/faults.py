"""Delivery faults per lake partition: what ingestion quarantined, de-duplicated or saw late.

The ingestion engine already stops every bad record (it goes to quarantine with its reason,
see :mod:`ingestion.contract`); this check decides whether a day's share of them is normal
noise or a problem someone must look at. It reads the partition's accounting record and
judges every fault kind the generator plants and the engine recognises:

- **file-level faults** (``encoding_mismatch``, ``schema_mismatch``, ``truncated_file``):
  any at all fails with WARN. The delivery needs to be re-sent; nothing is lost, the
  quarantine holds the file's records with their reason.
- **record faults** (``malformed_record``, ``missing_required``, ``invalid_type``,
  ``invalid_format``, ``unknown_code``, ``out_of_range``): a share of the rows read above
  ``warn_share`` (and at least ``warn_min`` rows) fails with WARN; above ``error_share`` (and
  at least ``error_min`` rows) with ERROR, because a partition that silently lacks a tenth of
  its records would publish plausible-looking but wrong figures (usually a contract that no
  longer matches the source: a new code list, a changed unit). The minimum counts keep one
  bad licence in a feed of three from paging anyone.
- **duplicates and late records** (``exact_duplicate``, ``superseded_version``,
  ``late_record``): resolved by ingestion, so never ERROR; above ``warn_share`` (and
  ``warn_min``) a WARN says the source is re-sending or holding back more than usual.

A partition without an accounting record passes here: the volume check owns missing
partitions (and fails them with ERROR).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ingestion.contract import (
    ENCODING_MISMATCH,
    EXACT_DUPLICATE,
    REASONS,
    SCHEMA_MISMATCH,
    SUPERSEDED_VERSION,
    TRUNCATED_FILE,
)
from ingestion.pipeline import read_log
from ingestion.settings import Paths

ERROR = "ERROR"
WARN = "WARN"
LATE_RECORD = "late_record"

FILE_FAULTS = (ENCODING_MISMATCH, SCHEMA_MISMATCH, TRUNCATED_FILE)
RECORD_FAULTS = tuple(reason for reason in REASONS if reason not in FILE_FAULTS)
RESOLVED_FAULTS = (EXACT_DUPLICATE, SUPERSEDED_VERSION, LATE_RECORD)
FAULT_KINDS = (*FILE_FAULTS, *RECORD_FAULTS, *RESOLVED_FAULTS)


@dataclass(frozen=True)
class FaultResult:
    """The outcome of one table-day fault check."""

    table: str
    day: dt.date
    passed: bool
    severity: str
    rows_read: int | None
    counts: dict[str, int] = field(default_factory=dict)
    over: dict[str, str] = field(default_factory=dict)  # kind → why it fails

    @property
    def reason(self) -> str:
        """A one-line summary."""
        if self.rows_read is None:
            return "no accounting record (the volume check reports missing partitions)"
        if not self.over:
            found = ", ".join(f"{kind} {n}" for kind, n in self.counts.items() if n)
            return f"within tolerance ({found or 'no faults'} of {self.rows_read} rows read)"
        return "; ".join(f"{kind}: {why}" for kind, why in self.over.items())


def fault_counts(log: dict) -> dict[str, int]:
    """Count per fault kind from an accounting record (all kinds, zeros included)."""
    counts = dict.fromkeys(FAULT_KINDS, 0)
    for kind, n in (log.get("quarantined_by_reason") or {}).items():
        counts[kind] = counts.get(kind, 0) + int(n)
    for kind, n in (log.get("duplicates_by_kind") or {}).items():
        counts[kind] = counts.get(kind, 0) + int(n)
    counts[LATE_RECORD] = int(log.get("late_rows") or 0)
    return counts


def judge(
    table: str,
    day: dt.date,
    log: dict | None,
    *,
    warn_share: float = 0.01,
    error_share: float = 0.10,
    warn_min: int = 3,
    error_min: int = 10,
) -> FaultResult:
    """Judge one accounting record; see the module docstring for the rules."""
    if log is None:
        return FaultResult(table, day, True, WARN, None)
    rows_read = int(log.get("rows_read") or 0)
    counts = fault_counts(log)
    over: dict[str, str] = {}
    severity = WARN
    for kind, n in counts.items():
        if not n:
            continue
        share = n / rows_read if rows_read else 1.0
        if kind in FILE_FAULTS:
            over[kind] = f"{n} rows, the delivery must be re-sent"
        elif share > error_share and n >= error_min and kind not in RESOLVED_FAULTS:
            over[kind] = f"{n} rows = {share:.1%} of {rows_read} > {error_share:.0%}"
            severity = ERROR
        elif share > warn_share and n >= warn_min:
            over[kind] = f"{n} rows = {share:.1%} of {rows_read} > {warn_share:.0%}"
    return FaultResult(table, day, not over, severity, rows_read, counts, over)


def check_faults(paths: Paths, table: str, day: dt.date, **tolerances: float) -> FaultResult:
    """Judge the accounting record of one lake partition."""
    return judge(table, day, read_log(paths, table, day), **tolerances)
