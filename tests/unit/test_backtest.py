"""vitals.backtest: recall, delay, precision and noise on a hand-made snapshot.

The snapshot holds two days of data (2024-07-10 00:00 to 07-12 00:00) and two planted
incidents:

- a storm 15:00–19:00 on 07-10 in street S1, expected to raise WEA_RAIN_1H 橙 in S1 and S2
  by 16:00. S1 reaches 橙 at 16:00 (first warning 蓝 at 15:00, so the delay is the end of
  that hour minus the start: 1 h); S2 only reaches 黄: the expectation is not met;
- a silent meter from 07-11 02:00, expected to raise LIV_X 红 in grid G1 by 05:00; it
  warns 黄 at 04:20 (delay 2 h 20 min) and reaches 红 at 06:00: met, but an hour late.

Warnings: the two storm warnings (S1 橙, S2 黄), the meter warning (G1 红), a 红 parking
warning in S9 on 07-10 (outside: another street) and a 橙 noise warning in S1 on 07-11
20:00 (outside: the storm's street, but an hour after its 24-hour aftermath; not the
meter's street).
"""

import datetime as dt
import json

import duckdb
import pytest

from vitals import backtest

T = dt.datetime


def _snapshot() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema vitals")
    con.execute(
        "create table vitals.dim_indicators as select * from (values "
        "('WEA_RAIN_1H', 'hour'), ('LIV_X', 'hour'), ('TRA_P', 'day'), ('ENV_N', 'hour')"
        ") t(indicator_code, grain)"
    )
    con.execute(
        "create table vitals.fct_indicator_values as select * from (values "
        "(timestamp '2024-07-10 00:00', timestamp '2024-07-10 01:00'), "
        "(timestamp '2024-07-11 23:00', timestamp '2024-07-12 00:00')"
        ") t(period_start, period_end)"
    )
    events = [
        # warning_id, indicator, level, area_level, street, grid, opened, closed, peak
        ("w1", "WEA_RAIN_1H", "street", "S1", None, T(2024, 7, 10, 15), T(2024, 7, 10, 19), 3),
        ("w2", "WEA_RAIN_1H", "street", "S2", None, T(2024, 7, 10, 16), T(2024, 7, 10, 18), 2),
        ("w3", "LIV_X", "grid", "S3", "G1", T(2024, 7, 11, 4), None, 4),
        ("w4", "TRA_P", "street", "S9", None, T(2024, 7, 10), T(2024, 7, 11), 4),
        ("w5", "ENV_N", "street", "S1", None, T(2024, 7, 11, 20), T(2024, 7, 11, 22), 3),
    ]
    con.execute(
        "create table vitals.fct_warning_events (warning_id varchar, indicator_code varchar, "
        "area_level varchar, street_code varchar, grid_code varchar, opened_at timestamp, "
        "closed_at timestamp, peak_level integer, as_of_at timestamp)"
    )
    for row in events:
        con.execute(
            "insert into vitals.fct_warning_events values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [*row, T(2024, 7, 12)],
        )
    steps = [
        # warning_id, indicator, area_level, area_code, level, reached_at, known_at (when the
        # data showed it: the period's end, or the alarm that tipped a count: w3's 04:20)
        ("w1", "WEA_RAIN_1H", "street", "S1", 1, T(2024, 7, 10, 15), T(2024, 7, 10, 16)),
        ("w1", "WEA_RAIN_1H", "street", "S1", 3, T(2024, 7, 10, 16), T(2024, 7, 10, 17)),
        ("w2", "WEA_RAIN_1H", "street", "S2", 2, T(2024, 7, 10, 16), T(2024, 7, 10, 17)),
        ("w3", "LIV_X", "grid", "G1", 2, T(2024, 7, 11, 4), T(2024, 7, 11, 4, 20)),
        ("w3", "LIV_X", "grid", "G1", 4, T(2024, 7, 11, 6), T(2024, 7, 11, 7)),
        ("w4", "TRA_P", "street", "S9", 4, T(2024, 7, 10), T(2024, 7, 11)),
        ("w5", "ENV_N", "street", "S1", 3, T(2024, 7, 11, 20), T(2024, 7, 11, 21)),
    ]
    con.execute(
        "create table vitals.fct_warning_escalations (warning_id varchar, "
        "indicator_code varchar, area_level varchar, area_code varchar, level integer, "
        "reached_at timestamp, known_at timestamp, subject_code varchar default '-')"
    )
    con.executemany(
        "insert into vitals.fct_warning_escalations (warning_id, indicator_code, area_level, "
        "area_code, level, reached_at, known_at) values (?, ?, ?, ?, ?, ?, ?)",
        steps,
    )
    return con


