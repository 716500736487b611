"""Generate the catalogue from the dbt artifacts, ``catalogue.yml`` and ``codes.yml``.

One resource per model or seed in a published schema (every schema but ``staging`` and
``restricted``, :data:`serving.UNPUBLISHED_SCHEMAS`), one item per column of its
table in the warehouse. :func:`build_catalogue` resolves every field, grades every column,
rolls the grades up to the resource (就高从严) and validates the result; it raises
:class:`~catalog.config.CatalogueError` listing every problem at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from catalog.config import (
    CODE,
    META_KEYS,
    CatalogueConfig,
    CatalogueError,
    CodeRegistry,
    load_codes,
    load_config,
)
from catalog.dbt_artifacts import DbtCatalog, Manifest, ManifestNode
from catalog.model import Catalogue, Classification, Code, Item, Resource
from catalog.standard import (
    DATA_TYPES,
    ELEMENTS,
    FORMATS,
    GRADES,
    OPEN_TYPES,
    PERSONAL_INFORMATION,
    RESOURCE_KINDS,
    SHARE_METHODS,
    SHARE_TYPES,
    UPDATE_CYCLES,
    grade_rank,
    highest,
    is_format_type,
    type_letter,
)
from catalog.text import chinese_name, chinese_text, text_problem
from serving import UNPUBLISHED_SCHEMAS

RESOURCE_TYPES = ("model", "seed", "snapshot")
# Keys every resource must resolve to (from dbt meta, or catalogue.yml for seeds).
REQUIRED_KEYS = (
    "owner_department",
    "element",
    "resource_category",
    "grade",
    "personal_information",
    "share_type",
    "open_type",
    "update_cycle",
    "format",
)
KEYED_HASH_TEST = "is_keyed_hash"
# The catalogue's dates are Beijing time, as the data's own timestamps are.
BEIJING = ZoneInfo("Asia/Shanghai")


def is_published(node: ManifestNode) -> bool:
    """True for a model or seed the serving snapshot copies (serving/)."""
    return node.resource_type in RESOURCE_TYPES and node.schema not in UNPUBLISHED_SCHEMAS


def published_nodes(manifest: Manifest) -> list[ManifestNode]:
    """Every model, seed and snapshot of the project in a published schema, by schema.name."""
    return [node for node in manifest.relations(RESOURCE_TYPES) if is_published(node)]


def beijing_date(stamp: str) -> str:
    """The Beijing date of an ISO timestamp (a snapshot's publication), or "" without one."""
    if not stamp:
        return ""
    moment = dt.datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        return moment.date().isoformat()
    return moment.astimezone(BEIJING).date().isoformat()


def provider_codes() -> dict[str, str]:
    """Department name → code, from the reference list shared with dbt and the contracts."""
    from ingestion import reference

    return {row["department_name"]: row["department_code"] for row in reference.load("departments")}


def personal_fields() -> dict[str, dict[str, str]]:
    """Lake table → {field: description} of the contract fields marked ``pii=True``."""
    from ingestion.sources import CONTRACTS

    return {
        contract.table: {f.name: f.description or f.name for f in contract.fields if f.pii}
        for contract in CONTRACTS
    }


@dataclass(frozen=True)
class Evidence:
    """Why a column holds personal information: its treatment and where that shows."""

    kind: str  # clear, pseudonym, masked, scrubbed
    detail: str


class _Resolver:
    """Looks a catalogue key up: dbt meta → model entry → schema → element → all."""

    def __init__(self, node: ManifestNode, config: CatalogueConfig) -> None:
        self.node = node
        self.entry = config.models.get(node.name, {})
        self.schema = config.defaults_schemas.get(node.schema, {})
        self.all = config.defaults_all
        self.config = config
        element = self._first("element", with_element=False)
        self.element = config.defaults_elements.get(str(element), {}) if element else {}

    def _levels(self, with_element: bool = True) -> list[tuple[str, Mapping[str, Any]]]:
        levels = [
            ("dbt meta", self.node.meta),
            (f"catalogue.yml models.{self.node.name}", self.entry),
            (f"catalogue.yml defaults.schemas.{self.node.schema}", self.schema),
        ]
        if with_element:
            levels.append(("catalogue.yml defaults.elements", self.element))
        levels.append(("catalogue.yml defaults.all", self.all))
        return levels

    def _first(self, key: str, with_element: bool = True) -> Any:
        return next(
            (
                level[key]
                for _, level in self._levels(with_element)
                if level.get(key) not in (None, "")
            ),
            None,
        )

    def get(self, key: str) -> Any:
        """The first value found for ``key``, or None."""
        return self._first(key)

    def where(self, key: str) -> str:
        """Which level the value of ``key`` comes from."""
        return next(
            (name for name, level in self._levels() if level.get(key) not in (None, "")), "nowhere"
        )

    def keywords(self) -> tuple[str, ...]:
        """Keywords of every level, general first, each once."""
        found: list[str] = []
        for _, level in reversed(self._levels()):
            for keyword in level.get("keywords") or []:
                if str(keyword) not in found:
                    found.append(str(keyword))
        return tuple(found)


def _classification(
    node: ManifestNode, resolve: _Resolver, config: CatalogueConfig, problems: list[str]
) -> Classification:
    where = node.relation
    category = str(resolve.get("resource_category") or "")
    kind_name, _, theme_name = category.partition("/")
    theme_name = config.theme_aliases.get(theme_name, theme_name)
    kind_code = config.kinds.get(kind_name)
    if kind_code is None:
        problems.append(
            f"{where}: resource_category {category!r} does not start with a 资源属性分类 "
            f"({' / '.join(RESOURCE_KINDS)})"
        )
    theme_code = config.themes.get(kind_name, {}).get(theme_name)
    if kind_code is not None and theme_code is None:
        problems.append(
            f"{where}: theme {theme_name!r} of {category!r} has no 项 code in "
            f"catalogue.yml classification.themes.{kind_name}"
        )
    element = str(resolve.get("element") or "")
    element_code = config.elements.get(element)
    if element_code is None:
        problems.append(f"{where}: element {element!r} is not one of {'·'.join(ELEMENTS)}")
    layer = resolve.get("layer")
    if layer is None:
        layer = next(
            (
                name
                for prefix, name in config.layer_by_prefix.items()
                if node.name.startswith(prefix)
            ),
            None,
        )
    layer_code = config.layers.get(str(layer))
    if layer_code is None:
        problems.append(
            f"{where}: no 细目 (layer) — set models.{node.name}.layer or "
            f"defaults.schemas.{node.schema}.layer in catalogue.yml ({', '.join(config.layers)})"
        )
    return Classification(
        Code(kind_code or "?", kind_name),
        Code(theme_code or "??", theme_name),
        Code(element_code or "???", element),
        Code(layer_code or "??", str(layer or "")),
    )


def classification_codes(
    manifest: Manifest, config: CatalogueConfig | None = None
) -> dict[str, str]:
    """The 分类码 of every published resource, by dbt name (what ``codes --assign`` needs).

    Raises :class:`CatalogueError` when a resource cannot be classified.
    """
    config = config or load_config()
    problems: list[str] = []
    found = {
        node.name: _classification(node, _Resolver(node, config), config, problems).code
        for node in published_nodes(manifest)
    }
    if problems:
        raise CatalogueError(problems, heading="Some resources cannot be classified")
    return found


def _column_evidence(
    manifest: Manifest,
    node_id: str,
    column: str,
    upstream_pii: list[tuple[str, str, str]],
    depth: int = 0,
) -> Evidence | None:
    """Personal-information evidence for one column, from contracts and dbt tests."""
    for table, field, description in upstream_pii:
        source = f"{table}.{field}（{description}）"
        if column == field:
            return Evidence("clear", f"源字段 {source}的明文")
        if column == f"{field}_masked":
            return Evidence("masked", f"源字段 {source}的掩码")
        if column == f"{field}_scrubbed":
            return Evidence("scrubbed", f"源字段 {source}清洗后的文本")
        if column == f"{field}_key":
            return Evidence("pseudonym", f"源字段 {source}的键控哈希")
    for test in manifest.column_tests(node_id, column):
        name = test.test_metadata.name if test.test_metadata else ""
        if name == KEYED_HASH_TEST:
            return Evidence("pseudonym", f"键控哈希假名（dbt 测试 {KEYED_HASH_TEST}）")
        if name == "relationships" and test.test_metadata and depth < 3:
            target_column = str(test.test_metadata.kwargs.get("field", ""))
            for target in test.depends_on:
                if target == node_id or target not in manifest.nodes:
                    continue
                found = _column_evidence(manifest, target, target_column, [], depth + 1)
                if found is not None and found.kind == "pseudonym":
                    other = manifest.nodes[target]
                    return Evidence(
                        "pseudonym", f"引用 {other.relation}.{target_column} 的键控哈希假名"
                    )
    return None


def _upstream_pii(
    manifest: Manifest, node: ManifestNode, fields: Mapping[str, Mapping[str, str]]
) -> list[tuple[str, str, str]]:
    found = []
    for source in manifest.upstream_sources(node.unique_id):
        for field, description in (fields.get(source.name) or {}).items():
            found.append((source.name, field, description))
    return found


def _related(manifest: Manifest, node: ManifestNode, published: set[str]) -> list[str]:
    """The nearest published nodes upstream (through unpublished ones such as staging)."""
    found: set[str] = set()
    seen: set[str] = set()
    stack = list(node.depends_on)
    while stack:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        if node_id in published:
            found.add(node_id)
        elif node_id in manifest.nodes:
            stack.extend(manifest.nodes[node_id].depends_on)
    return sorted(found)


@dataclass(frozen=True)
class _Dataset:
    """What grading a resource's columns needs to know about the resource."""

    node: ManifestNode
    personal: str  # personal_information: 明文 / 假名化 / 无
    declared: str  # the dataset's own grade (dbt meta.grade, or catalogue.yml for a seed)
    declared_from: str
    upstream_pii: list[tuple[str, str, str]]


PERSONAL_LABELS = {
    "pseudonym": "假名化个人信息",
    "masked": "掩码个人信息",
    "scrubbed": "清洗后的自由文本",
}


class _Builder:
    """Builds the resources one by one, collecting problems and warnings as it goes."""

    def __init__(
        self,
        manifest: Manifest,
        warehouse: DbtCatalog,
        config: CatalogueConfig,
        codes: CodeRegistry,
        providers: Mapping[str, str],
        pii_fields: Mapping[str, Mapping[str, str]],
    ) -> None:
        self.manifest = manifest
        self.warehouse = warehouse
        self.config = config
        self.codes = codes
        self.providers = providers
        self.pii_fields = pii_fields
        self.problems: list[str] = []
        # (table, field) already reported while resolving: validate() does not repeat them.
        self.reported: set[tuple[str, str]] = set()
        self.warnings = [
            f"{name}: in the warehouse but no dbt model" for name in warehouse.unmatched
        ]
        self.nodes = published_nodes(manifest)

    def check_config_names(self) -> None:
        """Entries of catalogue.yml must name published models and existing columns."""
        names = {node.name for node in self.nodes}
        for name in sorted(set(self.config.models) - names):
            self.problems.append(
                f"catalogue.yml models.{name}: no published model or seed of that name"
            )
        for name in sorted(set(self.config.abstracts) - names):
            self.problems.append(
                f"catalogue.yml abstracts.{name}: no published model or seed of that name"
            )
        for key in sorted(self.config.columns):
            model, _, column = key.partition(".")
            match = next((node for node in self.nodes if node.name == model), None)
            if match is None:
                self.problems.append(f"catalogue.yml columns.{key}: no published model {model!r}")
                continue
            table = self.warehouse.nodes.get(match.unique_id)
            if table is not None and column not in table.columns:
                self.problems.append(
                    f"catalogue.yml columns.{key}: {match.relation} has no column {column!r}"
                )

    def _code(self, node: ManifestNode, classification: Classification) -> str:
        where = node.relation
        entry = self.codes.active.get(node.name)
        if entry is None:
            self.reported.update({(where, "code"), (where, "published_date")})
            self.problems.append(
                f"{where}: no 信息资源代码 in catalog/codes.yml — run `cityops catalog codes "
                "--assign` and commit the file"
            )
            return ""
        if entry.classification_code != classification.code and "?" not in classification.code:
            self.problems.append(
                f"{where}: code {entry.code} was given for classification "
                f"{entry.classification_code}, which is now {classification.code} — run "
                "`cityops catalog codes --assign` (the old code is retired, a new one given)"
            )
        return entry.code

    def grade_column(
        self, dataset: _Dataset, column: str, evidence_found: list[str]
    ) -> tuple[str, str]:
        """A column's grade and reason: override, personal evidence, or the dataset's."""
        node = dataset.node
        override = self.config.columns.get(f"{node.name}.{column}")
        if override is not None:
            return override.grade, f"{override.reason}（catalogue.yml columns）"
        evidence = _column_evidence(self.manifest, node.unique_id, column, dataset.upstream_pii)
        if evidence is not None:
            evidence_found.append(column)
            if evidence.kind == "clear":
                self.problems.append(
                    f"{node.relation}.{column}: clear personal data ({evidence.detail}) in a "
                    "published schema; only `restricted` may hold it"
                )
                return "一般4", f"明文个人信息：{evidence.detail}"
            rule = self.config.personal[evidence.kind]
            label = PERSONAL_LABELS[evidence.kind]
            return rule.grade, f"{label}：{evidence.detail}；{rule.basis}（项目规则）"
        if dataset.personal == "无":
            return dataset.declared, f"非个人信息，按数据集定级（{dataset.declared_from}）"
        baseline = min(self.config.non_personal_grade, dataset.declared, key=grade_rank)
        return (
            baseline,
            f"非个人信息；数据集含个人信息，非个人字段按基线 {baseline} 定级"
            "（catalogue.yml grading.non_personal）",
        )

    def items(self, dataset: _Dataset, evidence_found: list[str]) -> list[Item]:
        """One item per column of the table, in the table's order."""
        node = dataset.node
        where = node.relation
        table = self.warehouse.nodes.get(node.unique_id)
        if table is None:
            self.reported.add((where, "items"))
            self.problems.append(
                f"{where}: not in the warehouse — build and publish it first "
                "(`cityops run`, or `cityops publish` after a manual dbt build)"
            )
            return []
        actual = table.ordered_columns()
        for missing in sorted(set(node.columns) - {column.name for column in actual}):
            self.problems.append(f"{where}.{missing}: documented in dbt but not in the table")
        items = []
        for column in actual:
            described = node.columns.get(column.name)
            description = " ".join((described.description if described else "").split())
            if not description:
                folder = node.original_file_path.rsplit("/", 1)[0]
                self.problems.append(
                    f"{where}.{column.name}: no description in dbt — add it to {folder}/*.yml "
                    "(信息项名称 comes from it)"
                )
            longest = self.warehouse.text_lengths.get((node.unique_id, column.name))
            try:
                letter, length = type_letter(column.type, longest)
            except ValueError as error:
                self.problems.append(f"{where}.{column.name}: {error}")
                letter, length = "?", None
            grade, reason = self.grade_column(dataset, column.name, evidence_found)
            items.append(
                Item(
                    position=column.index,
                    column=column.name,
                    name=chinese_name(description) or column.name,
                    data_type=letter,
                    length=length,
                    grade=grade,
                    grade_reason=reason,
                    # The Chinese part only: the officer's catalogue is Chinese.
                    description=chinese_text(description, self.config.phrases),
                    database_type=column.type,
                )
            )
        return items

    def resource(self, node: ManifestNode) -> Resource:
        """Resolve, classify and grade one published model or seed."""
        where = node.relation
        resolve = _Resolver(node, self.config)
        for key in META_KEYS:
            if key in resolve.entry and key in node.meta:
                self.problems.append(
                    f"catalogue.yml models.{node.name}.{key}: already in the dbt meta of "
                    f"{node.original_file_path}; keep it in one place"
                )
        for key in REQUIRED_KEYS:
            if resolve.get(key) is None:
                self.problems.append(
                    f"{where}: {key} is missing (dbt meta, or catalogue.yml models.{node.name} "
                    "for a seed)"
                )
        before = len(self.problems)
        classification = _classification(node, resolve, self.config, self.problems)
        if len(self.problems) > before:
            self.reported.update({(where, "classification"), (where, "code")})
        code = self._code(node, classification)
        declared = str(resolve.get("grade") or "")
        if declared not in GRADES:
            self.problems.append(f"{where}: grade {declared!r} is not one of {GRADES}")
            declared = GRADES[-1]
        dataset = _Dataset(
            node=node,
            personal=str(resolve.get("personal_information") or ""),
            declared=declared,
            declared_from=resolve.where("grade"),
            upstream_pii=_upstream_pii(self.manifest, node, self.pii_fields),
        )
        evidence_found: list[str] = []
        items = self.items(dataset, evidence_found)
        if dataset.personal == "无" and evidence_found:
            self.warnings.append(
                f"{where}: personal_information is 无 but {', '.join(evidence_found)} derive "
                "from personal data"
            )
        if dataset.personal == "假名化" and not evidence_found:
            self.warnings.append(f"{where}: personal_information is 假名化 but no column shows how")
        grade, reason, warning = _rollup(declared, dataset.declared_from, items)
        if warning:
            self.warnings.append(f"{where}: {warning}")
        provider = str(resolve.get("owner_department") or "")
        if provider and provider not in self.providers:
            self.problems.append(
                f"{where}: provider {provider!r} has no code in ingestion/reference/departments.csv"
            )
        share_type = str(resolve.get("share_type") or "")
        # A resource that is not shared has no 共享方式.
        method = (resolve.get("share_method") or {}) if share_type != "不予共享" else {}
        fmt = resolve.get("format") or {}
        name = str(resolve.entry.get("name") or chinese_name(node.description))
        suffix = resolve.get("name_suffix")
        if suffix and not name.endswith(str(suffix)):
            name = f"{name}{suffix}"
        entry = self.codes.active.get(node.name)
        return Resource(
            code=code,
            classification=classification,
            name=name,
            table=where,
            provider=provider,
            provider_code=self.providers.get(provider, ""),
            abstract=self.abstract(node),
            format_class=str(fmt.get("class") or ""),
            format_type=str(fmt.get("type") or ""),
            share_type=share_type,
            share_condition=resolve.get("share_condition"),
            share_method_class=str(method["class"]) if method.get("class") else None,
            share_method_type=str(method["type"]) if method.get("type") else None,
            open_type=str(resolve.get("open_type") or ""),
            open_condition=resolve.get("open_condition"),
            update_cycle=str(resolve.get("update_cycle") or ""),
            published_date=entry.registered if entry else "",
            related_codes=self.related_codes(node),
            keywords=resolve.keywords(),
            grade=grade,
            grade_reason=reason,
            personal_information=dataset.personal,
            source_department=resolve.get("source_department"),
            items=tuple(items),
        )

    def abstract(self, node: ManifestNode) -> str:
        """信息资源摘要: catalogue.yml ``abstracts``, else the Chinese part of the description."""
        written = self.config.abstracts.get(node.name)
        if written:
            return written
        derived = chinese_text(node.description, self.config.phrases)
        self.warnings.append(
            f"{node.relation}: no Chinese 摘要 in catalogue.yml abstracts.{node.name}; the "
            f"摘要 is the Chinese part of the dbt description only ({derived or 'empty'})"
        )
        return derived

    def related_codes(self, node: ManifestNode) -> tuple[str, ...]:
        """关联资源代码: the codes of the published resources it is built from (dbt lineage)."""
        published = {other.unique_id: other.name for other in self.nodes}
        found = set()
        for unique_id in _related(self.manifest, node, set(published)):
            entry = self.codes.active.get(published[unique_id])
            if entry is not None:
                found.add(entry.code)
        return tuple(sorted(found))


def _rollup(declared: str, declared_from: str, items: list[Item]) -> tuple[str, str, str | None]:
    """The resource grade (就高从严), its reason, and a warning when dbt understates it."""
    if not items:
        return declared, f"数据集定级 {declared}（{declared_from}）", None
    top = max(items, key=lambda item: (grade_rank(item.grade), -item.position))
    grade = highest([declared, top.grade])
    name = f"{top.column}（{top.name}）"
    if grade_rank(top.grade) > grade_rank(declared):
        return (
            grade,
            f"就高从严：信息项 {name}为 {top.grade}，高于数据集定级 {declared}（{declared_from}）；"
            f"{top.grade_reason}",
            f"grade {declared} in {declared_from} is below its column {top.column} ({top.grade})",
        )
    if grade_rank(declared) > grade_rank(top.grade):
        return (
            grade,
            f"就高从严：数据集定级 {declared}（{declared_from}，计入数据集整体的群体、规模等因素）"
            f"高于各信息项（最高 {top.grade}，{name}）",
            None,
        )
    if all(item.grade == declared for item in items):
        return grade, f"数据集定级 {declared}（{declared_from}），各信息项同级", None
    return (
        grade,
        f"就高从严：最高信息项 {name}为 {top.grade}，与数据集定级（{declared_from}）一致",
        None,
    )


def build_catalogue(
    manifest: Manifest,
    warehouse: DbtCatalog,
    *,
    config: CatalogueConfig | None = None,
    codes: CodeRegistry | None = None,
    providers: Mapping[str, str] | None = None,
    pii_fields: Mapping[str, Mapping[str, str]] | None = None,
) -> Catalogue:
    """Resolve, grade and validate every published resource.

    Raises :class:`CatalogueError` listing every problem; ``warnings`` on the result list
    what is odd but not wrong (a dbt grade below a column's, personal data the meta does not
    mention).
    """
    config = config or load_config()
    builder = _Builder(
        manifest,
        warehouse,
        config,
        codes if codes is not None else load_codes(),
        providers if providers is not None else provider_codes(),
        pii_fields if pii_fields is not None else personal_fields(),
    )
    builder.check_config_names()
    resources = [builder.resource(node) for node in builder.nodes]
    catalogue = Catalogue(
        title=config.title,
        title_en=config.title_en,
        publisher=config.publisher,
        publisher_code=builder.providers.get(config.publisher, ""),
        base_iri=config.base_iri,
        namespace=config.namespace,
        # The snapshot's publication day (Beijing), and the data's own as-of time: never the
        # clock of the export.
        published_date=beijing_date(warehouse.generated_at or manifest.generated_at),
        data_as_of=warehouse.data_as_of,
        resources=tuple(sorted(resources, key=lambda r: (r.code or "~", r.table))),
        warnings=tuple(builder.warnings),
    )
    expected = [node.relation for node in builder.nodes]
    problems = builder.problems + validate(catalogue, expected, builder.reported)
    if problems:
        raise CatalogueError(list(dict.fromkeys(problems)))
    return catalogue


def validate(
    catalogue: Catalogue,
    expected_tables: list[str] | None = None,
    reported: set[tuple[str, str]] | None = None,
) -> list[str]:
    """Every problem of a built catalogue, as a list of readable lines.

    Values outside the guide's lists, missing conditions, duplicate codes or names, and (with
    ``expected_tables``) published models without a resource. ``reported`` holds (table,
    field) pairs whose problem is already known (code, published_date, classification, items)
    and is not repeated.
    """
    reported = reported or set()
    problems: list[str] = []
    codes: dict[str, list[str]] = {}
    names: dict[str, list[str]] = {}
    known_codes = {resource.code for resource in catalogue.resources}
    for resource in catalogue.resources:
        where = resource.table or resource.code
        codes.setdefault(resource.code, []).append(where)
        names.setdefault(resource.name, []).append(where)
        skip = {field for table, field in reported if table == where}
        problems.extend(_resource_problems(resource, where, known_codes, skip))
    for code, tables in sorted(codes.items()):
        if code and len(tables) > 1:
            problems.append(f"code {code} is used by {len(tables)} resources: {', '.join(tables)}")
    for name, tables in sorted(names.items()):
        if name and len(tables) > 1:
            problems.append(
                f"信息资源名称 {name!r} is used by {', '.join(tables)} — names must be unique "
                "(set `name` or `name_suffix` in catalogue.yml)"
            )
    if expected_tables is not None:
        present = {resource.table for resource in catalogue.resources}
        for table in sorted(set(expected_tables) - present):
            problems.append(f"{table}: published model has no resource in the catalogue")
        for table in sorted(present - set(expected_tables)):
            problems.append(f"{table}: resource is not a published model")
    return problems


def _resource_problems(
    resource: Resource, where: str, known_codes: set[str], skip: set[str]
) -> list[str]:
    problems: list[str] = []

    def check(value: Any, allowed: Any, label: str) -> None:
        if value not in allowed:
            problems.append(f"{where}: {label} {value!r} is not one of {list(allowed)}")

    if "code" in skip:
        pass
    elif not CODE.match(resource.code or ""):
        problems.append(
            f"{where}: 信息资源代码 {resource.code!r} is not 分类码/顺序码 (8/4 digits)"
        )
    elif resource.code.split("/")[0] != resource.classification.code:
        problems.append(
            f"{where}: 信息资源代码 {resource.code} does not start with its 分类码 "
            f"{resource.classification.code}"
        )
    if "classification" not in skip:
        check(resource.classification.kind.name, RESOURCE_KINDS, "资源属性分类")
        check(resource.classification.element.name, ELEMENTS, "element")
    for label, value in (
        ("信息资源名称", resource.name),
        ("信息资源摘要", resource.abstract),
        ("信息资源提供方", resource.provider),
        ("信息资源提供方代码", resource.provider_code),
        ("定级依据", resource.grade_reason),
    ):
        if not value:
            problems.append(f"{where}: {label} is missing")
    check(resource.format_class, FORMATS, "格式分类")
    if resource.format_class in FORMATS and not is_format_type(
        resource.format_class, resource.format_type
    ):
        problems.append(
            f"{where}: 格式类型 {resource.format_type!r} is not one of "
            f"{list(FORMATS[resource.format_class])} (or 其他（name）)"
        )
    # The catalogue an officer files is Chinese: 摘要 and 信息项描述 hold no English or emoji.
    if resource.abstract and (problem := text_problem(resource.abstract)):
        problems.append(f"{where}: 信息资源摘要 is not Chinese only: {problem}")
    check(resource.share_type, SHARE_TYPES, "共享类型")
    if resource.share_type == "有条件共享" and not resource.share_condition:
        problems.append(f"{where}: 有条件共享 requires a 共享条件 (meta.share_condition)")
    if resource.share_type == "不予共享" and not resource.share_condition:
        problems.append(f"{where}: 不予共享 requires its 依据 (meta.share_condition)")
    if resource.share_type in ("无条件共享", "有条件共享"):
        check(resource.share_method_class, SHARE_METHODS, "共享方式分类")
        types = SHARE_METHODS.get(resource.share_method_class or "", ())
        if types:
            check(resource.share_method_type, types, "共享方式类型")
        if resource.format_class == "数据库" and resource.share_method_type == "文件":
            problems.append(f"{where}: a 数据库 resource is shared by 数据库 or 接口, not 文件")
    check(resource.open_type, OPEN_TYPES, "开放属性")
    if resource.open_type == "有条件开放" and not resource.open_condition:
        problems.append(f"{where}: 有条件开放 requires an 开放条件 (meta.open_condition)")
    check(resource.update_cycle, UPDATE_CYCLES, "更新周期")
    try:
        dt.date.fromisoformat(resource.published_date)
    except ValueError:
        if "published_date" not in skip:
            problems.append(f"{where}: 发布日期 {resource.published_date!r} is not a date")
    check(resource.grade, GRADES, "数据分级")
    check(resource.personal_information, PERSONAL_INFORMATION, "personal_information")
    if resource.personal_information == "明文" and resource.share_type != "不予共享":
        problems.append(f"{where}: clear personal data must be 不予共享")
    for code in resource.related_codes:
        if code not in known_codes:
            problems.append(f"{where}: 关联资源代码 {code} is not in the catalogue")
    if not resource.items and "items" not in skip:
        problems.append(f"{where}: no 信息项")
    for item in resource.items:
        at = f"{where}.{item.column}"
        check(item.data_type, DATA_TYPES, f"{item.column} 数据类型")
        check(item.grade, GRADES, f"{item.column} 数据分级")
        if not item.name:
            problems.append(f"{at}: 信息项名称 is missing")
        if not item.grade_reason:
            problems.append(f"{at}: 定级依据 is missing")
        if problem := text_problem(item.description):
            problems.append(f"{at}: 信息项描述 is not Chinese only: {problem}")
        known = item.grade in GRADES and resource.grade in GRADES
        if known and grade_rank(item.grade) > grade_rank(resource.grade):
            problems.append(f"{at}: {item.grade} is above its resource ({resource.grade})")
    return problems
