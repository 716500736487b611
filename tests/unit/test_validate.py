"""Validation on tiny in-memory fixtures: real DuckDB, no files."""

import datetime as dt

import duckdb
import pyarrow as pa
import pytest

from ingestion.contract import OUT_OF_RANGE, Contract, Field, Rule
from ingestion.read import Reject
from ingestion.validate import append, prepare, validate

DAY = dt.date(2024, 7, 1)

CONTRACT = Contract(
    source="demo",
    table="demo_orders",
    title="示例工单",
    format="csv",
    file_glob="*.csv",
    key=("order_id",),
    delivery="day_feed",
    version_by="updated_at",
    event_time="updated_at",
    fields=(
        Field("order_id", "编号", nullable=False, pattern=r"JA\d{3}"),
        Field("street", "街镇", allowed=("江宁路街道", "彭浦镇")),
        Field("returns", "退单次数", "int", minimum=0, maximum=10),
        Field("solved", "是否解决", "bool"),
        Field("updated_at", "更新时间", "timestamp", nullable=False),
    ),
    rules=(Rule(OUT_OF_RANGE, "returns > 5 and solved", "退单过多却标记解决"),),
)


def _records(rows):
    """Rows as (order_id, street, returns, solved, updated_at, file, record)."""
    columns = list(zip(*rows, strict=True)) if rows else [[]] * 7
    names = [f.name for f in CONTRACT.fields] + ["_source_file", "_source_record"]
    table = {
        name: pa.array(values, pa.int64() if name == "_source_record" else pa.string())
        for name, values in zip(names, columns, strict=True)
    }
    table["_raw"] = pa.nulls(len(rows), pa.string())
    return pa.table(table)


def _run(rows, rejects=()):
    with duckdb.connect() as con:
        prepare(con, CONTRACT)
        append(con, _records(rows), list(rejects))
        counts = validate(con, CONTRACT, DAY)
        valid = con.execute(
            "select order_id, returns, solved from valid_rows order by order_id"
        ).fetchall()
        quarantined = con.execute("select reason, reason_detail from quarantined_rows").fetchall()
    return counts, valid, quarantined


T = "2024-07-01 09:00:00"


def test_each_check_quarantines_with_its_own_reason():
    counts, valid, _ = _run(
        [
            ("JA001", "江宁路街道", "0", "是", T, "a.csv", 1),  # valid
            (None, "江宁路街道", "0", "是", T, "a.csv", 2),  # missing_required
            ("XX002", "江宁路街道", "0", "是", T, "a.csv", 3),  # invalid_format
            ("JA003", "静安寺", "0", "是", T, "a.csv", 4),  # unknown_code
            ("JA004", "彭浦镇", "11", "是", T, "a.csv", 5),  # out_of_range (> 10)
            ("JA005", "彭浦镇", "1.5", "是", T, "a.csv", 6),  # invalid_type: not rounded to 2
            ("JA006", "彭浦镇", "0", "也许", T, "a.csv", 7),  # invalid_type (bool)
            ("JA007", "彭浦镇", "0", "否", "昨天", "a.csv", 8),  # invalid_type (timestamp)
            ("JA008", "彭浦镇", "6", "是", T, "a.csv", 9),  # out_of_range (rule)
        ]
    )
    assert valid == [("JA001", 0, True)]
    assert counts.quarantined_by_reason == {
        "missing_required": 1,
        "invalid_format": 1,
        "unknown_code": 1,
        "out_of_range": 2,
        "invalid_type": 3,
    }
    assert counts.rows_written == 1


def test_first_reason_wins_and_every_finding_is_kept():
    _, _, quarantined = _run([("XX001", "静安寺", "99", "是", T, "a.csv", 1)])
    ((reason, detail),) = quarantined
    assert reason == "invalid_format"
    assert "unknown_code: street = 静安寺" in detail
    assert "out_of_range: returns = 99" in detail


def test_duplicates_are_counted_not_quarantined():
    counts, valid, quarantined = _run(
        [
            ("JA001", "彭浦镇", "0", "否", "2024-07-01 09:00:00", "a.csv", 1),
            ("JA001", "彭浦镇", "0", "否", "2024-07-01 09:00:00", "a.csv", 2),  # exact copy
            ("JA001", "彭浦镇", "1", "是", "2024-07-01 12:00:00", "b.csv", 1),  # newer version wins
            ("JA002", "彭浦镇", "0", "否", "2024-07-01 10:00:00", "b.csv", 2),
        ]
    )
    assert valid == [("JA001", 1, True), ("JA002", 0, False)]
    assert counts.duplicates_by_kind == {"exact_duplicate": 1, "superseded_version": 1}
    assert quarantined == []
    # 4 read = 2 written + 0 quarantined + 2 duplicates
    assert counts.rows_written + counts.rows_quarantined + counts.duplicates_dropped == 4


