"""The 城运主题数据库 built by real dbt on the small generated lake, then read back.

One ``dbt build`` (models, seeds, every data test and unit test) runs once for the module
on a private copy of the session's small lake; the tests then read the DuckDB file
read-only, as an analyst or Superset would.
"""

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.integration.dbt_runner import run_dbt

pytestmark = pytest.mark.integration

QUERIES = Path(__file__).resolve().parents[2] / "docs" / "analyst-queries.sql"
CJK = re.compile(r"[\u4e00-\u9fff]")
# What no text column outside `restricted` may contain (mobile, fixed line, resident ID).
PII_PATTERNS = {
    "mobile": r"(^|[^0-9])1[3-9][0-9]{9}([^0-9]|$)",
    "fixed_line": r"(^|[^0-9])0[1-9][0-9]{1,2}-[0-9]{7,8}([^0-9]|$)",
    "id_number": (
        r"(^|[^0-9])[1-9][0-9]{5}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
        r"[0-9]{3}[0-9Xx]([^0-9]|$)"
    ),
}
REQUIRED_META = {
    "owner_department",
    "element",
    "resource_category",
    "grade",
    "personal_information",
    "share_type",
    "open_type",
    "update_cycle",
}


@pytest.fixture(scope="module")
def warehouse(small_lake, tmp_path_factory):
    """(home, target folder, manifest) after one full ``dbt build`` on a copy of the lake."""
    lake_paths, manifest, _ = small_lake
    home = tmp_path_factory.mktemp("dbt_home")
    shutil.copytree(lake_paths.lake, home / "lake")
    target = tmp_path_factory.mktemp("dbt_target")
    built = run_dbt(home, target, "build")
    assert built.returncode == 0, built.stdout[-6000:]
    return home, target, manifest


@pytest.fixture
def connection(warehouse):
    home, _, _ = warehouse
    with duckdb.connect(str(home / "warehouse" / "cityops.duckdb"), read_only=True) as db:
        yield db


def test_dbt_build_runs_every_model_seed_data_test_and_unit_test(warehouse):
    _, target, _ = warehouse
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    statuses = {result["status"] for result in results}
    assert statuses <= {"success", "pass"}, statuses
    kinds = {result["unique_id"].split(".")[0] for result in results}
    assert {"model", "seed", "test", "unit_test"} <= kinds


def _text_columns(connection):
    return connection.execute(
        """
        select table_schema, table_name, column_name, data_type
        from information_schema.columns
        where table_schema not in ('restricted', 'information_schema', 'pg_catalog')
            and data_type like 'VARCHAR%'
        order by all
        """
    ).fetchall()


def test_no_text_column_outside_restricted_holds_a_phone_or_id_number(connection):
    columns = _text_columns(connection)
    assert len(columns) > 100  # every schema is scanned, views over the lake included
    hits = []
    for schema, table, column, data_type in columns:
        if column.endswith("_key"):
            continue  # keyed SHA-256 pseudonyms, checked below
        value = f'cast("{column}" as varchar)' if data_type != "VARCHAR" else f'"{column}"'
        for name, pattern in PII_PATTERNS.items():
            found = connection.execute(
                f"select count(*) from (select distinct {value} as v from {schema}.{table})"
                " where regexp_matches(v, ?)",
                [pattern],
            ).fetchone()[0]
            if found:
                hits.append(f"{schema}.{table}.{column}: {found} values like a {name}")
    assert hits == []


def test_restricted_staging_does_hold_the_clear_values_the_scan_looks_for(connection):
    # The scan above is only meaningful if the patterns find the clear data where it is.
    phones = connection.execute(
        "select count(*) from restricted.stg_hotline__orders where regexp_matches(caller_phone, ?)",
        [PII_PATTERNS["mobile"]],
    ).fetchone()[0]
    ids = connection.execute(
        "select count(*) from restricted.stg_iot__devices "
        "where regexp_matches(resident_id_number, ?)",
        [PII_PATTERNS["id_number"]],
    ).fetchone()[0]
    embedded = connection.execute(
        "select count(*) from restricted.stg_hotline__orders where regexp_matches(content, ?)",
        [PII_PATTERNS["mobile"]],
    ).fetchone()[0]
    assert phones > 0 and ids > 0 and embedded > 0


def test_pseudonyms_are_keyed_hashes_that_join_a_callers_orders(connection):
    keys = [
        (schema, table, column)
        for schema, table, column, _ in _text_columns(connection)
        if column.endswith("_key")
    ]
    assert ("people", "dim_callers", "caller_key") in keys
    for schema, table, column in keys:
        bad = connection.execute(
            f"select count(*) from {schema}.{table} "
            f"where {column} is not null and not regexp_full_match({column}, '[0-9a-f]{{64}}')"
        ).fetchone()[0]
        assert bad == 0, f"{schema}.{table}.{column}"
    # The key is a keyed hash: it is not the plain SHA-256 of the number.
    plain = connection.execute(
        """
        select count(*)
        from restricted.stg_hotline__orders as clear
        inner join events.fct_hotline_orders as masked using (order_id)
        where masked.caller_key = sha256(regexp_replace(clear.caller_phone, '[^0-9]', '', 'g'))
        """
    ).fetchone()[0]
    assert plain == 0


