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
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import pyarrow as pa
import yaml
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ingestion.config import Location, Strict, dotted, problems

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = Path(__file__).with_name("indicators.yml")
DBT_MODELS = REPO_ROOT / "dbt" / "models"
DEPARTMENTS_CSV = REPO_ROOT / "ingestion" / "reference" / "departments.csv"
DISPATCH_RULES_CSV = REPO_ROOT / "dbt" / "seeds" / "dispatch_rules.csv"
IOT_METRICS_CSV = REPO_ROOT / "dbt" / "seeds" / "iot_metrics.csv"

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
    min_change: float | None
    baseline_weeks: int
    baseline_min_peers: int
    deadband: float
    clear_periods: int
    whistle_matter: str | None
    critical_alarm: str | None
    basis: str
    description: str = ""
    live: bool = False

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
            "min_change": self.min_change,
            "baseline_weeks": self.baseline_weeks,
            "baseline_min_peers": self.baseline_min_peers,
            "deadband": self.deadband,
            "clear_periods": self.clear_periods,
            "whistle_matter_code": self.whistle_matter,
            "critical_alarm_metric": self.critical_alarm,
            "basis": self.basis,
            "is_assumption": self.is_assumption,
            "description": self.description,
        }


@dataclass(frozen=True)
class Registry:
    """The validated registry: settings shared by all indicators, and the indicators."""

    version: int
    indicators: tuple[Indicator, ...]
    path: Path = field(default=DEFAULT_PATH)

    def by_code(self) -> dict[str, Indicator]:
        """Indicators keyed by code."""
        return {indicator.code: indicator for indicator in self.indicators}

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per indicator."""
        return [
            {**indicator.row(), "registry_version": self.version} for indicator in self.indicators
        ]


def dbt_model_names(models_dir: Path = DBT_MODELS) -> set[str]:
    """Names of the dbt models in the project (SQL and Python files under ``models/``)."""
    return {p.stem for p in models_dir.rglob("*") if p.suffix in (".sql", ".py")}


def _csv_column(path: Path, column: str, *required: str) -> set[str]:
    """The values of ``column`` in rows where every ``required`` column is filled."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {row[column] for row in csv.DictReader(handle) if all(row[r] for r in required)}


def whistle_matters(path: Path = DISPATCH_RULES_CSV) -> set[str]:
    """派单字典 matters with a rule that has time limits in hours for 橙 and 红."""
    return _csv_column(path, "matter_code", "orange_limit_hours", "red_limit_hours")


def alarm_metrics(path: Path = IOT_METRICS_CSV) -> set[str]:
    """IoT metrics that are alarm flags (``iot_metrics`` rows with alarm_kind ``flag``)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["metric"] for row in csv.DictReader(handle) if row["alarm_kind"] == "flag"}


class _Entry(Strict):
    """Strict mode and no unknown keys, for every part of the file."""


def _positive_integer(value: int) -> int:
    if value < 1:
        raise ValueError("must be a positive integer")
    return value


def _fraction(value: float) -> float:
    if not 0 <= value < 1:
        raise ValueError("must be a fraction in [0, 1)")
    return value


PositiveInteger = Annotated[int, AfterValidator(_positive_integer)]
Fraction = Annotated[float, AfterValidator(_fraction)]


class _Baseline(_Entry):
    weeks: PositiveInteger = 5
    min_peers: PositiveInteger = 8


class _BaselineOverride(_Entry):
    """An indicator's own ``baseline``: what it sets replaces the default."""

    weeks: PositiveInteger | None = None
    min_peers: PositiveInteger | None = None


class _Hysteresis(_Entry):
    deadband: Fraction | None = None
    clear_periods: PositiveInteger | None = None


class _Defaults(_Entry):
    baseline: _Baseline = Field(default_factory=_Baseline)
    hysteresis: _Hysteresis = Field(default_factory=_Hysteresis)


class _Thresholds(_Entry):
    """``thresholds``: the kind, the level values (蓝 … 红) and the baseline settings."""

    kind: Literal["fixed", "baseline_sigma", "baseline_ratio"] = "fixed"
    inclusive: bool = True
    guard: float | None = None
    sigma_floor: float = 1.0
    min_change: float | None = None
    blue: float | None = Field(default=None, alias="蓝")
    yellow: float | None = Field(default=None, alias="黄")
    orange: float | None = Field(default=None, alias="橙")
    red: float | None = Field(default=None, alias="红")

    @field_validator("sigma_floor")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be a positive number")
        return value

    @model_validator(mode="after")
    def _guarded_baselines(self) -> _Thresholds:
        if self.guard is not None and self.kind == "fixed":
            raise ValueError("only baseline thresholds take a guard")
        if self.min_change is not None and self.kind == "fixed":
            raise ValueError("only baseline thresholds take a min_change")
        if self.min_change is not None and self.min_change <= 0:
            raise ValueError("min_change must be a positive number")
        if not self.levels():
            raise ValueError("set at least one of 蓝, 黄, 橙, 红")
        if self.kind == "baseline_ratio" and any(value <= 0 for value in self.levels().values()):
            raise ValueError("baseline ratios must be positive")
        return self

    def levels(self) -> dict[str, float]:
        """The levels set, from 蓝 to 红."""
        values = (self.blue, self.yellow, self.orange, self.red)
        return {
            level: value for level, value in zip(LEVELS, values, strict=True) if value is not None
        }


