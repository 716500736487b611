"""The compact dashboards spec (``dashboards/spec/*.yml``): loaded, validated, typed.

``datasets.yml`` holds the database and the datasets; every other file is one dashboard with
its layout, markdown and charts. :func:`load_spec` reads them and raises :class:`SpecError`
naming the file and the field of every problem it finds, before anything reaches Superset.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
    model_validator,
)

from ingestion.config import NonBlank, NullMeansDefault, Strict, field_problem
from ingestion.config import problems as config_problems

SPEC_DIR = Path(__file__).resolve().parent / "spec"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

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
    # ``serving`` (the snapshot) or ``live`` (the live path's store, serving/live.duckdb).
    database: str = "serving"

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
class NativeFilter:
    """A dashboard's native filter on one column (applied to every chart whose dataset has it)."""

    key: str
    title: str
    dataset: str
    column: str
    kind: str  # "select" or "range"
    default: tuple[Any, ...] | None = None

    @property
    def id(self) -> str:
        """Superset's filter id, stable so that links can set the filter."""
        return f"NATIVE_FILTER-{self.key}"


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
    native_filters: dict[str, NativeFilter] = field(default_factory=dict)

    def datasets(self) -> set[str]:
        """The keys of the datasets its charts and filters read."""
        return {chart.dataset for chart in self.charts.values()} | {
            item.dataset for item in self.native_filters.values()
        }


@dataclass(frozen=True)
class Spec:
    """The whole spec."""

    database_name: str
    database_label: str
    datasets: dict[str, DatasetSpec]
    dashboards: tuple[DashboardSpec, ...] = field(default_factory=tuple)
    live_database_name: str | None = None
    live_database_label: str | None = None

    def database_of(self, dataset: DatasetSpec) -> str:
        """The Superset database name a dataset belongs to."""
        if dataset.database == LIVE and self.live_database_name:
            return self.live_database_name
        return self.database_name


_Model = TypeVar("_Model", bound=BaseModel)

LIVE = "live"
# The tables of serving/live.duckdb (live/store.py), which a live dataset may read.
LIVE_MODELS = (
    "vitals.fct_indicator_latest",
    "vitals.fct_warning_events",
    "vitals.fct_warning_escalations",
    "vitals.fct_whistle_orders",
    "vitals.fct_indicator_values",
    "vitals.fct_street_health_daily",
    "vitals.dim_indicators",
    "places.dim_streets",
)


# The shape of the spec files -------------------------------------------------------------------


def _positive(value: int) -> int:
    if value < 1:
        raise ValueError("must be a positive integer")
    return value


def _filter(item: list[Any]) -> list[Any]:
    if not item or item[1:2] == []:
        raise ValueError(f"filter {item!r} must be [column, operator, value?]")
    operator = item[1]
    if operator not in FILTER_OPERATORS or len(item) != 2 + FILTER_OPERATORS[operator]:
        raise ValueError(f"filter {item!r}: operator or value count is wrong")
    return item


def _colour_rule(rule: list[Any]) -> list[Any]:
    if len(rule) != 4 or rule[1] not in COLOUR_OPERATORS:
        raise ValueError(f"colour rule {rule!r} must be [column, operator, value, #colour]")
    return rule


def _order(item: list[Any]) -> list[Any]:
    if len(item) != 2 or item[1] not in ("asc", "desc"):
        raise ValueError(f"order {item!r} must be [column, asc or desc]")
    return item


def _chart_key(value: Any) -> Any:
    # A bare chart key in a layout row is a chart cell of the default size.
    return {"chart": value} if isinstance(value, str) else value


Text = NonBlank
PositiveInteger = Annotated[int, AfterValidator(_positive)]
Filter = Annotated[list[Any], AfterValidator(_filter)]
ColourRule = Annotated[list[Any], AfterValidator(_colour_rule)]
Order = Annotated[list[Any], AfterValidator(_order)]


class _Database(Strict):
    name: Text
    label: str | None = None


class _Metric(Strict):
    sql: Text
    label: Text
    format: str | None = None


