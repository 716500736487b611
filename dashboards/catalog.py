"""What the spec's datasets look like in the serving snapshot, and their labels from dbt.

Columns and types are read, not written: a model's from the snapshot's
``information_schema.columns``, a SQL dataset's from ``DESCRIBE`` of its SQL, both on a
read-only connection with external access disabled (as Superset's own), so SQL that works
here works there. Each column's Chinese label is the first phrase of its dbt description
("受理时间 (Beijing time)." → "受理时间") from ``dbt/target/manifest.json``.
The indicator registry's thresholds come from ``vitals.dim_indicators`` in the same snapshot.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from dashboards import geo
from dashboards.spec import DatasetSpec, Spec

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / "dbt" / "target" / "manifest.json"
CATALOGUE_PLACEHOLDER = "__CATALOGUE_RESOURCES__"
# The overview map's canvas (dashboards/geo.py): areas as SVG paths, and the projection.
PATHS_PLACEHOLDER = "__AREA_PATHS__"
FRAME_PLACEHOLDER = "__MAP_FRAME__"
TEMPORAL = ("DATE", "TIMESTAMP", "TIME")


class CatalogError(RuntimeError):
    """The snapshot lacks a model or a dataset's SQL does not run on it."""


@dataclass(frozen=True)
class Column:
    """One dataset column as Superset will know it."""

    name: str
    type: str
    label: str | None = None
    description: str | None = None

    @property
    def is_temporal(self) -> bool:
        """DATE and TIMESTAMP columns are Superset's time columns."""
        return self.type.upper().startswith(TEMPORAL)


@dataclass(frozen=True)
class Catalog:
    """Everything the renderer needs from the snapshot and dbt.

    ``missing`` names the datasets that do not fit the snapshot (a model not yet built, SQL
    that fails) with the reason; the provisioner leaves them and their dashboards out.
    """

    columns: dict[str, list[Column]]
    sql: dict[str, str]
    indicators: dict[str, dict[str, Any]]
    missing: dict[str, str]

    def has_column(self, dataset: str, column: str) -> bool:
        """Whether the dataset has that column (e.g. street_code, for row-level security)."""
        return any(item.name == column for item in self.columns.get(dataset, []))


def label_of(description: str | None) -> str | None:
    """The Chinese name a dbt description starts with."""
    if not description:
        return None
    head = re.split(r"\s*[—–]\s*|\s+-\s+", description.strip(), maxsplit=1)[0]
    head = re.sub(r"\s*\([^)]*\)\s*\.?$", "", head).rstrip(".。 ")
    return head or None


def dbt_columns(manifest: Path = MANIFEST) -> dict[str, dict[str, str]]:
    """``schema.model`` → column → description, from the dbt manifest (empty when absent)."""
    if not manifest.exists():
        return {}
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values()
    return {
        f"{node['schema']}.{node['name']}": {
            name: column.get("description") or "" for name, column in node["columns"].items()
        }
        for node in nodes
        if node["resource_type"] in ("model", "seed")
    }


def area_paths_values() -> str:
    """The shapes on the overview map's canvas as SQL VALUES.

    Area level, code, name, street, SVG path, label x and y.
    """
    from shapely.geometry import shape

    frame = geo.svg_frame()
    rows = []
    for feature in geo.load():
        properties = feature["properties"]
        x, y = frame.xy(*properties["label"])
        values = (
            properties["area_level"],
            properties["area_code"],
            properties["name"],
            properties["street_code"],
            frame.path(shape(feature["geometry"])),
        )
        rows.append("(" + ", ".join(_literal(value) for value in values) + f", {x}, {y})")
    return ",\n        ".join(rows)


def map_frame_values() -> str:
    """The projection as one SQL VALUES row: west, north, kx, ky, margin (geo.SvgFrame.xy)."""
    frame = geo.svg_frame()
    return f"({frame.west!r}, {frame.north!r}, {frame.kx!r}, {frame.ky!r}, {geo.SVG_MARGIN!r})"


