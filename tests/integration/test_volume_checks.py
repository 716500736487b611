"""Volume checks: a partition's rows against its holiday-aware trailing baseline."""

import datetime as dt

import pytest

from ingestion import lake
from ingestion.pipeline import log_path
from ingestion.settings import paths
from quality.volume import ERROR, WARN, check_volume

pytestmark = pytest.mark.integration


def _deliver(home, table, rows_by_day, rows_read=None):
    """Ingestion accounting records as the pipeline writes them (only what the check reads)."""
    for day, rows in rows_by_day.items():
        record = {
            "table": table,
            "dt": day.isoformat(),
            "status": "ingested",
            "rows_read": rows if rows_read is None else rows_read,
            "rows_written": rows,
        }
        lake.write_json(log_path(home, table, day), record)


def test_a_missing_partition_or_a_silent_busy_feed_fails_as_an_error(tmp_path):
    home = paths(tmp_path)
    # Readings: two Tuesdays of about a million rows, then an empty Tuesday.
    _deliver(
        home,
        "iot_readings",
        {dt.date(2024, 7, 2): 1_000_000, dt.date(2024, 7, 9): 1_000_000, dt.date(2024, 7, 16): 0},
    )
    # Licences: a quiet change feed (1 and 2 rows on Tuesdays), then a Tuesday without any.
    _deliver(
        home,
        "enterprise_licences",
        {dt.date(2024, 7, 2): 1, dt.date(2024, 7, 9): 2, dt.date(2024, 7, 16): 0},
    )

    missing = check_volume(home, "hotline_orders", dt.date(2024, 7, 1))
    silent = check_volume(home, "iot_readings", dt.date(2024, 7, 16))
    quiet = check_volume(home, "enterprise_licences", dt.date(2024, 7, 16))

    assert (missing.passed, missing.severity, missing.reason) == (False, ERROR, "missing partition")
    assert (silent.passed, silent.severity) == (False, ERROR)
    assert silent.reason == "empty partition where about 1000000 rows are usual"
    # 0 against a baseline of 1.5 (band 0.75–2.25): a warning, not a blocking error.
    assert (quiet.passed, quiet.severity) == (False, WARN)


def test_a_delivery_quarantined_whole_is_a_warning_not_a_silent_feed(tmp_path):
    home = paths(tmp_path)
    _deliver(home, "hotline_orders", {dt.date(2024, 7, 6): 1800, dt.date(2024, 7, 13): 1760})
    # 07-14's file arrived in the wrong encoding: 1963 rows read, all quarantined.
    _deliver(home, "hotline_orders", {dt.date(2024, 7, 14): 0}, rows_read=1963)

    result = check_volume(home, "hotline_orders", dt.date(2024, 7, 14))

    assert (result.passed, result.severity) == (False, WARN)
    assert result.reason == "all 1963 delivered rows were quarantined (see cityops status)"


def test_the_baseline_uses_the_same_weekday_and_warns_outside_the_band(tmp_path):
    home = paths(tmp_path)
    # Mondays 07-01, 07-08, 07-15 with 1000, 1100, 900 rows (mean 1000, band 500–1500);
    # Saturdays are quieter (400) and must not drag the Monday baseline down.
    _deliver(
        home,
        "hotline_orders",
        {
            dt.date(2024, 7, 1): 1000,
            dt.date(2024, 7, 6): 400,
            dt.date(2024, 7, 8): 1100,
            dt.date(2024, 7, 13): 400,
            dt.date(2024, 7, 15): 900,
            dt.date(2024, 7, 22): 1600,
        },
    )

    result = check_volume(home, "hotline_orders", dt.date(2024, 7, 22))

    assert result.peers == (dt.date(2024, 7, 1), dt.date(2024, 7, 8), dt.date(2024, 7, 15))
    assert result.baseline_mean == 1000
    assert (result.passed, result.severity) == (False, WARN)
    assert "above the baseline band [500, 1500]" in result.reason


def test_a_holiday_is_compared_with_rest_days(tmp_path):
    home = paths(tmp_path)
    # 2024-10-01 (国庆, a Tuesday) against the rest days before it: weekends 09-21/22/28
    # and the 中秋 holiday 09-15..17 (all 300); the workdays (1000) do not count.
    rest_days = [dt.date(2024, 9, d) for d in (15, 16, 17, 21, 22, 28)]
    workdays = [dt.date(2024, 9, d) for d in (23, 24, 25, 26, 27, 29, 30)]
    _deliver(
        home,
        "hotline_orders",
        {
            **dict.fromkeys(rest_days, 300),
            **dict.fromkeys(workdays, 1000),
            dt.date(2024, 10, 1): 320,
        },
    )

    result = check_volume(home, "hotline_orders", dt.date(2024, 10, 1))

    # No earlier rest Tuesday but 09-17 (中秋): too few, so every rest day is a peer.
    assert set(result.peers) == set(rest_days)
    assert (result.passed, result.baseline_mean) == (True, 300)


def test_without_history_there_is_no_baseline_and_the_check_passes(tmp_path):
    home = paths(tmp_path)
    _deliver(home, "iot_readings", {dt.date(2024, 7, 1): 999_000})

    result = check_volume(home, "iot_readings", dt.date(2024, 7, 1))

    assert (result.passed, result.baseline_mean) == (True, None)
    assert result.reason.startswith("no baseline yet")
