"""``cityops bench``: the whole benchmark runs and reports measured numbers.

One real run of every stage (generation, Dagster ingestion and builds with dbt, the raw-DuckDB
baseline, dashboard queries) at the small scale, cut to its shortest: histories of 1 and 2
days (3 days generated) and 2 timed runs of each dashboard query. The assertions check the
report's structure and that each figure was measured (present, finite, positive where a
duration or a size must be). No assertion is about how long anything took. The full small
bench is `make bench`.
"""

import json
import math
import re

import pytest
from typer.testing import CliRunner

from bench.scales import SCALES
from dagster_project.cli import app

# The module fixture runs every stage: four Dagster builds (a full and a one-day build per
# history) and the baseline. 1,219 s alone on the 2-core machine at load 6–7 (2026-12-07);
# a build's cost is its fixed overhead (three dbt processes, Dagster's events), not its days.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(2400)]

# The shortest run the bench allows: two history lengths of at least one day.
HISTORIES = (1, 2)
REPEAT = 2
SMALL = SCALES["small"].with_histories(HISTORIES)
LAKE_TABLES = {
    "hotline_orders",
    "grid_cases",
    "iot_devices",
    "iot_readings",
    "enterprises",
    "enterprise_licences",
    "business_district_flows",
    "market_prices",
    "weather_hourly",
}


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    work = folder / "work"
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "--scale",
            "small",
            "--histories",
            ",".join(map(str, HISTORIES)),
            "--repeat",
            str(REPEAT),
            "--out",
            str(folder / "out"),
            "--work",
            str(work),
        ],
        env={"CITYOPS_HOME": str(folder / "home")},
    )
    assert result.exit_code == 0, result.output
    report = json.loads((folder / "out" / "report.json").read_text(encoding="utf-8"))
    markdown = (folder / "out" / "report.md").read_text(encoding="utf-8")
    return report, markdown, work


def positive(value):
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_the_scratch_home_is_removed_without_keep(bench_run):
    _, _, work = bench_run
    assert not work.exists()


def test_the_report_names_the_machine_and_the_versions(bench_run):
    report, _, _ = bench_run
    machine = report["machine"]
    assert positive(machine["cores"]) and positive(machine["memory_bytes"])
    for package in ("duckdb", "dbt-core", "dbt-duckdb", "dagster"):
        assert machine["versions"][package], package
    assert machine["python"].startswith("3.11")
    assert report["scale"]["name"] == "small"
    assert report["scale"]["histories"] == list(SMALL.histories)


def test_every_stage_ran_in_its_own_measured_process_tree(bench_run):
    report, _, _ = bench_run
    names = [stage["name"] for stage in report["stages"]]
    # generate and dbt parse; per history: ingestion up to it, its full build, ingestion of
    # the next day and its one-day build; dbt compile, baseline ingestion and build, the
    # queries on both snapshots and the comparison.
    assert len(names) == len(set(names)) == 2 + 4 * len(SMALL.histories) + 6
    for stage in report["stages"]:
        assert positive(stage["wall_seconds"]), stage["name"]
        assert positive(stage["peak_tree_rss_bytes"]), stage["name"]
        assert positive(stage["max_process_rss_bytes"]), stage["name"]
        assert stage["rss_samples"] >= 1


def test_ingestion_throughput_is_measured_per_source_for_ours_and_the_baseline(bench_run):
    report, _, _ = bench_run
    tables = report["ingestion"]["tables"]
    assert set(tables) == LAKE_TABLES
    for name, entry in tables.items():
        assert positive(entry["rows_read"]) and positive(entry["seconds"]), name
        assert positive(entry["rows_per_second"]), name
        assert positive(entry["baseline_rows"]) and positive(entry["baseline_rows_per_second"]), (
            name
        )
    history = report["ingestion"]["history"]
    assert history["days"] == SMALL.histories[-1]
    assert report["ingestion"]["days"] == SMALL.days
    assert positive(history["run_seconds"]) and positive(history["rows_per_second"])
    # What the lake received is what the generator counted, less quarantine and duplicates.
    generated = report["dataset"]["generated_records"]["iot_readings"]
    assert 0 < report["dataset"]["lake_rows"]["iot_readings"] <= generated


