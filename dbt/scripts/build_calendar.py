"""Write ``dbt/seeds/workday_calendar.csv``: the Chinese working-day calendar of the data's years.

Public holidays and make-up workdays (调休) follow the State Council's yearly holiday notices
as packaged by ``chinese_calendar``. Run it again when a new year's notice is published (the
package is upgraded) or when the data reaches a new year::

    uv run python dbt/scripts/build_calendar.py --first-year 2023 --last-year 2026

``workday_index`` counts working days from the first day of the calendar, so "``n`` working
days after day ``d``" is the working day whose index is ``workday_index(d) + n`` (used by the
``add_working_days`` logic in the dbt models).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
from pathlib import Path

import chinese_calendar

SEED = Path(__file__).resolve().parents[1] / "seeds" / "workday_calendar.csv"
# chinese_calendar's English holiday names → the names used in the State Council notices.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
COLUMNS = (
    "calendar_date",
    "iso_weekday",
    "day_kind",
    "is_workday",
    "holiday_name",
    "holiday_name_en",
    "workday_index",
)


def calendar_rows(first: dt.date, last: dt.date) -> list[dict[str, object]]:
    """One row per day from ``first`` to ``last`` inclusive."""
    rows: list[dict[str, object]] = []
    workdays = 0
    day = first
    while day <= last:
        # Raises NotImplementedError for a year without a published notice: better than a
        # calendar that silently treats 春节 as working days.
        is_workday = chinese_calendar.is_workday(day)
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        weekend = day.isoweekday() >= 6
        if on_holiday and name is not None:
            kind = "holiday"
        elif is_workday:
            kind = "makeup_workday" if weekend else "workday"
        else:
            kind = "weekend"
        workdays += int(is_workday)
        rows.append(
            {
                "calendar_date": day.isoformat(),
                "iso_weekday": day.isoweekday(),
                "day_kind": kind,
                "is_workday": str(is_workday).lower(),
                "holiday_name": HOLIDAY_NAMES.get(name, name) if name else "",
                "holiday_name_en": name or "",
                "workday_index": workdays,
            }
        )
        day += dt.timedelta(days=1)
    return rows


def main() -> None:
    """Parse the year range and write the seed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first-year", type=int, default=2023)
    parser.add_argument("--last-year", type=int, default=2026)
    parser.add_argument("--output", type=Path, default=SEED)
    arguments = parser.parse_args()
    rows = calendar_rows(dt.date(arguments.first_year, 1, 1), dt.date(arguments.last_year, 12, 31))
    with arguments.output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} days to {arguments.output}")


if __name__ == "__main__":
    main()
