"""The quality dashboard keeps lateness against the wall clock apart from failed data checks.

Reads the committed spec and dbt project; the datasets' metric SQL runs on tiny tables in an
in-memory DuckDB. The marts' own rules are dbt unit tests
(dbt/models/marts/quality/_quality__unit_tests.yml).
"""

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest
import yaml

from dashboards.catalog import label_of
from dashboards.spec import load_spec
from quality import results

REPO = Path(__file__).resolve().parents[2]
QUALITY_MARTS = REPO / "dbt" / "models" / "marts" / "quality"
CJK = re.compile(r"^[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def spec():
    return load_spec()


@pytest.fixture(scope="module")
def quality(spec):
    return next(d for d in spec.dashboards if d.slug == "quality-catalogue")


def _metric(spec, dataset, name, table, rows, columns):
    """The value of a dataset's metric over ``rows`` loaded as ``table``."""
    with duckdb.connect() as con:
        con.execute(f"create table {table} ({', '.join(columns)})")
        con.executemany(f"insert into {table} values ({', '.join('?' for _ in columns)})", rows)
        sql = spec.datasets[dataset].metrics[name].sql
        return con.execute(f"select {sql} from {table}").fetchone()[0]


def test_the_mart_classes_engines_as_quality_results_does():
    sql = (QUALITY_MARTS / "fct_check_results.sql").read_text(encoding="utf-8")
    classes = dict(re.findall(r"\('(\w+)', '[^']*', '(data|timeliness)'\)", sql))
    assert list(classes) == list(results.ENGINES)
    assert {e for e, c in classes.items() if c == "timeliness"} == results.WALL_CLOCK_ENGINES
    assert {e: results.check_class(e) for e in results.ENGINES} == classes
    assert [results.outcome(engine, passed) for engine, passed in [
        ("freshness", True), ("freshness", False), ("gx", False), ("dbt", True)
    ]] == ["passed", "late", "failed", "passed"]  # fmt: skip


def _result(check_name, engine, passed, severity="WARN"):
    return results.CheckResult(
        run_id="run",
        event_storage_id=len(check_name),
        job_name="ingest_sources",
        check_name=check_name,
        asset_key="raw/hotline_orders",
        engine=engine,
        check_scope="asset",
        partition_start=None,
        partition_end=None,
        passed=passed,
        severity=severity,
        is_blocking=False,
        description="",
        metadata_json="{}",
        evaluated_at=dt.datetime(2026, 12, 8, 2, 0, tzinfo=dt.UTC),
    )


def test_the_summary_counts_late_checks_among_the_failed():
    latest = [
        results.LatestResult(_result("freshness_check", "freshness", False)),  # late
        results.LatestResult(_result("volume_within_baseline", "volume", False)),  # failed
        results.LatestResult(_result("gx_suite", "gx", True)),  # passed
    ]
    counts = results.summary(latest)
    assert (counts["checks"], counts["passed"], counts["failed"], counts["late"]) == (3, 1, 2, 1)
    assert [item["outcome"] for item in results.as_json_ready(latest)] == [
        "late",
        "failed",
        "passed",
    ]


# fct_check_results_daily in miniature: (check_class, evaluations, passed, failed, blocking).
DAILY_COLUMNS = [
    "check_class varchar",
    "evaluation_count bigint",
    "passed_count bigint",
    "failed_count bigint",
    "blocking_failed_count bigint",
]
DAILY_ROWS = [
    ("data", 4, 3, 1, 0),  # volume: one failure
    ("data", 5, 5, 0, 0),  # dbt tests
    ("data", 1, 1, 0, 0),  # Great Expectations
    ("timeliness", 10, 0, 10, 0),  # freshness against the wall clock: all late
]


def test_the_headline_pass_rate_counts_the_data_checks_only(spec, quality):
    tiles = quality.charts
    assert tiles["pass_rate_total"].options["metric"] == "data_pass_rate"
    assert tiles["evaluations_total"].options["metric"] == "data_evaluations"

    def metric(name):
        return _metric(
            spec, "fct_check_results_daily", name, "fct_check_results_daily", DAILY_ROWS,
            DAILY_COLUMNS,
        )  # fmt: skip

    # 9 of the 10 data-check evaluations passed; with the 10 late ones it would read 45 %.
    assert metric("data_pass_rate") == pytest.approx(0.9)
    assert metric("data_evaluations") == 10
    assert metric("pass_rate") == pytest.approx(0.45)


def test_lateness_against_the_wall_clock_is_a_headline_of_its_own(spec, quality):
    tile = quality.charts["late_sources_total"]
    assert (tile.dataset, tile.options["metric"]) == (
        "fct_source_freshness",
        "sources_late_by_wall_clock",
    )
    assert "按系统时间" in tile.title
    # Three sources: two late by the wall clock, one on time; one never checked (null).
    rows = [(True,), (True,), (False,), (None,)]
    late = _metric(
        spec, "fct_source_freshness", "sources_late_by_wall_clock", "fct_source_freshness",
        rows, ["is_late_by_wall_clock boolean"],
    )  # fmt: skip
    assert late == 2


def test_failing_checks_and_the_daily_rate_leave_lateness_to_the_freshness_table(quality):
    charts = quality.charts
    for key in ("failing_checks", "pass_rate_daily"):
        assert ["check_class", "==", "data"] in charts[key].options["filters"], key
    assert "latest_outcome_name" in charts["failing_checks"].options["columns"]
    freshness = charts["freshness"]
    assert freshness.dataset == "fct_source_freshness"
    # Both clocks, side by side.
    assert {"wall_clock_status_name", "days_behind_wall_clock"} <= set(freshness.options["columns"])
    assert {"data_status_name", "days_behind_data"} <= set(freshness.options["columns"])
    assert charts["pass_rate_by_engine"].options["groupby"] == ["check_class_name", "engine_name"]


def test_the_note_on_the_data_comes_from_the_data_above_the_headlines(quality):
    note = quality.charts["data_as_of"]
    assert (note.viz, note.dataset) == ("table", "fct_data_as_of")
    assert "data_note" in note.options["columns"]
    placed = [[cell.key for cell in row] for row in quality.rows]
    assert placed.index(["data_as_of"]) < next(
        number for number, row in enumerate(placed) if "pass_rate_total" in row
    )
    models = yaml.safe_load((QUALITY_MARTS / "_quality__models.yml").read_text(encoding="utf-8"))
    columns = {
        column["name"]: label_of(column["description"])
        for model in models["models"]
        if model["name"] == "fct_data_as_of"
        for column in model["columns"]
    }
    assert (columns["data_note"], columns["data_origin_name"]) == ("数据说明", "数据来源")


def test_every_chart_of_the_quality_dashboard_has_a_chinese_title(quality):
    assert [key for key, chart in quality.charts.items() if not CJK.match(chart.title)] == []
