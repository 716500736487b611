"""Render the spec into Superset's import bundle: YAML files linked by uuid, zipped per type.

Superset's export format (v1): ``metadata.yaml`` plus ``databases/``, ``datasets/``,
``charts/`` and ``dashboards/`` YAML under **one top-level folder** (a flat ZIP fails with a
misleading "Invalid JSON file"). Every uuid is derived from the object's name in the spec
(:func:`stable_uuid`), so a re-import updates the same objects in place. Every chart carries
a ``query_context`` built like the frontend's, so ``GET /api/v1/chart/<id>/data/`` answers.

Superset's dashboard importer creates missing datasets and charts but never overwrites them,
so the provisioner posts the same files four times, to the database, dataset, chart and
dashboard import endpoints, each with its own ``metadata.yaml`` type (:func:`zip_bundle`).
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from typing import Any

import yaml

from dashboards import geo
from dashboards.catalog import Catalog
from dashboards.spec import (
    FILTER_OPERATORS,
    LINK,
    TEMPLATE_DIR,
    ChartSpec,
    DashboardSpec,
    DatasetSpec,
    NativeFilter,
    Spec,
    template_text,
)

NAMESPACE = uuid.UUID("6f2c0b51-3c1e-5b7a-9d43-0c1a7e5c1d07")  # cityops dashboards, fixed
VERSION = "1.0.0"
ROOT = "cityops_dashboards"
# Import endpoint → the type its metadata.yaml must declare.
BUNDLE_TYPES = {
    "database": "Database",
    "dataset": "SqlaTable",
    "chart": "Slice",
    "dashboard": "Dashboard",
}
# Warning levels 0–4 and their colours, as vitals.fct_indicator_latest.colour_hex has them
# (an integration test compares the two).
LEVEL_COLOURS = {0: "#2E7D32", 1: "#1565C0", 2: "#F9A825", 3: "#EF6C00", 4: "#C62828"}
LEVEL_NAMES = {0: "正常", 1: "蓝", 2: "黄", 3: "橙", 4: "红"}
THRESHOLD_LEVELS = (
    ("blue", 1, "蓝色"),
    ("yellow", 2, "黄色"),
    ("orange", 3, "橙色"),
    ("red", 4, "红色"),
)
# Superset shows a link to where a managed object lives; the spec is in the repository.
MANAGED_URL = None
PLACEHOLDER_DATASOURCE = "0__table"


def stable_uuid(kind: str, name: str) -> str:
    """A uuid that depends only on the object's kind and name."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{name}"))


def database_uuid(spec: Spec, name: str | None = None) -> str:
    """A database's uuid: the serving database's unless ``name`` names another."""
    return stable_uuid("database", name or spec.database_name)


def database_names(spec: Spec) -> list[str]:
    """The Superset databases of the spec: the serving snapshot, and the live store if any."""
    return [spec.database_name, *([spec.live_database_name] if spec.live_database_name else [])]


def dataset_uuid(dataset: DatasetSpec) -> str:
    """A dataset's uuid."""
    return stable_uuid("dataset", dataset.key)


def chart_uuid(dashboard: DashboardSpec, chart: ChartSpec) -> str:
    """A chart's uuid (chart keys are unique within their dashboard)."""
    return stable_uuid("chart", f"{dashboard.slug}/{chart.key}")


def dashboard_uuid(dashboard: DashboardSpec) -> str:
    """A dashboard's uuid."""
    return stable_uuid("dashboard", dashboard.slug)


def database_extra() -> dict[str, Any]:
    """Engine settings of the serving connection; an import with overwrite replaces them.

    ``read_only`` lets dashboards read while the pipeline writes (a reader never locks the
    writer out); ``enable_external_access = false`` stops SQL Lab reading files on the server
    (``read_csv('/etc/passwd')``); ``lock_configuration`` stops a query from undoing that.
    Superset already opens every query's engine with a NullPool, so each query opens the
    file the ``current.duckdb`` link points at then, and sees a new publication at once.
    """
    return {
        "engine_params": {
            "connect_args": {
                "read_only": True,
                "config": {"enable_external_access": False, "lock_configuration": True},
            }
        },
        "metadata_params": {},
        "schemas_allowed_for_file_upload": [],
        "allows_virtual_table_explore": True,
        "disable_data_preview": False,
    }


