"""Typed readers for the dbt artifacts the catalogue is generated from.

``manifest.json`` (models, seeds, sources, tests, columns, descriptions, ``meta``, lineage)
and ``catalog.json`` (the warehouse's column types) are read into frozen dataclasses that
hold only what the catalogue uses. Every field is checked on the way in, so a malformed or
unexpected artifact fails here with the path of the bad value, not later with a KeyError.

Why not dbt's own classes (``dbt.artifacts.schemas.manifest.WritableManifest``, importable
from the installed dbt-core 1.11)? They validate the *whole* manifest against the classes of
the exact dbt-core build that is installed, and dbt-core 1.11.16 rejects the manifest it
writes itself (``macro.dbt.materialization_function_default`` declares the language
``javascript``, which its ``ModelLanguage`` enum lacks). Reading the few fields we need,
tolerant of everything else, is sturdier across dbt upgrades; the schema version is still
checked. ``dbt-artifacts-parser`` is not installed and would add pydantic models of every
artifact version for the same few fields. See docs/decisions.md.

:func:`catalog_from_duckdb` builds the same :class:`DbtCatalog` from a DuckDB file's
``information_schema`` (the serving snapshot), so the exporter needs no ``dbt docs generate``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

# manifest v11 = dbt 1.7, v12 = dbt 1.8 … 1.11; catalog v1 since dbt 0.x.
SUPPORTED_MANIFESTS = ("v11", "v12")
SUPPORTED_CATALOGS = ("v1",)
# The data's as-of time, as `cityops warnings`, the dashboards and the live store read it
# (vitals/warnings.py, live/store.py): the end of the newest period the vital signs measured.
# Warehouse timestamps are Beijing time without a zone.
AS_OF_TABLE = ("vitals", "fct_warning_events")
AS_OF_FORMAT = "%Y-%m-%d %H:%M"
BEIJING = ZoneInfo("Asia/Shanghai")


class ArtifactError(ValueError):
    """A dbt artifact is missing, of an unsupported version, or malformed."""


def _get(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(data, Mapping) or key not in data:
        raise ArtifactError(f"{where}: missing {key!r}")
    value = data[key]
    if not isinstance(value, kind):
        raise ArtifactError(f"{where}.{key}: expected {kind}, got {type(value).__name__}")
    return value


def _opt(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise ArtifactError(f"{where}.{key}: expected {kind}, got {type(value).__name__}")
    return value


def _version(url: str, kind: str, supported: tuple[str, ...], path: Path) -> str:
    # e.g. https://schemas.getdbt.com/dbt/manifest/v12.json
    version = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".json")
    if f"/{kind}/" not in url or version not in supported:
        raise ArtifactError(
            f"{path}: dbt {kind} schema {url!r} is not supported "
            f"(supported: {', '.join(supported)})"
        )
    return version


@dataclass(frozen=True)
class ManifestColumn:
    """A documented column of a model or seed (``columns:`` in its YAML)."""

    name: str
    description: str
    data_type: str | None
    meta: Mapping[str, Any]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> ManifestColumn:
        """Read one entry of a node's ``columns``."""
        config = _opt(data, "config", Mapping, where) or {}
        meta = {**(_opt(data, "meta", Mapping, where) or {}), **(config.get("meta") or {})}
        return cls(
            name=_get(data, "name", str, where),
            description=_opt(data, "description", str, where) or "",
            data_type=_opt(data, "data_type", str, where),
            meta=meta,
        )


@dataclass(frozen=True)
class TestMetadata:
    """What a generic data test is (``unique``, ``relationships``, ``is_keyed_hash`` …)."""

    name: str
    kwargs: Mapping[str, Any]


