"""The catalogue's own configuration: ``catalog/catalogue.yml`` and ``catalog/codes.yml``.

``catalogue.yml`` holds what dbt does not know (classification codes, defaults per schema and
element, keywords, share methods, grading rules, column overrides). ``codes.yml`` is the
registry of 信息资源代码: a code, once given to a resource, is never changed or reused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from catalog.standard import ELEMENTS, GRADES, RESOURCE_KINDS
from ingestion import files

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
    path: Path = field(default=CONFIG_PATH, compare=False)


def _section(data: Mapping[str, Any], key: str, problems: list[str], where: str) -> dict:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{where}.{key} must be a mapping")
        return {}
    return dict(value)


def _text(data: Mapping[str, Any], key: str, problems: list[str], where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}.{key} is missing")
        return ""
    return value


def _codes(mapping: Mapping[str, Any], digits: int, problems: list[str], where: str) -> dict:
    found = {}
    for name, code in mapping.items():
        code = str(code)
        if not re.fullmatch(rf"\d{{{digits}}}", code):
            problems.append(f"{where}.{name}: code {code!r} must be {digits} digits")
        found[str(name)] = code
    duplicates = sorted({c for c in found.values() if list(found.values()).count(c) > 1})
    if duplicates:
        problems.append(f"{where}: codes used twice: {', '.join(duplicates)}")
    return found


def parse_config(data: Mapping[str, Any], path: Path = CONFIG_PATH) -> CatalogueConfig:
    """Check the shape of a parsed ``catalogue.yml``; raises :class:`CatalogueError`."""
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise CatalogueError([f"{path}: expected a mapping"], heading="catalogue.yml is invalid")
    head = _section(data, "catalogue", problems, "catalogue.yml")
    classification = _section(data, "classification", problems, "catalogue.yml")
    grading = _section(data, "grading", problems, "catalogue.yml")
    defaults = _section(data, "defaults", problems, "catalogue.yml")
    kinds = _codes(
        _section(classification, "kinds", problems, "classification"),
        1,
        problems,
        "classification.kinds",
    )
    for kind in RESOURCE_KINDS:
        if kind not in kinds:
            problems.append(f"classification.kinds.{kind} is missing")
    themes = {}
    for kind, entries in _section(classification, "themes", problems, "classification").items():
        if kind not in RESOURCE_KINDS:
            problems.append(f"classification.themes.{kind} is not a 资源属性分类 {RESOURCE_KINDS}")
        themes[kind] = _codes(entries or {}, 2, problems, f"classification.themes.{kind}")
    elements = _codes(
        _section(classification, "elements", problems, "classification"),
        3,
        problems,
        "classification.elements",
    )
    if sorted(elements) != sorted(ELEMENTS):
        problems.append(f"classification.elements must list exactly {'·'.join(ELEMENTS)}")
    layers = _codes(
        _section(classification, "layers", problems, "classification"),
        2,
        problems,
        "classification.layers",
    )
    layer_by_prefix = {
        str(k): str(v)
        for k, v in _section(classification, "layer_by_prefix", problems, "classification").items()
    }
    for prefix, layer in layer_by_prefix.items():
        if layer not in layers:
            problems.append(f"classification.layer_by_prefix.{prefix}: {layer!r} is not a layer")
    personal = {}
    for kind in ("pseudonym", "masked", "scrubbed"):
        rule = _section(
            _section(grading, "personal", problems, "grading"), kind, problems, "grading.personal"
        )
        grade = str(rule.get("grade", ""))
        if grade not in GRADES:
            problems.append(f"grading.personal.{kind}.grade {grade!r} is not one of {GRADES}")
        personal[kind] = PersonalRule(
            grade, _text(rule, "basis", problems, f"grading.personal.{kind}")
        )
    non_personal = str(grading.get("non_personal", ""))
    if non_personal not in GRADES:
        problems.append(f"grading.non_personal {non_personal!r} is not one of {GRADES}")
    entries: dict[str, dict] = {}
    for name, entry in _section(data, "models", problems, "catalogue.yml").items():
        if not isinstance(entry, Mapping):
            problems.append(f"models.{name} must be a mapping")
            continue
        unknown = sorted(set(entry) - ENTRY_KEYS)
        if unknown:
            problems.append(f"models.{name}: unknown keys {unknown}")
        entries[str(name)] = dict(entry)
    schemas = {}
    for schema, entry in _section(defaults, "schemas", problems, "defaults").items():
        unknown = sorted(set(entry or {}) - ENTRY_KEYS)
        if unknown:
            problems.append(f"defaults.schemas.{schema}: unknown keys {unknown}")
        schemas[str(schema)] = dict(entry or {})
    columns = {}
    for key, entry in _section(data, "columns", problems, "catalogue.yml").items():
        if "." not in str(key) or not isinstance(entry, Mapping):
            problems.append(f"columns.{key}: expected `model.column: {{grade, reason}}`")
            continue
        grade = str(entry.get("grade", ""))
        if grade not in GRADES:
            problems.append(f"columns.{key}.grade {grade!r} is not one of {GRADES}")
        columns[str(key)] = ColumnOverride(
            grade, _text(entry, "reason", problems, f"columns.{key}")
        )
    config = CatalogueConfig(
        title=_text(head, "title", problems, "catalogue"),
        title_en=str(head.get("title_en") or ""),
        publisher=_text(head, "publisher", problems, "catalogue"),
        base_iri=_text(head, "base_iri", problems, "catalogue"),
        namespace=_text(head, "namespace", problems, "catalogue"),
        kinds=kinds,
        themes=themes,
        theme_aliases={
            str(k): str(v)
            for k, v in _section(
                classification, "theme_aliases", problems, "classification"
            ).items()
        },
        elements=elements,
        layers=layers,
        layer_by_prefix=layer_by_prefix,
        non_personal_grade=non_personal,
        personal=personal,
        defaults_all=_section(defaults, "all", problems, "defaults"),
        defaults_elements={
            str(k): dict(v or {})
            for k, v in _section(defaults, "elements", problems, "defaults").items()
        },
        defaults_schemas=schemas,
        models=entries,
        columns=columns,
        path=path,
    )
    if problems:
        raise CatalogueError(problems, heading=f"{path} is invalid")
    return config


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


def _entry(name: str, data: Any, where: str, problems: list[str]) -> CodeEntry | None:
    if not isinstance(data, Mapping):
        problems.append(f"{where}: expected {{code, registered}}")
        return None
    code = str(data.get("code", ""))
    if not CODE.match(code):
        problems.append(f"{where}: code {code!r} is not 分类码/顺序码 (8 digits / 4 digits)")
        return None
    registered = str(data.get("registered", ""))
    try:
        dt.date.fromisoformat(registered)
    except ValueError:
        problems.append(f"{where}: registered {registered!r} is not a date YYYY-MM-DD")
    retired = data.get("retired")
    return CodeEntry(name, code, registered, str(retired) if retired is not None else None)


def parse_codes(data: Mapping[str, Any] | None, path: Path = CODES_PATH) -> CodeRegistry:
    """Check a parsed ``codes.yml``; raises :class:`CatalogueError`."""
    data = data or {}
    problems: list[str] = []
    active = {}
    for name, value in (data.get("resources") or {}).items():
        entry = _entry(str(name), value, f"resources.{name}", problems)
        if entry:
            active[str(name)] = entry
    retired = []
    for index, value in enumerate(data.get("retired") or []):
        entry = _entry(str((value or {}).get("name", "")), value, f"retired[{index}]", problems)
        if entry:
            retired.append(entry)
    if problems:
        raise CatalogueError(problems, heading=f"{path} is invalid")
    return CodeRegistry(active, tuple(retired), path)


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
