"""The serving snapshot, published after every dbt model and blocking check succeeded.

The asset depends on every dbt asset, so Dagster runs it last in ``build_warehouse`` and
skips it when any dbt step fails: a dbt test at severity ``error`` fails its step, and the
serving snapshot stays as it was (write-audit-publish, ``serving``).
"""

import dagster as dg

from dagster_project.defs.ingestion.resources import CityopsHome
from dagster_project.defs.transformation.assets import DBT_ASSETS
from live.store import seed_store
from serving import publish

SNAPSHOT_KEY = dg.AssetKey(["serving", "snapshot"])


@dg.asset(
    key=SNAPSHOT_KEY,
    deps=[key for assets in DBT_ASSETS for key in assets.keys],
    group_name="serving",
    kinds={"duckdb"},
    description=(
        "服务快照: a copy of the published schemas (all but staging and restricted) in a new "
        "DuckDB file, switched in atomically as $CITYOPS_HOME/serving/current.duckdb; the "
        "previous one is kept for `cityops publish --rollback`."
    ),
)
def serving_snapshot(
    context: dg.AssetExecutionContext, cityops: CityopsHome
) -> dg.MaterializeResult:
    """Publish the working warehouse that this run built and checked."""
    snapshot = publish(cityops.paths(), run_id=context.run_id)
    # The live store never shows less than the snapshot, also when `cityops live` is stopped.
    seed_store(cityops.paths())
    message = f"Published {snapshot.path} ({snapshot.table_count} tables), {snapshot.copy_note()}"
    if snapshot.held_back:
        context.log.warning(message)
    else:
        context.log.info(message)
    return dg.MaterializeResult(
        metadata={
            "path": str(snapshot.path),
            "tables": snapshot.table_count,
            "published_at": snapshot.published_at.isoformat(),
            "copy_method": snapshot.copy_method,
            "held_back": list(snapshot.held_back),
        }
    )


defs = dg.Definitions(assets=[serving_snapshot])
