"""What changed between two catalogue exports: resources and items added, removed or changed.

Resources are matched by 信息资源代码 (a code never changes, so a reclassified resource shows
as one removed and one added), items by column name within their resource. The export time
and the counts are not compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

IGNORED_HEAD = ("exported_at", "resource_count", "item_count")


@dataclass(frozen=True)
class FieldChange:
    """One field with its old and new value (``share.condition``, ``grade`` …)."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ItemChange:
    """One item (column) whose fields changed."""

    column: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class ResourceChange:
    """One resource present in both exports that differs."""

    code: str
    name: str
    table: str
    changes: tuple[FieldChange, ...] = ()
    items_added: tuple[str, ...] = ()
    items_removed: tuple[str, ...] = ()
    items_changed: tuple[ItemChange, ...] = ()


@dataclass(frozen=True)
class CatalogueDiff:
    """The differences between an old and a new export."""

    catalogue: tuple[FieldChange, ...] = ()
    added: tuple[dict[str, Any], ...] = ()
    removed: tuple[dict[str, Any], ...] = ()
    changed: tuple[ResourceChange, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        """True when the two exports describe the same catalogue."""
        return not (self.catalogue or self.added or self.removed or self.changed)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return asdict(self)

    def summary(self) -> str:
        """One line: counts of what changed."""
        items = sum(
            len(c.items_added) + len(c.items_removed) + len(c.items_changed) for c in self.changed
        )
        return (
            f"资源 新增 {len(self.added)}，删除 {len(self.removed)}，变更 {len(self.changed)}"
            f"（其中信息项变更 {items} 处）"
        )


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key == "items":
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    before, after = _flatten(old), _flatten(new)
    return tuple(
        FieldChange(key, before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    )


def _brief(resource: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "code": resource["code"],
        "name": resource["name"],
        "table": resource["table"],
        "grade": resource["grade"],
        "items": len(resource["items"]),
    }


def diff_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> CatalogueDiff:
    """Compare two export documents (JSON, or read back from xlsx or CSV)."""
    head = _changes(
        {k: v for k, v in old["catalogue"].items() if k not in IGNORED_HEAD},
        {k: v for k, v in new["catalogue"].items() if k not in IGNORED_HEAD},
    )
    before = {resource["code"]: resource for resource in old["resources"]}
    after = {resource["code"]: resource for resource in new["resources"]}
    changed = []
    for code in sorted(set(before) & set(after)):
        was, now = before[code], after[code]
        old_items = {item["column"]: item for item in was["items"]}
        new_items = {item["column"]: item for item in now["items"]}
        item_changes = tuple(
            ItemChange(column, found)
            for column in sorted(set(old_items) & set(new_items))
            if (found := _changes(old_items[column], new_items[column]))
        )
        change = ResourceChange(
            code=code,
            name=now["name"],
            table=now["table"],
            changes=_changes(was, now),
            items_added=tuple(sorted(set(new_items) - set(old_items))),
            items_removed=tuple(sorted(set(old_items) - set(new_items))),
            items_changed=item_changes,
        )
        if change.changes or change.items_added or change.items_removed or change.items_changed:
            changed.append(change)
    return CatalogueDiff(
        catalogue=head,
        added=tuple(_brief(after[code]) for code in sorted(set(after) - set(before))),
        removed=tuple(_brief(before[code]) for code in sorted(set(before) - set(after))),
        changed=tuple(changed),
    )
