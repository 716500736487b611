"""The 城运主题数据库 (dbt project in ``dbt/``) as Dagster assets.

Every dbt model and seed is an asset keyed ``[schema, name]``, the warehouse object; dbt
sources are the ingestion assets ``["raw", table]`` (``meta.dagster.asset_key``), so each
staging model sits downstream of its lake table, and dbt tests are asset checks.

The project runs in three steps so that no step is both upstream and downstream of another:

- ``cityops_dbt_foundation`` (unpartitioned): seeds, staging views and everything that does
  not depend on an incremental model (reference dimensions, devices, enterprises …). In a run
  for a partition or a range it gets that window too: no model there reads it, but the
  tests on the lake's staging views (``stg_iot__readings``) then check only the window's
  delivery days instead of the whole lake on every daily build (docs/performance.md).
- ``cityops_dbt_daily`` (daily partitions): the incremental models. A partition's build
  passes its delivery day as ``min_dt``/``max_dt`` (``run_dbt``); a backfill runs once for the
  whole range. Each also depends directly on the same day of the lake tables it reads.
- ``cityops_dbt_marts`` (unpartitioned): what is derived from the incremental facts (KPIs,
  callers, topics, situation signals), rebuilt after them.
"""

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from dagster_project.defs.ingestion.partitions import DAILY
from dagster_project.defs.ingestion.resources import CityopsHome
from dagster_project.defs.transformation.resources import DBT_PROJECT, dbt_resource, run_dbt
from dagster_project.tags import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG

INCREMENTAL = "config.materialized:incremental"
# A test runs in the step that builds the last of its models: a relationship from a daily
# fact to a mart it feeds is tested with the marts, never before the mart exists. dbt's unit
# tests are not part of a pipeline build: their inputs are fixtures, so they can only fail
# when the code changes, and CI runs them (tests/integration/test_dbt_build.py); dbt's
# documentation recommends exactly this (docs/performance.md has the measured cost).
BUILD = ["build", "--exclude-resource-type", "unit_test", "--indirect-selection", "buildable"]


@cache
def _manifest() -> Mapping[str, Any]:
    return json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))


def _reachable(starts: Iterable[str], neighbours: Callable[[str], Iterable[str]]) -> set[str]:
    """Every manifest node reached from ``starts`` (excluded) by following ``neighbours``."""
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        for node_id in neighbours(stack.pop()):
            if node_id not in seen:
                seen.add(node_id)
                stack.append(node_id)
    return seen


def _raw_sources_upstream_of(unique_id: str) -> list[dg.AssetKey]:
    """The lake tables (dbt sources) a model reads, directly or through other models."""
    manifest = _manifest()
    upstream = _reachable(
        [unique_id],
        lambda node_id: manifest["nodes"].get(node_id, {}).get("depends_on", {}).get("nodes", []),
    )
    keys = set()
    for node_id in upstream:
        if node_id.startswith("source."):
            meta = manifest["sources"][node_id].get("meta", {})
            if key := meta.get("dagster", {}).get("asset_key"):
                keys.add(tuple(key))
    return [dg.AssetKey(list(key)) for key in sorted(keys)]


