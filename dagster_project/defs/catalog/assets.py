"""The 城运主题数据资源目录 (data-resource catalogue), regenerated after every publication.

The asset reads the dbt manifest the asset graph is built from and the serving snapshot it
sits downstream of, validates the catalogue (``catalog.build``) and writes xlsx, JSON, DCAT
and CSV under ``$CITYOPS_HOME/catalog/``. An incomplete catalogue (a published model without
a code, a 有条件共享 without its condition …) fails the asset with every problem listed; the
serving snapshot is already published by then, so readers are not held back.
"""

import dagster as dg

from catalog.config import CatalogueError
from catalog.pipeline import export_all, load_catalogue
from dagster_project.defs.ingestion.resources import CityopsHome
from dagster_project.defs.serving.assets import SNAPSHOT_KEY
from dagster_project.defs.transformation.resources import DBT_PROJECT
from serving import serving_path

CATALOG_KEY = dg.AssetKey(["catalog", "resource_catalog"])


class CatalogueRunConfig(dg.Config):
    """Run configuration; the defaults are what the daily job uses."""

    manifest: str | None = None  # a dbt manifest.json other than the one the graph is built from


@dg.asset(
    key=CATALOG_KEY,
    deps=[SNAPSHOT_KEY],
    group_name="catalog",
    kinds={"python"},
    description=(
        "城运主题数据资源目录: one resource per published table, one 信息项 per column, "
        "classified (类/项/目/细目) and graded (GB/T 43697-2024, 就高从严); written as xlsx, "
        "JSON, DCAT (JSON-LD) and CSV to $CITYOPS_HOME/catalog/. See catalog/README.md."
    ),
)
def resource_catalog(
    context: dg.AssetExecutionContext, config: CatalogueRunConfig, cityops: CityopsHome
) -> dg.MaterializeResult:
    """Validate the catalogue of the snapshot just published and export every format."""
    home = cityops.paths()
    manifest = config.manifest or DBT_PROJECT.manifest_path
    try:
        catalogue = load_catalogue(manifest, database=serving_path(home))
    except CatalogueError as error:
        raise dg.Failure(
            description=str(error),
            metadata={"problems": dg.MetadataValue.json(error.problems)},
            allow_retries=False,
        ) from error
    for warning in catalogue.warnings:
        context.log.info(f"catalogue warning: {warning}")
    if catalogue.warnings:
        # One line on the console of `cityops run`; the list is in the metadata.
        context.log.warning(
            f"{len(catalogue.warnings)} catalogue warnings (metadata `warnings`, or "
            "`cityops catalog check`)"
        )
    summary = export_all(catalogue, home.home / "catalog")
    grades: dict[str, int] = {}
    for resource in catalogue.resources:
        grades[resource.grade] = grades.get(resource.grade, 0) + 1
    context.log.info(
        f"Catalogue: {summary['resources']} resources, {summary['items']} items → "
        f"{home.home / 'catalog'}"
    )
    return dg.MaterializeResult(
        metadata={
            "resources": summary["resources"],
            "items": summary["items"],
            "grades": dg.MetadataValue.json(grades),
            "withheld": dg.MetadataValue.json(summary["withheld"]),
            "warnings": dg.MetadataValue.json(list(catalogue.warnings)),
            "xlsx": dg.MetadataValue.path(summary["files"]["xlsx"][0]),
            "files": dg.MetadataValue.json(summary["files"]),
        }
    )


defs = dg.Definitions(assets=[resource_catalog])