def render(
    spec: Spec, catalog: Catalog, database_uri: str, live_uri: str | None = None
) -> dict[str, str]:
    """Every YAML file of the bundle, by path inside the top-level folder.

    ``live_uri`` is the live store's connection, for a spec with a live database.
    """
    files = {
        f"databases/{spec.database_name}.yaml": _dump(
            _database(spec, spec.database_name, database_uri)
        )
    }
    if spec.live_database_name:
        if live_uri is None:
            raise ValueError("the spec has a live database: give its URI")
        body = _database(spec, spec.live_database_name, live_uri)
        files[f"databases/{spec.live_database_name}.yaml"] = _dump(body)
    for dataset in spec.datasets.values():
        body = _dataset(spec, dataset, catalog)
        files[f"datasets/{spec.database_of(dataset)}/{dataset.key}.yaml"] = _dump(body)
    for dashboard in spec.dashboards:
        for chart in dashboard.charts.values():
            body = _chart(spec, dashboard, chart, catalog)
            files[f"charts/{dashboard.slug}/{chart.key}.yaml"] = _dump(body)
        files[f"dashboards/{dashboard.slug}.yaml"] = _dump(_dashboard(dashboard))
    return files


def zip_bundle(files: dict[str, str], resource: str) -> bytes:
    """The ZIP for one import endpoint (``database``, ``dataset``, ``chart``, ``dashboard``)."""
    metadata = {
        "version": VERSION,
        "type": BUNDLE_TYPES[resource],
        "timestamp": "2024-07-01T00:00:00+00:00",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{ROOT}/metadata.yaml", _dump(metadata))
        for path, text in sorted(files.items()):
            archive.writestr(f"{ROOT}/{path}", text)
    return buffer.getvalue()


def _dump(body: dict[str, Any]) -> str:
    return yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100)


# -- databases and datasets ----------------------------------------------------------------


def _database(spec: Spec, name: str, uri: str) -> dict[str, Any]:
    return {
        "database_name": name,
        "sqlalchemy_uri": uri,
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_file_upload": False,
        "impersonate_user": False,
        "extra": database_extra(),
        "uuid": database_uuid(spec, name),
        "version": VERSION,
        "is_managed_externally": True,
        "external_url": MANAGED_URL,
    }


def _dataset(spec: Spec, dataset: DatasetSpec, catalog: Catalog) -> dict[str, Any]:
    columns = catalog.columns[dataset.key]
    time_column = dataset.time_column
    return {
        "table_name": dataset.table,
        "main_dttm_col": time_column,
        "description": dataset.description,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "schema": dataset.schema,
        "catalog": None,
        "sql": catalog.sql.get(dataset.key),
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": dataset_uuid(dataset),
        "metrics": [
            {
                "metric_name": metric.name,
                "verbose_name": metric.label,
                "metric_type": None,
                "expression": metric.sql,
                "description": None,
                "d3format": metric.format,
                "currency": None,
                "extra": {},
                "warning_text": None,
            }
            for metric in dataset.metrics.values()
        ],
        "columns": [
            {
                "column_name": column.name,
                "verbose_name": column.label,
                "is_dttm": column.is_temporal,
                "is_active": True,
                "type": column.type,
                "advanced_data_type": None,
                "groupby": True,
                "filterable": True,
                "expression": None,
                "description": column.description,
                "python_date_format": None,
                "extra": {},
            }
            for column in columns
        ],
        "version": VERSION,
        "database_uuid": database_uuid(spec, spec.database_of(dataset)),
        "is_managed_externally": True,
        "external_url": MANAGED_URL,
    }


# -- charts ---------------------------------------------------------------------------------