@dataclass(frozen=True)
class ManifestNode:
    """A model, seed, snapshot or data test of the manifest."""

    unique_id: str
    resource_type: str
    name: str
    package_name: str
    database: str | None
    schema: str
    alias: str
    description: str
    columns: Mapping[str, ManifestColumn]
    meta: Mapping[str, Any]
    materialized: str | None
    depends_on: tuple[str, ...]
    original_file_path: str
    tags: tuple[str, ...] = ()
    test_metadata: TestMetadata | None = None
    attached_node: str | None = None
    column_name: str | None = None

    @property
    def relation(self) -> str:
        """``schema.alias``: the warehouse object."""
        return f"{self.schema}.{self.alias}"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> ManifestNode:
        """Read one entry of ``nodes``."""
        config = _opt(data, "config", Mapping, where) or {}
        # dbt ≥ 1.10 keeps meta under config; older manifests also copy it to the top level.
        meta = {**(_opt(data, "meta", Mapping, where) or {}), **(config.get("meta") or {})}
        columns = _opt(data, "columns", Mapping, where) or {}
        depends_on = _opt(data, "depends_on", Mapping, where) or {}
        test = _opt(data, "test_metadata", Mapping, where)
        return cls(
            unique_id=_get(data, "unique_id", str, where),
            resource_type=_get(data, "resource_type", str, where),
            name=_get(data, "name", str, where),
            package_name=_get(data, "package_name", str, where),
            database=_opt(data, "database", str, where),
            schema=_get(data, "schema", str, where),
            alias=_opt(data, "alias", str, where) or _get(data, "name", str, where),
            description=_opt(data, "description", str, where) or "",
            columns={
                name: ManifestColumn.from_dict(column, f"{where}.columns[{name!r}]")
                for name, column in columns.items()
            },
            meta=meta,
            materialized=config.get("materialized"),
            depends_on=tuple(depends_on.get("nodes") or ()),
            original_file_path=_opt(data, "original_file_path", str, where) or "",
            tags=tuple(_opt(data, "tags", list, where) or ()),
            test_metadata=(
                TestMetadata(
                    name=_get(test, "name", str, f"{where}.test_metadata"),
                    kwargs=_opt(test, "kwargs", Mapping, f"{where}.test_metadata") or {},
                )
                if test
                else None
            ),
            attached_node=_opt(data, "attached_node", str, where),
            column_name=_opt(data, "column_name", str, where),
        )


@dataclass(frozen=True)
class ManifestSource:
    """A dbt source table (here: a lake table written by ingestion)."""

    unique_id: str
    source_name: str
    name: str
    meta: Mapping[str, Any]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> ManifestSource:
        """Read one entry of ``sources``."""
        config = _opt(data, "config", Mapping, where) or {}
        return cls(
            unique_id=_get(data, "unique_id", str, where),
            source_name=_get(data, "source_name", str, where),
            name=_get(data, "name", str, where),
            meta={**(_opt(data, "meta", Mapping, where) or {}), **(config.get("meta") or {})},
        )


@dataclass(frozen=True)
class Manifest:
    """The parts of ``manifest.json`` the catalogue reads."""

    schema_version: str
    dbt_version: str
    generated_at: str
    project_name: str | None
    nodes: Mapping[str, ManifestNode]
    sources: Mapping[str, ManifestSource]
    tests_by_column: Mapping[tuple[str, str], tuple[ManifestNode, ...]] = field(repr=False)

    def relations(self, resource_types: Iterable[str] = ("model", "seed")) -> list[ManifestNode]:
        """Models and seeds (by default) of the root project, ordered by ``schema.name``."""
        wanted = set(resource_types)
        return sorted(
            (
                node
                for node in self.nodes.values()
                if node.resource_type in wanted and node.package_name == self.project_name
            ),
            key=lambda node: (node.schema, node.name),
        )

    def column_tests(self, unique_id: str, column: str) -> tuple[ManifestNode, ...]:
        """The generic data tests attached to one column of one node."""
        return self.tests_by_column.get((unique_id, column), ())

    def upstream_sources(self, unique_id: str) -> list[ManifestSource]:
        """Every source a node reads, directly or through other nodes (lineage)."""
        seen: set[str] = set()
        found: dict[str, ManifestSource] = {}
        stack = [unique_id]
        while stack:
            node_id = stack.pop()
            if node_id in seen:
                continue
            seen.add(node_id)
            if node_id in self.sources:
                found[node_id] = self.sources[node_id]
            elif node_id in self.nodes:
                stack.extend(self.nodes[node_id].depends_on)
        return [found[key] for key in sorted(found)]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: Path) -> Manifest:
        """Check the version and read the nodes, sources and tests."""
        metadata = _get(data, "metadata", Mapping, str(path))
        version = _version(
            _get(metadata, "dbt_schema_version", str, "metadata"),
            "manifest",
            SUPPORTED_MANIFESTS,
            path,
        )
        nodes = {
            key: ManifestNode.from_dict(value, f"nodes[{key!r}]")
            for key, value in _get(data, "nodes", Mapping, str(path)).items()
        }
        sources = {
            key: ManifestSource.from_dict(value, f"sources[{key!r}]")
            for key, value in (_opt(data, "sources", Mapping, str(path)) or {}).items()
        }
        by_column: dict[tuple[str, str], list[ManifestNode]] = {}
        for node in nodes.values():
            if node.resource_type == "test" and node.attached_node and node.column_name:
                by_column.setdefault((node.attached_node, node.column_name), []).append(node)
        return cls(
            schema_version=version,
            dbt_version=_opt(metadata, "dbt_version", str, "metadata") or "",
            generated_at=_opt(metadata, "generated_at", str, "metadata") or "",
            project_name=_opt(metadata, "project_name", str, "metadata"),
            nodes=nodes,
            sources=sources,
            tests_by_column={key: tuple(value) for key, value in by_column.items()},
        )