def _manifest():
    incidents = [
        {
            "kind": "rainstorm",
            "name_zh": "暴雨",
            "start": "2024-07-10 15:00:00",
            "end": "2024-07-10 19:00:00",
            "streets": ["S1", "S2"],
            "grids": [],
            "expect": [
                {
                    "indicator": "WEA_RAIN_1H",
                    "area_level": "street",
                    "areas": ["S1", "S2"],
                    "min_level": "橙",
                    "by": "2024-07-10 16:00:00",
                }
            ],
        },
        {
            "kind": "water_meter_silent",
            "start": "2024-07-11 02:00:00",
            "end": "2024-07-11 12:00:00",
            "streets": ["S3"],
            "grids": ["G1"],
            "expect": [
                {
                    "indicator": "LIV_X",
                    "area_level": "grid",
                    "areas": ["G1"],
                    "min_level": "红",
                    "by": "2024-07-11 05:00:00",
                }
            ],
        },
    ]
    return {"incidents": incidents}


@pytest.fixture
def report():
    incidents = backtest.incidents_of(_manifest())
    return backtest.score(_snapshot(), incidents, notify_min_level="黄")


def test_recall_counts_an_incident_only_when_every_expected_area_reached_its_level(report):
    storm, meter = report.expectations
    assert [area.reached_at for area in storm.areas] == [T(2024, 7, 10, 16), None]
    assert not storm.met  # S2 peaked at 黄
    assert meter.met
    assert report.recall == 0.5


def test_delay_runs_from_the_start_to_when_the_data_showed_the_first_warning(report):
    storm, meter = report.expectations
    assert storm.delay_hours == 1.0  # 蓝 in the 15:00 hour, known at 16:00
    assert meter.delay_hours == 2.33  # 黄 tipped at 04:20
    assert not meter.on_time  # 红 at 06:00, by was 05:00
    assert report.on_time == 0.0


def test_precision_and_noise_count_orange_and_red_outside_incidents(report):
    # 橙/红: w1 (storm), w3 (meter), w4 (S9: not the storm's street), w5 (after the window).
    assert (report.orange_red, report.orange_red_in_incidents) == (4, 2)
    assert report.precision == 0.5
    assert report.days == 2.0
    assert report.orange_red_per_week_outside == pytest.approx(2 / (2 / 7))
    assert report.warnings_by_level_outside == {"蓝": 0, "黄": 0, "橙": 1, "红": 1}


def test_notifications_are_steps_at_or_above_the_notify_level(report):
    # At 黄 and above: 6 of the 7 steps (w1's 蓝 is below); w4 and w5 overlap no incident.
    assert report.notifications == 6
    assert report.notifications_outside == 2
    assert report.notifications_per_day_outside == 1.0


def test_targets_report_each_figure_and_whether_it_holds(report):
    targets = report.targets()
    assert targets["recall"] == {"value": 0.5, "target": "≥ 1", "holds": False}
    assert targets["notifications_per_day_outside"]["holds"]
    assert not targets["levels_monotone_outside"]["holds"]  # 橙 1 outside, 黄 0
    assert not report.targets_hold
    assert json.dumps(report.as_dict(), ensure_ascii=False)


def test_an_expectation_with_a_subject_counts_only_that_subject_s_warnings():
    # The storm's S1 warning has subject "-": expected as topic T18, it is not met.
    manifest = _manifest()
    storm = manifest["incidents"][0]
    storm["expect"] = [{**storm["expect"][0], "areas": ["S1"], "subject": "T18"}]
    report = backtest.score(_snapshot(), backtest.incidents_of(manifest), notify_min_level="黄")
    assert not report.expectations[0].met
    storm["expect"][0]["subject"] = "-"
    report = backtest.score(_snapshot(), backtest.incidents_of(manifest), notify_min_level="黄")
    assert report.expectations[0].met