def test_full_and_incremental_builds_are_measured_at_two_history_lengths(bench_run):
    report, _, _ = bench_run
    full, incremental = report["full_builds"], report["incremental_builds"]
    assert [entry["history_days"] for entry in full] == list(SMALL.histories)
    assert [entry["history_days"] for entry in incremental] == list(SMALL.histories)
    for entry in full + incremental:
        assert positive(entry["seconds"]) and positive(entry["peak_tree_rss_bytes"])
        assert positive(entry["warehouse_bytes"])
        steps = {step["step"] for step in entry["steps"]}
        assert {"cityops_dbt_foundation", "cityops_dbt_daily", "cityops_dbt_marts"} <= steps
        assert "serving__snapshot" in steps
        assert set(entry["dbt"]) == {
            "cityops_dbt_foundation",
            "cityops_dbt_daily",
            "cityops_dbt_marts",
        }
    for entry in incremental:
        assert entry["first_day"] == entry["last_day"]  # one partition
        assert positive(entry["share_of_full_build"])
    assert full[0]["first_day"] == full[-1]["first_day"] == SMALL.start.isoformat()


def test_no_dbt_step_of_a_build_re_parses_the_whole_project(bench_run):
    # The window reaches dbt through the environment, not --vars: changed vars made dbt
    # re-parse the whole project in two of the three steps of every build (≈ 5 s each).
    report, _, _ = bench_run
    for entry in report["full_builds"] + report["incremental_builds"]:
        for name, step in entry["dbt"].items():
            assert step["parse"]["partial"] is True, (entry["history_days"], name, step["parse"])
            assert positive(step["parse"]["seconds"])


def test_the_baseline_builds_every_model_and_matches_our_tables(bench_run):
    report, _, _ = bench_run
    baseline = report["baseline_build"]
    assert baseline["nodes"] >= 80  # every seed and model, the Python model included
    assert baseline["tests"] >= 500
    # Every test runs a real query: no_clear_pii compiles from the relation's columns, so the
    # baseline's SQL is compiled against a warehouse that has them.
    assert baseline["tests_empty"] == []
    for key in ("models_seconds", "tests_seconds", "snapshot_seconds", "total_seconds"):
        assert positive(baseline[key]), key
    equivalence = report["equivalence"]
    assert equivalence["tables"] == baseline["snapshot_tables"]
    # The quality mart reads check results that grow after every run; every other table
    # must hold the same number of rows as ours.
    assert all(d["table"].startswith("quality.") for d in equivalence["differences"])


def test_every_dashboard_query_has_measured_latencies_on_both_snapshots(bench_run):
    report, _, _ = bench_run
    queries = report["dashboard_queries"]
    assert len(queries) >= 20
    assert len({query["query"] for query in queries}) == len(queries)
    for query in queries:
        assert query["samples"] == report["settings"]["repeat"] == REPEAT
        assert positive(query["p50_ms"]) and positive(query["p95_ms"]), query["query"]
        assert query["p50_ms"] <= query["p95_ms"] <= query["max_ms"]
        assert positive(query["baseline_p95_ms"]), query["query"]
        if not re.search(r'\bquality"?\.', query["sql"]):  # the quality mart differs (above)
            assert query["rows"] == query["baseline_rows"], query["query"]


def test_comparison_and_targets_hold_measured_ratios(bench_run):
    report, markdown, _ = bench_run
    assert len(report["comparison"]) == 5
    for row in report["comparison"]:
        assert positive(row["ours"]) and positive(row["baseline"]), row["stage"]
        assert row["ratio"] == round(row["ours"] / row["baseline"], 3)
        assert row["stage"] in markdown
    assert len(report["targets"]) == 2 + len(SMALL.histories) + 2
    for target in report["targets"]:
        assert positive(target["measured"]), target["target"]
        assert target["met"] == (target["measured"] <= target["limit"])
        assert target["target"] in markdown
    for heading in (
        "## Ours beside the raw-DuckDB baseline",
        "## Ingestion throughput",
        "## Builds",
    ):
        assert heading in markdown