def _known(kind: str) -> Any:
    """A validator: the value must be in the validation context's set ``kind``."""

    def check(value: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get(kind)
        if known is not None and value not in known:
            raise ValueError(_UNKNOWN[kind].format(value=value))
        return value

    return AfterValidator(check)


_UNKNOWN = {
    "models": "no dbt model named {value}",
    "departments": "{value!r} is not a department code (departments.csv)",
    "matters": (
        "matter {value} is not in the 派单字典 (dispatch_rules) with hour limits for 橙 and 红"
    ),
    "alarms": "{value!r} is not an alarm flag metric (iot_metrics)",
}
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Indicator(_Entry):
    """One entry of ``indicators``."""

    code: str
    name_zh: Text
    name_en: Text
    dimension: Literal[tuple(DIMENSIONS)]  # type: ignore[valid-type]
    unit: Literal[tuple(UNITS)]  # type: ignore[valid-type]
    grain: Literal[GRAINS]  # type: ignore[valid-type]
    area_levels: list[str]
    model: Annotated[Text, _known("models")]
    direction: Literal[DIRECTIONS]  # type: ignore[valid-type]
    owner: Annotated[Text, _known("departments")]
    thresholds: _Thresholds
    baseline: _BaselineOverride = Field(default_factory=_BaselineOverride)
    hysteresis: _Hysteresis = Field(default_factory=_Hysteresis)
    # A 派单字典 matter code; YAML gives text when quoted ("030102"), a number otherwise.
    whistle: Annotated[str, BeforeValidator(str), _known("matters")] | None = None
    # A device alarm that is critical: each one raises this indicator and whistles at once.
    critical_alarm: Annotated[str, _known("alarms")] | None = None
    # Evaluated by the live path (live/): an hourly indicator of the fast sources only.
    live: bool = False
    basis: Text
    description: str = ""

    @field_validator("code")
    @classmethod
    def _code_shape(cls, value: str) -> str:
        if not CODE_PATTERN.fullmatch(value):
            raise ValueError(f"{value!r} must look like WEA_RAIN_1H")
        return value

    @field_validator("area_levels")
    @classmethod
    def _area_levels(cls, value: list[str]) -> list[str]:
        if (
            not value
            or any(level not in AREA_LEVELS for level in value)
            or len(set(value)) != len(value)
        ):
            raise ValueError(f"{value!r} must be a list drawn from {AREA_LEVELS}")
        return value

    @model_validator(mode="after")
    def _live_is_hourly(self) -> _Indicator:
        # A day's value is final only when the day is over: a partial day is no warning.
        if self.live and self.grain != "hour":
            raise ValueError("live: only an hourly indicator can be evaluated as batches land")
        return self

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> _Indicator:
        # Baseline multiples grow with severity whatever the direction (mean ± kσ); fixed
        # values and ratios grow when higher is worse and shrink when lower is worse.
        kind = self.thresholds.kind
        increasing = kind == "baseline_sigma" or self.direction == "higher_is_worse"
        for (low_name, low), (high_name, high) in itertools.pairwise(
            self.thresholds.levels().items()
        ):
            if increasing and not high > low:
                why = "the σ multiple" if kind == "baseline_sigma" else "higher is worse"
                raise ValueError(
                    f"thresholds: {high_name} ({high:g}) must be above {low_name} ({low:g}) ({why})"
                )
            if not increasing and not high < low:
                raise ValueError(
                    f"thresholds: {high_name} ({high:g}) must be below {low_name} ({low:g}) "
                    "(lower is worse)"
                )
        return self

    def indicator(self, defaults: _Defaults) -> Indicator:
        """The validated entry, with the registry's baseline and hysteresis defaults filled in."""
        hysteresis = defaults.hysteresis
        thresholds = self.thresholds
        deadband = self.hysteresis.deadband
        clear_periods = self.hysteresis.clear_periods
        return Indicator(
            code=self.code,
            name_zh=self.name_zh,
            name_en=self.name_en,
            dimension=self.dimension,
            unit=self.unit,
            grain=self.grain,
            area_levels=tuple(level for level in AREA_LEVELS if level in self.area_levels),
            model=self.model,
            direction=self.direction,
            owner=self.owner,
            threshold_kind=thresholds.kind,
            thresholds=thresholds.levels(),
            inclusive=thresholds.inclusive,
            guard=thresholds.guard,
            sigma_floor=thresholds.sigma_floor,
            min_change=thresholds.min_change,
            baseline_weeks=int(_first(self.baseline.weeks, defaults.baseline.weeks)),
            baseline_min_peers=int(_first(self.baseline.min_peers, defaults.baseline.min_peers)),
            deadband=_first(deadband, hysteresis.deadband, 0.1),
            clear_periods=int(_first(clear_periods, hysteresis.clear_periods, 2)),
            whistle_matter=self.whistle,
            critical_alarm=self.critical_alarm,
            basis=self.basis,
            description=self.description.strip(),
            live=self.live,
        )


def _first(*values: float | None) -> float:
    return next(value for value in values if value is not None)


class _Document(_Entry):
    """The whole file."""

    version: int = 1
    defaults: _Defaults = Field(default_factory=_Defaults)
    indicators: list[_Indicator] = Field(min_length=1)


def load_registry(
    path: Path | None = None,
    *,
    known_models: Iterable[str] | None = None,
    known_departments: Iterable[str] | None = None,
    known_matters: Iterable[str] | None = None,
    known_alarms: Iterable[str] | None = None,
) -> Registry:
    """Load and validate the registry; raise :class:`RegistryError` listing every problem.

    The file is ``$CITYOPS_INDICATORS`` when set, else ``indicators.yml`` beside this module.
    The known models, departments (``ingestion/reference/departments.csv``), 派单字典
    matters with hour limits (``dbt/seeds/dispatch_rules.csv``) and alarm metrics
    (``dbt/seeds/iot_metrics.csv``) default to the repository's own.
    """
    path = path or Path(os.environ.get("CITYOPS_INDICATORS") or DEFAULT_PATH)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise RegistryError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise RegistryError(f"{path}: expected a mapping with 'indicators', got {document!r}")
    if not isinstance(document.get("indicators"), list) or not document["indicators"]:
        raise RegistryError(f"{path}: 'indicators' must be a non-empty list")
    context = {
        "models": set(known_models) if known_models is not None else dbt_model_names(),
        "departments": (
            set(known_departments)
            if known_departments is not None
            else _csv_column(DEPARTMENTS_CSV, "department_code")
        ),
        "matters": (set(known_matters) if known_matters is not None else whistle_matters()),
        "alarms": set(known_alarms) if known_alarms is not None else alarm_metrics(),
    }
    entries = document["indicators"]
    found: list[str] = []
    parsed: _Document | None = None
    try:
        parsed = _Document.model_validate(document, context=context)
    except ValidationError as error:
        found += [_describe(location, text, entries) for location, text in problems(error)]
    codes = Counter(
        entry["code"]
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("code"), str)
    )
    found += [f"indicator {code}, field code: duplicate code" for code, n in codes.items() if n > 1]
    if found or parsed is None:
        lines = "\n".join(f"  {problem}" for problem in found)
        noun = "problem" if len(found) == 1 else "problems"
        raise RegistryError(f"{len(found)} {noun} in {path}\n{lines}")
    return Registry(
        version=parsed.version,
        indicators=tuple(entry.indicator(parsed.defaults) for entry in parsed.indicators),
        path=path,
    )


