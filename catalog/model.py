"""The catalogue as data: resources (信息资源) with their items (信息项).

One :class:`Resource` per published table, one :class:`Item` per column. ``to_document`` gives
the JSON export (described by ``catalog/schema/catalogue.schema.json``); every other format is
written from the same document, and the readers of ``catalog.export`` return it again, so two
exports of any format compare as plain dictionaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# 1.1: catalogue.published_date; data_as_of is the data's as-of time (Beijing), no longer the
# snapshot's publication; 摘要 and 信息项描述 are Chinese only.
SCHEMA_VERSION = "1.1"


@dataclass(frozen=True)
class Code:
    """A classification level: its code and its name (e.g. ``10`` 社区治理)."""

    code: str
    name: str

    def as_dict(self) -> dict[str, str]:
        """``{"code": …, "name": …}``."""
        return {"code": self.code, "name": self.name}


@dataclass(frozen=True)
class Classification:
    """信息资源分类: 类 (资源属性) / 项 (主题) / 目 (要素) / 细目 (数仓分层)."""

    kind: Code
    theme: Code
    element: Code
    layer: Code

    @property
    def code(self) -> str:
        """The 分类码: the four codes one after the other."""
        return self.kind.code + self.theme.code + self.element.code + self.layer.code

    def as_dict(self) -> dict[str, Any]:
        """The four levels as a dictionary."""
        return {
            "kind": self.kind.as_dict(),
            "theme": self.theme.as_dict(),
            "element": self.element.as_dict(),
            "layer": self.layer.as_dict(),
        }


@dataclass(frozen=True)
class Item:
    """信息项: one column of a resource."""

    position: int
    column: str
    name: str
    data_type: str
    length: str | None
    grade: str
    grade_reason: str
    description: str
    database_type: str

    def as_dict(self) -> dict[str, Any]:
        """The item as it appears in the JSON export."""
        return {
            "position": self.position,
            "column": self.column,
            "name": self.name,
            "data_type": self.data_type,
            "length": self.length,
            "grade": self.grade,
            "grade_reason": self.grade_reason,
            "description": self.description,
            "database_type": self.database_type,
        }


@dataclass(frozen=True)
class Resource:
    """信息资源: one published table with the guide's fields and its grade."""

    code: str
    classification: Classification
    name: str
    table: str
    provider: str
    provider_code: str
    abstract: str
    format_class: str
    format_type: str
    share_type: str
    share_condition: str | None
    share_method_class: str | None
    share_method_type: str | None
    open_type: str
    open_condition: str | None
    update_cycle: str
    published_date: str
    related_codes: tuple[str, ...]
    keywords: tuple[str, ...]
    grade: str
    grade_reason: str
    personal_information: str
    source_department: str | None
    items: tuple[Item, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The resource as it appears in the JSON export."""
        return {
            "code": self.code,
            "classification": self.classification.as_dict(),
            "name": self.name,
            "table": self.table,
            "provider": self.provider,
            "provider_code": self.provider_code,
            "abstract": self.abstract,
            "format": {"class": self.format_class, "type": self.format_type},
            "share": {
                "type": self.share_type,
                "condition": self.share_condition,
                "method_class": self.share_method_class,
                "method_type": self.share_method_type,
            },
            "open": {"type": self.open_type, "condition": self.open_condition},
            "update_cycle": self.update_cycle,
            "published_date": self.published_date,
            "related_codes": list(self.related_codes),
            "keywords": list(self.keywords),
            "grade": self.grade,
            "grade_reason": self.grade_reason,
            "personal_information": self.personal_information,
            "source_department": self.source_department,
            "items": [item.as_dict() for item in self.items],
        }


@dataclass(frozen=True)
class Catalogue:
    """The whole catalogue, before any grade filter."""

    title: str
    title_en: str
    publisher: str
    publisher_code: str
    base_iri: str
    namespace: str
    # The serving snapshot's publication day (YYYY-MM-DD, Beijing): this edition's 发布日期.
    published_date: str
    # The data's own as-of time (YYYY-MM-DD HH:MM, Beijing): the end of the newest period the
    # vital signs measured; "" when the source holds no vital signs.
    data_as_of: str
    resources: tuple[Resource, ...]
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def resource(self, code_or_table: str) -> Resource:
        """The resource with this code or ``schema.table``."""
        for resource in self.resources:
            if code_or_table in (resource.code, resource.table):
                return resource
        raise KeyError(code_or_table)


def to_document(catalogue: Catalogue, *, max_grade: str, exported_at: str) -> dict[str, Any]:
    """The JSON export of an already filtered catalogue."""
    resources = [resource.as_dict() for resource in catalogue.resources]
    return {
        "schema_version": SCHEMA_VERSION,
        "catalogue": {
            "title": catalogue.title,
            "title_en": catalogue.title_en,
            "publisher": catalogue.publisher,
            "publisher_code": catalogue.publisher_code,
            "base_iri": catalogue.base_iri,
            "namespace": catalogue.namespace,
            "published_date": catalogue.published_date,
            "data_as_of": catalogue.data_as_of,
            "exported_at": exported_at,
            "max_grade": max_grade,
            "resource_count": len(resources),
            "item_count": sum(len(resource["items"]) for resource in resources),
        },
        "resources": resources,
    }
