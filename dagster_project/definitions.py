"""The only Dagster entry point: it assembles what each ``defs/<concept>/`` folder registers."""

import dagster as dg

from dagster_project.defs.catalog import assets as catalog_assets
from dagster_project.defs.ingestion import assets as ingestion
from dagster_project.defs.operations import schedules, sensors
from dagster_project.defs.quality import checks, expectations
from dagster_project.defs.quality import freshness as quality_freshness
from dagster_project.defs.quality import results as quality_results
from dagster_project.defs.serving import assets as serving
from dagster_project.defs.transformation import assets as transformation
from dagster_project.defs.vitals import assets as vitals

defs = dg.Definitions.merge(
    ingestion.defs,
    checks.defs,
    expectations.defs,
    quality_freshness.defs,
    quality_results.defs,
    transformation.defs,
    serving.defs,
    vitals.defs,
    catalog_assets.defs,
    sensors.defs,
    schedules.defs,
)
