"""The quality results store and its rules: idempotent storing, latest state, exit code, quarantine.

Tiny hand-made evaluations (no Dagster); the store is real Parquet under ``tmp_path``.
"""

import csv
import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from ingestion.contract import REASONS
from ingestion.settings import paths
from quality import results
from quality.results import (
    CheckResult,
    blocking_failures,
    infer_engine,
    infer_scope,
    latest,
    quarantine_rows,
    read_results,
    store_results,
    summarise,
)

UTC = dt.UTC
JULY = dt.date(2024, 7, 1)


def _at(hour: int, day: int = 1) -> dt.datetime:
    return dt.datetime(2026, 1, day, hour, tzinfo=UTC)


def _result(
    run_id: str,
    check: str = "volume_within_baseline",
    asset: str = "raw/hotline_orders",
    *,
    passed: bool = True,
    severity: str = "WARN",
    day: int | None = 1,
    last_day: int | None = None,
    hour: int = 1,
    blocking: bool | None = True,
    storage_id: int = 1,
) -> CheckResult:
    engine = infer_engine(check, {})
    start = None if day is None else JULY.replace(day=day)
    end = None if day is None else JULY.replace(day=last_day or day)
    return CheckResult(
        run_id=run_id,
        event_storage_id=storage_id,
        job_name="ingest_sources",
        check_name=check,
        asset_key=asset,
        engine=engine,
        check_scope=infer_scope(engine, asset, {}, start is not None),
        partition_start=start,
        partition_end=end,
        passed=passed,
        severity=severity,
        is_blocking=blocking,
        description="",
        metadata_json="{}",
        evaluated_at=_at(hour),
    )


def test_storing_the_same_evaluations_twice_keeps_one_row_each(tmp_path):
    home = paths(tmp_path)
    # Two runs; each "collects" its evaluations, then everything is collected again.
    first = [_result("run-a", storage_id=1), _result("run-a", "gx_suite", storage_id=2)]
    second = [_result("run-b", storage_id=1, day=2, hour=2)]  # storage id 1 again: another run

    assert store_results(home, first) == 2
    assert store_results(home, second) == 1
    part = next(home.check_results.glob("evaluated_date=*/part-0.parquet"))
    written = part.stat().st_mtime_ns
    assert store_results(home, first + second) == 0  # nothing new …
    assert part.stat().st_mtime_ns == written  # … so the file is not even rewritten

    stored = read_results(home)
    assert sorted(r.evaluation_id for r in stored) == ["run-a:1", "run-a:2", "run-b:1"]
    assert {r.evaluation_id: r for r in stored} == {
        r.evaluation_id: r for r in first + second
    }  # round trip: every field as given


def test_the_store_is_partitioned_by_the_beijing_day_the_checks_ran(tmp_path):
    home = paths(tmp_path)
    # 2026-01-01 17:00 UTC is 2026-01-02 01:00 in Beijing.
    store_results(home, [_result("run-a", hour=1), _result("run-b", hour=17)])

    folders = sorted(p.name for p in home.check_results.iterdir() if p.is_dir())
    assert folders == ["evaluated_date=2026-01-01", "evaluated_date=2026-01-02"]


def test_an_empty_or_missing_store_has_no_results(tmp_path):
    home = paths(tmp_path)
    assert read_results(home) == []
    assert latest(home) == []
    assert store_results(home, []) == 0


def test_the_newest_evaluation_is_the_state_of_an_asset_check(tmp_path):
    home = paths(tmp_path)
    test = "not_null_fct_hotline_orders_order_id"
    store_results(
        home,
        [
            # A dbt test failed over 07-01…07-04, then passed in the 07-05 build.
            _result("r1", test, "events/fct_hotline_orders", passed=False, severity="ERROR",
                    day=1, last_day=4, hour=1),
            _result("r2", test, "events/fct_hotline_orders", day=5, hour=2),
        ],
    )  # fmt: skip

    (state,) = latest(home)

    assert state.result.run_id == "r2"
    assert state.result.check_scope == "asset"
    assert state.passed and state.open_failures == ()
    assert blocking_failures([state]) == []


def test_a_failed_delivery_day_stays_failed_until_that_day_passes(tmp_path):
    home = paths(tmp_path)
    store_results(
        home,
        [
            _result("r30", passed=False, severity="ERROR", day=30, hour=1),  # 07-30 missing
            _result("r31", day=31, hour=2),  # 07-31 fine
            _result("r02", day=2, hour=3),  # a backfill of 07-02, newest of all
        ],
    )

    (state,) = latest(home)

    # The newest evaluation (07-02) passed, but 07-30 is still open, and it blocks.
    assert state.result.run_id == "r02"
    assert [failure.day for failure in state.open_failures] == [dt.date(2024, 7, 30)]
    assert not state.passed and state.severity == "ERROR" and state.is_blocking_failure
    assert results.summary([state])["blocking_failures"] == [
        "raw/hotline_orders:volume_within_baseline"
    ]

    store_results(home, [_result("r30-again", day=30, hour=4)])  # re-delivered, re-checked
    (state,) = latest(home)
    assert state.passed and state.open_failures == ()


def test_latest_for_a_day_is_the_newest_evaluation_covering_it(tmp_path):
    home = paths(tmp_path)
    store_results(
        home,
        [
            _result("range", passed=False, severity="ERROR", day=1, last_day=3, hour=1),
            _result("day2", day=2, hour=2),
            _result("other", "volume_within_baseline", "raw/weather_hourly", day=2, hour=3),
        ],
    )

    by_day = {d: latest(home, day=JULY.replace(day=d)) for d in (1, 2, 3, 4)}

    assert [s.result.run_id for s in by_day[1]] == ["range"]
    assert [s.result.run_id for s in by_day[2]] == ["day2", "other"]  # sorted by asset
    assert [s.result.run_id for s in by_day[3]] == ["range"]
    assert by_day[4] == []
    assert [s.result.run_id for s in latest(home, day=JULY.replace(day=2), source="weather")] == [
        "other"
    ]


