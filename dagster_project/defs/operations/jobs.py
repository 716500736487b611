"""The daily pipeline: one job from landing files to the published serving snapshot."""

import dagster as dg

from dagster_project.defs.ingestion.partitions import DAILY

DAILY_PIPELINE = dg.define_asset_job(
    "daily_pipeline",
    selection=dg.AssetSelection.all(),
    partitions_def=DAILY,
    description=(
        "One delivery day end to end: ingest every source's landing files into the lake, "
        "build the warehouse with dbt (blocking tests stop the run), publish the serving "
        "snapshot, send warning notifications."
    ),
)
