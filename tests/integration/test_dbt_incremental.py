"""Incremental builds: a lake that grows day by day, built day by day, ends where one full
build of the whole lake ends — table by table, row by row.

The day-by-day home receives each delivery day's partitions only when that day is built, so
late records, corrections delivered a day later and orders that stay open across days all take
the incremental path. The window alternates between the two ways of giving it: the
environment (``CITYOPS_MIN_DT``/``CITYOPS_MAX_DT``, as Dagster does) and ``--vars`` (as an
analyst does by hand). After each day's build, every row it wrote must lie inside the
``row_filter`` of its model's windowed PII test, which on a daily build scans only those rows.

Then a day is re-sent, as a corrected delivery that withdraws records and changes others (a
day's files are the complete statement of that day: its lake partition is replaced whole),
and the day's incremental build must again end where a full build of the same lake ends.

Tables are compared on content: every row of every table of the warehouse, ``EXCEPT ALL``
both ways. No column is left out; doubles are rounded to 6 decimals, since parallel sums may
differ in the last bit. No table holds a build timestamp.
"""

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.integration.dbt_runner import copy_built_home, run_dbt
from tests.warehouses import differences as compare

pytestmark = pytest.mark.integration

INCREMENTAL_MODELS = {
    ("intermediate", "int_hotline_order_versions"),
    ("intermediate", "int_grid_case_versions"),
    ("events", "fct_hotline_orders"),
    ("events", "fct_grid_cases"),
    ("events", "fct_device_alarms"),
    ("events", "fct_city_events"),
    ("things", "fct_device_readings_hourly"),
}


def _delivery_days(raw: Path) -> list[str]:
    return sorted({partition.name[3:] for partition in raw.glob("*/dt=*")})