@pytest.mark.parametrize(
    ("passed", "severity", "blocking", "blocks"),
    [
        (False, "ERROR", True, True),  # a failed blocking check at ERROR
        (False, "ERROR", None, True),  # undeclared: taken to block (dbt tests at error)
        (False, "ERROR", False, False),  # declared non-blocking (freshness checks)
        (False, "WARN", True, False),  # a warning never blocks
        (True, "ERROR", True, False),  # passed
    ],
)
def test_only_a_failure_at_error_of_a_blocking_check_blocks(passed, severity, blocking, blocks):
    result = _result("r", passed=passed, severity=severity, blocking=blocking)
    assert result.is_blocking_failure is blocks


def _invoke(home, *arguments):
    from dagster_project.cli import app

    return CliRunner().invoke(app, ["quality", *arguments], env={"CITYOPS_HOME": str(home)})


def test_cityops_quality_exits_1_on_a_blocking_failure_and_0_on_warnings(tmp_path):
    home = paths(tmp_path)
    no_results = _invoke(tmp_path)
    assert no_results.exit_code == 2
    assert "run `cityops run` first" in no_results.output

    store_results(home, [_result("warn", passed=False, severity="WARN", hour=1)])
    warned = _invoke(tmp_path)
    assert warned.exit_code == 0, warned.output
    assert "通过 0 / 失败 1" in warned.output and "无阻断失败" in warned.output

    store_results(home, [_result("err", "gx_suite", passed=False, severity="ERROR", hour=2)])
    blocked = _invoke(tmp_path, "--json")
    payload = json.loads(blocked.stdout)
    assert blocked.exit_code == 1
    assert payload["summary"]["blocking_failures"] == ["raw/hotline_orders:gx_suite"]
    assert _invoke(tmp_path, "--source", "weather").exit_code == 2  # nothing for weather


def test_engines_are_inferred_from_names_and_metadata():
    assert infer_engine("volume_within_baseline", {}) == "volume"
    assert infer_engine("gx_suite", {}) == "gx"
    assert infer_engine("freshness_check", {}) == "freshness"
    assert infer_engine("fresh", {"dagster/freshness_params": {}}) == "freshness"
    assert infer_engine("not_null_x_id", {"unique_id": "test.cityops.not_null_x_id.1"}) == "dbt"
    assert infer_engine("some_check", {}) == "other"
    assert infer_engine("delivery_faults", {"cityops/engine": "faults"}) == "faults"
    # Lake tables are judged per delivery day, models and "now" checks as a whole.
    assert infer_scope("gx", "raw/grid_cases", {}, True) == "partition"
    assert infer_scope("gx", "events/fct_grid_cases", {}, True) == "asset"
    assert infer_scope("freshness", "raw/grid_cases", {}, True) == "asset"
    assert infer_scope("volume", "raw/grid_cases", {}, False) == "asset"


def test_the_summary_line_comes_from_the_description_or_the_metadata():
    assert summarise("3 batches passed", {"reasons": ["x"]}, True) == "3 batches passed"
    reasons = {"reasons": ["missing partition", "missing partition", "ok"]}
    assert summarise(None, reasons, False) == "missing partition; ok"
    assert summarise(None, {"dagster_dbt/failed_row_count": 4}, False) == (
        "4 failing rows (dbt test)"
    )
    assert summarise(None, {"dagster_dbt/failed_row_count": 0}, True) == ""


def test_quarantine_counts_are_one_row_per_partition_and_reason():
    partitions = [
        # hotline 07-01: 10 read, 2 unknown_code + 1 malformed_record quarantined.
        {"table": "hotline_orders", "dt": "2024-07-01", "rows_read": 10, "rows_written": 6,
         "rows_quarantined": 3, "duplicates_dropped": 1,
         "quarantined_by_reason": {"unknown_code": 2, "malformed_record": 1}},
        # weather 07-01: nothing quarantined, so no reason row.
        {"table": "weather_hourly", "dt": "2024-07-01", "rows_read": 5, "rows_written": 5,
         "rows_quarantined": 0, "duplicates_dropped": 0, "quarantined_by_reason": {}},
        # grid 07-02: landing files never ingested (pending): nothing to count.
        {"table": "grid_cases", "dt": "2024-07-02", "rows_read": None,
         "quarantined_by_reason": {}},
    ]  # fmt: skip

    counts = quarantine_rows(partitions)

    assert [(c.table, c.reason, c.rows) for c in counts] == [
        ("hotline_orders", "malformed_record", 1),
        ("hotline_orders", "unknown_code", 2),
    ]
    assert counts[1].share_of_read == pytest.approx(0.2)  # 2 of 10 read
    assert sum(c.rows for c in counts) == partitions[0]["rows_quarantined"]
    assert results.newest_days(partitions) == {
        "hotline_orders": dt.date(2024, 7, 1),
        "weather_hourly": dt.date(2024, 7, 1),
    }


def test_the_reason_seed_lists_the_contract_reasons_in_order():
    with results.REASON_NAMES_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["reason_code"] for row in rows] == list(REASONS)
    assert [int(row["examination_order"]) for row in rows] == list(range(1, len(REASONS) + 1))
    assert all(row["reason_name"] for row in rows)