class _Dataset(Strict):
    """A dataset of ``datasets.yml``: a dbt model (``schema.table``) or SQL over models."""

    model: str | None = None
    sql: str | None = None
    time_column: str | None = None
    labels_from: list[str] | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, _Metric] = Field(default_factory=dict)
    description: str | None = None
    database: Literal["serving", "live"] = "serving"

    @model_validator(mode="after")
    def _model_or_sql(self) -> _Dataset:
        if bool(self.model) == bool(self.sql):
            raise ValueError("give exactly one of model or sql")
        if self.model and self.model.count(".") != 1:
            raise ValueError(f"model must be schema.table, got {self.model!r}")
        return self

    def spec(self, key: str) -> DatasetSpec:
        """The validated dataset."""
        model = self.model
        return DatasetSpec(
            key=key,
            model=model,
            sql=self.sql,
            time_column=self.time_column,
            labels_from=tuple(self.labels_from or ([model] if model else [])),
            column_labels=dict(self.columns),
            metrics={
                name: Metric(name, metric.sql, metric.label, metric.format)
                for name, metric in self.metrics.items()
            },
            description=self.description,
            database=self.database,
        )


class _Datasets(NullMeansDefault):
    """``datasets.yml``."""

    database: _Database
    # The live path's store; datasets with ``database: live`` read it.
    live_database: _Database | None = None
    datasets: dict[str, Annotated[_Dataset, BeforeValidator(lambda v: {} if v is None else v)]]


class _Cell(Strict):
    """A layout cell: ``{chart: key}`` or ``{markdown: key}``, with an optional size."""

    chart: str | None = None
    markdown: str | None = None
    width: PositiveInteger | None = None
    height: PositiveInteger | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> _Cell:
        if (self.chart is None) == (self.markdown is None):
            raise ValueError("a cell is a chart key, chart: key or markdown: key")
        return self


class _NativeFilter(Strict):
    """A native filter: a select of a column's values, or a numeric range."""

    title: Text
    dataset: Text
    column: Text
    kind: Literal["select", "range"] = "select"
    default: list[Any] | None = None


class _Dashboard(NullMeansDefault):
    """One dashboard file; ``templates`` holds YAML anchors the charts reuse (``<<: *tile``)."""

    slug: Text
    title: Text
    description: str = ""
    roles: list[str] = Field(default_factory=list)
    refresh_seconds: int = 0
    layout: list[list[Annotated[_Cell, BeforeValidator(_chart_key)]]]
    markdown: dict[str, str] = Field(default_factory=dict)
    charts: dict[str, dict[str, Any]]
    native_filters: dict[str, _NativeFilter] = Field(default_factory=dict)
    templates: dict[str, Any] = Field(default_factory=dict)


class _Chart(Strict):
    """What every chart has; each kind of chart adds the options it reads."""

    title: Text
    viz: str
    dataset: str
    description: str | None = None
    filters: list[Filter] = Field(default_factory=list)
    row_limit: PositiveInteger | None = None


class _BigNumber(_Chart):
    metric: str
    subheader: str | None = None
    level_colours: bool = False


class _Table(_Chart):
    columns: list[str] | None = None
    groupby: list[str] | None = None
    metrics: list[str] | None = None
    order_by: list[Order] = Field(default_factory=list)
    colour_rules: list[ColourRule] = Field(default_factory=list)
    level_colours_on: str | None = None

    @model_validator(mode="after")
    def _rows_or_groups(self) -> _Table:
        if not (self.columns or self.groupby):
            raise ValueError("a table needs columns (raw rows) or groupby and metrics")
        return self


class _Html(_Chart):
    """Superset's Handlebars chart: rows or groups rendered by ``templates/<template>.hbs``.

    The template may hold ``[[url slug]]`` or ``[[url slug filter={{column}}]]`` (a link to a
    dashboard of the spec, its native filter set to the row's value), ``[[basemap]]`` and
    ``[[viewbox]]`` (the district map's static layer and canvas, dashboards/geo.py).
    """

    template: Text
    columns: list[str] | None = None
    groupby: list[str] | None = None
    metrics: list[str] | None = None
    order_by: list[Order] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rows_or_groups(self) -> _Html:
        if self.columns and (self.groupby or self.metrics):
            raise ValueError("give columns (raw rows) or groupby/metrics, not both")
        if not (self.columns or self.metrics):
            raise ValueError("an html chart needs columns (raw rows) or metrics")
        if not (TEMPLATE_DIR / f"{self.template}.hbs").exists():
            raise ValueError(f"no template {self.template}.hbs in {TEMPLATE_DIR}")
        return self


