"""The indicator registry: load ``indicators.yml``, validate it, and flatten it for the warehouse.

Every problem is reported with the indicator and the field it concerns, all at once, so an
editor fixing thresholds in YAML sees every mistake in one run::

    RegistryError: 2 problems in vitals/indicators.yml
      indicator WEA_RAIN_1H, field thresholds: 黄 (30) must be above 蓝 (35) when higher is worse
      indicator ENV_AQI_DAILY, field model: no dbt model named int_vital_signs__air

Thresholds follow domain.md §3.2: 蓝 (Ⅳ级, 一般) < 黄 (Ⅲ级) < 橙 (Ⅱ级) < 红 (Ⅰ级, 特别严重). A
level may be skipped (高温 has no 蓝), but at least one must be set.
"""

from __future__ import annotations

import csv
import itertools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = Path(__file__).with_name("indicators.yml")
DBT_MODELS = REPO_ROOT / "dbt" / "models"
DEPARTMENTS_CSV = REPO_ROOT / "ingestion" / "reference" / "departments.csv"
DISPATCH_RULES_CSV = REPO_ROOT / "dbt" / "seeds" / "dispatch_rules.csv"

# code: (中文, English). The eight dimensions of the district plan (domain.md §3.1).
DIMENSIONS: dict[str, tuple[str, str]] = {
    "weather": ("气象", "Weather"),
    "traffic": ("交通", "Traffic"),
    "environment": ("环境", "Environment"),
    "safety": ("安全", "Public safety"),
    "opinion": ("舆情", "Public opinion"),
    "livelihood": ("民生", "Livelihood"),
    "economy": ("经济", "Economy"),
    "utilities": ("城市生命线", "Utilities and lifelines"),
}

# Colour: (level number, roman grade, English). Ⅰ级 red is the most severe (domain.md §3.2).
LEVELS: dict[str, tuple[int, str, str]] = {
    "蓝": (1, "Ⅳ级", "blue"),
    "黄": (2, "Ⅲ级", "yellow"),
    "橙": (3, "Ⅱ级", "orange"),
    "红": (4, "Ⅰ级", "red"),
}

# unit: 中文 label.
UNITS: dict[str, str] = {
    "mm": "毫米",
    "°C": "摄氏度",
    "m/s": "米/秒",
    "km/h": "千米/小时",
    "cm": "厘米",
    "AQI": "空气质量指数",
    "µg/m³": "微克/立方米",
    "index": "指数",
    "percent": "%",
    "count": "件",
    "devices": "台",
    "people": "人次",
    "hours": "小时",
    "yuan": "元",
}

AREA_LEVELS = ("district", "street", "grid")
GRAINS = ("hour", "day")
DIRECTIONS = ("higher_is_worse", "lower_is_worse")
THRESHOLD_KINDS = ("fixed", "baseline_sigma", "baseline_ratio")
CODE_PATTERN = re.compile(r"[A-Z]{3}_[A-Z0-9_]+")

INDICATOR_FIELDS = {
    "code",
    "name_zh",
    "name_en",
    "dimension",
    "unit",
    "grain",
    "area_levels",
    "model",
    "direction",
    "owner",
    "thresholds",
    "hysteresis",
    "whistle",
    "basis",
    "description",
}
THRESHOLD_FIELDS = {"kind", "inclusive", "guard", "sigma_floor", *LEVELS}
HYSTERESIS_FIELDS = {"deadband", "clear_periods"}


class RegistryError(ValueError):
    """The registry file is invalid; the message lists every problem."""


@dataclass(frozen=True)
class Indicator:
    """One vital-sign indicator, as the registry declares it."""

    code: str
    name_zh: str
    name_en: str
    dimension: str
    unit: str
    grain: str
    area_levels: tuple[str, ...]
    model: str
    direction: str
    owner: str
    threshold_kind: str
    thresholds: Mapping[str, float]
    inclusive: bool
    guard: float | None
    sigma_floor: float
    deadband: float
    clear_periods: int
    whistle_matter: str | None
    basis: str
    description: str = ""

    @property
    def is_assumption(self) -> bool:
        """True when the basis is marked unverified (❓), partly verified (🟡) or ours (💡)."""
        return any(mark in self.basis for mark in ("❓", "🟡", "💡"))

    def row(self) -> dict[str, Any]:
        """The flat row ``dim_indicators`` holds."""
        name_zh, name_en = DIMENSIONS[self.dimension]
        return {
            "indicator_code": self.code,
            "indicator_name": self.name_zh,
            "indicator_name_en": self.name_en,
            "dimension": self.dimension,
            "dimension_name": name_zh,
            "dimension_name_en": name_en,
            "dimension_order": list(DIMENSIONS).index(self.dimension) + 1,
            "unit": self.unit,
            "unit_name": UNITS[self.unit],
            "grain": self.grain,
            "area_levels": ",".join(self.area_levels),
            "finest_area_level": self.area_levels[-1],
            "model_name": self.model,
            "direction": self.direction,
            "owner_department_code": self.owner,
            "threshold_kind": self.threshold_kind,
            "is_inclusive": self.inclusive,
            "threshold_blue": self.thresholds.get("蓝"),
            "threshold_yellow": self.thresholds.get("黄"),
            "threshold_orange": self.thresholds.get("橙"),
            "threshold_red": self.thresholds.get("红"),
            "threshold_guard": self.guard,
            "sigma_floor": self.sigma_floor,
            "deadband": self.deadband,
            "clear_periods": self.clear_periods,
            "whistle_matter_code": self.whistle_matter,
            "basis": self.basis,
            "is_assumption": self.is_assumption,
            "description": self.description,
        }


