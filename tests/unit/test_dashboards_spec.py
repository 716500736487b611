"""The dashboards spec and its rendering into Superset's import bundle, without Superset."""

import dataclasses
import io
import json
import tomllib
import zipfile

import pytest
import yaml

from dashboards import bundle, geo
from dashboards.catalog import Catalog, Column, label_of
from dashboards.client import _rison
from dashboards.settings import REPO, duckdb_version, requirements
from dashboards.spec import SpecError, _live_problems, load_spec
from vitals.registry import DIMENSIONS

SERVING_URI = "duckdb:////data/serving/current.duckdb"
LIVE_URI = "duckdb:////data/serving/live.duckdb"


def _catalog(spec):
    """A made-up snapshot: every dataset has street_code, a period and every chart's columns."""
    names = {
        "street_code",
        "period_start",
        "accepted_at",
        "discovered_at",
        "stat_date",
        "check_date",
    }
    names |= {"delivery_date", "feature", "area_code", "area_name"}
    for dashboard in spec.dashboards:
        for chart in dashboard.charts.values():
            names |= set(chart.options.get("columns") or []) | set(
                chart.options.get("groupby") or []
            )
            names |= {chart.options[key] for key in ("x", "y") if key in chart.options}
    columns = [
        Column(name, "TIMESTAMP" if name.endswith(("_at", "_start")) else "VARCHAR", f"标签{name}")
        for name in sorted(names)
    ]
    indicator = {
        "indicator_name": "指标",
        "unit_name": "毫米",
        "direction": "higher_is_worse",
        "threshold_kind": "fixed",
        "threshold_blue": 35.0,
        "threshold_yellow": 50.0,
        "threshold_orange": 80.0,
        "threshold_red": None,
    }
    codes = {
        c.options["indicator"]
        for d in spec.dashboards
        for c in d.charts.values()
        if "indicator" in c.options
    }
    return Catalog(
        columns={key: columns for key in spec.datasets},
        sql={key: dataset.sql for key, dataset in spec.datasets.items() if dataset.sql},
        indicators={code: indicator for code in codes},
        missing={},
    )


@pytest.fixture(scope="module")
def rendered():
    spec = load_spec()
    return spec, bundle.render(spec, _catalog(spec), SERVING_URI, LIVE_URI)


def test_the_spec_has_five_dashboards_with_chinese_titles():
    spec = load_spec()
    titles = {d.slug: d.title for d in spec.dashboards}
    assert titles == {
        "city-overview": "城运总览",
        "city-vitals": "城市运行生命体征",
        "hotline-grid": "12345 热线与网格运行",
        "quality-catalogue": "数据质量与资源目录",
        "street-desk": "街镇工作台",
    }


def test_the_eight_tiles_follow_the_registry_dimensions():
    vitals = next(d for d in load_spec().dashboards if d.slug == "city-vitals")
    tiles = [chart for key, chart in vitals.charts.items() if key.startswith("tile_")]
    dimensions = [chart.options["filters"][0][2] for chart in tiles]
    assert sorted(dimensions) == sorted(DIMENSIONS)
    assert len(tiles) == 8


def test_uuids_depend_only_on_names(rendered):
    spec, files = rendered
    again = bundle.render(spec, _catalog(spec), SERVING_URI, LIVE_URI)
    assert again == files
    assert bundle.stable_uuid("chart", "a/b") == bundle.stable_uuid("chart", "a/b")
    assert bundle.stable_uuid("chart", "a/b") != bundle.stable_uuid("chart", "a/c")


def test_each_zip_has_one_top_level_folder_and_its_own_type(rendered):
    _, files = rendered
    for resource, kind in bundle.BUNDLE_TYPES.items():
        archive = zipfile.ZipFile(io.BytesIO(bundle.zip_bundle(files, resource)))
        names = archive.namelist()
        assert {name.split("/")[0] for name in names} == {bundle.ROOT}
        metadata = yaml.safe_load(archive.read(f"{bundle.ROOT}/metadata.yaml"))
        assert metadata["type"] == kind
        assert {name.split("/")[1] for name in names} == {
            "metadata.yaml",
            "databases",
            "datasets",
            "charts",
            "dashboards",
        }