def _chart(
    spec: Spec, dashboard: DashboardSpec, chart: ChartSpec, catalog: Catalog
) -> dict[str, Any]:
    dataset = spec.datasets[chart.dataset]
    params, query = CHART_BUILDERS[chart.viz](chart, dataset, catalog)
    params = {"datasource": PLACEHOLDER_DATASOURCE, **params, "time_range": "No filter"}
    if chart.viz == "html":
        params["handlebarsTemplate"] = expand_template(params["handlebarsTemplate"], spec)
    query = {
        "filters": _query_filters(chart.options.get("filters") or []),
        "extras": {"having": "", "where": ""},
        "applied_time_extras": {},
        "columns": [],
        "metrics": [],
        "orderby": [],
        "annotation_layers": [],
        "row_limit": chart.options.get("row_limit", 10000),
        "series_limit": 0,
        "order_desc": True,
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
        "time_range": "No filter",
        "post_processing": [],
        **query,
    }
    query_context = {
        "datasource": {"id": 0, "type": "table"},
        "force": False,
        "queries": [query],
        "form_data": params,
        "result_format": "json",
        "result_type": "full",
    }
    return {
        "slice_name": chart.title,
        "description": chart.options.get("description"),
        "certified_by": None,
        "certification_details": None,
        "viz_type": params["viz_type"],
        "params": params,
        "query_context": json.dumps(query_context, ensure_ascii=False),
        "cache_timeout": None,
        "uuid": chart_uuid(dashboard, chart),
        "version": VERSION,
        "dataset_uuid": dataset_uuid(dataset),
        "is_managed_externally": True,
        "external_url": MANAGED_URL,
    }


def _adhoc_filters(items: list[list[Any]]) -> list[dict[str, Any]]:
    filters = []
    for item in items:
        column, operator, *value = item
        filters.append(
            {
                "expressionType": "SIMPLE",
                "subject": column,
                "operator": operator,
                "comparator": value[0] if value else None,
                "clause": "WHERE",
                "sqlExpression": None,
                "isExtra": False,
                "isNew": False,
                "filterOptionName": "filter_"
                + hashlib.sha1(json.dumps(item).encode()).hexdigest()[:12],
            }
        )
    return filters


def _query_filters(items: list[list[Any]]) -> list[dict[str, Any]]:
    filters = []
    for column, operator, *value in items:
        entry: dict[str, Any] = {"col": column, "op": operator}
        if FILTER_OPERATORS[operator]:
            entry["val"] = value[0]
        filters.append(entry)
    return filters


def _order(chart: ChartSpec) -> list[tuple[str, bool]]:
    """[(name, ascending)] from the spec's ``order_by: [[name, asc|desc]]``."""
    return [(name, direction == "asc") for name, direction in chart.options.get("order_by") or []]


def _level_formatting(column: str, *, big_number: bool = False) -> list[dict[str, Any]]:
    """Each warning level in its colour.

    Tables match levels exactly. Big Number applies every matching rule in order and the
    last wins, and compares the raw value (``max(level) + 0.001``), so it uses thresholds.
    """
    if not big_number:
        return [
            {"column": column, "operator": "=", "targetValue": level, "colorScheme": colour}
            for level, colour in LEVEL_COLOURS.items()
        ]
    rules = [{"column": column, "operator": "<", "targetValue": 1, "colorScheme": LEVEL_COLOURS[0]}]
    rules += [
        {"column": column, "operator": "≥", "targetValue": level, "colorScheme": colour}
        for level, colour in LEVEL_COLOURS.items()
        if level > 0
    ]
    return rules


def _colour_rules(chart: ChartSpec) -> list[dict[str, Any]]:
    operators = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥", "<": "<", ">": ">"}
    rules = [
        {
            "column": column,
            "operator": operators[operator],
            "targetValue": value,
            "colorScheme": colour,
        }
        for column, operator, value, colour in chart.options.get("colour_rules") or []
    ]
    if chart.options.get("level_colours_on"):
        rules += _level_formatting(chart.options["level_colours_on"])
    return rules


