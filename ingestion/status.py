"""What ``cityops status`` shows: per table and partition, the accounting and the run history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ingestion.landing import landing_days
from ingestion.pipeline import iter_runs, read_log
from ingestion.settings import Paths
from ingestion.sources import CONTRACTS


def partition_status(paths: Paths, table: str | None = None) -> list[dict[str, Any]]:
    """One row per table and day that has landing files, a log or a recorded attempt.

    ``status`` is ``ok`` (ingested and its last attempt succeeded or was skipped), ``failed``
    (the last attempt failed; the previous good partition, if any, is still served; ``blocked``
    says ``smaller_resend`` when a shrinking re-send was refused) or ``pending`` (landing files
    not ingested yet). ``warnings`` and ``files_without_records`` come from the accounting
    record: files that yielded no record, a ``.gz`` that was not gzip, and the like.
    """
    attempts: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for attempt in iter_runs(paths):
        attempts.setdefault((attempt["table"], attempt["dt"]), []).append(attempt)
    rows = []
    for contract in CONTRACTS:
        if table is not None and contract.table != table:
            continue
        days = {day.isoformat() for day in landing_days(paths, contract)}
        days |= {path.stem[3:] for path in (paths.ingestion_log / contract.table).glob("dt=*.json")}
        days |= {day for (name, day) in attempts if name == contract.table}
        for day in sorted(days):
            log = read_log(paths, contract.table, dt.date.fromisoformat(day)) or {}
            history = attempts.get((contract.table, day), [])
            last = history[-1] if history else {}
            failures = [a for a in history if a["status"] == "failed"]
            if last.get("status") == "failed":
                state = "failed"
            elif log:
                state = "ok"
            else:
                state = "pending"
            rows.append(
                {
                    "table": contract.table,
                    "source": contract.source,
                    "dt": day,
                    "status": state,
                    "rows_read": log.get("rows_read"),
                    "rows_written": log.get("rows_written"),
                    "rows_quarantined": log.get("rows_quarantined"),
                    "quarantined_by_reason": log.get("quarantined_by_reason", {}),
                    "duplicates_dropped": log.get("duplicates_dropped"),
                    "late_rows": log.get("late_rows"),
                    "ingested_at": log.get("finished_at"),
                    "last_run_at": last.get("finished_at"),
                    "last_run_status": last.get("status"),
                    "last_error": last.get("error") if last.get("status") == "failed" else None,
                    "blocked": last.get("blocked") if last.get("status") == "failed" else None,
                    "failures": len(failures),
                    "warnings": log.get("warnings", []),
                    "files_without_records": [
                        f"{entry['path']} ({entry['outcome']})"
                        for entry in log.get("files", [])
                        if entry.get("outcome", "read") != "read"
                    ],
                    "withdrawn_keys": log.get("withdrawn_keys"),
                }
            )
    return rows