def test_every_chart_has_a_query_context_and_links_by_uuid(rendered):
    spec, files = rendered
    datasets = {
        yaml.safe_load(text)["uuid"] for path, text in files.items() if path.startswith("datasets/")
    }
    charts = [yaml.safe_load(text) for path, text in files.items() if path.startswith("charts/")]
    assert len(charts) == sum(len(d.charts) for d in spec.dashboards)
    for chart in charts:
        context = json.loads(chart["query_context"])
        assert chart["dataset_uuid"] in datasets
        assert context["queries"] and context["form_data"]["viz_type"] == chart["viz_type"]
        assert chart["is_managed_externally"] is True
    dashboards = [
        yaml.safe_load(text) for path, text in files.items() if path.startswith("dashboards/")
    ]
    placed = {
        node["meta"]["uuid"]
        for dashboard in dashboards
        for node in dashboard["position"].values()
        if isinstance(node, dict) and node.get("type") == "CHART"
    }
    assert placed == {chart["uuid"] for chart in charts}


def test_both_databases_open_their_file_read_only_without_file_access(rendered):
    _, files = rendered
    databases = [
        yaml.safe_load(text) for path, text in files.items() if path.startswith("databases/")
    ]
    # The serving snapshot, and the live path's store that the tiles and live panel read.
    assert {database["sqlalchemy_uri"] for database in databases} == {LIVE_URI, SERVING_URI}
    for database in databases:
        connect = database["extra"]["engine_params"]["connect_args"]
        assert connect["read_only"] is True
        assert connect["config"]["enable_external_access"] is False
        assert database["allow_dml"] is False and database["allow_file_upload"] is False


def test_live_datasets_belong_to_the_live_database_and_read_only_what_it_holds(rendered):
    spec, files = rendered
    live_uuid = bundle.database_uuid(spec, spec.live_database_name)
    for key in ("fct_indicator_latest", "fct_warning_events", "v_live_warnings"):
        dataset = yaml.safe_load(files[f"datasets/cityops_live/{key}.yaml"])
        assert dataset["database_uuid"] == live_uuid
    serving = yaml.safe_load(files["datasets/cityops_serving/fct_whistle_orders.yaml"])
    assert serving["database_uuid"] == bundle.database_uuid(spec)
    problems = _live_problems(
        {
            "x": dataclasses.replace(
                spec.datasets["fct_warning_events"], model="events.fct_hotline_orders"
            )
        },
        None,
    )
    assert len(problems) == 2  # no live_database, and a table the live store does not hold


def test_trend_thresholds_become_dashed_lines_in_their_level_colours(rendered):
    _, files = rendered
    chart = yaml.safe_load(files["charts/city-vitals/trend_rain.yaml"])
    layers = chart["params"]["annotation_layers"]
    # The made-up indicator: blue 35, yellow 50, orange 80, no red.
    assert [(layer["value"], layer["color"], layer["style"]) for layer in layers] == [
        ("35", bundle.LEVEL_COLOURS[1], "dashed"),
        ("50", bundle.LEVEL_COLOURS[2], "dashed"),
        ("80", bundle.LEVEL_COLOURS[3], "dashed"),
    ]


@pytest.mark.parametrize(
    ("description", "label"),
    [
        ("受理时间 (Beijing time).", "受理时间"),
        ("街镇编码 — null for the district.", "街镇编码"),
        ("持续时长（小时）— to closed_at, or to as_of_at while open.", "持续时长（小时）"),
        ("办理时限（工作日）— from the rule.", "办理时限（工作日）"),
        ("预警等级.", "预警等级"),
        (None, None),
    ],
)
def test_column_labels_are_the_chinese_names_dbt_descriptions_start_with(description, label):
    assert label_of(description) == label


def test_the_committed_shapes_are_generated_from_the_reference_grids():
    assert geo.GEOJSON.read_text(encoding="utf-8") == geo.render()
    features = geo.load()
    assert sum(f["properties"]["area_level"] == "grid" for f in features) == 85
    assert sum(f["properties"]["area_level"] == "street" for f in features) == 14
    assert all(f["properties"]["synthetic"] for f in features)
    ring = features[-1]["geometry"]["coordinates"][0][0]
    assert ring[0] == ring[-1] and len(ring) >= 4


