"""Incremental builds: a lake that grows day by day, built day by day, ends where one full
build of the whole lake ends — table by table, row by row.

The day-by-day home receives each delivery day's partitions only when that day is built, so
late records, corrections delivered a day later and orders that stay open across days all take
the incremental path. The window alternates between the two ways of giving it: the
environment (``CITYOPS_MIN_DT``/``CITYOPS_MAX_DT``, as Dagster does) and ``--vars`` (as an
analyst does by hand). After each day's build, every row it wrote must lie inside the
``row_filter`` of its model's windowed PII test, which on a daily build scans only those rows.
"""

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.integration.dbt_runner import run_dbt

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


def _comparable(connection, schema, table):
    """A select of the table with doubles rounded: parallel sums may differ in the last bit."""
    columns = connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = 'full_build' and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, table],
    ).fetchall()
    return ", ".join(
        f'round("{name}", 6) as "{name}"' if kind == "DOUBLE" else f'"{name}"'
        for name, kind in columns
    )


def test_a_full_build_and_a_sequence_of_daily_incremental_builds_give_identical_tables(
    small_lake, small_warehouse, tmp_path
):
    lake_paths, _, _ = small_lake
    # The full build: the session's one `dbt build` of the whole small lake (tests/conftest.py).
    full_home, _ = small_warehouse
    daily_home = tmp_path / "daily"

    days = _delivery_days(lake_paths.raw)
    assert len(days) >= 4
    daily_target = tmp_path / "daily_target"
    assert run_dbt(daily_home, daily_target, "seed").returncode == 0
    warehouse = daily_home / "warehouse" / "cityops.duckdb"
    before = tmp_path / "before_build.duckdb"
    filters = {}
    written = {}
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
        # The window reached the models: the readings aggregate scanned this day's deliveries.
        (compiled,) = daily_target.glob("compiled/**/fct_device_readings_hourly.sql")
        if number:  # the first day's run creates the tables: no window in a first build
            assert f"cast('{day}' as date) and cast('{day}' as date)" in compiled.read_text(
                encoding="utf-8"
            )
            # Every row the day's build wrote is in its windowed PII tests' row_filter.
            for model, counts in _rows_written_outside_the_filter(
                warehouse, before, filters, day
            ).items():
                written[model] = written.get(model, 0) + counts[0]
                assert counts[1] == 0, f"{day}: {model} wrote {counts[1]} rows outside the filter"
        else:
            filters = _windowed_tests(daily_target)

    with duckdb.connect() as connection:
        connection.execute(
            f"attach '{full_home / 'warehouse' / 'cityops.duckdb'}' as full_build (read_only)"
        )
        connection.execute(
            f"attach '{daily_home / 'warehouse' / 'cityops.duckdb'}' as daily_build (read_only)"
        )
        tables = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = 'full_build' and table_type = 'BASE TABLE' order by all"
        ).fetchall()
        assert set(tables) >= INCREMENTAL_MODELS
        differences = {}
        for schema, table in tables:
            columns = _comparable(connection, schema, table)
            full = f"select {columns} from full_build.{schema}.{table}"
            daily = f"select {columns} from daily_build.{schema}.{table}"
            counts = tuple(
                connection.execute(f"select count(*) from ({one} except all {other})").fetchone()[0]
                for one, other in ((full, daily), (daily, full))
            )
            if counts != (0, 0):
                differences[f"{schema}.{table}"] = counts
        rows = connection.execute(
            "select count(*) from full_build.things.fct_device_readings_hourly"
        ).fetchone()[0]
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