@dataclass(frozen=True)
class Registry:
    """The validated registry: settings shared by all indicators, and the indicators."""

    version: int
    baseline_weeks: int
    baseline_min_peers: int
    indicators: tuple[Indicator, ...]
    path: Path = field(default=DEFAULT_PATH)

    def by_code(self) -> dict[str, Indicator]:
        """Indicators keyed by code."""
        return {indicator.code: indicator for indicator in self.indicators}

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per indicator, with the shared baseline settings."""
        return [
            {
                **indicator.row(),
                "baseline_weeks": self.baseline_weeks,
                "baseline_min_peers": self.baseline_min_peers,
                "registry_version": self.version,
            }
            for indicator in self.indicators
        ]


def dbt_model_names(models_dir: Path = DBT_MODELS) -> set[str]:
    """Names of the dbt models in the project (SQL and Python files under ``models/``)."""
    return {p.stem for p in models_dir.rglob("*") if p.suffix in (".sql", ".py")}


def _csv_column(path: Path, column: str) -> set[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row[column] for row in csv.DictReader(handle)}


def load_registry(
    path: Path | None = None,
    *,
    known_models: Iterable[str] | None = None,
    known_departments: Iterable[str] | None = None,
    known_matters: Iterable[str] | None = None,
) -> Registry:
    """Load and validate the registry; raise :class:`RegistryError` listing every problem.

    The file is ``$CITYOPS_INDICATORS`` when set, else ``indicators.yml`` beside this module.
    The known models, departments (``ingestion/reference/departments.csv``) and 派单字典
    matter codes (``dbt/seeds/dispatch_rules.csv``) default to the repository's own.
    """
    path = path or Path(os.environ.get("CITYOPS_INDICATORS") or DEFAULT_PATH)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise RegistryError(f"{path}: not valid YAML: {error}") from error
    context = _Context(
        models=set(known_models) if known_models is not None else dbt_model_names(),
        departments=(
            set(known_departments)
            if known_departments is not None
            else _csv_column(DEPARTMENTS_CSV, "department_code")
        ),
        matters=(
            set(known_matters)
            if known_matters is not None
            else _csv_column(DISPATCH_RULES_CSV, "matter_code")
        ),
    )
    registry = _parse(document, context, path)
    if context.problems:
        lines = "\n".join(f"  {problem}" for problem in context.problems)
        count = len(context.problems)
        noun = "problem" if count == 1 else "problems"
        raise RegistryError(f"{count} {noun} in {path}\n{lines}")
    return registry


@dataclass
class _Context:
    models: set[str]
    departments: set[str]
    matters: set[str]
    problems: list[str] = field(default_factory=list)

    def problem(self, code: str, field_name: str, message: str) -> None:
        self.problems.append(f"indicator {code}, field {field_name}: {message}")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _parse(document: object, ctx: _Context, path: Path) -> Registry:
    if not isinstance(document, dict):
        raise RegistryError(f"{path}: expected a mapping with 'indicators', got {document!r}")
    unknown = set(document) - {"version", "defaults", "indicators"}
    if unknown:
        ctx.problems.append(f"registry, field {sorted(unknown)[0]}: unknown top-level key")
    defaults = document.get("defaults") or {}
    baseline = defaults.get("baseline") or {}
    hysteresis = defaults.get("hysteresis") or {}
    weeks = baseline.get("weeks", 4)
    min_peers = baseline.get("min_peers", 2)
    for name, value in (("baseline.weeks", weeks), ("baseline.min_peers", min_peers)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            ctx.problems.append(f"registry, field defaults.{name}: must be a positive integer")
    entries = document.get("indicators")
    if not isinstance(entries, list) or not entries:
        raise RegistryError(f"{path}: 'indicators' must be a non-empty list")
    indicators: list[Indicator] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        indicator = _indicator(entry, position, hysteresis, ctx)
        if indicator is None:
            continue
        if indicator.code in seen:
            ctx.problem(indicator.code, "code", "duplicate code")
        seen.add(indicator.code)
        indicators.append(indicator)
    return Registry(
        version=int(document.get("version", 1)),
        baseline_weeks=weeks if isinstance(weeks, int) else 4,
        baseline_min_peers=min_peers if isinstance(min_peers, int) else 2,
        indicators=tuple(indicators),
        path=path,
    )


def _indicator(
    entry: object, position: int, hysteresis_defaults: Mapping[str, Any], ctx: _Context
) -> Indicator | None:
    if not isinstance(entry, dict):
        ctx.problems.append(f"indicator #{position}: expected a mapping")
        return None
    code = entry.get("code")
    if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
        ctx.problem(f"#{position}", "code", f"{code!r} must look like WEA_RAIN_1H")
        code = f"#{position}"
    for unknown in sorted(set(entry) - INDICATOR_FIELDS):
        ctx.problem(code, unknown, "unknown field")
    for required in ("name_zh", "name_en", "model", "owner", "basis"):
        if not isinstance(entry.get(required), str) or not entry[required].strip():
            ctx.problem(code, required, "required text is missing")

    dimension = entry.get("dimension")
    if dimension not in DIMENSIONS:
        ctx.problem(code, "dimension", f"{dimension!r} is not one of {', '.join(DIMENSIONS)}")
    unit = entry.get("unit")
    if unit not in UNITS:
        ctx.problem(code, "unit", f"{unit!r} is not a known unit ({', '.join(UNITS)})")
    grain = entry.get("grain")
    if grain not in GRAINS:
        ctx.problem(code, "grain", f"{grain!r} must be hour or day")
    direction = entry.get("direction")
    if direction not in DIRECTIONS:
        ctx.problem(code, "direction", f"{direction!r} must be higher_is_worse or lower_is_worse")
    levels = entry.get("area_levels")
    if (
        not isinstance(levels, list)
        or not levels
        or any(level not in AREA_LEVELS for level in levels)
        or len(set(levels)) != len(levels)
    ):
        ctx.problem(code, "area_levels", f"{levels!r} must be a list drawn from {AREA_LEVELS}")
        levels = []
    area_levels = tuple(level for level in AREA_LEVELS if level in levels)
    model = entry.get("model")
    if isinstance(model, str) and model not in ctx.models:
        ctx.problem(code, "model", f"no dbt model named {model}")
    owner = entry.get("owner")
    if isinstance(owner, str) and owner not in ctx.departments:
        ctx.problem(code, "owner", f"{owner!r} is not a department code (departments.csv)")
    whistle = entry.get("whistle")
    if whistle is not None:
        whistle = str(whistle)
        if whistle not in ctx.matters:
            ctx.problem(
                code, "whistle", f"matter {whistle} is not in the 派单字典 (dispatch_rules)"
            )

    kind, thresholds, inclusive, guard, sigma_floor = _thresholds(
        code, entry.get("thresholds"), direction, ctx
    )
    deadband, clear_periods = _hysteresis(code, entry.get("hysteresis"), hysteresis_defaults, ctx)
    return Indicator(
        code=code,
        name_zh=str(entry.get("name_zh", "")),
        name_en=str(entry.get("name_en", "")),
        dimension=str(dimension),
        unit=str(unit),
        grain=str(grain),
        area_levels=area_levels,
        model=str(model),
        direction=str(direction),
        owner=str(owner),
        threshold_kind=kind,
        thresholds=thresholds,
        inclusive=inclusive,
        guard=guard,
        sigma_floor=sigma_floor,
        deadband=deadband,
        clear_periods=clear_periods,
        whistle_matter=whistle,
        basis=str(entry.get("basis", "")),
        description=str(entry.get("description", "")).strip(),
    )


def _thresholds(
    code: str, spec: object, direction: object, ctx: _Context
) -> tuple[str, dict[str, float], bool, float | None, float]:
    if not isinstance(spec, dict):
        ctx.problem(code, "thresholds", "a mapping with kind and at least one of 蓝/黄/橙/红")
        return "fixed", {}, True, None, 1.0
    for unknown in sorted(set(spec) - THRESHOLD_FIELDS):
        ctx.problem(code, f"thresholds.{unknown}", "unknown key (levels are 蓝, 黄, 橙, 红)")
    kind = spec.get("kind", "fixed")
    if kind not in THRESHOLD_KINDS:
        ctx.problem(code, "thresholds.kind", f"{kind!r} is not one of {', '.join(THRESHOLD_KINDS)}")
    levels: dict[str, float] = {}
    for level in LEVELS:
        if level not in spec:
            continue
        value = _number(spec[level])
        if value is None:
            ctx.problem(code, f"thresholds.{level}", f"{spec[level]!r} is not a number")
        else:
            levels[level] = value
    if not levels:
        ctx.problem(code, "thresholds", "set at least one of 蓝, 黄, 橙, 红")
    # Baseline multiples grow with severity whatever the direction (mean ± kσ); fixed values
    # and ratios grow when higher is worse and shrink when lower is worse.
    increasing = kind == "baseline_sigma" or direction == "higher_is_worse"
    if kind == "baseline_ratio" and any(value <= 0 for value in levels.values()):
        ctx.problem(code, "thresholds", "baseline ratios must be positive")
    ordered = list(levels.items())
    for (low_name, low), (high_name, high) in itertools.pairwise(ordered):
        if increasing and not high > low:
            why = "the σ multiple" if kind == "baseline_sigma" else "higher is worse"
            ctx.problem(
                code,
                "thresholds",
                f"{high_name} ({high:g}) must be above {low_name} ({low:g}) ({why})",
            )
        if not increasing and not high < low:
            ctx.problem(
                code,
                "thresholds",
                f"{high_name} ({high:g}) must be below {low_name} ({low:g}) (lower is worse)",
            )
    inclusive = spec.get("inclusive", True)
    if not isinstance(inclusive, bool):
        ctx.problem(code, "thresholds.inclusive", "must be true or false")
        inclusive = True
    guard = None
    if "guard" in spec:
        guard = _number(spec["guard"])
        if guard is None:
            ctx.problem(code, "thresholds.guard", "must be a number")
        elif kind == "fixed":
            ctx.problem(code, "thresholds.guard", "only baseline thresholds take a guard")
    sigma_floor = _number(spec.get("sigma_floor", 1.0))
    if sigma_floor is None or sigma_floor <= 0:
        ctx.problem(code, "thresholds.sigma_floor", "must be a positive number")
        sigma_floor = 1.0
    return str(kind), levels, inclusive, guard, sigma_floor


def _hysteresis(
    code: str, spec: object, defaults: Mapping[str, Any], ctx: _Context
) -> tuple[float, int]:
    merged = dict(defaults)
    if spec is not None:
        if not isinstance(spec, dict):
            ctx.problem(code, "hysteresis", "must be a mapping with deadband and clear_periods")
        else:
            for unknown in sorted(set(spec) - HYSTERESIS_FIELDS):
                ctx.problem(code, f"hysteresis.{unknown}", "unknown key")
            merged.update(spec)
    deadband = _number(merged.get("deadband", 0.1))
    if deadband is None or not 0 <= deadband < 1:
        ctx.problem(code, "hysteresis.deadband", "must be a fraction in [0, 1)")
        deadband = 0.1
    clear_periods = merged.get("clear_periods", 2)
    if not isinstance(clear_periods, int) or isinstance(clear_periods, bool) or clear_periods < 1:
        ctx.problem(code, "hysteresis.clear_periods", "must be a positive integer")
        clear_periods = 2
    return deadband, clear_periods


def registry_table(registry: Registry) -> pa.Table:
    """The registry as an Arrow table with a fixed schema (what ``dim_indicators`` holds)."""
    return pa.Table.from_pylist(registry.rows(), schema=ARROW_SCHEMA)


ARROW_SCHEMA = pa.schema(
    [
        ("indicator_code", pa.string()),
        ("indicator_name", pa.string()),
        ("indicator_name_en", pa.string()),
        ("dimension", pa.string()),
        ("dimension_name", pa.string()),
        ("dimension_name_en", pa.string()),
        ("dimension_order", pa.int32()),
        ("unit", pa.string()),
        ("unit_name", pa.string()),
        ("grain", pa.string()),
        ("area_levels", pa.string()),
        ("finest_area_level", pa.string()),
        ("model_name", pa.string()),
        ("direction", pa.string()),
        ("owner_department_code", pa.string()),
        ("threshold_kind", pa.string()),
        ("is_inclusive", pa.bool_()),
        ("threshold_blue", pa.float64()),
        ("threshold_yellow", pa.float64()),
        ("threshold_orange", pa.float64()),
        ("threshold_red", pa.float64()),
        ("threshold_guard", pa.float64()),
        ("sigma_floor", pa.float64()),
        ("deadband", pa.float64()),
        ("clear_periods", pa.int32()),
        ("whistle_matter_code", pa.string()),
        ("basis", pa.string()),
        ("is_assumption", pa.bool_()),
        ("description", pa.string()),
        ("baseline_weeks", pa.int32()),
        ("baseline_min_peers", pa.int32()),
        ("registry_version", pa.int32()),
    ]
)