def test_the_cells_tile_the_real_district_outline():
    from shapely.geometry import shape
    from shapely.ops import unary_union

    outline = geo.districts()[geo.DISTRICT_CODE][1]
    features = geo.load()
    grids = [shape(f["geometry"]) for f in features if f["properties"]["area_level"] == "grid"]
    streets = [shape(f["geometry"]) for f in features if f["properties"]["area_level"] == "street"]
    # The grids cover the district (simplified by 15 m, so nearly) without overlapping.
    covered = unary_union(grids)
    assert covered.area / outline.area == pytest.approx(1.0, abs=0.01)
    assert sum(g.area for g in grids) == pytest.approx(covered.area, rel=0.01)
    assert unary_union(streets).area == pytest.approx(covered.area, rel=0.01)
    # Every label point lies in its own area.
    for feature in features:
        point = shape({"type": "Point", "coordinates": feature["properties"]["label"]})
        assert shape(feature["geometry"]).buffer(1e-6).contains(point), feature["properties"]


def test_an_echarts_ring_decodes_to_its_coordinates():
    # Deltas (2, -1) then (-3, 4) from (1024, 2048): zig-zag 4, 1, 5, 8 → "D","A","E","H".
    ring = geo.decode_echarts_ring("@@" + "DAEH", [1024, 2048], scale=1024)
    assert ring == [[1 + 2 / 1024, 2 - 1 / 1024], [1 - 1 / 1024, 2 + 3 / 1024]]
    districts = geo.districts()
    assert districts[geo.DISTRICT_CODE][0] == "静安区"
    assert set(districts) == set(geo.OUTLINE_CODES)


def test_the_overview_map_projects_north_up_within_its_canvas():
    frame = geo.svg_frame()
    west, south, east, north = geo.districts()[geo.DISTRICT_CODE][1].bounds
    assert frame.xy(west, north) == (geo.SVG_MARGIN, geo.SVG_MARGIN)
    x, y = frame.xy(east, south)
    assert y == pytest.approx(geo.SVG_HEIGHT + geo.SVG_MARGIN, abs=0.1)
    assert x == pytest.approx(frame.width - geo.SVG_MARGIN, abs=0.1)


def test_overview_templates_link_to_filtered_dashboards(rendered):
    _, files = rendered
    status = yaml.safe_load(files["charts/city-overview/status.yaml"])
    assert status["viz_type"] == "handlebars"
    template = status["params"]["handlebarsTemplate"]
    assert "[[" not in template
    # The red count opens 城市运行生命体征 with its level filter set to 红.
    assert (
        "/superset/dashboard/city-vitals/?native_filters=(NATIVE_FILTER-level:(extraFormData:"
        "(filters:!((col:peak_level_name,op:IN,val:!('红'))))"
    ) in template
    chips = yaml.safe_load(files["charts/city-overview/dimensions.yaml"])["params"]
    assert "val:!('{{dimension_name}}')" in chips["handlebarsTemplate"]
    assert chips["styleTemplate"].startswith(".ov-chips")
    the_map = yaml.safe_load(files["charts/city-overview/map.yaml"])["params"]["handlebarsTemplate"]
    # The static layer names every street; the data layer draws the areas and points.
    names = geo.read_street_names().values()
    labels = [name.removesuffix("街道") for name in names]
    assert all('class="street-name"' in the_map and f">{name}</text>" in the_map for name in labels)
    assert 'viewBox="0 0 ' in the_map and "{{svg_path}}" in the_map
    vitals = yaml.safe_load(files["dashboards/city-vitals.yaml"])
    filters = {f["id"]: f for f in vitals["metadata"]["native_filter_configuration"]}
    assert filters["NATIVE_FILTER-level"]["targets"][0]["column"] == {"name": "peak_level_name"}


