"""The live path's bounded span: where it starts evaluating warnings, and how long its warm-up
is, and how the live store mixes the copy's rows of the span with the snapshot's older rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb
import yaml

from live.engine import MODEL_LOOK_BACK_DAYS, warm_up_days
from live.store import mixed_query, warnings_start
from vitals.registry import load_registry

DAY = dt.date(2024, 7, 10)  # the first live day
LIVE = ["RAIN", "SMOKE"]  # the live indicators; HOT is a daily one


def at(days: int, hour: int) -> dt.datetime:
    """``hour`` o'clock ``days`` after the first live day."""
    return dt.datetime.combine(DAY + dt.timedelta(days=days), dt.time(hour))


def snapshot_events(rows: list[tuple[str, dt.datetime, dt.datetime | None]]):
    """An in-memory snapshot holding (indicator_code, opened_at, closed_at) warnings."""
    con = duckdb.connect()
    con.execute("create schema vitals")
    con.execute(
        "create table vitals.fct_warning_events "
        "(indicator_code varchar, opened_at timestamp, closed_at timestamp)"
    )
    con.executemany("insert into vitals.fct_warning_events values (?, ?, ?)", rows)
    return con


def test_evaluation_starts_with_the_first_live_day_when_no_warning_is_open_across_it():
    con = snapshot_events(
        [
            ("RAIN", at(-2, 3), at(-2, 9)),  # long closed
            ("HOT", at(-1, 0), None),  # open, but not a live indicator
        ]
    )
    assert warnings_start(con, LIVE, DAY) == at(0, 0)


def test_a_warning_open_at_the_end_of_the_snapshot_is_evaluated_from_its_first_period():
    con = snapshot_events([("RAIN", at(-1, 15), None)])
    assert warnings_start(con, LIVE, DAY) == at(-1, 15)


def test_the_start_moves_back_again_while_another_warning_is_open_across_it():
    con = snapshot_events(
        [
            ("RAIN", at(-1, 15), None),  # moves the start to the 9th, 15:00 …
            ("SMOKE", at(-2, 22), at(-1, 16)),  # … open across it: to the 8th, 22:00
            ("SMOKE", at(-3, 1), at(-3, 4)),  # closed before: stays
        ]
    )
    assert warnings_start(con, LIVE, DAY) == at(-2, 22)


def test_a_warning_closing_at_the_start_counts_as_open_across_it():
    con = snapshot_events([("RAIN", at(-1, 20), at(0, 0))])
    assert warnings_start(con, LIVE, DAY) == at(-1, 20)


def test_the_warm_up_covers_the_longest_baseline_of_a_live_indicator():
    indicators = load_registry().indicators
    baselined = [i.code for i in indicators if i.live and i.threshold_kind != "fixed"]
    assert baselined  # the traffic indicators compare with 5 weeks (the registry's default)
    assert warm_up_days(indicators) == 35
    longer = [
        dataclasses.replace(i, baseline_weeks=9) if i.code == baselined[0] else i
        for i in indicators
    ]
    assert warm_up_days(longer) == 63
    fixed = [dataclasses.replace(i, threshold_kind="fixed") if i.live else i for i in indicators]
    assert warm_up_days(fixed) == MODEL_LOOK_BACK_DAYS


def _copy_and_snapshot():
    con = duckdb.connect()
    for name in ("work", "base"):
        con.execute(f"attach ':memory:' as {name}")
        con.execute(f"create schema {name}.vitals")
        con.execute(
            f"create table {name}.vitals.fct_warning_events "
            "(warning_id varchar, indicator_code varchar, opened_at timestamp)"
        )
        con.execute(
            f"create table {name}.vitals.fct_indicator_latest (indicator_code varchar, "
            "area_level varchar, area_code varchar, subject_code varchar, value double)"
        )
    return con


def test_the_store_takes_the_live_indicators_rows_of_the_span_from_the_copy():
    con = _copy_and_snapshot()
    events = "insert into {}.vitals.fct_warning_events values (?, ?, ?)"
    con.executemany(
        events.format("base"),
        [
            ["rain-old", "RAIN", at(-2, 3)],  # before the span: the snapshot's
            ["rain-stale", "RAIN", at(0, 5)],  # in the span: the copy recomputed it
            ["hot", "HOT", at(0, 1)],  # not live: the snapshot's
        ],
    )
    con.executemany(
        events.format("work"),
        [["rain-new", "RAIN", at(0, 5)], ["hot-partial", "HOT", at(0, 1)]],
    )
    query = mixed_query("fct_warning_events", "work", split=True)
    rows = con.execute(
        f"select warning_id from ({query}) order by 1", {"codes": LIVE, "since": at(0, 0)}
    ).fetchall()
    assert rows == [("hot",), ("rain-new",), ("rain-old",)]


def test_a_live_series_without_a_value_in_the_span_keeps_the_snapshots_latest_row():
    con = _copy_and_snapshot()
    latest = "insert into {}.vitals.fct_indicator_latest values (?, 'street', ?, '-', ?)"
    con.executemany(
        latest.format("base"), [["RAIN", "A", 1.0], ["RAIN", "B", 2.0], ["HOT", "A", 3.0]]
    )
    con.executemany(latest.format("work"), [["RAIN", "A", 10.0], ["HOT", "A", 30.0]])
    query = mixed_query("fct_indicator_latest", "work", split=True)
    rows = con.execute(
        f"select indicator_code, area_code, value from ({query}) order by 1, 2", {"codes": LIVE}
    ).fetchall()
    # RAIN A from the copy; RAIN B had no value in the span; HOT is the snapshot's.
    assert rows == [("HOT", "A", 3.0), ("RAIN", "A", 10.0), ("RAIN", "B", 2.0)]


def test_the_warm_up_covers_the_water_silence_look_back_of_the_dbt_project():
    # dbt var silent_meter_max_hours (168) must fit in MODEL_LOOK_BACK_DAYS (7 days): a longer
    # look-back would make the live span's first evaluated hours differ from the daily build.
    project = Path(__file__).resolve().parents[2] / "dbt" / "dbt_project.yml"
    hours = yaml.safe_load(project.read_text(encoding="utf-8"))["vars"]["silent_meter_max_hours"]
    assert hours <= 24 * MODEL_LOOK_BACK_DAYS
