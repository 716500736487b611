"""The compact dashboards spec (``dashboards/spec/*.yml``): loaded, validated, typed.

``datasets.yml`` holds the database and the datasets; every other file is one dashboard with
its layout, markdown and charts. :func:`load_spec` reads them and raises :class:`SpecError`
naming the file and the field of every problem it finds, before anything reaches Superset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SPEC_DIR = Path(__file__).resolve().parent / "spec"

VIZ_TYPES = (
    "big_number_total",
    "table",
    "line",
    "bar",
    "heatmap",
    "geojson_map",
    "indicator_trend",
)
FILTER_OPERATORS = {
    "==": 1,
    "!=": 1,
    ">": 1,
    "<": 1,
    ">=": 1,
    "<=": 1,
    "IN": 1,
    "NOT IN": 1,
    "LIKE": 1,
    "IS NULL": 0,
    "IS NOT NULL": 0,
    "IS TRUE": 0,
    "IS FALSE": 0,
}
COLOUR_OPERATORS = ("<", ">", "<=", ">=", "==", "!=")
# The street roles: "streets" in a dashboard's roles stands for all of them.
STREETS = "streets"
GRID_COLUMNS = 12


class SpecError(ValueError):
    """The spec is invalid; the message lists every problem."""


@dataclass(frozen=True)
class Metric:
    """A saved metric of a dataset."""

    name: str
    sql: str
    label: str
    format: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: a dbt model (physical) or SQL over models (virtual)."""

    key: str
    model: str | None
    sql: str | None
    time_column: str | None
    labels_from: tuple[str, ...]
    column_labels: dict[str, str]
    metrics: dict[str, Metric]
    description: str | None = None

    @property
    def schema(self) -> str | None:
        """The model's schema (physical datasets only)."""
        return self.model.split(".")[0] if self.model else None

    @property
    def table(self) -> str:
        """The dataset's table name in Superset: the model name, or the key for SQL."""
        return self.model.split(".")[1] if self.model else self.key


@dataclass(frozen=True)
class ChartSpec:
    """One chart; ``options`` holds the viz-specific fields as written."""

    key: str
    title: str
    viz: str
    dataset: str
    options: dict[str, Any]


@dataclass(frozen=True)
class Cell:
    """One cell of a dashboard row: a chart or a markdown block."""

    kind: str  # "chart" or "markdown"
    key: str
    width: int
    height: int


@dataclass(frozen=True)
class DashboardSpec:
    """A dashboard: title, who sees it, rows of cells, its charts and markdown."""

    name: str
    slug: str
    title: str
    description: str
    roles: tuple[str, ...]
    refresh_seconds: int
    rows: tuple[tuple[Cell, ...], ...]
    markdown: dict[str, str]
    charts: dict[str, ChartSpec]

    def datasets(self) -> set[str]:
        """The keys of the datasets its charts read."""
        return {chart.dataset for chart in self.charts.values()}


@dataclass(frozen=True)
class Spec:
    """The whole spec."""

    database_name: str
    database_label: str
    datasets: dict[str, DatasetSpec]
    dashboards: tuple[DashboardSpec, ...] = field(default_factory=tuple)


def load_spec(folder: Path = SPEC_DIR) -> Spec:
    """Read and validate every spec file in ``folder``."""
    problems: list[str] = []
    raw = _read(folder / "datasets.yml", problems)
    database = raw.get("database") or {}
    datasets = {
        key: _dataset(key, body or {}, problems)
        for key, body in (raw.get("datasets") or {}).items()
    }
    dashboards = []
    for path in sorted(folder.glob("*.yml")):
        if path.name == "datasets.yml":
            continue
        body = _read(path, problems)
        dashboards.append(_dashboard(path.stem, body, datasets, problems))
    slugs = [dashboard.slug for dashboard in dashboards]
    if len(set(slugs)) != len(slugs):
        problems.append(f"dashboard slugs are not unique: {slugs}")
    if not database.get("name"):
        problems.append("datasets.yml: database.name is missing")
    if problems:
        raise SpecError("Invalid dashboards spec:\n  - " + "\n  - ".join(problems))
    return Spec(
        database_name=database["name"],
        database_label=database.get("label") or database["name"],
        datasets=datasets,
        dashboards=tuple(dashboards),
    )


