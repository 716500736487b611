"""Daily change feeds (12345 orders, grid cases) and the faults planted in them.

An entity (an order, a case) is a list of timed events, each setting some fields. The file of
day *d* holds every entity with an event on *d*, in its state at the end of *d*, with
``updated_at`` = its latest event time (domain.md §4.2–4.3: the platforms export what changed).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from demo.common import Config, fault_entry, py_rng, rel, write_delivery
from demo.faults import LATE_RECORD, fault_count, truncate
from demo.landing_times import next_day
from ingestion.contract import (
    ENCODING_MISMATCH,
    EXACT_DUPLICATE,
    MALFORMED_RECORD,
    SUPERSEDED_VERSION,
    TRUNCATED_FILE,
    UNKNOWN_CODE,
)

Record = dict[str, object]
Pair = tuple["Entity", Record]


@dataclass
class Entity:
    """One order or case: its key, its timed field updates, and its incident (if any)."""

    key: str
    events: list[tuple[datetime, Record]] = field(default_factory=list)
    incident: str | None = None

    def add(self, moment: datetime, **updates: object) -> datetime:
        """Record an event (events must be added in time order) and return its time."""
        if self.events and moment < self.events[-1][0]:
            raise ValueError(f"{self.key}: event at {moment} before {self.events[-1][0]}")
        self.events.append((moment, updates))
        return moment

    @property
    def days(self) -> set[date]:
        """Days on which the entity changes."""
        return {moment.date() for moment, _ in self.events}

    def snapshots(self, days: Iterable[date]) -> dict[date, Record]:
        """The state at the end of each of ``days`` on which the entity changed."""
        wanted = set(days)
        state: Record = {}
        out: dict[date, Record] = {}
        for k, (moment, updates) in enumerate(self.events):
            state.update(updates)
            day = moment.date()
            following = self.events[k + 1][0].date() if k + 1 < len(self.events) else None
            if day in wanted and following != day:
                out[day] = {**state, "updated_at": moment}
        return out


@dataclass(frozen=True)
class FeedFormat:
    """How one change feed is written and how its records are broken."""

    table: str
    source: str
    encoding: str
    header: str | None  # the header line of a CSV feed; None for JSON Lines
    main_name: Callable[[date], str]
    resend_name: Callable[[date], str]
    serialize: Callable[[Record], str]
    malformed: Callable[[Record, random.Random], str]
    unknown_code: Callable[[Record], Record]
    perturb: Callable[[Record, random.Random], Record | None]  # a wrong-but-valid version


@dataclass
class _Line:
    sort: tuple[object, ...]
    text: str
    clean: bool  # a valid record carrying no fault (may be truncated on the truncation day)


def write_feed(
    config: Config,
    fmt: FeedFormat,
    entities: list[Entity],
    eve: list[Entity],
    encoding_day: date | None,
    truncated_day: date | None,
) -> dict[str, object]:
    """Write the feed files of every day of the window and plant its faults.

    ``eve`` are entities simulated on the day before the window; those at rest on that day
    are the source of the first day's late records.
    """
    records: dict[date, list[Pair]] = {d: [] for d in config.window}
    for entity in entities:
        for day, record in entity.snapshots(config.window).items():
            records[day].append((entity, record))
    base_count, late_in = _hold_back_late(config, fmt, records, eve, encoding_day)
    files: list[dict[str, object]] = []
    faults: list[dict[str, object]] = []
    for day in config.window:
        special = ENCODING_MISMATCH if day == encoding_day else None
        if day == truncated_day:
            special = TRUNCATED_FILE
        n = 0 if special == ENCODING_MISMATCH else fault_count(config.fault_rate, base_count[day])
        day_files, day_faults = _write_day(config, fmt, day, records[day], late_in[day], n, special)
        files += day_files
        faults += day_faults
    return {"files": files, "faults": faults, "records": sum(int(f["records"]) for f in files)}


def _hold_back_late(
    config: Config,
    fmt: FeedFormat,
    records: dict[date, list[Pair]],
    eve: list[Entity],
    encoding_day: date | None,
) -> tuple[dict[date, int], dict[date, list[Pair]]]:
    """Move late records: a record of day d-1 held back and delivered with day d.

    On the first day they come from the eve of the window; those entities then live on in
    later files. Returns each day's record count before the moves, and the late records.
    """
    window = config.window
    rate = config.fault_rate
    late_in: dict[date, list[Pair]] = {d: [] for d in window}
    first = window[0]
    k = fault_count(rate, len(records[first]))
    if k and first != encoding_day:
        eve_day = first - timedelta(days=1)
        pool = [e for e in eve if e.incident is None and first not in e.days]
        picked = py_rng(config.seed, fmt.table, "late", first).sample(pool, min(k, len(pool)))
        for entity in sorted(picked, key=lambda e: e.key):
            late_in[first].append((entity, entity.snapshots([eve_day])[eve_day]))
            for later, record in entity.snapshots(window).items():
                records[later].append((entity, record))
    base_count = {d: len(records[d]) for d in window}
    for position, day in enumerate(window[1:], start=1):
        k = fault_count(rate, base_count[day])
        if k == 0 or day == encoding_day:
            continue
        today = {e.key for e, _ in records[day]}
        before = records[window[position - 1]]
        pool = [i for i, (e, _) in enumerate(before) if e.incident is None and e.key not in today]
        chosen = set(py_rng(config.seed, fmt.table, "late", day).sample(pool, min(k, len(pool))))
        late_in[day] = [before[i] for i in sorted(chosen)]
        records[window[position - 1]] = [r for i, r in enumerate(before) if i not in chosen]
    return base_count, late_in


def _write_day(
    config: Config,
    fmt: FeedFormat,
    day: date,
    records: list[Pair],
    late_in: list[Pair],
    n: int,
    special: str | None,
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Write one day's main file (and its re-send), planting ``n`` faults of each kind.

    ``special`` is the file-level fault of the day, if any. Returns files and faults.
    """
    rng = py_rng(config.seed, fmt.table, "faults", day)
    todo = list(range(len(records)))
    rng.shuffle(todo)
    kinds: dict[int, str] = {}
    planted: dict[str, int] = {}
    for kind in (SUPERSEDED_VERSION, MALFORMED_RECORD, UNKNOWN_CODE, EXACT_DUPLICATE):
        got = 0
        for i in todo:
            if got == n:
                break
            entity, record = records[i]
            if i in kinds or entity.incident is not None:
                continue
            if kind == SUPERSEDED_VERSION and not _can_resend(record, fmt):
                continue
            kinds[i] = kind
            got += 1
        if got:
            planted[kind] = got

    lines: list[_Line] = []
    resend: list[_Line] = []
    for i, (entity, record) in enumerate(records):
        sort = (record["updated_at"], entity.key)
        kind = kinds.get(i)
        if kind == SUPERSEDED_VERSION:
            wrong = fmt.perturb(record, rng)
            assert wrong is not None
            corrected = {**record, "updated_at": _resent_at(record, rng)}
            lines.append(_Line(sort, fmt.serialize(wrong), False))
            resend.append(
                _Line((corrected["updated_at"], entity.key), fmt.serialize(corrected), False)
            )
        elif kind == MALFORMED_RECORD:
            lines.append(_Line(sort, fmt.malformed(record, rng), False))
        elif kind == UNKNOWN_CODE:
            lines.append(_Line(sort, fmt.serialize(fmt.unknown_code(record)), False))
        elif kind == EXACT_DUPLICATE:
            text = fmt.serialize(record)
            lines.append(_Line(sort, text, False))
            lines.append(_Line((*sort, 1), text, False))
        else:
            lines.append(_Line(sort, fmt.serialize(record), entity.incident is None))
    for entity, record in late_in:
        lines.append(_Line((record["updated_at"], entity.key), fmt.serialize(record), False))
    if late_in:
        planted[LATE_RECORD] = len(late_in)
    lines.sort(key=lambda line: line.sort)

    encoding = fmt.encoding
    texts = [line.text for line in lines]
    ending = "\n"
    if special == ENCODING_MISMATCH:
        encoding = "utf-8"  # the whole file in the wrong encoding
        planted = {ENCODING_MISMATCH: len(lines)}
    elif special == TRUNCATED_FILE:
        clean = [k for k, line in enumerate(lines) if line.clean]
        if clean:
            last = texts.pop(clean[-1])
            texts.append(truncate(last))
            ending = ""  # cut mid-record: no trailing newline
            planted[TRUNCATED_FILE] = 1
    main = fmt.main_name(day)
    body = [fmt.header, *texts] if fmt.header is not None else texts
    data = ("\n".join(body) + ending).encode(encoding)
    files, faults = [], []
    files.append(
        write_delivery(config, fmt.source, day, main, data, len(texts), landed_at=next_day(day))
    )
    for kind, count in sorted(planted.items()):
        if kind != SUPERSEDED_VERSION:
            faults.append(fault_entry(fmt.table, day, kind, count, rel(fmt.source, day, main)))
    if resend:
        resend.sort(key=lambda line: line.sort)
        name = fmt.resend_name(day)
        body = [fmt.header] if fmt.header is not None else []
        body += [line.text for line in resend]
        data = ("\n".join(body) + "\n").encode(fmt.encoding)
        files.append(
            write_delivery(
                config, fmt.source, day, name, data, len(resend), landed_at=next_day(day)
            )
        )
        path = rel(fmt.source, day, name)
        faults.append(fault_entry(fmt.table, day, SUPERSEDED_VERSION, len(resend), path))
    return files, faults


def _can_resend(record: Record, fmt: FeedFormat) -> bool:
    """A correction needs room before midnight and a field that can be plausibly wrong."""
    updated = record["updated_at"]
    assert isinstance(updated, datetime)
    return updated.hour < 22 and fmt.perturb(record, random.Random(0)) is not None


def _resent_at(record: Record, rng: random.Random) -> datetime:
    """The corrected version's 更新时间: 5–60 minutes after the wrong one, the same day."""
    updated = record["updated_at"]
    assert isinstance(updated, datetime)
    return updated + timedelta(minutes=rng.randint(5, 60))