def _copy_day(lake: Path, target_lake: Path, day: str) -> None:
    """One delivery day's partitions and their accounting records, as ingestion writes them."""
    for partition in (lake / "raw").glob(f"*/dt={day}"):
        shutil.copytree(partition, target_lake / "raw" / partition.parent.name / partition.name)
    for log in (lake / "_ingestion_log").glob(f"*/dt={day}.json"):
        (target_lake / "_ingestion_log" / log.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy2(log, target_lake / "_ingestion_log" / log.parent.name / log.name)


# How a windowed test's row_filter names the window's first day (dbt/models/**/*.yml).
MIN_DT = "{{ var('min_dt', none) or env_var('CITYOPS_MIN_DT', '') }}"


def _windowed_tests(target: Path) -> dict[tuple[str, str], str]:
    """(schema, model) → the ``row_filter`` of its windowed ``no_clear_pii`` test."""
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    filters = {}
    for node in manifest["nodes"].values():
        metadata = node.get("test_metadata") or {}
        row_filter = metadata.get("kwargs", {}).get("row_filter")
        if metadata.get("name") == "no_clear_pii" and row_filter:
            assert MIN_DT in row_filter, row_filter
            model = manifest["nodes"][node["attached_node"]]
            filters[(model["schema"], model["name"])] = row_filter
    return filters


def _rows_written_outside_the_filter(warehouse: Path, before: Path, filters, day) -> dict:
    """Per windowed model: (rows changed by the day's build, how many its row_filter misses).

    A windowed PII scan reads only the rows its filter selects, so every row a day's build
    wrote (a row of the table after the build that was not there before) must be among them.
    """
    found = {}
    with duckdb.connect() as connection:
        # Under its own name: the views' SQL names the catalogue `cityops`.
        connection.execute(f"attach '{warehouse}' as cityops (read_only)")
        connection.execute(f"attach '{before}' as before_build (read_only)")
        for (schema, model), row_filter in filters.items():
            condition = row_filter.replace(MIN_DT, day)
            changed = (
                f"select * from cityops.{schema}.{model} "
                f"except all select * from before_build.{schema}__{model}"
            )
            found[model] = connection.execute(
                f"select count(*), count(*) filter (where not ({condition})) from ({changed})"
            ).fetchone()
    return found


def _keep_tables(warehouse: Path, before: Path, tables) -> None:
    """Copy ``tables`` of the warehouse into a new database file ``before``."""
    before.unlink(missing_ok=True)
    with duckdb.connect() as connection:
        connection.execute(f"attach '{warehouse}' as cityops (read_only)")
        connection.execute(f"attach '{before}' as before_build")
        for schema, model in tables:
            connection.execute(
                f"create table before_build.{schema}__{model} "
                f"as select * from cityops.{schema}.{model}"
            )


@pytest.fixture(scope="module")
def daily_built(small_lake, tmp_path_factory):
    """The small lake delivered and built one day at a time (see the module docstring).

    Returns (home, dbt target, {windowed model: its row_filter}, {model: rows its daily
    builds wrote}, {(day, model): rows the day's build wrote outside the model's filter}).
    """
    lake_paths, _, _ = small_lake
    work = tmp_path_factory.mktemp("daily_build")
    daily_home = work / "home"
    days = _delivery_days(lake_paths.raw)
    assert len(days) >= 4
    daily_target = work / "target"
    assert run_dbt(daily_home, daily_target, "seed").returncode == 0
    warehouse = daily_home / "warehouse" / "cityops.duckdb"
    before = work / "before_build.duckdb"
    filters = {}
    written = {}
    outside = {}
    for number, day in enumerate(days):
        if number:  # before the day's partitions arrive: the lake views change with them
            _keep_tables(warehouse, before, filters)
        _copy_day(lake_paths.lake, daily_home / "lake", day)
        if number % 2:
            window = f"{{min_dt: {day}, max_dt: {day}}}"
            step = run_dbt(daily_home, daily_target, "run", "--vars", window)
        else:
            bounds = {"CITYOPS_MIN_DT": day, "CITYOPS_MAX_DT": day}
            step = run_dbt(daily_home, daily_target, "run", env=bounds)
        assert step.returncode == 0, f"{day}: {step.stdout[-4000:]}"
        assert "incremental model" in step.stdout
        # The window reached the models: the readings aggregate read the hours of this day's
        # deliveries only (the day's, and the previous evening's late readings).
        (compiled,) = daily_target.glob("compiled/**/fct_device_readings_hourly.sql")
        if number:  # the first day's run creates the tables: no window in a first build
            hours = re.findall(r"reading_at >= timestamp '([^']+)'", compiled.read_text("utf-8"))
            assert hours, compiled.read_text("utf-8")[:2000]
            assert min(hours) >= days[number - 1], (day, hours)
            # Every row the day's build wrote is in its windowed PII tests' row_filter.
            for model, counts in _rows_written_outside_the_filter(
                warehouse, before, filters, day
            ).items():
                written[model] = written.get(model, 0) + counts[0]
                outside[(day, model)] = counts[1]
        else:
            filters = _windowed_tests(daily_target)
    return daily_home, daily_target, filters, written, outside


def test_a_full_build_and_a_sequence_of_daily_incremental_builds_give_identical_tables(
    small_warehouse, daily_built
):
    # The full build: the session's one `dbt build` of the whole small lake (tests/conftest.py).
    full_home, _ = small_warehouse
    daily_home, _, filters, written, outside = daily_built
    assert {key: count for key, count in outside.items() if count} == {}, "rows outside filter"

    tables, differences = compare(
        full_home / "warehouse" / "cityops.duckdb", daily_home / "warehouse" / "cityops.duckdb"
    )
    assert set(tables) >= INCREMENTAL_MODELS
    with duckdb.connect(str(full_home / "warehouse" / "cityops.duckdb"), read_only=True) as db:
        rows = db.execute("select count(*) from things.fct_device_readings_hourly").fetchone()[0]
    assert rows > 10_000
    assert differences == {}
    # The check above was not vacuous: each windowed model's daily builds wrote rows.
    assert {schema_model[1] for schema_model in filters} >= {
        "stg_iot__readings",
        "fct_device_readings_hourly",
        "int_hotline_order_versions",
        "int_grid_case_versions",
        "fct_hotline_orders",
        "fct_grid_cases",
        "fct_city_events",
    }
    assert all(written[model] > 0 for _, model in filters), written


# Flag metrics raise an alarm at 1 (dbt/seeds/iot_metrics.csv, alarm_kind = flag).
FLAG_METRICS = ("smoke_alarm", "overcurrent_alarm", "elevator_fault", "elevator_entrapment")
# _source_record of the readings a re-send adds (far above any file's record numbers).
ADDED = 10**9
# The text a re-send gives one order (no digits, so scrubbing leaves it as it is).
NEW_CONTENT = "路灯不亮，夜间行人看不清路面"


def _rewrite_partition(raw: Path, table: str, day: str, query: str) -> None:
    """Replace a lake partition with ``query`` over its rows (``part``), as re-ingesting a
    re-sent day does: the day's files are the complete statement of that day."""
    file = raw / table / f"dt={day}" / "part-0.parquet"
    staged = file.with_suffix(".tmp")
    with duckdb.connect() as connection:
        connection.execute(
            f"create view part as select * from read_parquet('{file}', hive_partitioning = false)"
        )
        connection.execute(
            f"create view lake as select * from "
            f"read_parquet('{raw}/{table}/*/*.parquet', hive_partitioning = true)"
        )
        connection.execute(f"copy ({query}) to '{staged}' (format parquet)")
    staged.replace(file)


def _lake(raw: Path, query: str) -> list[tuple]:
    with duckdb.connect() as connection:
        for table in ("hotline_orders", "grid_cases", "iot_readings"):
            connection.execute(
                f"create view {table} as "
                f"select * from read_parquet('{raw}/{table}/*/*.parquet', hive_partitioning = true)"
            )
        return connection.execute(query).fetchall()


def _warehouse(home: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse" / "cityops.duckdb"), read_only=True) as db:
        return db.execute(query).fetchall()


def test_a_re_sent_day_that_withdraws_and_changes_records_ends_where_a_full_build_ends(
    daily_built, tmp_path
):
    daily_home, _, _, _, _ = daily_built
    home = copy_built_home(daily_home, tmp_path / "daily")
    raw = home / "lake" / "raw"
    days = _delivery_days(raw)
    # The newest day before the last with orders, cases and readings: later days hold later
    # versions and late readings, so the re-sent day is not simply the end of the lake.
    day = max(
        day
        for day in days[1:-1]
        if all(
            _lake(raw, f"select count(*) from {table} where dt = '{day}'")[0][0] >= 3
            for table in ("hotline_orders", "grid_cases", "iot_readings")
        )
    )
    others = f"(select order_id from hotline_orders where dt <> '{day}')"
    withdrawn_order, changed_order = _lake(
        raw,
        f"select min(order_id) filter (where order_id not in {others}), "
        f"max(order_id) filter (where order_id not in {others}) "
        f"from hotline_orders where dt = '{day}'",
    )[0]
    reverted_order = _lake(
        raw, f"select min(order_id) from hotline_orders where dt = '{day}' and order_id in {others}"
    )[0][0]
    withdrawn_case, changed_case = _lake(
        raw,
        f"select min(case_id), max(case_id) from grid_cases where dt = '{day}' "
        f"and case_id not in (select case_id from grid_cases where dt <> '{day}')",
    )[0]
    # Readings: one device-hour withdrawn (an alarm's, when the day has one), one value
    # changed, and an earlier day's alarm hour corrected to 0 by copies the re-send adds.
    flags = ", ".join(f"'{metric}'" for metric in FLAG_METRICS)
    (withdrawn_hour,) = _lake(
        raw,
        f"select device_id, metric, date_trunc('hour', reading_at) from iot_readings "
        f"where dt = '{day}' order by (metric in ({flags}) and value >= 1) desc, "
        f"device_id, metric, reading_at limit 1",
    )
    (changed_reading,) = _lake(
        raw,
        f"select device_id, metric, reading_at from iot_readings where dt = '{day}' "
        f"and metric not in ({flags}) and device_id <> '{withdrawn_hour[0]}' order by all limit 1",
    )
    (earlier_alarm,) = _lake(
        raw,
        f"select device_id, metric, date_trunc('hour', reading_at) from iot_readings "
        f"where dt < '{day}' and metric in ({flags}) and value >= 1 order by all limit 1",
    )
    assert None not in (withdrawn_order, changed_order, reverted_order, withdrawn_case)
    assert withdrawn_order != changed_order and withdrawn_case != changed_case

    def in_hour(device_metric_hour):
        device, metric, hour = device_metric_hour
        return (
            f"device_id = '{device}' and metric = '{metric}' "
            f"and date_trunc('hour', reading_at) = timestamp '{hour}'"
        )

    _rewrite_partition(
        raw,
        "hotline_orders",
        day,
        f"select * replace (case when order_id = '{changed_order}' then '{NEW_CONTENT}' "
        f"else content end as content) from part "
        f"where order_id not in ('{withdrawn_order}', '{reverted_order}')",
    )
    _rewrite_partition(
        raw,
        "grid_cases",
        day,
        f"select * replace (case when case_id = '{changed_case}' then '人行道破损，已设围挡'"
        f" else description end as description) from part where case_id <> '{withdrawn_case}'",
    )
    _rewrite_partition(
        raw,
        "iot_readings",
        day,
        f"select * replace (case when device_id = '{changed_reading[0]}' "
        f"and metric = '{changed_reading[1]}' and reading_at = timestamp '{changed_reading[2]}' "
        f"then value + 1.5 else value end as value) from part "
        f"where not ({in_hour(withdrawn_hour)}) "
        f"union all select * exclude (dt) replace (0.0 as value, "
        f"(select any_value(_source_file) from part) as _source_file, "
        f"{ADDED} + _source_record as _source_record) "
        f"from lake where dt < '{day}' and {in_hour(earlier_alarm)}",
    )
    target = tmp_path / "target"
    window = {"CITYOPS_MIN_DT": day, "CITYOPS_MAX_DT": day}
    step = run_dbt(home, target, "run", env=window)
    assert step.returncode == 0, step.stdout[-4000:]
    alarm_id = (
        f"{earlier_alarm[0]}|{earlier_alarm[1]}|{earlier_alarm[2]:%Y-%m-%dT%H}"  # fct_device_alarms
    )
    alarm_query = f"select count(*) from events.fct_device_alarms where alarm_id = '{alarm_id}'"
    # The newest delivery wins: the added zeros withdrew the earlier day's alarm.
    assert _warehouse(home, alarm_query) == [(0,)]

    # The day is re-sent once more without the added copies: the older readings count again,
    # and the alarm is back, in an hour whose remaining deliveries all precede the window.
    _rewrite_partition(
        raw, "iot_readings", day, f"select * from part where _source_record < {ADDED}"
    )
    step = run_dbt(home, target, "run", env=window)
    assert step.returncode == 0, step.stdout[-4000:]
    assert _warehouse(home, alarm_query) == [(1,)]

    full_home = tmp_path / "full"
    shutil.copytree(home / "lake", full_home / "lake")
    full_target = tmp_path / "full_target"
    assert run_dbt(full_home, full_target, "seed").returncode == 0
    full = run_dbt(full_home, full_target, "run")
    assert full.returncode == 0, full.stdout[-4000:]

    tables, differences = compare(
        full_home / "warehouse" / "cityops.duckdb", home / "warehouse" / "cityops.duckdb"
    )
    assert set(tables) >= INCREMENTAL_MODELS
    assert differences == {}
    # Not vacuous: the withdrawn order was in the tables before the re-send and is gone from
    # every one of them after it; the changed texts arrived.
    order_tables = ("events.fct_hotline_orders", "events.fct_city_events")
    for table in order_tables:
        key = "order_id" if "hotline" in table else "source_event_id"
        query = f"select count(*) from {table} where {key} = '{withdrawn_order}'"
        assert _warehouse(daily_home, query) == [(1,)]
        assert _warehouse(home, query) == [(0,)]
    assert _warehouse(
        home,
        f"select content_scrubbed from events.fct_hotline_orders "
        f"where order_id = '{changed_order}'",
    ) == [(NEW_CONTENT,)]
    assert _warehouse(
        home, f"select count(*) from events.fct_grid_cases where case_id = '{withdrawn_case}'"
    ) == [(0,)]


def _joins_and_aggregates(warehouse: Path, sql: str) -> list[tuple]:
    """The plan's joins (with their type) and aggregates, depth first."""
    with duckdb.connect() as connection:
        # Under its own name: the views' SQL names the catalogue `cityops`.
        connection.execute(f"attach '{warehouse}' as cityops (read_only)")
        connection.execute("use cityops")
        (_, plan), *_ = connection.execute(f"explain (format json) {sql}").fetchall()
    found = []
    nodes = list(reversed(json.loads(plan)))
    while nodes:
        node = nodes.pop()
        if "JOIN" in node["name"] or "GROUP_BY" in node["name"]:
            found.append((node["name"], node.get("extra_info", {}).get("Join Type")))
        nodes.extend(reversed(node.get("children", [])))
    return found


def test_an_incremental_build_over_several_days_reads_the_readings_as_the_full_build_does(
    daily_built, tmp_path
):
    # The full build of the readings aggregate spills to disk under memory_limit (a year's
    # readings; fct_device_readings_hourly.sql). An incremental build over a window of many
    # days must read them the same way, adding filters only: a semi-join on the window's
    # hours, built on the readings side, took 12.8 GB for the 30-day demo (3.7 GiB limit).
    daily_home, _, _, _, _ = daily_built
    home = copy_built_home(daily_home, tmp_path / "home")
    days = _delivery_days(home / "lake" / "raw")
    window = {"CITYOPS_MIN_DT": days[0], "CITYOPS_MAX_DT": days[-1]}
    plans = {}
    for name, arguments in (("incremental", ()), ("full", ("--full-refresh",))):
        target = tmp_path / name
        model = "fct_device_readings_hourly"
        compiled = run_dbt(home, target, "compile", "-s", model, *arguments, env=window)
        assert compiled.returncode == 0, compiled.stdout[-4000:]
        (sql,) = target.glob(f"compiled/**/{model}.sql")
        plans[name] = _joins_and_aggregates(
            home / "warehouse" / "cityops.duckdb", sql.read_text("utf-8")
        )
    assert plans["incremental"] == plans["full"]
    assert ("HASH_JOIN", "INNER") in plans["full"]  # the series' names joined back

    # And the build itself, over every delivery day, under a low limit. (On this small lake
    # the limit alone does not tell the two plans apart: DuckDB needs about 45 MB for either.)
    low = {**window, "CITYOPS_DUCKDB_MEMORY_LIMIT": "100MB"}
    built = run_dbt(home, tmp_path / "run", "run", "-s", "fct_device_readings_hourly", env=low)
    assert built.returncode == 0, built.stdout[-4000:]
