"""The bench's pure parts: the stage plan, the baseline's build order, chart SQL, percentiles."""

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.baseline import _is_empty_test, build_order
from bench.dashboard_queries import chart_sql, percentile
from bench.scales import SCALES, Scale


def test_percentiles_interpolate_between_samples():
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5  # halfway between 2 and 3
    twenty = [float(n) for n in range(1, 21)]
    assert percentile(twenty, 0.95) == 19.05  # 19 + 0.05 × (20 − 19)
    assert percentile([7.0], 0.95) == 7.0


def test_each_day_is_ingested_once_and_each_history_gets_a_full_and_a_one_day_build():
    from bench.run import plan

    scale = SCALES["small"]  # 5 days, histories 2 and 4
    # The plan only names folders under the scratch one; nothing is created.
    steps = plan(scale, Path("scratch"), memory_limit="1GB", threads=1, repeat=3)
    ingested = [day for step in steps if step.stage == "ingest" for day in step.arguments["days"]]
    assert ingested == [scale.day(n).isoformat() for n in range(1, 6)]
    builds = [
        (s.kind, s.arguments["first"], s.arguments["last"]) for s in steps if s.stage == "build"
    ]
    assert builds == [
        ("full_build", "2024-07-01", "2024-07-02"),
        ("incremental_build", "2024-07-03", "2024-07-03"),
        ("full_build", "2024-07-01", "2024-07-04"),
        ("incremental_build", "2024-07-05", "2024-07-05"),
    ]
    # The baseline reads the lake the longest full build read, and its SQL is compiled
    # against the warehouse that build left (tests that list a relation's columns).
    names = [step.name for step in steps]
    assert names.index("full-build-004d") < names.index("dbt-compile")
    assert names.index("dbt-compile") < names.index("ingest-day-005")
    assert names.index("full-build-004d") < names.index("baseline-build")
    assert names.index("compare") < names.index("ingest-day-005")


def test_a_scale_needs_two_ascending_history_lengths():
    district = SCALES["district-year"]
    assert district.days == 366 and district.day(366) == dt.date(2024, 12, 31)
    for histories in ((30,), (90, 30)):
        with pytest.raises(ValueError, match="histories"):
            Scale("bad", dt.date(2024, 1, 1), 1.0, histories)


def test_the_baseline_builds_every_node_after_what_it_depends_on():
    def node(kind, *parents):
        return {"resource_type": kind, "depends_on": {"nodes": list(parents)}}

    manifest = {
        "nodes": {
            "model.p.mart": node("model", "model.p.stg", "seed.p.codes"),
            "model.p.stg": node("model"),
            "seed.p.codes": node("seed"),
            "test.p.unique_mart": node("test", "model.p.mart"),  # tests run afterwards
        }
    }
    order = build_order(manifest)
    assert order.index("model.p.mart") == 2
    assert set(order) == {"model.p.mart", "model.p.stg", "seed.p.codes"}


def _dataset(metrics):
    return SimpleNamespace(
        model="vitals.fct_indicator_values",
        metrics={name: SimpleNamespace(sql=sql) for name, sql in metrics.items()},
    )


def test_a_big_number_is_its_metric_under_the_charts_filters():
    chart = SimpleNamespace(
        key="tile",
        viz="big_number_total",
        options={"metric": "n", "filters": [["is_open", "IS TRUE"]]},
    )
    sql = chart_sql(chart, _dataset({"n": "count(*)"}), '"events"."x"', {}, {})
    assert sql == 'select\n    count(*) as "n"\nfrom "events"."x"\nwhere "is_open" is true\nlimit 1'


def test_an_indicator_trend_takes_the_worse_end_per_day_for_street_areas():
    chart = SimpleNamespace(key="trend", viz="indicator_trend", options={"indicator": "LIV_RATE"})
    dataset = _dataset({"value_min": "min(value)", "value_max": "max(value)"})
    types = {"period_start": "TIMESTAMP"}
    sql = chart_sql(chart, dataset, "v", types, {"LIV_RATE": "lower_is_worse"})
    # Lower is worse for a rate: the day's minimum, one row per day.
    assert 'min(value) as "value_min"' in sql and "max(value)" not in sql
    assert "date_trunc('day', \"period_start\")" in sql
    assert "\"indicator_code\" = 'LIV_RATE'" in sql and "\"area_level\" = 'street'" in sql


def test_a_test_compiled_to_where_false_counts_as_empty():
    # What no_clear_pii compiles to when it finds no text column (or no relation at all).
    stub = "\n        select null as column_name, null as kinds, null as sample where false\n"
    assert _is_empty_test(stub)
    assert _is_empty_test("select 1 WHERE FALSE")
    scan = "select distinct device_id as value from t where device_id is not null"
    assert not _is_empty_test(scan)
    assert not _is_empty_test("select * from t where false_alarm")  # a column named false_…


def test_other_history_lengths_keep_the_scale_and_say_so_in_its_description():
    city = SCALES["city"]
    short = city.with_histories((3, 6))
    assert (short.name, short.scale, short.start) == (city.name, city.scale, city.start)
    assert short.days == 7  # the longest history and its one-day build
    assert "histories set to 3, 6 days instead of 30, 90" in short.description
    assert city.with_histories(city.histories) is city
    for wrong in ((6,), (6, 3), (3, 3), (0, 2)):
        with pytest.raises(ValueError, match="ascending"):
            city.with_histories(wrong)
