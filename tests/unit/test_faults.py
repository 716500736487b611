"""The delivery-fault check: which counts of which kind fail, and at which severity."""

import datetime as dt

import pytest

from quality.faults import ERROR, FAULT_KINDS, WARN, judge

DAY = dt.date(2024, 7, 5)


def _log(rows_read=1000, quarantined=None, duplicates=None, late=0):
    return {
        "rows_read": rows_read,
        "quarantined_by_reason": quarantined or {},
        "duplicates_by_kind": duplicates or {},
        "late_rows": late,
    }


def test_the_demo_fault_rate_is_within_tolerance():
    # 0.2 % of 1000 rows per kind: 2 unknown codes, 2 duplicates, 2 late records.
    result = judge(
        "t",
        DAY,
        _log(quarantined={"unknown_code": 2}, duplicates={"exact_duplicate": 2}, late=2),
    )
    assert result.passed
    assert result.counts["unknown_code"] == 2
    assert result.counts["late_record"] == 2


@pytest.mark.parametrize("kind", ["encoding_mismatch", "schema_mismatch", "truncated_file"])
def test_any_file_level_fault_warns(kind):
    # One truncated record of 1000 is enough: the delivery itself must be re-sent.
    result = judge("t", DAY, _log(quarantined={kind: 1}))
    assert not result.passed
    assert result.severity == WARN
    assert list(result.over) == [kind]


def test_record_faults_warn_above_one_percent_and_block_above_ten():
    warn = judge("t", DAY, _log(quarantined={"out_of_range": 20}))  # 2 %
    error = judge("t", DAY, _log(quarantined={"out_of_range": 150}))  # 15 %
    assert (warn.passed, warn.severity) == (False, WARN)
    assert (error.passed, error.severity) == (False, ERROR)
    assert "15.0%" in error.reason


def test_small_feeds_need_a_minimum_count():
    # 1 bad licence of 3 is 33 %, but a single record pages nobody; 3 of 10 warns.
    assert judge("t", DAY, _log(rows_read=3, quarantined={"invalid_format": 1})).passed
    three = judge("t", DAY, _log(rows_read=10, quarantined={"invalid_format": 3}))
    assert (three.passed, three.severity) == (False, WARN)


def test_duplicates_and_late_records_never_block():
    # Half the delivery re-sent and late: ingestion resolved it, so WARN only.
    result = judge(
        "t", DAY, _log(duplicates={"exact_duplicate": 500, "superseded_version": 300}, late=400)
    )
    assert result.severity == WARN
    assert set(result.over) == {"exact_duplicate", "superseded_version", "late_record"}


def test_no_accounting_record_is_left_to_the_volume_check():
    result = judge("t", DAY, None)
    assert result.passed
    assert "volume check" in result.reason


def test_every_generator_fault_kind_is_judged():
    from demo import faults

    planted = {
        "malformed_record",
        "exact_duplicate",
        "superseded_version",
        faults.LATE_RECORD,
        "out_of_range",
        "unknown_code",
        "invalid_format",
        "encoding_mismatch",
        "truncated_file",
    }
    assert planted <= set(FAULT_KINDS)
