"""The catalogue's own configuration: ``catalog/catalogue.yml`` and ``catalog/codes.yml``.

``catalogue.yml`` holds what dbt does not know (classification codes, defaults per schema and
element, keywords, share methods, grading rules, column overrides). ``codes.yml`` is the
registry of 信息资源代码: a code, once given to a resource, is never changed or reused.

Both files are declared as pydantic models in strict mode (unknown keys are errors, a code is
text, never a number); :class:`CatalogueError` lists every problem with the path of its field,
in the words of :mod:`ingestion.config`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationError,
)

from catalog.standard import ELEMENTS, GRADES, RESOURCE_KINDS
from catalog.text import text_problem, tidy
from ingestion import files
from ingestion.config import NonBlank, NullMeansDefault, Strict, field_problem, problems

CATALOG_DIR = Path(__file__).resolve().parent
CONFIG_PATH = CATALOG_DIR / "catalogue.yml"
CODES_PATH = CATALOG_DIR / "codes.yml"

# The catalogue keys a model's dbt `meta` block carries (dbt/README.md "Docs and catalogue
# metadata"). For models they come from dbt only; seeds take them from catalogue.yml.
META_KEYS = (
    "owner_department",
    "source_department",
    "element",
    "resource_category",
    "grade",
    "personal_information",
    "share_type",
    "share_condition",
    "open_type",
    "open_condition",
    "update_cycle",
)
# Keys only catalogue.yml holds.
CATALOGUE_KEYS = ("layer", "format", "share_method", "keywords", "name", "name_suffix")
ENTRY_KEYS = frozenset(META_KEYS + CATALOGUE_KEYS)

CODE = re.compile(r"^(\d{8})/(\d{4})$")


class CatalogueError(ValueError):
    """The catalogue is incomplete or invalid; ``problems`` lists every finding."""

    def __init__(self, problems: list[str], heading: str = "The catalogue is invalid") -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{heading} ({len(self.problems)} problems):\n{lines}")


@dataclass(frozen=True)
class PersonalRule:
    """The grade of one kind of personal column and the basis stated in its reason."""

    grade: str
    basis: str


@dataclass(frozen=True)
class ColumnOverride:
    """A column grade set by hand, with its reason."""

    grade: str
    reason: str


@dataclass(frozen=True)
class CatalogueConfig:
    """``catalog/catalogue.yml``, checked for shape (values are checked by the validation)."""

    title: str
    title_en: str
    publisher: str
    base_iri: str
    namespace: str
    kinds: Mapping[str, str]
    themes: Mapping[str, Mapping[str, str]]
    theme_aliases: Mapping[str, str]
    elements: Mapping[str, str]
    layers: Mapping[str, str]
    layer_by_prefix: Mapping[str, str]
    non_personal_grade: str
    personal: Mapping[str, PersonalRule]
    defaults_all: Mapping[str, Any]
    defaults_elements: Mapping[str, Mapping[str, Any]]
    defaults_schemas: Mapping[str, Mapping[str, Any]]
    models: Mapping[str, Mapping[str, Any]]
    columns: Mapping[str, ColumnOverride]
    # 信息资源摘要 in Chinese by model or seed name, and the fixed Chinese form of English
    # notes in column descriptions (catalog/text.py).
    abstracts: Mapping[str, str] = field(default_factory=dict)
    phrases: Mapping[str, str] = field(default_factory=dict)
    path: Path = field(default=CONFIG_PATH, compare=False)


# The shape of catalogue.yml ------------------------------------------------------------------


def _code(count: int) -> Any:
    """The type of a code: text of exactly ``count`` digits."""
    digits = f"{count} digit{'s' if count > 1 else ''}"

    def number(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            # YAML reads 01 as the number 1: a code is quoted so its leading zeros stay.
            raise ValueError(f"code {value} must be quoted text of {digits}")
        return value

    def check(value: str) -> str:
        if not re.fullmatch(rf"\d{{{count}}}", value):
            raise ValueError(f"code {value!r} must be {digits}")
        return value

    return Annotated[str, BeforeValidator(number), AfterValidator(check)]


def _unique(codes: dict[str, str]) -> dict[str, str]:
    values = list(codes.values())
    duplicates = sorted({code for code in values if values.count(code) > 1})
    if duplicates:
        raise ValueError(f"codes used twice: {', '.join(duplicates)}")
    return codes


def _every(names: tuple[str, ...]) -> Any:
    """A validator: the mapping has a key for each of ``names``."""

    def check(value: dict[str, str]) -> dict[str, str]:
        missing = [name for name in names if name not in value]
        if missing:
            raise ValueError(
                f"must list every one of {'·'.join(names)} (missing {', '.join(missing)})"
            )
        return value

    return AfterValidator(check)


def _keyword(value: Any) -> Any:
    # YAML reads `12345` as a number; the resolver turns every keyword into text.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"keyword {value!r} must be text or a whole number")
    return value


def _model_column(value: str) -> str:
    if "." not in value:
        raise ValueError(f"{value!r} must be written model.column")
    return value


def _or_empty(value: Any) -> Any:
    return {} if value is None else value


def _chinese_only(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(f"must be Chinese only (the officer's catalogue); found {problem}")
    return value


Text = NonBlank
Grade = Literal[GRADES]  # type: ignore[valid-type]
Kind = Literal[RESOURCE_KINDS]  # type: ignore[valid-type]
Element = Literal[ELEMENTS]  # type: ignore[valid-type]
Keyword = Annotated[str | int, BeforeValidator(_keyword)]
# Chinese text as the catalogue prints it: no English words, no emoji (catalog/text.py).
ChineseText = Annotated[NonBlank, AfterValidator(_chinese_only)]


class _Head(NullMeansDefault):
    title: Text
    title_en: str = ""
    publisher: Text
    base_iri: Text
    namespace: Text


class _Classification(NullMeansDefault):
    kinds: Annotated[
        dict[Kind, _code(1)],
        AfterValidator(_unique),
        _every(RESOURCE_KINDS),
    ]
    themes: dict[
        Kind,
        Annotated[
            dict[str, _code(2)],
            BeforeValidator(_or_empty),
            AfterValidator(_unique),
        ],
    ] = Field(default_factory=dict)
    theme_aliases: dict[str, str] = Field(default_factory=dict)
    elements: Annotated[dict[Element, _code(3)], AfterValidator(_unique), _every(ELEMENTS)]
    layers: Annotated[dict[str, _code(2)], AfterValidator(_unique)] = Field(default_factory=dict)
    layer_by_prefix: dict[str, str] = Field(default_factory=dict)


class _Rule(NullMeansDefault):
    grade: Grade
    basis: Text


class _Personal(NullMeansDefault):
    pseudonym: _Rule
    masked: _Rule
    scrubbed: _Rule


class _Grading(NullMeansDefault):
    non_personal: Grade
    personal: _Personal


class _Pair(Strict):
    """``format`` and ``share_method``: a class and a type (checked by the validation)."""

    class_: str | None = Field(default=None, alias="class")
    type: str | None = None


class _Entry(Strict):
    """One level of the lookup: a ``models`` entry or a default (only the keys written count)."""

    owner_department: str | None = None
    source_department: str | None = None
    element: str | None = None
    resource_category: str | None = None
    grade: str | None = None
    personal_information: str | None = None
    share_type: str | None = None
    share_condition: str | None = None
    open_type: str | None = None
    open_condition: str | None = None
    update_cycle: str | None = None
    layer: str | None = None
    format: _Pair | None = None
    share_method: _Pair | None = None
    keywords: list[Keyword] | None = None
    name: str | None = None
    name_suffix: str | None = None

    def written(self) -> dict[str, Any]:
        """The keys as written in the file, nothing added."""
        return self.model_dump(by_alias=True, exclude_unset=True)


OptionalEntry = Annotated[_Entry, BeforeValidator(_or_empty)]


class _Defaults(NullMeansDefault):
    all: _Entry = Field(default_factory=_Entry)
    elements: dict[Element, OptionalEntry] = Field(default_factory=dict)
    schemas: dict[str, OptionalEntry] = Field(default_factory=dict)


class _Column(NullMeansDefault):
    grade: Grade
    reason: Text


class _Catalogue(NullMeansDefault):
    """The whole of catalogue.yml."""

    catalogue: _Head
    classification: _Classification
    grading: _Grading
    defaults: _Defaults = Field(default_factory=_Defaults)
    models: dict[str, _Entry] = Field(default_factory=dict)
    columns: dict[Annotated[str, AfterValidator(_model_column)], _Column] = Field(
        default_factory=dict
    )
    abstracts: dict[str, ChineseText] = Field(default_factory=dict)
    phrases: dict[str, ChineseText] = Field(default_factory=dict)


def _layers_known(classification: _Classification) -> list[str]:
    """Every layer that a name prefix points at must be one of the layers."""
    return [
        f"classification.layer_by_prefix.{prefix}: {layer!r} is not a layer "
        f"({', '.join(classification.layers)})"
        for prefix, layer in classification.layer_by_prefix.items()
        if layer not in classification.layers
    ]


def parse_config(data: Mapping[str, Any], path: Path = CONFIG_PATH) -> CatalogueConfig:
    """Check the shape of a parsed ``catalogue.yml``; raises :class:`CatalogueError`."""
    if not isinstance(data, Mapping):
        raise CatalogueError([f"{path}: expected a mapping"], heading="catalogue.yml is invalid")
    try:
        parsed = _Catalogue.model_validate(dict(data))
    except ValidationError as error:
        found = [field_problem(location, text) for location, text in problems(error)]
        raise CatalogueError(found, heading=f"{path} is invalid") from None
    found = _layers_known(parsed.classification)
    if found:
        raise CatalogueError(found, heading=f"{path} is invalid")
    head, classification, defaults = parsed.catalogue, parsed.classification, parsed.defaults
    return CatalogueConfig(
        title=head.title,
        title_en=head.title_en,
        publisher=head.publisher,
        base_iri=head.base_iri,
        namespace=head.namespace,
        kinds=dict(classification.kinds),
        themes={kind: dict(themes) for kind, themes in classification.themes.items()},
        theme_aliases=dict(classification.theme_aliases),
        elements=dict(classification.elements),
        layers=dict(classification.layers),
        layer_by_prefix=dict(classification.layer_by_prefix),
        non_personal_grade=parsed.grading.non_personal,
        personal={
            kind: PersonalRule(rule.grade, rule.basis) for kind, rule in parsed.grading.personal
        },
        defaults_all=defaults.all.written(),
        defaults_elements={name: entry.written() for name, entry in defaults.elements.items()},
        defaults_schemas={name: entry.written() for name, entry in defaults.schemas.items()},
        models={name: entry.written() for name, entry in parsed.models.items()},
        columns={
            key: ColumnOverride(column.grade, column.reason)
            for key, column in parsed.columns.items()
        },
        abstracts={name: tidy(text) for name, text in parsed.abstracts.items()},
        phrases=dict(parsed.phrases),
        path=path,
    )


def load_config(path: str | Path = CONFIG_PATH) -> CatalogueConfig:
    """Read and check ``catalogue.yml``."""
    path = Path(path)
    return parse_config(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, path)


# 信息资源代码 registry --------------------------------------------------------------------


@dataclass(frozen=True)
class CodeEntry:
    """One 信息资源代码 and when it entered (and left) the catalogue."""

    name: str
    code: str
    registered: str
    retired: str | None = None

    @property
    def classification_code(self) -> str:
        """The 分类码 part (before the slash)."""
        return self.code.split("/")[0]

    @property
    def sequence(self) -> int:
        """The 顺序码 as a number."""
        return int(self.code.split("/")[1])


@dataclass(frozen=True)
class CodeRegistry:
    """``codes.yml``: the active code of each resource (by dbt name) and every retired code."""

    active: Mapping[str, CodeEntry]
    retired: tuple[CodeEntry, ...] = ()
    path: Path = field(default=CODES_PATH, compare=False)


@dataclass(frozen=True)
class CodeChange:
    """What :func:`assign_codes` did to one resource."""

    name: str
    action: str  # 新增 (assigned), 停用 (retired), 重新分类 (retired and reassigned)
    old_code: str | None
    new_code: str | None


def _resource_code(value: str) -> str:
    if not CODE.match(value):
        raise ValueError(f"{value!r} is not 分类码/顺序码 (8 digits / 4 digits)")
    return value


def _date_text(value: Any) -> Any:
    # YAML reads an unquoted 2024-07-01 as a date; the registry keeps dates as text.
    return value.isoformat() if isinstance(value, dt.date) else value


def _iso_date(value: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date YYYY-MM-DD") from None
    return value


IsoDate = Annotated[str, BeforeValidator(_date_text), AfterValidator(_iso_date)]


class _Code(NullMeansDefault):
    """An active resource's entry: ``{code, registered}``."""

    code: Annotated[str, AfterValidator(_resource_code)]
    registered: IsoDate
    retired: IsoDate | None = None