def test_free_text_keeps_no_number_but_says_where_one_was(connection):
    scrubbed = connection.execute(
        """
        select count(*) filter (where has_phone_in_content),
            count(*) filter (where content_scrubbed like '%[手机号]%')
        from events.fct_hotline_orders
        """
    ).fetchone()
    assert scrubbed[0] > 0
    assert scrubbed[0] == scrubbed[1]


def test_every_model_and_column_is_documented_with_grain_chinese_names_and_meta(
    warehouse, connection
):
    _, target, _ = warehouse
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    models = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    assert len(models) >= 40
    problems = []
    for model in models:
        name = model["name"]
        if "Grain:" not in model["description"] or not CJK.search(model["description"]):
            problems.append(f"{name}: description lacks the grain or a Chinese name")
        missing = REQUIRED_META - model["config"]["meta"].keys()
        if missing:
            problems.append(f"{name}: meta lacks {sorted(missing)}")
        actual = {
            row[0]
            for row in connection.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                [model["schema"], model["alias"]],
            ).fetchall()
        }
        documented = set(model["columns"])
        if actual != documented:
            problems.append(
                f"{name}: undocumented {sorted(actual - documented)}, "
                f"documented but absent {sorted(documented - actual)}"
            )
        for column in model["columns"].values():
            if not CJK.search(column["description"]):
                problems.append(f"{name}.{column['name']}: no Chinese name")
    assert problems == []


def test_deadlines_from_the_dispatch_dictionary_and_calendar_match_the_source(connection):
    mismatches = connection.execute(
        """
        select
            (select count(*) from events.fct_hotline_orders
             where deadline_at is distinct from source_deadline_at),
            (select count(*) from events.fct_grid_cases
             where deadline_at is distinct from source_deadline_at)
        """
    ).fetchone()
    assert mismatches == (0, 0)


def test_every_order_case_and_alarm_is_one_city_event(connection):
    counts = connection.execute(
        """
        select
            (select count(*) from events.fct_hotline_orders),
            (select count(*) from events.fct_city_events where event_source = '12345热线'),
            (select count(*) from events.fct_grid_cases),
            (select count(*) from events.fct_city_events where event_source = '网格案件'),
            (select count(*) from events.fct_device_alarms),
            (select count(*) from events.fct_city_events where event_source = '物联告警')
        """
    ).fetchone()
    assert counts[0] == counts[1] > 0
    assert counts[2] == counts[3] > 0
    assert counts[4] == counts[5] > 0


def test_the_planted_incidents_show_as_situation_signals(warehouse, connection):
    _, _, manifest = warehouse
    signals = connection.execute(
        "select signal_type, signal_date, grid_code, subject_code "
        "from situations.fct_situation_signals"
    ).fetchall()
    by_type = {}
    for signal_type, day, grid, subject in signals:
        by_type.setdefault(signal_type, []).append((day.isoformat(), grid, subject))
    incidents = {incident["kind"]: incident for incident in manifest["incidents"]}

    rain_day = incidents["rainstorm"]["start"][:10]
    assert any(day == rain_day for day, _, _ in by_type["rainstorm"])
    assert any(day == rain_day for day, _, _ in by_type["underpass_flooding"])
    heat_day = incidents["heat_wave"]["start"][:10]
    assert any(day == heat_day for day, _, _ in by_type["heat"])
    festival_day = incidents["festival_footfall"]["start"][:10]
    assert any(day == festival_day for day, _, _ in by_type["footfall_peak"])
    ebike = incidents["ebike_charging_alarm"]
    assert (ebike["start"][:10], ebike["grids"][0], "overcurrent_alarm") in by_type["alarm_cluster"]
    meter = incidents["water_meter_silent"]
    assert any(subject == meter["devices"][0] for _, _, subject in by_type["silent_water_meter"])


def _analyst_queries():
    text = QUERIES.read_text(encoding="utf-8")
    statements = []
    for chunk in text.split(";\n"):
        lines = [line for line in chunk.splitlines() if line.strip()]
        if any(not line.lstrip().startswith("--") for line in lines):
            title = next(line for line in lines if re.match(r"--\s*\d+\.", line))
            statements.append(pytest.param(chunk.strip().rstrip(";"), id=title[3:40].strip()))
    return statements


def test_the_analyst_queries_file_holds_at_least_eight_queries():
    assert len(_analyst_queries()) >= 8


@pytest.mark.parametrize("query", _analyst_queries())
def test_each_analyst_query_returns_rows_from_the_read_only_warehouse(connection, query):
    assert connection.execute(query).fetchall()


def test_dbt_docs_generate_catalogues_every_model(warehouse):
    home, target, _ = warehouse
    generated = run_dbt(home, target, "docs", "generate")
    assert generated.returncode == 0, generated.stdout[-3000:]
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    models = {key for key, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    assert models <= set(catalog["nodes"])
    assert (target / "index.html").exists()