def _big_number(chart: ChartSpec, dataset: DatasetSpec, catalog: Catalog) -> tuple[dict, dict]:
    metric = chart.options["metric"]
    params = {
        "viz_type": "big_number_total",
        "metric": metric,
        "adhoc_filters": _adhoc_filters(chart.options.get("filters") or []),
        "header_font_size": 0.4,
        "subheader": chart.options.get("subheader", ""),
        "subheader_font_size": 0.15,
        "y_axis_format": "SMART_NUMBER",
        "time_format": "smart_date",
        "conditional_formatting": (
            _level_formatting(metric, big_number=True) if chart.options.get("level_colours") else []
        ),
    }
    return params, {"metrics": [metric], "row_limit": 1}


def _table(chart: ChartSpec, dataset: DatasetSpec, catalog: Catalog) -> tuple[dict, dict]:
    options = chart.options
    order = _order(chart)
    row_limit = options.get("row_limit", 1000)
    common = {
        "viz_type": "table",
        "adhoc_filters": _adhoc_filters(options.get("filters") or []),
        "row_limit": row_limit,
        "server_pagination": False,
        "server_page_length": 10,
        "page_length": 0,
        "include_search": False,
        "show_cell_bars": True,
        "color_pn": False,
        "allow_rearrange_columns": False,
        "table_timestamp_format": "%Y-%m-%d %H:%M",
        "conditional_formatting": _colour_rules(chart),
        "percent_metrics": [],
    }
    if options.get("columns"):  # raw rows
        params = {
            **common,
            "query_mode": "raw",
            "all_columns": options["columns"],
            "groupby": [],
            "metrics": [],
            "order_by_cols": [json.dumps([name, asc]) for name, asc in order],
        }
        query = {"columns": options["columns"], "orderby": [list(item) for item in order]}
        return params, query
    metrics = options.get("metrics") or []
    sort_metric, ascending = order[0] if order else (metrics[0], False)
    params = {
        **common,
        "query_mode": "aggregate",
        "groupby": options.get("groupby") or [],
        "metrics": metrics,
        "all_columns": [],
        "timeseries_limit_metric": sort_metric,
        "order_desc": not ascending,
    }
    query = {
        "columns": options.get("groupby") or [],
        "metrics": metrics,
        "orderby": [[sort_metric, ascending]],
        "order_desc": not ascending,
    }
    return params, query


def _x_axis(chart: ChartSpec, dataset: DatasetSpec, catalog: Catalog) -> tuple[bool, Any]:
    x = chart.options["x"]
    temporal = any(c.name == x and c.is_temporal for c in catalog.columns[dataset.key])
    if not temporal:
        return False, x
    grain = chart.options.get("time_grain", "P1D")
    return True, {
        "timeGrain": grain,
        "columnType": "BASE_AXIS",
        "sqlExpression": x,
        "label": x,
        "expressionType": "SQL",
    }


def _timeseries(chart: ChartSpec, dataset: DatasetSpec, catalog: Catalog) -> tuple[dict, dict]:
    options = chart.options
    metrics = options["metrics"]
    groupby = options.get("groupby") or []
    temporal, axis = _x_axis(chart, dataset, catalog)
    viz = "echarts_timeseries_bar" if chart.viz == "bar" else "echarts_timeseries_line"
    params = {
        "viz_type": viz,
        "x_axis": options["x"],
        "time_grain_sqla": options.get("time_grain", "P1D") if temporal else None,
        "x_axis_sort_asc": temporal,
        "x_axis_sort_series": "name",
        "x_axis_sort_series_ascending": True,
        "metrics": metrics,
        "groupby": groupby,
        "adhoc_filters": _adhoc_filters(options.get("filters") or []),
        "order_desc": True,
        "row_limit": options.get("row_limit", 10000),
        "truncate_metric": True,
        "show_legend": True,
        "legendType": "scroll",
        "legendOrientation": "top",
        "rich_tooltip": True,
        "tooltipTimeFormat": "smart_date",
        "x_axis_time_format": "smart_date",
        "y_axis_format": options.get("y_format", "SMART_NUMBER"),
        "annotation_layers": options.get("annotation_layers", []),
        "comparison_type": "values",
        "stack": "Stack" if options.get("stack") else None,
        "orientation": "horizontal" if options.get("horizontal") else "vertical",
        "seriesType": "line",
        "markerEnabled": False,
        "zoomable": False,
        "only_total": True,
        "show_value": bool(options.get("horizontal")),
    }
    if not temporal:
        params["x_axis_sort"] = metrics[0]
        params["x_axis_sort_asc"] = bool(options.get("horizontal"))
    query = {
        "columns": [axis, *groupby],
        "metrics": metrics,
        "orderby": [[metrics[0], False]],
        "series_columns": groupby,
        "row_limit": options.get("row_limit", 10000),
        "post_processing": [
            {
                "operation": "pivot",
                "options": {
                    "index": [options["x"]],
                    "columns": groupby,
                    "aggregates": {metric: {"operator": "mean"} for metric in metrics},
                    "drop_missing_columns": False,
                },
            },
            {"operation": "flatten"},
        ],
    }
    return params, query