def test_a_template_link_to_an_unknown_filter_is_a_spec_error():
    import shutil
    import tempfile
    from pathlib import Path

    from dashboards import spec as spec_module

    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(spec_module.SPEC_DIR, Path(folder) / "spec")
        shutil.copytree(spec_module.TEMPLATE_DIR, Path(folder) / "templates")
        page = Path(folder) / "templates" / "overview_status.hbs"
        page.write_text(
            page.read_text(encoding="utf-8").replace("city-vitals level=", "city-vitals levl="),
            encoding="utf-8",
        )
        original = spec_module.TEMPLATE_DIR
        spec_module.TEMPLATE_DIR = Path(folder) / "templates"
        try:
            with pytest.raises(SpecError, match="city-vitals has no native filter levl"):
                load_spec(Path(folder) / "spec")
        finally:
            spec_module.TEMPLATE_DIR = original


def test_superset_pins_the_pipelines_duckdb():
    pinned = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]
    assert f"duckdb=={duckdb_version()}" in pinned
    assert requirements()[-1] == f"duckdb=={duckdb_version()}"
    text = (REPO / "dashboards" / "requirements.txt").read_text(encoding="utf-8")
    assert "apache-superset==6.1." in text and "flask-caching==2.4.1" in text


def test_rison_quotes_what_it_must():
    assert _rison({"filters": [{"col": "name", "opr": "eq", "value": "领导"}], "page": 0}) == (
        "(filters:!((col:name,opr:eq,value:'领导')),page:0)"
    )
    assert _rison("it's") == "'it!'s'"


def test_superset_sends_no_telemetry():
    import ast

    from dashboards.settings import CONFIG

    tree = ast.parse(CONFIG.read_text(encoding="utf-8"))
    settings = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert isinstance(settings.get("SCARF_ANALYTICS"), ast.Constant)
    assert settings["SCARF_ANALYTICS"].value is False


def test_superset_pages_may_load_nothing_from_outside():
    import runpy

    from dashboards.settings import CONFIG

    # The config reads its secret from the environment when set; nothing else is needed.
    env = {"SUPERSET_SECRET_KEY": "x", "SUPERSET_GUEST_TOKEN_SECRET": "y"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        config = runpy.run_path(str(CONFIG))
    policy = config["TALISMAN_CONFIG"]["content_security_policy"]
    sources = [
        s for value in policy.values() for s in ([value] if isinstance(value, str) else value)
    ]
    assert not [s for s in sources if "://" in s or "." in s.strip("'")], sources
    assert config["TALISMAN_ENABLED"] is True
    # The overview's SVG survives sanitizing; scripts and event handlers do not.
    schema = config["HTML_SANITIZATION_SCHEMA_EXTENSIONS"]
    assert {"svg", "path", "circle", "title"} <= set(schema["tagNames"])
    assert "script" not in schema["tagNames"]
    assert not [a for values in schema["attributes"].values() for a in values if a.startswith("on")]


def test_the_landing_redirect_names_the_provisioned_roles_and_the_overview():
    import runpy

    from dashboards import provision
    from dashboards.settings import CONFIG

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SUPERSET_SECRET_KEY", "x")
        patch.setenv("SUPERSET_GUEST_TOKEN_SECRET", "y")
        config = runpy.run_path(str(CONFIG))
    # superset_config.py imports nothing from cityops, so its copies are checked here.
    assert config["LANDING_ROLES"] == (provision.LEADER,)
    assert config["LANDING_ROLE_PREFIX"] == provision.STREET_ROLE_PREFIX
    slugs = {dashboard.slug for dashboard in load_spec().dashboards}
    assert config["LANDING_DASHBOARD"].split("/")[-2] in slugs


def test_every_template_takes_its_level_colours_from_the_one_palette(rendered):
    _, files = rendered
    html = [
        yaml.safe_load(text)["params"]
        for path, text in files.items()
        if path.startswith("charts/") and yaml.safe_load(text)["viz_type"] == "handlebars"
    ]
    assert len(html) == 6  # five on 城运总览, the warning map on 城市运行生命体征
    for params in html:
        for level, colour in bundle.LEVEL_COLOURS.items():
            assert f"--cityops-level-{level}: {colour}" in params["styleTemplate"]
    for css in (REPO / "dashboards" / "templates").glob("*.css"):
        text = css.read_text(encoding="utf-8").upper()
        assert not [c for c in bundle.LEVEL_COLOURS.values() if c.upper() in text], css.name
