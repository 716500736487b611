"""Chinese working-day calendar: public holidays, make-up workdays (调休) and office hours.

Backed by ``chinese_calendar`` (State Council holiday notices). Outside the years it knows,
Monday–Friday count as workdays and no public holidays are assumed.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache

import chinese_calendar

WORKDAY = "workday"
MAKEUP_WORKDAY = "makeup_workday"  # a Saturday or Sunday worked in exchange for a holiday
WEEKEND = "weekend"
HOLIDAY = "holiday"

OFFICE_OPENS = time(8, 30)  # 承办单位 office hours (assumption: typical district office)
OFFICE_CLOSES = time(17, 30)


@cache
def is_workday(day: date) -> bool:
    """True when government offices work on ``day`` (including make-up workdays)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


@cache
def is_public_holiday(day: date) -> bool:
    """True on a statutory public holiday (春节, 国庆 …), not on an ordinary weekend."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return False
    return bool(on_holiday and name is not None)


def day_kind(day: date) -> str:
    """One of ``workday``, ``makeup_workday``, ``weekend`` or ``holiday``."""
    if is_public_holiday(day):
        return HOLIDAY
    if is_workday(day):
        return MAKEUP_WORKDAY if day.weekday() >= 5 else WORKDAY
    return WEEKEND


def add_workdays(moment: datetime, workdays: int) -> datetime:
    """``moment`` plus ``workdays`` working days, keeping the clock time.

    Shanghai 12345 time limits are counted in working days (domain.md §4.1: 1/5/15); a
    deadline therefore always falls on a working day.
    """
    day = moment.date()
    remaining = workdays
    while remaining > 0:
        day += timedelta(days=1)
        if is_workday(day):
            remaining -= 1
    return datetime.combine(day, moment.time())


def office_time(moment: datetime, jitter_minutes: float = 0.0) -> datetime:
    """``moment`` if it falls in office hours of a workday, else the next opening (+ jitter)."""
    day = moment.date()
    if is_workday(day) and OFFICE_OPENS <= moment.time() < OFFICE_CLOSES:
        return moment
    if is_workday(day) and moment.time() < OFFICE_OPENS:
        opening = datetime.combine(day, OFFICE_OPENS)
    else:
        day += timedelta(days=1)
        while not is_workday(day):
            day += timedelta(days=1)
        opening = datetime.combine(day, OFFICE_OPENS)
    return opening + timedelta(minutes=jitter_minutes)


def daytime(
    moment: datetime, opens: int = 8, closes: int = 21, jitter_minutes: float = 0.0
) -> datetime:
    """``moment`` if between ``opens`` and ``closes`` o'clock (any day), else the next ``opens``.

    12345 dispatchers and callback staff work every day, but not through the night.
    """
    if opens <= moment.hour < closes:
        return moment
    day = moment.date() if moment.hour < opens else moment.date() + timedelta(days=1)
    return datetime.combine(day, time(opens)) + timedelta(minutes=jitter_minutes)