def _indicator_trend(chart: ChartSpec, dataset: DatasetSpec, catalog: Catalog) -> tuple[dict, dict]:
    """A street-level series of one indicator with its thresholds as dashed lines."""
    code = chart.options["indicator"]
    indicator = catalog.indicators.get(code)
    if indicator is None:
        raise KeyError(f"chart {chart.key}: indicator {code} is not in vitals.dim_indicators")
    worse_low = indicator["direction"] == "lower_is_worse"
    layers = []
    if indicator["threshold_kind"] == "fixed":
        for colour, level, name in THRESHOLD_LEVELS:
            value = indicator[f"threshold_{colour}"]
            if value is None:
                continue
            layers.append(
                {
                    "name": f"{name}阈值 {value:g}",
                    "annotationType": "FORMULA",
                    "sourceType": "",
                    "value": f"{value:g}",
                    "overrides": {"time_range": None},
                    "show": True,
                    "showLabel": True,
                    "showMarkers": False,
                    "hideLine": False,
                    "style": "dashed",
                    "width": 2,
                    "opacity": "",
                    "color": LEVEL_COLOURS[level],
                    "titleColumn": "",
                    "descriptionColumns": [],
                    "timeColumn": "",
                    "intervalEndColumn": "",
                }
            )
    options = {
        "x": "period_start",
        "time_grain": "P1D",
        "metrics": ["value_min" if worse_low else "value_max"],
        "filters": [["indicator_code", "==", code], ["area_level", "==", "street"]],
        "annotation_layers": layers,
        **chart.options,
    }
    expanded = ChartSpec(chart.key, chart.title, "line", chart.dataset, options)
    params, query = _timeseries(expanded, dataset, catalog)
    params["y_axis_title"] = indicator["unit_name"]
    query["filters"] = _query_filters(options["filters"])
    return params, query


def _heatmap(chart: ChartSpec, dataset: DatasetSpec, catalog: Catalog) -> tuple[dict, dict]:
    options = chart.options
    params = {
        "viz_type": "heatmap_v2",
        "x_axis": options["x"],
        "groupby": options["y"],
        "metric": options["metric"],
        "adhoc_filters": _adhoc_filters(options.get("filters") or []),
        "row_limit": 10000,
        "linear_color_scheme": options.get("scheme", "superset_seq_1"),
        "normalize_across": "heatmap",
        "show_legend": True,
        "show_values": True,
        "show_percentage": False,
        "sort_x_axis": "alpha_asc",
        "sort_y_axis": "alpha_asc",
        "value_bounds": options.get("bounds", [0, 100]) or [None, None],
        "y_axis_format": "SMART_NUMBER",
        "xscale_interval": -1,
        "yscale_interval": -1,
        "left_margin": "auto",
        "bottom_margin": "auto",
    }
    query = {"columns": [options["x"], options["y"]], "metrics": [options["metric"]]}
    return params, query