def _describe(location: Location, text: str, entries: list[Any]) -> str:
    """``indicator CODE, field a.b: text`` (``#n`` for an entry without a valid code)."""
    if len(location) < 2 or location[0] != "indicators":
        return f"registry, field {dotted(location)}: {text}"
    position = int(location[1])
    entry = entries[position]
    code = entry.get("code") if isinstance(entry, dict) else None
    label = code if isinstance(code, str) and CODE_PATTERN.fullmatch(code) else f"#{position + 1}"
    if len(location) == 2:  # the entry as a whole: not a mapping, or a check across fields
        if not isinstance(entry, dict):
            return f"indicator {label}: expected a mapping"
        field_name, _, text = text.partition(": ") if ": " in text else ("thresholds", "", text)
        return f"indicator {label}, field {field_name}: {text}"
    return f"indicator {label}, field {dotted(location[2:])}: {text}"


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
        ("min_change", pa.float64()),
        ("deadband", pa.float64()),
        ("clear_periods", pa.int32()),
        ("whistle_matter_code", pa.string()),
        ("critical_alarm_metric", pa.string()),
        ("basis", pa.string()),
        ("is_assumption", pa.bool_()),
        ("description", pa.string()),
        ("baseline_weeks", pa.int32()),
        ("baseline_min_peers", pa.int32()),
        ("registry_version", pa.int32()),
    ]
)