class CityopsDbtTranslator(DagsterDbtTranslator):
    """Models and seeds are keyed ``[schema, name]`` and grouped by schema."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        """``[schema, name]`` for models and seeds; sources keep their ``meta`` key."""
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """One group per warehouse schema (staging, events, people …)."""
        return f"dbt_{dbt_resource_props['schema']}"

    def get_asset_spec(self, manifest, unique_id, project):  # noqa: D102 (see the class)
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props.get("config", {}).get("materialized") != "incremental":
            return spec
        # Same-day lake partitions → this partition (identity mapping: both are DAILY).
        direct = {dep.asset_key for dep in spec.deps}
        extra = [
            dg.AssetDep(key) for key in _raw_sources_upstream_of(unique_id) if key not in direct
        ]
        return spec.merge_attributes(deps=extra) if extra else spec


TRANSLATOR = CityopsDbtTranslator()


def daily_step_tests() -> list[str]:
    """Tests on an incremental model whose other models the foundation step builds.

    A relationship from a fact to a dimension (``fct_hotline_orders.street_code`` to
    ``dim_streets``) is a check of the fact's asset, which the daily step owns. dbt's
    buildable selection leaves it out there (the dimension is neither selected nor upstream of
    the fact) and runs it in the marts step, where dagster-dbt can only log it as an
    observation: the check was planned and never evaluated. These tests are selected by name
    in the daily step and excluded from the marts step.
    """
    manifest = _manifest()
    nodes = manifest["nodes"]
    incremental = {
        unique_id
        for unique_id, node in nodes.items()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
    }
    after_the_facts = _reachable(
        incremental, lambda node_id: manifest["child_map"].get(node_id, ())
    )
    names = []
    for node in nodes.values():
        if node["resource_type"] != "test" or node.get("attached_node") not in incremental:
            continue
        others = set(node["depends_on"]["nodes"]) - {node["attached_node"]}
        if others and not others & (incremental | after_the_facts):
            names.append(node["name"])
    return sorted(names)


DAILY_STEP_TESTS = " ".join(daily_step_tests())


def delivery_window(context: dg.AssetExecutionContext) -> dict[str, str]:
    """``min_dt``/``max_dt`` of the run's partition (or partition range), in Beijing time."""
    window = context.partition_time_window
    last = window.end - dt.timedelta(days=1)
    return {"min_dt": window.start.date().isoformat(), "max_dt": last.date().isoformat()}


def run_delivery_window(tags: Mapping[str, str]) -> dict[str, str] | None:
    """``min_dt``/``max_dt`` of a run for one partition or a partition range, from its tags.

    For the unpartitioned steps of a partitioned run (``build_warehouse`` for a day, or
    ``cityops run`` over a range); None when the run has no partition (a full build).
    """
    first = tags.get(RANGE_START_TAG) or tags.get(PARTITION_TAG)
    last = tags.get(RANGE_END_TAG) or tags.get(PARTITION_TAG)
    if not first or not last:
        return None
    return {"min_dt": first, "max_dt": last}


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    select="fqn:*",
    exclude=f"{INCREMENTAL}+",
    name="cityops_dbt_foundation",
)
def cityops_dbt_foundation(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, cityops: CityopsHome
):
    """Seeds, staging views and models independent of the incremental facts."""
    window = run_delivery_window(context.run.tags)
    yield from run_dbt(dbt, cityops, BUILD, context, window=window)


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    select=f"{INCREMENTAL} {DAILY_STEP_TESTS}",
    partitions_def=DAILY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    name="cityops_dbt_daily",
)
def cityops_dbt_daily(context: dg.AssetExecutionContext, dbt: DbtCliResource, cityops: CityopsHome):
    """The incremental facts, for the deliveries of the partition's day(s)."""
    yield from run_dbt(dbt, cityops, BUILD, context, window=delivery_window(context))


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    select=f"{INCREMENTAL}+",
    exclude=f"{INCREMENTAL} {DAILY_STEP_TESTS}",
    name="cityops_dbt_marts",
)
def cityops_dbt_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource, cityops: CityopsHome):
    """Everything derived from the incremental facts: KPIs, callers, topics, signals.

    The run's delivery window narrows only the tests' row filters here (the PII scans of the
    events a build changed); every model of this step is a table rebuilt whole.
    """
    yield from run_dbt(dbt, cityops, BUILD, context, window=run_delivery_window(context.run.tags))


DBT_ASSETS = [cityops_dbt_foundation, cityops_dbt_daily, cityops_dbt_marts]

BUILD_WAREHOUSE_JOB = dg.define_asset_job(
    "build_warehouse",
    # Everything downstream of the warehouse (warning notifications …) runs after it.
    selection=dg.AssetSelection.assets(*DBT_ASSETS).downstream(),
    partitions_def=DAILY,
    description=(
        "Build the 城运主题数据库 for one delivery day (or a range, in one dbt run): "
        "foundation, that day's incremental facts, the marts derived from them, then "
        "what reads the marts (warning notifications)."
    ),
)

defs = dg.Definitions(
    assets=DBT_ASSETS,
    jobs=[BUILD_WAREHOUSE_JOB],
    resources={"dbt": dbt_resource()},
)