def _html(chart: ChartSpec, dataset: DatasetSpec, catalog: Catalog) -> tuple[dict, dict]:
    """Superset's Handlebars chart: the template and its CSS from dashboards/templates/."""
    options = chart.options
    table_params, query = _table(
        ChartSpec(chart.key, chart.title, "table", chart.dataset, options), dataset, catalog
    )
    css = TEMPLATE_DIR / f"{options['template']}.css"
    params = {
        key: table_params[key]
        for key in (
            "adhoc_filters",
            "row_limit",
            "query_mode",
            "groupby",
            "metrics",
            "all_columns",
            "order_by_cols",
            "timeseries_limit_metric",
            "order_desc",
        )
        if key in table_params
    }
    params |= {
        "viz_type": "handlebars",
        # Links are made concrete by _chart, which knows the other dashboards' filters.
        "handlebarsTemplate": template_text(options["template"]),
        "styleTemplate": (css.read_text(encoding="utf-8") if css.exists() else "")
        + level_colour_variables(),
        "percent_metrics": [],
    }
    return params, query


def level_colour_variables() -> str:
    """CSS custom properties ``--cityops-level-0`` … ``-4``: the templates' level colours.

    One palette for every template, the marts' (LEVEL_COLOURS, which a test compares with
    ``fct_indicator_latest.colour_hex``), instead of a copy in each CSS file.
    """
    names = "; ".join(
        f"--cityops-level-{level}: {colour}" for level, colour in LEVEL_COLOURS.items()
    )
    return f"\n:root {{ {names}; }}\n"


def expand_template(text: str, spec: Spec) -> str:
    """A template with its ``[[url …]]``, ``[[basemap]]`` and ``[[viewbox]]`` made concrete."""
    frame = geo.svg_frame()
    text = text.replace("[[viewbox]]", f"0 0 {frame.width:g} {frame.height:g}")
    if "[[basemap]]" in text:
        text = text.replace("[[basemap]]", basemap_svg(frame))
    filters = {dashboard.slug: dashboard.native_filters for dashboard in spec.dashboards}

    def link(match) -> str:
        slug, key, value = match.groups()
        return dashboard_link(slug, filters[slug][key] if key else None, value or "")

    return LINK.sub(link, text)


def dashboard_link(slug: str, native_filter: NativeFilter | None = None, value: str = "") -> str:
    """A dashboard's URL, with ``native_filter`` set to ``value`` (which may be Handlebars).

    Superset reads the filter's state from the ``native_filters`` parameter (rison). The value
    is written three times, as the query's filter, the filter's value and its label.
    """
    url = f"/superset/dashboard/{slug}/"
    if native_filter is None:
        return url
    filter_id, column = native_filter.id, native_filter.column
    quoted = f"'{value}'"
    return (
        f"{url}?native_filters=({filter_id}:("
        f"extraFormData:(filters:!((col:{column},op:IN,val:!({quoted})))),"
        f"filterState:(label:{quoted},validateStatus:!f,value:!({quoted})),"
        f"id:{filter_id},ownState:()))"
    )


def basemap_svg(frame: geo.SvgFrame) -> str:
    """The static layer of the district map: neighbours, street borders and names, outline.

    Drawn over the data layer with ``pointer-events: none``, so the areas and points under it
    keep their tooltips and links.
    """
    from shapely.geometry import shape

    parts = ['<g class="base" pointer-events="none">']
    districts = geo.districts()
    for code, (_name, outline) in districts.items():
        if code == geo.DISTRICT_CODE:
            continue
        parts.append(f'<path class="neighbour" d="{frame.path(outline)}"></path>')
    features = geo.load()
    for feature in features:
        if feature["properties"]["area_level"] == "grid":
            parts.append(
                f'<path class="grid-line" d="{frame.path(shape(feature["geometry"]))}"></path>'
            )
    for feature in features:
        if feature["properties"]["area_level"] == "street":
            parts.append(
                f'<path class="street-line" d="{frame.path(shape(feature["geometry"]))}"></path>'
            )
    parts.append(f'<path class="outline" d="{frame.path(districts[geo.DISTRICT_CODE][1])}"></path>')
    for feature in features:
        properties = feature["properties"]
        if properties["area_level"] == "street":
            x, y = frame.xy(*properties["label"])
            # 静安寺 for 静安寺街道: the suffix says nothing on a map of streets and crowds the
            # small streets of the south; 彭浦镇 keeps its name.
            label = properties["name"].removesuffix("街道")
            parts.append(f'<text class="street-name" x="{x:g}" y="{y:g}">{label}</text>')
    parts.append("</g>")
    return "".join(parts)


