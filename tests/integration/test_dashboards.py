"""Superset provisioned from dashboards/spec/ on a real serving snapshot (superset_fixtures.py).

One Superset (its own virtual environment, SQLite metadata, gunicorn on a free port) serves the
small dbt-built snapshot for the whole session; these tests talk to it over its REST API as
the admin, a leader, an analyst and every street user.
"""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import serving
from dashboards import bundle, server
from dashboards.client import SupersetError
from dashboards.provision import ANALYST, LEADER, provision, streets
from dashboards.settings import user_password
from dashboards.spec import STREETS, load_spec
from ingestion.settings import paths

pytestmark = pytest.mark.integration

CITYOPS = Path(sys.executable).with_name("cityops")


def _count_by_street(client, dataset_id):
    """Rows per street_code of a dataset, through the chart-data API (with row-level security)."""
    query_context = {
        "datasource": {"id": dataset_id, "type": "table"},
        "queries": [
            {
                "columns": ["street_code"],
                "metrics": [
                    {"expressionType": "SQL", "sqlExpression": "count(*)", "label": "rows"}
                ],
                "orderby": [],
                "row_limit": 1000,
            }
        ],
        "result_format": "json",
        "result_type": "full",
    }
    rows = client.query(query_context)["result"][0]["data"]
    return {row["street_code"]: row["rows"] for row in rows}


def _inventory(client):
    """Every object provisioning creates: (kind, name, id), sorted."""
    found = []
    for resource, name in (
        ("database", "database_name"),
        ("dataset", "table_name"),
        ("chart", "slice_name"),
        ("dashboard", "dashboard_title"),
    ):
        found += [
            (resource, row[name], row["id"])
            for row in client.list_all(resource, columns=["id", name])
        ]
    found += [("role", row["name"], row["id"]) for row in client.list_all("security/roles")]
    found += [
        ("rls", row["name"], row["id"])
        for row in client.list_all("rowlevelsecurity", columns=["id", "name"])
    ]
    found += [
        ("user", row["username"], row["id"])
        for row in client.list_all("security/users", columns=["id", "username"])
    ]
    return sorted(found)


def test_up_serves_the_five_dashboards_and_every_chart_answers(superset_instance):
    spec = load_spec()
    result = superset_instance.provisioned
    with superset_instance.client() as admin:
        dashboards = {
            row["slug"]: row for row in admin.list_all("dashboard", columns=["id", "slug"])
        }
        # The small snapshot is built from today's dbt project, so nothing may be missing.
        assert result.missing_datasets == {}
        assert set(dashboards) == {dashboard.slug for dashboard in spec.dashboards}
        assert len(dashboards) == 5
        for dashboard in spec.dashboards:
            charts = admin.get(f"/api/v1/dashboard/{dashboards[dashboard.slug]['id']}/charts")
            assert len(charts["result"]) == len(dashboard.charts), dashboard.slug
        # Every chart carries a query_context, so the chart-data API answers for each.
        for key, chart_id in result.chart_ids.items():
            answer = admin.chart_data(chart_id)["result"][0]
            assert answer["status"] == "success" and answer["error"] is None, key
    print(f"\nSuperset timings (s): {superset_instance.timings}")


def test_provisioning_again_and_up_on_a_running_instance_leave_the_same_objects(
    superset_instance,
):
    with superset_instance.client() as admin:
        before = _inventory(admin)
        again = server.up(superset_instance.target)  # what `cityops dashboards up` does
        after = _inventory(admin)
    assert again.started is False and again.install_seconds is None and not again.initialised
    assert after == before
    assert again.provision.deleted == []
    # No duplicates: one object per name and kind (chart titles are unique in the spec).
    names = [(kind, name) for kind, name, _ in after]
    assert len(names) == len(set(names))
    spec = load_spec()
    counts = {
        kind: sum(1 for each, _, _ in after if each == kind)
        for kind in ("chart", "dataset", "dashboard", "rls")
    }
    assert counts == {
        "chart": sum(len(d.charts) for d in spec.dashboards),
        "dataset": len(spec.datasets),
        "dashboard": len(spec.dashboards),
        "rls": 14,
    }


