"""Generate the catalogue from the artifacts on disk and write every format (CLI and Dagster).

Column types come from the serving snapshot's ``information_schema`` by default: it is
exactly what is published, it exists after every checked build, and reading it takes about a
second. A ``catalog.json`` from ``dbt docs generate`` can be used instead (``dbt_catalog``);
it needs the working warehouse and a dbt run, so it is the exception. See
docs/decisions.md.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from catalog.build import build_catalogue
from catalog.config import CatalogueConfig, CodeRegistry
from catalog.dbt_artifacts import ArtifactError, catalog_from_duckdb, read_catalog, read_manifest
from catalog.export import DEFAULT_MAX_GRADE, document_for, write_document
from catalog.model import Catalogue

# Where the Dagster asset writes the four formats, under $CITYOPS_HOME/catalog/.
EXPORT_NAMES = {
    "xlsx": "catalogue.xlsx",
    "json": "catalogue.json",
    "dcat": "catalogue.jsonld",
    "csv": "csv",
}


def load_catalogue(
    manifest_path: str | Path,
    *,
    database: str | Path | None = None,
    dbt_catalog: str | Path | None = None,
    config: CatalogueConfig | None = None,
    codes: CodeRegistry | None = None,
) -> Catalogue:
    """Build and validate the catalogue; raises CatalogueError or ArtifactError.

    ``database`` is a DuckDB file (normally the serving snapshot) read for column types, text
    lengths, the publication time (发布日期) and the data's as-of time (数据截至);
    ``dbt_catalog`` a ``catalog.json`` used for the types instead.
    """
    manifest = read_manifest(manifest_path)
    if dbt_catalog is not None:
        warehouse = read_catalog(dbt_catalog)
        if database is not None:
            measured = catalog_from_duckdb(database, manifest)
            # The types from catalog.json; lengths, the data's as-of time and (for a serving
            # snapshot) the publication time from the database.
            warehouse = replace(
                warehouse,
                text_lengths=measured.text_lengths,
                data_as_of=measured.data_as_of,
                generated_at=measured.generated_at or warehouse.generated_at,
            )
    elif database is not None:
        if not Path(database).exists():
            raise ArtifactError(
                f"{database} does not exist: build the warehouse first (`cityops run`)"
            )
        warehouse = catalog_from_duckdb(database, manifest)
    else:
        raise ArtifactError("column types need a DuckDB file or a catalog.json")
    return build_catalogue(manifest, warehouse, config=config, codes=codes)


def export_all(
    catalogue: Catalogue, folder: str | Path, *, max_grade: str = DEFAULT_MAX_GRADE
) -> dict[str, Any]:
    """Write xlsx, JSON, DCAT and CSV into ``folder`` from one document; returns a summary."""
    folder = Path(folder)
    document, withheld = document_for(catalogue, max_grade)
    files = {
        fmt: [str(path) for path in write_document(document, fmt, folder / name)]
        for fmt, name in EXPORT_NAMES.items()
    }
    return {
        "files": files,
        "resources": document["catalogue"]["resource_count"],
        "items": document["catalogue"]["item_count"],
        "withheld": withheld,
        "max_grade": max_grade,
    }