def test_the_later_file_wins_when_versions_tie():
    _, valid, _ = _run(
        [
            ("JA001", "彭浦镇", "0", "否", T, "a.csv", 1),
            ("JA001", "彭浦镇", "2", "否", T, "a_补传.csv", 1),  # same 更新时间, later file
        ]
    )
    assert valid == [("JA001", 2, False)]


def test_late_rows_are_kept_and_counted():
    counts, valid, _ = _run([("JA001", "彭浦镇", "0", "否", "2024-06-29 23:00:00", "a.csv", 1)])
    assert valid == [("JA001", 0, False)]
    assert counts.late_rows == 1


def test_a_time_after_the_delivery_day_is_out_of_range():
    # The contract's grace period is one hour past the end of the delivery day.
    _, valid, quarantined = _run(
        [
            ("JA001", "彭浦镇", "0", "否", "2024-07-02 00:30:00", "a.csv", 1),  # within grace
            ("JA002", "彭浦镇", "0", "否", "2024-07-02 03:00:00", "a.csv", 2),  # too far ahead
        ]
    )
    assert [row[0] for row in valid] == ["JA001"]
    assert quarantined[0][0] == "out_of_range"


def test_parser_rejects_are_quarantined_with_their_raw_text():
    reject = Reject("a.csv", 7, "malformed_record", "expected 5 fields, found 2", "JA009,彭浦镇")
    counts, _, quarantined = _run([], rejects=[reject])
    assert quarantined == [("malformed_record", "expected 5 fields, found 2")]
    assert counts.rows_quarantined == 1


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("91310106MA1FL4XY2C", None),  # check character decided by stdnum below
        ("91310106MA1FL4XY2", False),  # 17 characters
    ],
)
def test_uscc_check_uses_the_gb32100_checksum(code, valid):
    from stdnum.cn import uscc

    from ingestion.contract import CHECKS

    if valid is None:
        good = code[:17] + uscc.calc_check_digit(code[:17])
        bad = code[:17] + ("0" if good[-1] != "0" else "1")
        assert CHECKS["uscc"](good) is True
        assert CHECKS["uscc"](bad) is False
    else:
        assert CHECKS["uscc"](code) is valid


def test_each_dropped_copy_is_charged_to_the_file_it_came_from():
    with duckdb.connect() as con:
        prepare(con, CONTRACT)
        append(
            con,
            _records(
                [
                    ("JA001", "彭浦镇", "0", "否", "2024-07-01 09:00:00", "a.csv", 1),
                    ("JA001", "彭浦镇", "0", "否", "2024-07-01 09:00:00", "a.csv", 2),  # copy
                    ("JA002", "彭浦镇", "0", "否", "2024-07-01 10:00:00", "a.csv", 3),
                    ("JA001", "彭浦镇", "1", "是", "2024-07-01 12:00:00", "b.csv", 1),  # newer
                    ("JA002", "彭浦镇", "0", "否", "2024-07-01 10:00:00", "b.csv", 2),  # re-sent
                    ("XX003", "彭浦镇", "0", "否", "2024-07-01 10:00:00", "b.csv", 3),  # bad id
                ]
            ),
            [Reject("c.csv", 2, "malformed_record", "expected 5 fields, found 2", "JA9,彭浦镇")],
        )
        counts = validate(con, CONTRACT, DAY)
    files = {
        name: (c.rows_written, c.quarantined_by_reason, c.duplicates_by_kind)
        for name, c in counts.files.items()
    }
    assert files == {
        # a.csv: JA001 twice (one exact copy, one superseded by b.csv), JA002 re-sent later.
        "a.csv": (0, {}, {"exact_duplicate": 2, "superseded_version": 1}),
        # b.csv: JA001's newer version and JA002 written, XX003 quarantined.
        "b.csv": (2, {"invalid_format": 1}, {}),
        "c.csv": (0, {"malformed_record": 1}, {}),
    }
    # Per file: 3 = 0 + 0 + 3, 3 = 2 + 1 + 0, 1 = 0 + 1 + 0.
    assert [c.rows_accounted for c in counts.files.values()] == [3, 3, 1]
    assert counts.duplicates_by_kind == {"exact_duplicate": 2, "superseded_version": 1}