def test_the_cli_up_on_a_running_instance_is_safe(superset_instance):
    target = superset_instance.target
    environment = {**os.environ, "CITYOPS_HOME": str(target.home)}
    for name in ("SUPERSET_ADMIN_PASSWORD", "SUPERSET_ADMIN_USER", "SUPERSET_SECRET_KEY"):
        environment.pop(name, None)
    up = subprocess.run(
        [CITYOPS, "dashboards", "up", "--port", str(target.port)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert up.returncode == 0, up.stderr[-3000:]
    assert "Already running" in up.stdout
    assert f"{target.url}/superset/dashboard/city-vitals/" in up.stdout
    status = subprocess.run(
        [CITYOPS, "dashboards", "status", "--port", str(target.port)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 0, status.stdout
    assert "street_jas" in status.stdout


def test_a_changed_spec_updates_the_chart_in_place(superset_instance):
    spec = load_spec()
    vitals = next(d for d in spec.dashboards if d.slug == "city-vitals")
    tile = vitals.charts["tile_weather"]
    renamed = dataclasses.replace(tile, title="气象 Weather (renamed)")
    changed_dashboard = dataclasses.replace(
        vitals, charts={**vitals.charts, "tile_weather": renamed}
    )
    changed = dataclasses.replace(
        spec,
        dashboards=tuple(changed_dashboard if d is vitals else d for d in spec.dashboards),
    )
    chart_id = superset_instance.provisioned.chart_ids["city-vitals/tile_weather"]
    with superset_instance.client() as admin:
        try:
            result = provision(admin, superset_instance.target, spec=changed)
            assert result.chart_ids["city-vitals/tile_weather"] == chart_id
            assert admin.get(f"/api/v1/chart/{chart_id}")["result"]["slice_name"] == renamed.title
            # A chart taken out of the spec is deleted from Superset.
            fewer = dataclasses.replace(
                changed_dashboard,
                charts={k: v for k, v in vitals.charts.items() if k != "tile_weather"},
                rows=tuple(
                    tuple(cell for cell in row if cell.key != "tile_weather") for row in vitals.rows
                ),
            )
            without = dataclasses.replace(
                spec, dashboards=tuple(fewer if d is vitals else d for d in spec.dashboards)
            )
            result = provision(admin, superset_instance.target, spec=without)
            assert result.deleted == [f"chart {renamed.title}"]
            with pytest.raises(SupersetError):
                admin.get(f"/api/v1/chart/{chart_id}")
        finally:
            # Back to the committed spec (the chart comes back under a new id).
            superset_instance.provisioned = provision(admin, superset_instance.target, spec=spec)
        restored = superset_instance.provisioned.chart_ids["city-vitals/tile_weather"]
        assert admin.get(f"/api/v1/chart/{restored}")["result"]["slice_name"] == tile.title


# The live panel shows the warnings of the data's last six hours: the test home may have none.
RECENT_ONLY = {"v_live_warnings"}


def test_a_street_user_sees_only_its_street_in_every_dataset(superset_instance):
    result = superset_instance.provisioned
    target = superset_instance.target
    spec = load_spec()
    street_dashboards = [d for d in spec.dashboards if STREETS in d.roles]
    street_charts = {
        f"{d.slug}/{key}": result.chart_ids[f"{d.slug}/{key}"]
        for d in street_dashboards
        for key in d.charts
    }
    # Every dataset a street dashboard reads is row-filtered.
    assert {ds for d in street_dashboards for ds in d.datasets()} <= set(result.street_datasets)
    with superset_instance.client("leader", user_password(target, "leader")) as leader:
        everything = {
            key: _count_by_street(leader, result.dataset_ids[key]) for key in result.street_datasets
        }
    for key, counts in everything.items():
        if key in RECENT_ONLY and not counts:
            continue
        assert len([code for code in counts if code]) > 1, f"leader sees one street only in {key}"
    for street in streets():
        with superset_instance.client(
            street.username, user_password(target, street.username)
        ) as user:
            for key in result.street_datasets:
                counts = _count_by_street(user, result.dataset_ids[key])
                assert set(counts) <= {street.code}, (street.username, key, counts)
                # …and all of its own rows: the filter takes nothing else away.
                assert counts.get(street.code, 0) == everything[key].get(street.code, 0), key
            if street.username not in ("street_jnl", "street_jas", "street_ppz"):
                continue
            # Every chart of the dashboards granted to streets answers, with only its rows.
            for name, chart_id in street_charts.items():
                answer = user.chart_data(chart_id)["result"][0]
                codes = {row.get("street_code") for row in answer["data"] if "street_code" in row}
                assert codes <= {street.code}, (street.username, name, codes)


def test_the_street_desk_lists_a_streets_own_to_do_or_says_it_has_none(superset_instance):
    target = superset_instance.target
    chart_id = superset_instance.provisioned.chart_ids["street-desk/todo_list"]
    seen = set()
    for street in streets():
        with superset_instance.client(
            street.username, user_password(target, street.username)
        ) as user:
            rows = user.chart_data(chart_id)["result"][0]["data"]
        titles = {row["title"] for row in rows}
        # Never an empty table: the items, or the one row saying there are none.
        assert rows, street.username
        assert ("本街镇当前无待办" in titles) == (titles == {"本街镇当前无待办"}), street.username
        assert {row["street_name"] for row in rows} == {street.name}, street.username
        seen.add("本街镇当前无待办" in titles)
    assert seen == {True, False}  # the small snapshot has streets with and without to-dos


def test_street_users_get_neither_the_quality_dashboard_nor_sql_lab(superset_instance):
    target = superset_instance.target
    street = streets()[0]
    result = superset_instance.provisioned
    with superset_instance.client(street.username, user_password(target, street.username)) as user:
        titles = {row["slug"] for row in user.list_all("dashboard", columns=["id", "slug"])}
        assert titles == {"city-overview", "city-vitals", "hotline-grid", "street-desk"}
        with pytest.raises(SupersetError) as refused:
            user.sql(result.database_id, "select 1")
        assert refused.value.status_code in (401, 403)
        quality = result.dataset_ids["fct_check_results_daily"]
        with pytest.raises(SupersetError):
            _count_by_street(user, quality)


def test_sql_lab_cannot_read_files_outside_the_warehouse(superset_instance):
    target = superset_instance.target
    database_id = superset_instance.provisioned.database_id
    with superset_instance.client("analyst", user_password(target, "analyst")) as analyst:
        assert (
            analyst.sql(database_id, "select count(*) as n from events.fct_hotline_orders")["data"][
                0
            ]["n"]
            > 0
        )
        for sql in (
            "select * from read_csv('/etc/passwd')",
            "select * from read_text('/etc/passwd')",
            "set enable_external_access = true",
            f"attach '{target.metadata_db}' as metadata",
        ):
            with pytest.raises(SupersetError) as refused:
                analyst.sql(database_id, sql)
            assert "root:" not in refused.value.body
            message = refused.value.body.lower()
            assert (
                "disabled by configuration" in message
                or "locked" in message
                or "permission" in message
            ), sql


def test_analysts_find_no_restricted_personal_data(superset_instance):
    target = superset_instance.target
    database_id = superset_instance.provisioned.database_id
    with superset_instance.client("analyst", user_password(target, "analyst")) as analyst:
        # duckdb-engine lists "<database>.<schema>", the database being the snapshot file's name.
        listed = analyst.get(f"/api/v1/database/{database_id}/schemas/")["result"]
        schemas = {name.rsplit(".", 1)[-1] for name in listed}
        assert "restricted" not in schemas and "staging" not in schemas
        assert {"events", "vitals", "places"} <= schemas
        with pytest.raises(SupersetError):
            analyst.sql(database_id, "select * from restricted.stg_hotline__orders limit 1")
        roles = set(analyst.get("/api/v1/me/roles/")["result"]["roles"])
    assert roles == {"Gamma", "sql_lab", ANALYST}


def test_a_new_publication_is_seen_without_restarting_superset(superset_instance):
    target = superset_instance.target
    home = paths(target.home)
    database_id = superset_instance.provisioned.database_id
    sql = "select run_id from _serving.snapshot"
    # The session's small warehouse was published as run "small-warehouse" (tests/conftest.py).
    with superset_instance.client() as admin:
        assert admin.sql(database_id, sql)["data"][0]["run_id"] == "small-warehouse"
        serving.publish(home, run_id="dashboards-second-publish")
        try:
            assert admin.sql(database_id, sql)["data"][0]["run_id"] == "dashboards-second-publish"
            chart = superset_instance.provisioned.chart_ids["hotline-grid/total_orders"]
            assert admin.chart_data(chart)["result"][0]["data"][0]["orders"] > 0
        finally:
            serving.rollback(home)
        assert admin.sql(database_id, sql)["data"][0]["run_id"] == "small-warehouse"


def test_the_level_colours_are_the_marts_colours(superset_instance):
    with duckdb.connect(str(superset_instance.target.serving_path), read_only=True) as con:
        colours = con.execute(
            "select distinct level, colour_hex from vitals.fct_indicator_latest "
            "where level is not null"
        ).fetchall()
    assert colours and all(bundle.LEVEL_COLOURS[level] == colour for level, colour in colours)


def test_the_roles_hold_what_the_readme_promises(superset_instance):
    with superset_instance.client() as admin:
        roles = {row["name"] for row in admin.list_all("security/roles")}
        rules = {
            row["name"]: row
            for row in admin.list_all("rowlevelsecurity", columns=["id", "name", "clause"])
        }
    assert {LEADER, ANALYST} <= roles
    assert {street.role for street in streets()} <= roles
    assert len(streets()) == 14
    assert sorted(rule["clause"] for rule in rules.values()) == sorted(
        f"street_code = '{street.code}'" for street in streets()
    )
