"""Helpers shared by every source: seeded randomness, formatting and deterministic file output."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from ingestion import files
from ingestion.contract import Contract
from ingestion.settings import Paths

TIMESTAMP = "%Y-%m-%d %H:%M:%S"
# Minutes per IoT readings batch: divisors of an hour and multiples of the finest cadence
# (5 minutes), so every batch holds readings. 60 is one file per hour, as before version 3.
BATCH_MINUTES = (5, 10, 15, 20, 30, 60)


@dataclass(frozen=True)
class Config:
    """The arguments of one ``generate`` run, passed to every worker."""

    home: Path
    start: date
    days: int
    seed: int
    scale: float
    fault_rate: float
    batch_minutes: int = 5

    @property
    def window(self) -> list[date]:
        """Every delivery day of the run, in order."""
        return [self.start + timedelta(days=i) for i in range(self.days)]

    @property
    def end(self) -> date:
        """The last delivery day."""
        return self.start + timedelta(days=self.days - 1)

    def scaled(self, base: float, minimum: int = 1) -> int:
        """``base`` people, devices or records at this run's scale, never fewer than ``minimum``."""
        return max(minimum, round(base * self.scale))


def _part(value: object) -> int:
    """A stable non-negative integer for one part of a seed path (``hash()`` is salted)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, date):
        return value.toordinal()
    return int.from_bytes(hashlib.sha256(str(value).encode()).digest()[:8], "little")


def seed_sequence(seed: int, *parts: object) -> np.random.SeedSequence:
    """The :class:`numpy.random.SeedSequence` of one (seed, table, day, …) stream.

    Each day and table has its own stream, so generating a different window never shifts
    the random numbers of a day both windows share.
    """
    return np.random.SeedSequence([_part(seed), *(_part(p) for p in parts)])


def np_rng(seed: int, *parts: object) -> np.random.Generator:
    """A numpy Generator for vectorised draws of one stream."""
    return np.random.default_rng(seed_sequence(seed, *parts))


def py_rng(seed: int, *parts: object) -> random.Random:
    """A ``random.Random`` for per-record loops, seeded from the same SeedSequence family.

    Scalar draws from ``random.Random`` are ~10x cheaper than numpy scalar calls, which
    matters for the 40,000 work orders and cases simulated record by record.
    """
    state = seed_sequence(seed, *parts, "py").generate_state(4, dtype=np.uint64)
    return random.Random(int.from_bytes(state.tobytes(), "little"))


def fmt_ts(value: datetime | None) -> str | None:
    """``YYYY-MM-DD HH:MM:SS`` (Beijing time, no zone suffix, as the sources write it)."""
    return None if value is None else value.strftime(TIMESTAMP)


def csv_line(values: Iterable[object]) -> str:
    """One CSV record (QUOTE_MINIMAL, no line ending); ``None`` becomes the empty string."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="", quoting=csv.QUOTE_MINIMAL).writerow(
        "" if v is None else v for v in values
    )
    return buffer.getvalue()


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A whole CSV document with a header, LF line endings and a trailing newline."""
    lines = [csv_line(header), *(csv_line(row) for row in rows)]
    return "\n".join(lines) + "\n"


def headers(contract: Contract) -> list[str]:
    """The delivered header names (``Field.source``) in contract order."""
    return [f.source for f in contract.fields]


def gzip_bytes(data: bytes) -> bytes:
    """Gzip with mtime 0 so the same content always gives the same bytes."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def file_entry(rel_path: str, data: bytes, records: int, landed_at: datetime) -> dict[str, object]:
    """The manifest row of one delivered file; ``landed_at`` is aware (Beijing time)."""
    return {
        "path": rel_path,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "records": records,
        "landed_at": landed_at.isoformat(),
    }


def write_delivery(
    config: Config,
    source: str,
    day: date,
    name: str,
    data: bytes,
    records: int,
    *,
    landed_at: datetime,
) -> dict[str, object]:
    """Write one file into ``landing/<source>/<day>/`` and return its manifest row.

    The bytes go to a hidden temporary name first and are renamed into place, so a reader
    polling the landing folder never sees half a file. ``landed_at`` is when the platform
    would deliver it (:mod:`demo.landing_times`).
    """
    paths = Paths(config.home)
    folder = paths.landing_day(source, day)
    folder.mkdir(parents=True, exist_ok=True)
    target = files.write_bytes(folder / name, data)
    return file_entry(target.relative_to(paths.landing).as_posix(), data, records, landed_at)


def fault_entry(table: str, day: date, kind: str, count: int, rel_path: str) -> dict[str, object]:
    """The manifest row of the faults of one kind planted in one table, day and file."""
    return {"table": table, "date": day.isoformat(), "kind": kind, "count": count, "file": rel_path}


def rel(source: str, day: date, name: str) -> str:
    """A path relative to the landing folder."""
    return f"{source}/{day.isoformat()}/{name}"