@dataclass(frozen=True)
class CatalogColumn:
    """A column as the warehouse has it: name, database type, position (1-based)."""

    name: str
    type: str
    index: int
    comment: str | None = None


@dataclass(frozen=True)
class CatalogTable:
    """A table or view as the warehouse has it."""

    unique_id: str
    schema: str
    name: str
    table_type: str
    columns: Mapping[str, CatalogColumn]

    def ordered_columns(self) -> list[CatalogColumn]:
        """Columns in the table's own order."""
        return sorted(self.columns.values(), key=lambda column: column.index)


@dataclass(frozen=True)
class DbtCatalog:
    """``catalog.json``: the warehouse's tables and column types, keyed by dbt unique_id."""

    generated_at: str
    nodes: Mapping[str, CatalogTable]
    # Longest value of each text column, when read from a DuckDB file (``catalog.json`` has
    # none): {(unique_id, column): length}.
    text_lengths: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # Tables in the warehouse that no dbt node describes (stale objects).
    unmatched: tuple[str, ...] = ()
    # The data's own as-of time (YYYY-MM-DD HH:MM, Beijing), when read from a DuckDB file that
    # holds the vital signs; "" otherwise (``catalog.json`` has no data).
    data_as_of: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: Path) -> DbtCatalog:
        """Check the version and read the nodes' column types."""
        metadata = _get(data, "metadata", Mapping, str(path))
        _version(
            _get(metadata, "dbt_schema_version", str, "metadata"),
            "catalog",
            SUPPORTED_CATALOGS,
            path,
        )
        tables = {}
        for key, value in _get(data, "nodes", Mapping, str(path)).items():
            where = f"nodes[{key!r}]"
            table = _get(value, "metadata", Mapping, where)
            columns = {
                name: CatalogColumn(
                    name=_get(column, "name", str, f"{where}.columns[{name!r}]"),
                    type=_get(column, "type", str, f"{where}.columns[{name!r}]"),
                    index=_get(column, "index", int, f"{where}.columns[{name!r}]"),
                    comment=_opt(column, "comment", str, f"{where}.columns[{name!r}]"),
                )
                for name, column in _get(value, "columns", Mapping, where).items()
            }
            tables[key] = CatalogTable(
                unique_id=key,
                schema=_get(table, "schema", str, f"{where}.metadata"),
                name=_get(table, "name", str, f"{where}.metadata"),
                table_type=_opt(table, "type", str, f"{where}.metadata") or "",
                columns=columns,
            )
        return cls(generated_at=_opt(metadata, "generated_at", str, "metadata") or "", nodes=tables)


