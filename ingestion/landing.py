"""The landing folder: which delivery days and files exist, and what lies there unread.

Sources deliver into ``landing/<source>/<YYYY-MM-DD>/``. Every listing of landing days goes
through :func:`parse_day_folder`, one strict parser: ``20240704`` (which Python's
``date.fromisoformat`` accepts) and ``2024-13-45`` are not day folders. Whatever is not read,
such a folder or a file that matches no contract, is reported by :func:`landing_problems`
and recorded in ``lake/_ingestion_log/landing_problems.json``, never silently skipped.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ingestion import lake
from ingestion.contract import Contract
from ingestion.settings import Paths

_DAY_FOLDER = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_BASIC_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
# Files under landing/ that belong to no source: the generator's description of its output.
LANDING_METADATA = ("_manifest.json",)

# Problem kinds, as recorded and shown by `cityops status`.
UNKNOWN_SOURCE = "unknown_source"  # a folder under landing/ that no contract reads
NOT_A_DAY_FOLDER = "not_a_day_folder"  # under landing/<source>/, not a YYYY-MM-DD folder
STRAY_FILE = "stray_file"  # a file outside any day folder
UNMATCHED_FILE = "unmatched_file"  # in a day folder, matching no contract of the source
HIDDEN_FILE = "hidden_file"  # a dot file in a day folder: an unfinished transfer, or debris


def parse_day_folder(name: str) -> dt.date | None:
    """The delivery day a landing folder is named after (strictly ``YYYY-MM-DD``), else None."""
    if not _DAY_FOLDER.fullmatch(name):
        return None
    try:
        return dt.date.fromisoformat(name)
    except ValueError:  # 2024-13-45: the right shape, no such day
        return None


def _sources() -> dict[str, list[Contract]]:
    from ingestion.sources import CONTRACTS

    by_source: dict[str, list[Contract]] = {}
    for contract in CONTRACTS:
        by_source.setdefault(contract.source, []).append(contract)
    return by_source


def day_folders(paths: Paths, source: str) -> list[tuple[dt.date, Path]]:
    """The valid day folders of one source, oldest first."""
    root = paths.landing / source
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        day = parse_day_folder(folder.name)
        if day is not None and folder.is_dir():
            found.append((day, folder))
    return sorted(found)


def landing_files(paths: Paths, contract: Contract, day: dt.date) -> list[Path]:
    """The delivered files of one contract and day, in delivery (name) order."""
    folder = paths.landing_day(contract.source, day)
    return sorted(folder.glob(contract.file_glob)) if folder.is_dir() else []


def landing_days(paths: Paths, contract: Contract) -> list[dt.date]:
    """Days for which the contract's source delivered at least one matching file.

    An event feed that sends nothing on a quiet day (``Contract.quiet_days``) has a partition
    for every day any source delivered: its quiet days are empty deliveries, not missing ones.
    """
    if contract.quiet_days:
        return sorted(
            {
                day
                for source in _sources()
                for day, folder in day_folders(paths, source)
                if any(folder.iterdir())
            }
        )
    return [
        day
        for day, folder in day_folders(paths, contract.source)
        if any(folder.glob(contract.file_glob))
    ]


def landing_fingerprints(paths: Paths) -> dict[str, str]:
    """Per landing day (ISO date), a digest of every file delivered for it, all sources.

    The digest covers each file's source, name, size and modification time, so a new or
    re-sent file changes its day's digest: what the landing sensor watches.
    """
    entries: dict[str, list[str]] = {}
    if not paths.landing.exists():
        return {}
    for source in sorted(p for p in paths.landing.iterdir() if p.is_dir()):
        for day, folder in day_folders(paths, source.name):
            for file in sorted(p for p in folder.iterdir() if p.is_file()):
                stat = file.stat()
                entries.setdefault(day.isoformat(), []).append(
                    f"{source.name}/{file.name}:{stat.st_size}:{stat.st_mtime_ns}"
                )
    return {
        day: hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]
        for day, lines in sorted(entries.items())
    }


@dataclass(frozen=True)
class LandingProblem:
    """Something under ``landing/`` that no ingestion reads, and why."""

    path: str  # relative to landing/, folders ending with "/"
    kind: str
    detail: str


def _day_folder_problem(name: str) -> str:
    basic = _BASIC_DATE.fullmatch(name)
    if basic is not None:
        suggestion = "-".join(basic.groups())
        if parse_day_folder(suggestion) is not None:
            return f"not a YYYY-MM-DD folder name: rename it to {suggestion}"
    if _DAY_FOLDER.fullmatch(name):
        return "not a calendar date: nothing in it is ingested"
    return "not a YYYY-MM-DD day folder: nothing in it is ingested"


def landing_problems(paths: Paths) -> list[LandingProblem]:
    """Every folder and file under ``landing/`` that ingestion does not read, with the reason."""
    if not paths.landing.is_dir():
        return []
    by_source = _sources()
    problems = []
    for entry in sorted(paths.landing.iterdir()):
        relative = entry.name
        if entry.is_file():
            if entry.name not in LANDING_METADATA:
                detail = "a file outside any source folder: not ingested"
                problems.append(LandingProblem(relative, STRAY_FILE, detail))
            continue
        contracts = by_source.get(entry.name)
        if contracts is None:
            known = ", ".join(sorted(by_source))
            detail = f"no source of that name (sources: {known}): not ingested"
            problems.append(LandingProblem(f"{relative}/", UNKNOWN_SOURCE, detail))
            continue
        problems += _source_problems(entry, contracts)
    return problems


def _source_problems(root: Path, contracts: list[Contract]) -> list[LandingProblem]:
    problems = []
    globs = sorted({contract.file_glob for contract in contracts})
    for entry in sorted(root.iterdir()):
        relative = f"{root.name}/{entry.name}"
        if not entry.is_dir():
            detail = "a file outside any day folder: not ingested"
            problems.append(LandingProblem(relative, STRAY_FILE, detail))
            continue
        if parse_day_folder(entry.name) is None:
            detail = _day_folder_problem(entry.name)
            problems.append(LandingProblem(f"{relative}/", NOT_A_DAY_FOLDER, detail))
            continue
        for item in sorted(entry.iterdir()):
            path = f"{relative}/{item.name}"
            if item.name.startswith("."):
                detail = "a hidden file (an unfinished transfer, or debris): not ingested"
                problems.append(LandingProblem(path, HIDDEN_FILE, detail))
            elif not item.is_file():
                detail = "a folder inside a day folder: not ingested"
                problems.append(LandingProblem(f"{path}/", UNMATCHED_FILE, detail))
            elif not any(fnmatch.fnmatchcase(item.name, glob) for glob in globs):
                detail = f"matches no {root.name} file name ({', '.join(globs)}): not ingested"
                problems.append(LandingProblem(path, UNMATCHED_FILE, detail))
    return problems


def problems_path(paths: Paths) -> Path:
    """Where the last scan of the landing folder is recorded."""
    return paths.ingestion_log / "landing_problems.json"


def record_landing_problems(paths: Paths) -> list[LandingProblem]:
    """Scan ``landing/`` and record what is not read in ``landing_problems.json`` (atomic).

    Without a landing folder there is nothing to scan, and nothing is written.
    """
    if not paths.landing.is_dir():
        return []
    problems = landing_problems(paths)
    document: dict[str, Any] = {
        "checked_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "problems": [asdict(problem) for problem in problems],
    }
    lake.write_json(problems_path(paths), document)
    return problems