class _Series(_Chart):
    """``line`` and ``bar``."""

    x: str
    metrics: list[str]
    groupby: list[str] | None = None
    time_grain: str | None = None
    y_format: str | None = None
    stack: bool = False
    horizontal: bool = False


class _Heatmap(_Chart):
    x: str
    y: str
    metric: str
    scheme: str | None = None
    bounds: list[float | None] | None = None  # null: no bounds; unset: 0 … 100


class _IndicatorTrend(_Chart):
    """A line of one indicator; the options given replace the line's defaults."""

    indicator: str
    x: str | None = None
    metrics: list[str] | None = None
    time_grain: str | None = None
    y_format: str | None = None


CHART_MODELS: dict[str, type[_Chart]] = {
    "big_number_total": _BigNumber,
    "table": _Table,
    "line": _Series,
    "bar": _Series,
    "heatmap": _Heatmap,
    "indicator_trend": _IndicatorTrend,
    "html": _Html,
}


VIZ_TYPES = tuple(CHART_MODELS)


def load_spec(folder: Path = SPEC_DIR) -> Spec:
    """Read and validate every spec file in ``folder``."""
    problems: list[str] = []
    raw = _read(folder / "datasets.yml", problems)
    datasets: dict[str, DatasetSpec] = {}
    database: _Database | None = None
    live_database: _Database | None = None
    parsed = _validate(_Datasets, raw, "datasets.yml", problems)
    if parsed is not None:
        database, live_database = parsed.database, parsed.live_database
        datasets = {key: dataset.spec(key) for key, dataset in parsed.datasets.items()}
        problems += _live_problems(datasets, live_database)
    dashboards = []
    for path in sorted(folder.glob("*.yml")):
        if path.name == "datasets.yml":
            continue
        body = _validate(_Dashboard, _read(path, problems), path.name, problems)
        if body is not None:
            dashboards.append(_dashboard(path.stem, body, datasets, problems))
    slugs = [dashboard.slug for dashboard in dashboards]
    if len(set(slugs)) != len(slugs):
        problems.append(f"dashboard slugs are not unique: {slugs}")
    # A title names one chart in Superset's lists (and the provisioning inventory).
    titles = Counter(chart.title for dashboard in dashboards for chart in dashboard.charts.values())
    problems += [
        f"chart title used more than once: {title}" for title, n in titles.items() if n > 1
    ]
    problems += _link_problems(dashboards)
    if problems or database is None:
        raise SpecError("Invalid dashboards spec:\n  - " + "\n  - ".join(problems))
    return Spec(
        database_name=database.name,
        database_label=database.label or database.name,
        datasets=datasets,
        dashboards=tuple(dashboards),
        live_database_name=live_database.name if live_database else None,
        live_database_label=(live_database.label or live_database.name) if live_database else None,
    )


LINK = re.compile(r"\[\[url ([a-z0-9-]+)(?: ([a-z_]+)=(\{\{[^}]+\}\}|[^\]\s]+))?\]\]")


def template_text(name: str) -> str:
    """An html chart's Handlebars template as written."""
    return (TEMPLATE_DIR / f"{name}.hbs").read_text(encoding="utf-8")


def _link_problems(dashboards: list[DashboardSpec]) -> list[str]:
    """Every ``[[url slug filter=…]]`` of a template names a dashboard and one of its filters."""
    by_slug = {dashboard.slug: dashboard for dashboard in dashboards}
    problems = []
    for dashboard in dashboards:
        for chart in dashboard.charts.values():
            if chart.viz != "html":
                continue
            for slug, key, _ in LINK.findall(template_text(chart.options["template"])):
                target = by_slug.get(slug)
                if target is None:
                    problems.append(f"{chart.options['template']}.hbs links to unknown {slug}")
                elif key and key not in target.native_filters:
                    problems.append(
                        f"{chart.options['template']}.hbs: {slug} has no native filter {key}"
                    )
    return problems