CHART_BUILDERS = {
    "big_number_total": _big_number,
    "table": _table,
    "line": _timeseries,
    "bar": _timeseries,
    "heatmap": _heatmap,
    "indicator_trend": _indicator_trend,
    "html": _html,
}


# -- dashboards -----------------------------------------------------------------------------


def _native_filter(item: NativeFilter) -> dict[str, Any]:
    """A native filter over the whole dashboard; charts whose dataset lacks the column ignore it."""
    select = item.kind == "select"
    default: dict[str, Any] = {"extraFormData": {}, "filterState": {}, "ownState": {}}
    if item.default is not None:
        if select:
            values = list(item.default)
            default = {
                "extraFormData": {"filters": [{"col": item.column, "op": "IN", "val": values}]},
                "filterState": {"value": values, "label": ", ".join(map(str, values))},
                "ownState": {},
            }
        else:
            low, high = item.default
            default = {
                "extraFormData": {
                    "filters": [
                        {"col": item.column, "op": ">=", "val": low},
                        {"col": item.column, "op": "<=", "val": high},
                    ]
                },
                "filterState": {"value": [low, high], "label": f"{low} ≤ x ≤ {high}"},
                "ownState": {},
            }
    return {
        "id": item.id,
        "name": item.title,
        "filterType": "filter_select" if select else "filter_range",
        "type": "NATIVE_FILTER",
        "description": "",
        "targets": [
            {"datasetUuid": stable_uuid("dataset", item.dataset), "column": {"name": item.column}}
        ],
        "controlValues": (
            {
                "enableEmptyFilter": False,
                "defaultToFirstItem": False,
                "multiSelect": True,
                "searchAllOptions": False,
                "inverseSelection": False,
            }
            if select
            else {"enableEmptyFilter": False}
        ),
        "defaultDataMask": default,
        "cascadeParentIds": [],
        "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
        "tabsInScope": [],
    }


def _dashboard(dashboard: DashboardSpec) -> dict[str, Any]:
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": dashboard.title}},
    }
    for number, row in enumerate(dashboard.rows, start=1):
        row_id = f"ROW-{number}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for cell in row:
            parents = ["ROOT_ID", "GRID_ID", row_id]
            if cell.kind == "chart":
                chart = dashboard.charts[cell.key]
                cell_id = f"CHART-{cell.key}"
                # chartId is the exported id; the importer maps it (via uuid) to the real one.
                meta = {
                    "width": cell.width,
                    "height": cell.height,
                    "chartId": list(dashboard.charts).index(cell.key) + 1,
                    "uuid": chart_uuid(dashboard, chart),
                    "sliceName": chart.title,
                }
                position[cell_id] = {
                    "type": "CHART",
                    "id": cell_id,
                    "children": [],
                    "parents": parents,
                    "meta": meta,
                }
            else:
                cell_id = f"MARKDOWN-{cell.key}"
                meta = {
                    "width": cell.width,
                    "height": cell.height,
                    "code": dashboard.markdown[cell.key],
                }
                position[cell_id] = {
                    "type": "MARKDOWN",
                    "id": cell_id,
                    "children": [],
                    "parents": parents,
                    "meta": meta,
                }
            position[row_id]["children"].append(cell_id)
    metadata = {
        "color_scheme": "supersetColors",
        "refresh_frequency": dashboard.refresh_seconds,
        "expanded_slices": {},
        "label_colors": {},
        "shared_label_colors": [],
        "color_scheme_domain": [],
        "timed_refresh_immune_slices": [],
        "cross_filters_enabled": True,
        "default_filters": "{}",
        "chart_configuration": {},
        "native_filter_configuration": [
            _native_filter(item) for item in dashboard.native_filters.values()
        ],
    }
    return {
        "dashboard_title": dashboard.title,
        "description": dashboard.description,
        "css": "",
        "slug": dashboard.slug,
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": dashboard_uuid(dashboard),
        "position": position,
        "metadata": metadata,
        "version": VERSION,
        "is_managed_externally": True,
        "external_url": MANAGED_URL,
    }