def catalogue_values(snapshot: Path, manifest: Path) -> str:
    """The catalogue's resources as a SQL VALUES list (see datasets.yml v_catalogue_resources)."""
    from catalog.pipeline import load_catalogue

    catalogue = load_catalogue(manifest, database=snapshot)
    rows = []
    for resource in catalogue.resources:
        values = (
            resource.code,
            resource.name,
            resource.table,
            resource.grade,
            resource.classification.element.name,
            resource.share_type,
            resource.open_type,
            resource.personal_information,
            resource.update_cycle,
            resource.provider,
        )
        rows.append("(" + ", ".join(_literal(value or "") for value in values) + ")")
    if not rows:
        raise CatalogError("the resource catalogue is empty")
    return ",\n        ".join(rows)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def render_sql(dataset: DatasetSpec, snapshot: Path, manifest: Path = MANIFEST) -> str | None:
    """The dataset's SQL with generated rows inlined (None for a physical dataset)."""
    if dataset.sql is None:
        return None
    sql = dataset.sql.strip()
    if PATHS_PLACEHOLDER in sql:
        sql = sql.replace(PATHS_PLACEHOLDER, area_paths_values())
    if FRAME_PLACEHOLDER in sql:
        sql = sql.replace(FRAME_PLACEHOLDER, map_frame_values())
    if CATALOGUE_PLACEHOLDER in sql:
        sql = sql.replace(CATALOGUE_PLACEHOLDER, catalogue_values(snapshot, manifest))
    return sql


def connect(snapshot: Path) -> duckdb.DuckDBPyConnection:
    """The snapshot read-only, with the same restriction as Superset's connection."""
    if not snapshot.exists():
        raise CatalogError(
            f"No serving snapshot at {snapshot}: build and publish the warehouse first "
            "(`cityops run`, or `make run`)."
        )
    return duckdb.connect(str(snapshot), read_only=True, config={"enable_external_access": False})


def describe(spec: Spec, snapshot: Path, manifest: Path = MANIFEST) -> Catalog:
    """Columns of every dataset of the spec, with labels, and the indicator registry."""
    from catalog.config import CatalogueError

    documented = dbt_columns(manifest)
    columns: dict[str, list[Column]] = {}
    sqls: dict[str, str] = {}
    missing: dict[str, str] = {}
    # Generated rows first: the catalogue opens the snapshot itself, and DuckDB refuses a
    # second connection to one file with another configuration in the same process.
    for key, dataset in spec.datasets.items():
        if dataset.sql is not None:
            try:
                sqls[key] = render_sql(dataset, snapshot, manifest) or ""
            except (duckdb.Error, CatalogError, CatalogueError) as error:
                missing[key] = str(error).splitlines()[0][:300]
    with connect(snapshot) as con:
        for key, dataset in spec.datasets.items():
            if key in missing:
                continue
            try:
                if dataset.model:
                    rows = con.execute(
                        "select column_name, data_type from information_schema.columns "
                        "where table_schema = ? and table_name = ? order by ordinal_position",
                        [dataset.schema, dataset.table],
                    ).fetchall()
                    if not rows:
                        raise CatalogError(f"{dataset.model} is not in the snapshot")
                else:
                    # The spec's own reviewed SQL, run read-only without file access.
                    sql = sqls[key]
                    rows = [row[:2] for row in con.execute(f"describe ({sql})").fetchall()]
            except (duckdb.Error, CatalogError) as error:
                missing[key] = str(error).splitlines()[0][:300]
                sqls.pop(key, None)
                continue
            columns[key] = [
                _column(name, data_type, dataset, documented) for name, data_type in rows
            ]
        indicators = _indicators(con)
    return Catalog(columns=columns, sql=sqls, indicators=indicators, missing=missing)


def _column(
    name: str, data_type: str, dataset: DatasetSpec, documented: dict[str, dict[str, str]]
) -> Column:
    description = next(
        (
            documented[model][name]
            for model in dataset.labels_from
            if documented.get(model, {}).get(name)
        ),
        None,
    )
    label = dataset.column_labels.get(name) or label_of(description)
    return Column(name=name, type=data_type, label=label, description=description)


def _indicators(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    cursor = con.execute(
        "select indicator_code, indicator_name, unit_name, direction, threshold_kind, "
        "threshold_blue, threshold_yellow, threshold_orange, threshold_red "
        "from vitals.dim_indicators"
    )
    names = [item[0] for item in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