def _read(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        body = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        problems.append(f"{path.name}: {error}")
        return {}
    if not isinstance(body, dict):
        problems.append(f"{path.name}: not a mapping")
        return {}
    return body


def _dataset(key: str, body: dict[str, Any], problems: list[str]) -> DatasetSpec:
    where = f"datasets.yml: {key}"
    model, sql = body.get("model"), body.get("sql")
    if bool(model) == bool(sql):
        problems.append(f"{where}: give exactly one of model or sql")
    if model and model.count(".") != 1:
        problems.append(f"{where}: model must be schema.table, got {model!r}")
    metrics = {}
    for name, metric in (body.get("metrics") or {}).items():
        if not isinstance(metric, dict) or not metric.get("sql") or not metric.get("label"):
            problems.append(f"{where}: metric {name} needs sql and label")
            continue
        metrics[name] = Metric(name, metric["sql"], metric["label"], metric.get("format"))
    return DatasetSpec(
        key=key,
        model=model,
        sql=sql,
        time_column=body.get("time_column"),
        labels_from=tuple(body.get("labels_from") or ([model] if model else [])),
        column_labels=dict(body.get("columns") or {}),
        metrics=metrics,
        description=body.get("description"),
    )


def _cell(item: Any, count: int, where: str, problems: list[str]) -> Cell | None:
    default_width = max(1, GRID_COLUMNS // count)
    if isinstance(item, str):
        return Cell("chart", item, default_width, 50)
    if isinstance(item, dict) and ("chart" in item or "markdown" in item):
        kind = "chart" if "chart" in item else "markdown"
        return Cell(
            kind, item[kind], int(item.get("width", default_width)), int(item.get("height", 50))
        )
    problems.append(f"{where}: layout cell {item!r} is neither a chart key nor chart:/markdown:")
    return None


def _dashboard(
    name: str, body: dict[str, Any], datasets: dict[str, DatasetSpec], problems: list[str]
) -> DashboardSpec:
    where = f"{name}.yml"
    for required in ("slug", "title", "layout", "charts"):
        if required not in body:
            problems.append(f"{where}: {required} is missing")
    charts: dict[str, ChartSpec] = {}
    for key, chart in (body.get("charts") or {}).items():
        chart = dict(chart or {})
        title, viz, dataset = (
            chart.pop("title", None),
            chart.pop("viz", None),
            chart.pop("dataset", None),
        )
        if not title or viz not in VIZ_TYPES:
            problems.append(
                f"{where}: chart {key} needs a title and viz in {VIZ_TYPES}, got {viz!r}"
            )
            continue
        if dataset not in datasets:
            problems.append(f"{where}: chart {key} reads unknown dataset {dataset!r}")
            continue
        _check_chart(f"{where}: chart {key}", viz, chart, datasets[dataset], problems)
        charts[key] = ChartSpec(key, title, viz, dataset, chart)
    markdown = dict(body.get("markdown") or {})
    rows = []
    placed: list[str] = []
    for number, row in enumerate(body.get("layout") or [], start=1):
        cells = [_cell(item, len(row), f"{where}: layout row {number}", problems) for item in row]
        cells = [cell for cell in cells if cell is not None]
        if sum(cell.width for cell in cells) > GRID_COLUMNS:
            problems.append(f"{where}: layout row {number} is wider than {GRID_COLUMNS}")
        for cell in cells:
            known = charts if cell.kind == "chart" else markdown
            if cell.key not in known:
                problems.append(
                    f"{where}: layout row {number} places unknown {cell.kind} {cell.key}"
                )
            if cell.kind == "chart":
                placed.append(cell.key)
        rows.append(tuple(cells))
    for key in charts:
        if placed.count(key) != 1:
            problems.append(
                f"{where}: chart {key} is placed {placed.count(key)} times (once expected)"
            )
    return DashboardSpec(
        name=name,
        slug=body.get("slug", name),
        title=body.get("title", name),
        description=body.get("description", ""),
        roles=tuple(body.get("roles") or ()),
        refresh_seconds=int(body.get("refresh_seconds", 0)),
        rows=tuple(rows),
        markdown=markdown,
        charts=charts,
    )


def _check_chart(
    where: str, viz: str, chart: dict[str, Any], dataset: DatasetSpec, problems: list[str]
) -> None:
    """Names that must be the dataset's metrics, and well-formed filters and colour rules."""
    metric_names = list(chart.get("metrics") or [])
    metric_names += [chart[key] for key in ("metric",) if key in chart]
    for name in metric_names:
        if name not in dataset.metrics:
            problems.append(f"{where}: metric {name!r} is not a metric of {dataset.key}")
    for item in chart.get("filters") or []:
        if not isinstance(item, list) or not item or item[1:2] == []:
            problems.append(f"{where}: filter {item!r} must be [column, operator, value?]")
            continue
        operator = item[1]
        if operator not in FILTER_OPERATORS or len(item) != 2 + FILTER_OPERATORS[operator]:
            problems.append(f"{where}: filter {item!r}: operator or value count is wrong")
    for rule in chart.get("colour_rules") or []:
        if len(rule) != 4 or rule[1] not in COLOUR_OPERATORS:
            problems.append(
                f"{where}: colour rule {rule!r} must be [column, operator, value, #colour]"
            )
    required = {
        "big_number_total": ("metric",),
        "table": (),
        "line": ("x", "metrics"),
        "bar": ("x", "metrics"),
        "heatmap": ("x", "y", "metric"),
        "geojson_map": ("geojson",),
        "indicator_trend": ("indicator",),
    }[viz]
    for name in required:
        if name not in chart:
            problems.append(f"{where}: {viz} needs {name}")
    if viz == "table" and not (chart.get("columns") or chart.get("groupby")):
        problems.append(f"{where}: a table needs columns (raw rows) or groupby and metrics")