def _load_json(path: Path) -> Mapping[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ArtifactError(f"{path} does not exist") from error
    except json.JSONDecodeError as error:
        raise ArtifactError(f"{path} is not JSON: {error}") from error
    if not isinstance(data, Mapping):
        raise ArtifactError(f"{path}: expected a JSON object")
    return data


def read_manifest(path: str | Path) -> Manifest:
    """Read and check ``manifest.json`` (``dbt parse``, ``dbt build`` or ``dbt docs generate``)."""
    path = Path(path)
    return Manifest.from_dict(_load_json(path), path)


def read_catalog(path: str | Path) -> DbtCatalog:
    """Read and check ``catalog.json`` (``dbt docs generate``)."""
    path = Path(path)
    return DbtCatalog.from_dict(_load_json(path), path)


def catalog_from_duckdb(
    database: str | Path,
    manifest: Manifest,
    *,
    schemas: Iterable[str] | None = None,
    text_lengths: bool = True,
) -> DbtCatalog:
    """The same :class:`DbtCatalog` as ``catalog.json``, read from a DuckDB file.

    Matches ``schema.table`` to the manifest's models and seeds. With ``text_lengths`` also
    measures the longest value of every text column (one aggregate query per table).
    ``generated_at`` is the snapshot's publication time when the file is a serving snapshot;
    ``data_as_of`` the data's own as-of time (:func:`data_as_of`).
    """
    by_relation = {node.relation: node.unique_id for node in manifest.relations()}
    wanted = set(schemas) if schemas is not None else None
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = current_database() "
            "and table_schema not in ('information_schema', 'pg_catalog', '_serving') "
            "order by all"
        ).fetchall()
        columns = con.execute(
            "select table_schema, table_name, column_name, data_type, ordinal_position "
            "from information_schema.columns where table_catalog = current_database() "
            "order by table_schema, table_name, ordinal_position"
        ).fetchall()
        published = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = '_serving' and table_name = 'snapshot'"
        ).fetchall()[0][0]
        generated_at = ""
        if published:
            stamp = con.execute("select published_at from _serving.snapshot").fetchall()
            generated_at = stamp[0][0].isoformat() if stamp else ""
        by_table: dict[tuple[str, str], dict[str, CatalogColumn]] = {}
        for schema, table, column, data_type, position in columns:
            by_table.setdefault((schema, table), {})[column] = CatalogColumn(
                column, data_type, position
            )
        nodes: dict[str, CatalogTable] = {}
        unmatched: list[str] = []
        for schema, table, table_type in rows:
            if wanted is not None and schema not in wanted:
                continue
            unique_id = by_relation.get(f"{schema}.{table}")
            if unique_id is None:
                unmatched.append(f"{schema}.{table}")
                continue
            nodes[unique_id] = CatalogTable(
                unique_id, schema, table, table_type, by_table.get((schema, table), {})
            )
        lengths = _text_lengths(con, nodes.values()) if text_lengths else {}
        as_of = data_as_of(con)
    return DbtCatalog(generated_at, nodes, lengths, tuple(unmatched), as_of)


def data_as_of(con: duckdb.DuckDBPyConnection) -> str:
    """The data's as-of time in a warehouse or snapshot, ``YYYY-MM-DD HH:MM`` Beijing time.

    The end of the newest period the vital signs measured (``max(as_of_at)`` of
    ``vitals.fct_warning_events``), the 数据截至 the rest of the platform shows; "" when the
    database holds no such table or it is empty.
    """
    schema, table = AS_OF_TABLE
    found = con.execute(
        "select count(*) from information_schema.columns where table_catalog = "
        "current_database() and table_schema = ? and table_name = ? and column_name = 'as_of_at'",
        [schema, table],
    ).fetchall()[0][0]
    if not found:
        return ""
    # Identifiers are constants of this module, not input.
    row = con.execute(f'select max(as_of_at) from "{schema}"."{table}"').fetchall()  # noqa: S608
    value = row[0][0] if row else None
    if not isinstance(value, dt.datetime):
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(BEIJING)
    return value.strftime(AS_OF_FORMAT)


def _text_lengths(
    con: duckdb.DuckDBPyConnection, tables: Iterable[CatalogTable]
) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for table in tables:
        text = [c.name for c in table.ordered_columns() if c.type.upper() == "VARCHAR"]
        if not text:
            continue
        # Identifiers come from information_schema (no input), quoted as identifiers.
        measures = ", ".join(f'max(length("{name}"))' for name in text)
        query = f'select {measures} from "{table.schema}"."{table.name}"'  # noqa: S608
        row = con.execute(query).fetchall()[0]
        for name, length in zip(text, row, strict=True):
            if length is not None:
                found[(table.unique_id, name)] = int(length)
    return found