class _RetiredCode(_Code):
    """An entry of ``retired``: the resource's name, its code and both dates."""

    name: Text


class _Codes(NullMeansDefault):
    """The whole of codes.yml."""

    resources: dict[str, _Code] = Field(default_factory=dict)
    retired: list[_RetiredCode] = Field(default_factory=list)


def parse_codes(data: Mapping[str, Any] | None, path: Path = CODES_PATH) -> CodeRegistry:
    """Check a parsed ``codes.yml``; raises :class:`CatalogueError`."""
    if data is not None and not isinstance(data, Mapping):
        raise CatalogueError([f"{path}: expected a mapping"], heading="codes.yml is invalid")
    try:
        parsed = _Codes.model_validate(dict(data or {}))
    except ValidationError as error:
        found = [field_problem(location, text) for location, text in problems(error)]
        raise CatalogueError(found, heading=f"{path} is invalid") from None
    active = {
        name: CodeEntry(name, entry.code, entry.registered, entry.retired)
        for name, entry in parsed.resources.items()
    }
    retired = tuple(
        CodeEntry(entry.name, entry.code, entry.registered, entry.retired)
        for entry in parsed.retired
    )
    return CodeRegistry(active, retired, path)


def load_codes(path: str | Path = CODES_PATH) -> CodeRegistry:
    """Read ``codes.yml`` (an empty registry when the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return CodeRegistry({}, (), path)
    return parse_codes(yaml.safe_load(path.read_text(encoding="utf-8")), path)


def assign_codes(
    registry: CodeRegistry, wanted: Mapping[str, str], today: dt.date
) -> tuple[CodeRegistry, list[CodeChange]]:
    """Give every resource in ``wanted`` (name → 分类码) a code, keeping the ones it has.

    - A new resource gets the next 顺序码 of its 分类码: one more than any code of that class
      ever given, retired ones included, so a code is never reused.
    - A resource no longer in ``wanted`` is retired (its code stays reserved).
    - A resource whose classification changed is retired and given a new code: a code names
      one classification for ever.
    New codes are given in the order of (分类码, name), so one call is deterministic.
    """
    active = dict(registry.active)
    retired = list(registry.retired)
    changes: list[CodeChange] = []
    stamp = today.isoformat()
    for name in sorted(set(active) - set(wanted)):
        entry = active.pop(name)
        retired.append(replace(entry, retired=stamp))
        changes.append(CodeChange(name, "停用", entry.code, None))
    reclassified = set()
    for name in sorted(set(active) & set(wanted)):
        entry = active[name]
        if entry.classification_code != wanted[name]:
            retired.append(replace(active.pop(name), retired=stamp))
            reclassified.add(name)
    highest: dict[str, int] = {}
    for entry in [*active.values(), *retired]:
        key = entry.classification_code
        highest[key] = max(highest.get(key, 0), entry.sequence)
    for name in sorted(set(wanted) - set(active), key=lambda n: (wanted[n], n)):
        prefix = wanted[name]
        highest[prefix] = highest.get(prefix, 0) + 1
        if highest[prefix] > 9999:
            raise CatalogueError([f"{prefix}: no 顺序码 left (9999 used)"])
        code = f"{prefix}/{highest[prefix]:04d}"
        old = next((e.code for e in retired if e.name == name and e.retired == stamp), None)
        active[name] = CodeEntry(name, code, stamp)
        action = "重新分类" if name in reclassified else "新增"
        changes.append(CodeChange(name, action, old if name in reclassified else None, code))
    ordered = dict(sorted(active.items(), key=lambda item: item[1].code))
    return CodeRegistry(ordered, tuple(retired), registry.path), changes


CODES_HEADER = """\
# 信息资源代码 (分类码/顺序码) of every resource of the 城运主题数据资源目录, by dbt name.
# Written by `cityops catalog codes --assign`; review the change in git like code.
# A code is never changed or reused: a removed or reclassified resource moves to `retired`
# and keeps its code reserved. `registered` is the resource's 发布日期 in the catalogue.
"""


def write_codes(registry: CodeRegistry, path: str | Path | None = None) -> Path:
    """Write the registry atomically (temporary file, then rename)."""
    target = Path(path or registry.path)
    body = {
        "resources": {
            name: {"code": entry.code, "registered": entry.registered}
            for name, entry in registry.active.items()
        },
        "retired": [
            {
                "name": entry.name,
                "code": entry.code,
                "registered": entry.registered,
                "retired": entry.retired,
            }
            for entry in registry.retired
        ],
    }
    text = CODES_HEADER + yaml.safe_dump(
        body, allow_unicode=True, sort_keys=False, default_flow_style=None, width=100
    )
    return files.write_text(target, text)
