"""When each delivered file lands: the manifest's ``landed_at`` and the day's replay schedule.

The fast sources land shortly after what they carry: a readings batch 20–90 s after it closes,
a device alarm 5–50 s after it fires, an hour's weather observations 2–10 min after the hour,
a re-send of corrected readings 10–20 min after its hour. Daily deliveries land the next
night at 00:30, before the 02:00 and 06:00 deadlines of ``quality/freshness.py``; the reports
of other bureaus and operators (the business source) once their office opens, at 08:30. Each
delay is drawn for its file from the run's seed, so the same run gives the same times.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from demo.common import py_rng

BEIJING = timezone(timedelta(hours=8))
# Delays in seconds (low, high), both included.
BATCH_DELAY = (20, 90)
ALARM_DELAY = (5, 50)
WEATHER_DELAY = (2 * 60, 10 * 60)
RESEND_DELAY = (10 * 60, 20 * 60)
OVERNIGHT = time(0, 30)
OFFICE_OPENS = time(8, 30)


def landed_at(seed: int, rel_path: str, due: datetime, delay: tuple[int, int]) -> datetime:
    """``due`` (naive Beijing time) plus a delay drawn for the file ``rel_path``."""
    seconds = py_rng(seed, "landed_at", rel_path).randint(*delay)
    return (due + timedelta(seconds=seconds)).replace(tzinfo=BEIJING)


def next_day(day: date, at: time = OVERNIGHT) -> datetime:
    """When a daily delivery of ``day`` lands: the next day at ``at``, Beijing time."""
    return datetime.combine(day + timedelta(days=1), at, tzinfo=BEIJING)


def landing_schedule(manifest: dict, day: date) -> list[tuple[datetime, str]]:
    """(landed_at, path relative to ``landing/``) of every file of delivery day ``day``, by time.

    Files landing at the same second keep the order of their paths.
    """
    folder = day.isoformat()
    return sorted(
        (datetime.fromisoformat(entry["landed_at"]), entry["path"])
        for entry in manifest["files"]
        if entry["path"].split("/")[1] == folder
    )
