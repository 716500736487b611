"""The dashboard queries: the SQL Superset sends for every chart of ``dashboards/spec/``.

The charts and datasets have one home, the dashboards spec (``dashboards/spec/*.yml``, read
by :func:`dashboards.spec.load_spec`); this module turns each chart into the query Superset's
DuckDB engine builds for it — the dataset's SQL as ``(…) as virtual_table`` (or the model),
the chart's filters, ``date_trunc`` for a daily time grain, the saved metrics' SQL, its
ordering and row limit — so the bench times what a dashboard load costs. Superset's
row-level-security filter for street roles is not added: the leader's view, over every street,
is the larger query.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

TIME_GRAINS = {"PT1H": "hour", "P1D": "day", "P1W": "week", "P1M": "month", "P1Y": "year"}
TEMPORAL = ("DATE", "TIMESTAMP")


@dataclass(frozen=True)
class DashboardQuery:
    """One chart's query."""

    dashboard: str
    chart: str
    viz: str
    sql: str

    @property
    def name(self) -> str:
        """``<dashboard slug>/<chart key>``."""
        return f"{self.dashboard}/{self.chart}"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "(" + ", ".join(_literal(item) for item in value) + ")"
    return "'" + str(value).replace("'", "''") + "'"


def _condition(item: list[Any]) -> str:
    column, operator, *value = item
    column = _identifier(column)
    unary = {
        "IS NULL": "is null",
        "IS NOT NULL": "is not null",
        "IS TRUE": "is true",
        "IS FALSE": "is false",
    }
    if operator in unary:
        return f"{column} {unary[operator]}"
    operator = {"==": "="}.get(operator, operator).lower()
    return f"{column} {operator} {_literal(value[0])}"


def _source(dataset: Any, snapshot: Path) -> str:
    from dashboards.catalog import render_sql

    if dataset.model:
        schema, table = dataset.model.split(".")
        return f"{_identifier(schema)}.{_identifier(table)}"
    return f"(\n{render_sql(dataset, snapshot)}\n) as virtual_table"


def chart_sql(
    chart: Any,
    dataset: Any,
    source: str,
    column_types: dict[str, str],
    directions: dict[str, str],
) -> str:
    """The query of one chart (``dashboards.spec.ChartSpec``) over its dataset's ``source``."""
    options = dict(chart.options)
    viz = chart.viz
    if viz == "indicator_trend":
        # dashboards/bundle.py: the indicator's worst value per day, street areas only.
        low = directions.get(options["indicator"]) == "lower_is_worse"
        options = {
            "x": "period_start",
            "time_grain": "P1D",
            "metrics": ["value_min" if low else "value_max"],
            **options,
            "filters": [
                ["indicator_code", "==", options["indicator"]],
                ["area_level", "==", "street"],
            ],
        }
        viz = "line"
    filters = [_condition(item) for item in options.get("filters") or []]
    metrics: list[str] = []
    dimensions: list[tuple[str, str]] = []  # (expression, alias)
    columns: list[str] = []
    order: list[tuple[str, bool]] = [
        (name, direction == "asc") for name, direction in options.get("order_by") or []
    ]
    limit = options.get("row_limit", 10000)
    if viz == "big_number_total":
        metrics, limit = [options["metric"]], 1
    elif viz == "level_tile":
        metrics, limit = list(dataset.metrics), 1
    elif viz == "table" and options.get("columns"):
        columns, limit = list(options["columns"]), options.get("row_limit", 1000)
    elif viz == "table":
        metrics = list(options.get("metrics") or [])
        dimensions = [(_identifier(name), name) for name in options["groupby"]]
        order = order[:1] or [(metrics[0], False)]
        limit = options.get("row_limit", 1000)
    elif viz in ("line", "bar"):
        metrics = list(options["metrics"])
        x = options["x"]
        if column_types.get(x, "").upper().startswith(TEMPORAL):
            grain = TIME_GRAINS[options.get("time_grain", "P1D")]
            dimensions.append((f"date_trunc('{grain}', {_identifier(x)})", x))
        else:
            dimensions.append((_identifier(x), x))
        dimensions += [(_identifier(name), name) for name in options.get("groupby") or []]
        order = [(metrics[0], False)]
    elif viz == "heatmap":
        metrics = [options["metric"]]
        dimensions = [
            (_identifier(options["x"]), options["x"]),
            (_identifier(options["y"]), options["y"]),
        ]
    elif options.get("columns"):  # a chart type this module does not know: raw rows …
        columns = list(options["columns"])
    else:  # … or its metrics by its group-by columns
        metrics = list(options.get("metrics") or [options["metric"]])
        dimensions = [(_identifier(name), name) for name in options.get("groupby") or []]
    select = [_identifier(name) for name in columns]
    select += [f"{expression} as {_identifier(alias)}" for expression, alias in dimensions]
    select += [f"{dataset.metrics[name].sql} as {_identifier(name)}" for name in metrics]
    sql = "select\n    " + ",\n    ".join(select) + "\nfrom " + source
    if filters:
        sql += "\nwhere " + "\n    and ".join(filters)
    if dimensions and metrics:
        sql += "\ngroup by " + ", ".join(expression for expression, _ in dimensions)
    if order:
        sql += "\norder by " + ", ".join(
            f"{_identifier(name)} {'asc' if ascending else 'desc'}" for name, ascending in order
        )
    return sql + f"\nlimit {int(limit)}"


