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

# Every run executes its steps one after another in the run's own process, as `cityops run`
# does (`execute_in_process`). Dagster's default executor starts a process per step, and each
# imports these definitions again (≈ 15 s): a daily_pipeline run of one small day took
# 13 min that way against 2 min in one process (docs/decisions.md). (Inline: Dagster refuses a
# second Definitions object at module scope.)
defs = dg.Definitions.merge(
    dg.Definitions(executor=dg.in_process_executor),
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