def _live_problems(datasets: dict[str, DatasetSpec], live: _Database | None) -> list[str]:
    """A live dataset needs the live database and a model the live store holds."""
    problems = []
    for key, dataset in datasets.items():
        if dataset.database != LIVE:
            continue
        if live is None:
            problems.append(f"datasets.yml: {key}: database live needs a live_database entry")
        # SQL over the live store documents its columns from models it holds (labels_from).
        reads = [dataset.model] if dataset.model else list(dataset.labels_from)
        if not reads or any(model not in LIVE_MODELS for model in reads):
            problems.append(
                f"datasets.yml: {key}: the live store holds only {', '.join(LIVE_MODELS)}"
            )
    return problems


def _read(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        body = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        problems.append(f"{path.name}: {error}")
        return None
    if not isinstance(body, dict):
        problems.append(f"{path.name}: not a mapping")
        return None
    return body


def _validate(
    model: type[_Model], body: dict[str, Any] | None, where: str, problems: list[str]
) -> _Model | None:
    """The file (or part) as ``model``, or None after naming each problem in ``problems``."""
    if body is None:
        return None
    try:
        return model.model_validate(body)
    except ValidationError as error:
        problems += [f"{where}: {field_problem(*problem)}" for problem in config_problems(error)]
        return None


def _dashboard(
    name: str, body: _Dashboard, datasets: dict[str, DatasetSpec], problems: list[str]
) -> DashboardSpec:
    where = f"{name}.yml"
    charts: dict[str, ChartSpec] = {}
    for key, options in body.charts.items():
        viz = options.get("viz")
        if viz not in CHART_MODELS:
            problems.append(f"{where}: chart {key} needs a viz in {VIZ_TYPES}, got {viz!r}")
            continue
        chart = CHART_MODELS[viz].model_validate
        try:
            parsed = chart(options)
        except ValidationError as error:
            problems += [
                f"{where}: {field_problem(('charts', key, *location), text)}"
                for location, text in config_problems(error)
            ]
            continue
        if parsed.dataset not in datasets:
            problems.append(f"{where}: chart {key} reads unknown dataset {parsed.dataset!r}")
            continue
        dataset = datasets[parsed.dataset]
        metric_names = list(getattr(parsed, "metrics", None) or [])
        metric_names += [parsed.metric] if isinstance(parsed, _BigNumber | _Heatmap) else []
        for metric in metric_names:
            if metric not in dataset.metrics:
                problems.append(
                    f"{where}: chart {key}: metric {metric!r} is not a metric of {dataset.key}"
                )
        written = {k: v for k, v in options.items() if k not in ("title", "viz", "dataset")}
        charts[key] = ChartSpec(key, parsed.title, viz, parsed.dataset, written)
    rows = []
    placed: list[str] = []
    for number, row in enumerate(body.layout, start=1):
        default_width = max(1, GRID_COLUMNS // len(row)) if row else GRID_COLUMNS
        cells = [
            Cell(
                "chart" if item.chart is not None else "markdown",
                item.chart if item.chart is not None else str(item.markdown),
                item.width if item.width is not None else default_width,
                item.height if item.height is not None else 50,
            )
            for item in row
        ]
        if sum(cell.width for cell in cells) > GRID_COLUMNS:
            problems.append(f"{where}: layout row {number} is wider than {GRID_COLUMNS}")
        for cell in cells:
            known = body.charts if cell.kind == "chart" else body.markdown
            if cell.key not in known:
                problems.append(
                    f"{where}: layout row {number} places unknown {cell.kind} {cell.key}"
                )
            if cell.kind == "chart":
                placed.append(cell.key)
        rows.append(tuple(cells))
    for key in body.charts:
        if placed.count(key) != 1:
            problems.append(
                f"{where}: chart {key} is placed {placed.count(key)} times (once expected)"
            )
    native_filters = {}
    for key, item in body.native_filters.items():
        if item.dataset not in datasets:
            problems.append(f"{where}: native filter {key} reads unknown dataset {item.dataset!r}")
        native_filters[key] = NativeFilter(
            key,
            item.title,
            item.dataset,
            item.column,
            item.kind,
            tuple(item.default) if item.default is not None else None,
        )
    return DashboardSpec(
        native_filters=native_filters,
        name=name,
        slug=body.slug,
        title=body.title,
        description=body.description,
        roles=tuple(body.roles),
        refresh_seconds=body.refresh_seconds,
        rows=tuple(rows),
        markdown=dict(body.markdown),
        charts=charts,
    )