def dashboard_queries(snapshot: Path) -> list[DashboardQuery]:
    """Every chart's query of every dashboard in the spec, typed against the snapshot."""
    from dashboards.spec import load_spec

    spec = load_spec()
    # Rendering a dataset's SQL may open the snapshot itself (the catalogue's rows): before
    # this module's connection, since DuckDB refuses a second, differently configured one.
    sources = {key: _source(dataset, snapshot) for key, dataset in spec.datasets.items()}
    with connect(snapshot) as con:
        directions = dict(
            con.execute("select indicator_code, direction from vitals.dim_indicators").fetchall()
        )
        types = {}
        for key, source in sources.items():
            described = con.execute(f"describe select * from {source}").fetchall()  # noqa: S608
            types[key] = {row[0]: row[1] for row in described}
    return [
        DashboardQuery(
            dashboard.slug,
            key,
            chart.viz,
            chart_sql(
                chart,
                spec.datasets[chart.dataset],
                sources[chart.dataset],
                types[chart.dataset],
                directions,
            ),
        )
        for dashboard in spec.dashboards
        for key, chart in dashboard.charts.items()
    ]


def connect(snapshot: Path) -> duckdb.DuckDBPyConnection:
    """The snapshot read-only with external access off, as Superset's connection opens it."""
    return duckdb.connect(str(snapshot), read_only=True, config={"enable_external_access": False})


def percentile(values: list[float], share: float) -> float:
    """Linear-interpolated percentile (``share`` in 0 … 1) of at least one value."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def measure(snapshot: Path, repeat: int, warmup: int = 1) -> list[dict[str, Any]]:
    """Each query ``warmup`` times untimed, then ``repeat`` times timed; latencies in ms."""
    results = []
    queries = dashboard_queries(snapshot)
    with connect(snapshot) as con:
        for query in queries:
            for _ in range(warmup):
                rows = len(con.execute(query.sql).fetchall())
            timings = []
            for _ in range(repeat):
                started = time.perf_counter()
                rows = len(con.execute(query.sql).fetchall())
                timings.append((time.perf_counter() - started) * 1000)
            results.append(
                {
                    "query": query.name,
                    "dashboard": query.dashboard,
                    "chart": query.chart,
                    "viz": query.viz,
                    "rows": rows,
                    "samples": len(timings),
                    "p50_ms": round(percentile(timings, 0.5), 3),
                    "p95_ms": round(percentile(timings, 0.95), 3),
                    "max_ms": round(max(timings), 3),
                    "mean_ms": round(statistics.fmean(timings), 3),
                    "sql": query.sql,
                }
            )
    return results
