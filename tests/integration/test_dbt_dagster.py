"""The dbt project as Dagster assets: keys, lineage to the lake, partitions, checks, a run.

Needs ``dbt/target/manifest.json`` (``make`` runs ``dbt parse``; see dbt/README.md).
"""

import shutil

import dagster as dg
import pytest
import yaml

from dagster_project.defs.ingestion.partitions import DAILY
from dagster_project.defs.transformation.assets import (
    DBT_ASSETS,
    daily_step_tests,
    delivery_window,
    run_delivery_window,
)
from ingestion.settings import paths
from tests.integration.dbt_runner import TEST_KEY

pytestmark = pytest.mark.integration

INCREMENTAL = {
    ("intermediate", "int_hotline_order_versions"),
    ("intermediate", "int_grid_case_versions"),
    ("events", "fct_hotline_orders"),
    ("events", "fct_grid_cases"),
    ("events", "fct_device_alarms"),
    ("events", "fct_hotline_dispatch_proposals"),
    ("things", "fct_device_readings_hourly"),
}
# A fact's relationship to a dimension of the foundation step.
DIMENSION_TEST = "relationships_fct_hotline_orders_street_code__street_code__ref_dim_streets_"


@pytest.fixture(scope="module")
def graph():
    from dagster_project.definitions import defs

    return defs, defs.resolve_asset_graph()


def test_dbt_models_and_seeds_are_assets_keyed_by_schema_and_name(graph):
    _, asset_graph = graph
    keys = {tuple(key.path) for key in asset_graph.get_all_asset_keys()}
    assert ("events", "fct_city_events") in keys
    assert ("restricted", "stg_hotline__orders") in keys
    assert ("reference", "dispatch_rules") in keys
    dbt_keys = {key for key in keys if key[0] != "raw"}
    assert all(len(key) == 2 for key in dbt_keys)
    assert len(dbt_keys) >= 55  # 42 models and 15 seeds


def test_staging_models_sit_downstream_of_their_ingestion_assets(graph):
    _, asset_graph = graph
    parents = asset_graph.get(dg.AssetKey(["restricted", "stg_hotline__orders"])).parent_keys
    assert parents == {dg.AssetKey(["raw", "hotline_orders"])}
    readings = asset_graph.get(dg.AssetKey(["staging", "stg_iot__readings"])).parent_keys
    assert readings == {dg.AssetKey(["raw", "iot_readings"])}


def test_incremental_models_are_daily_partitions_driven_by_the_same_lake_day(graph):
    _, asset_graph = graph
    for key in asset_graph.get_all_asset_keys():
        node = asset_graph.get(key)
        if key.path[0] == "raw":
            continue
        expected = DAILY if tuple(key.path) in INCREMENTAL else None
        assert node.partitions_def == expected, key
    facts = asset_graph.get(dg.AssetKey(["events", "fct_hotline_orders"]))
    assert dg.AssetKey(["raw", "hotline_orders"]) in facts.parent_keys
    readings = asset_graph.get(dg.AssetKey(["things", "fct_device_readings_hourly"]))
    assert dg.AssetKey(["raw", "iot_readings"]) in readings.parent_keys


def test_dbt_tests_are_asset_checks_and_the_job_builds_everything(graph):
    defs, asset_graph = graph
    checks = list(asset_graph.asset_check_keys)
    assert len(checks) > 200
    assert any(check.name.startswith("no_clear_pii") for check in checks)
    job = defs.resolve_job_def("build_warehouse")
    assert job.partitions_def == DAILY
    assert len(DBT_ASSETS) == 3


def test_the_dbt_resource_knows_its_version_without_starting_dbt(monkeypatch):
    from importlib import metadata

    import dagster_dbt.core.resource as dagster_dbt_resource

    from dagster_project.defs.transformation.resources import dbt_resource

    def started(command, *args, **kwargs):
        raise AssertionError(f"started {command}")

    monkeypatch.setattr(dagster_dbt_resource, "check_output", started)
    # The venv's own dbt: its version is the installed dbt-core's, read without a process.
    assert str(dbt_resource()._cli_version) == metadata.version("dbt-core")
    # Any other dbt executable is still asked (here: the patched `dbt --version`).
    other = dbt_resource().model_copy(update={"dbt_executable": "dbt"})
    with pytest.raises(AssertionError, match="started"):
        _ = other._cli_version


def test_a_partition_range_becomes_the_dbt_delivery_window():
    window = dg.TimeWindow(
        DAILY.time_window_for_partition_key("2024-07-02").start,
        DAILY.time_window_for_partition_key("2024-07-04").end,
    )

    class Context:
        partition_time_window = window

    assert delivery_window(Context()) == {"min_dt": "2024-07-02", "max_dt": "2024-07-04"}


def test_the_unpartitioned_steps_learn_the_window_from_the_run_tags():
    day = {"dagster/partition": "2024-07-03"}
    assert run_delivery_window(day) == {"min_dt": "2024-07-03", "max_dt": "2024-07-03"}
    backfill = {
        "dagster/asset_partition_range_start": "2024-07-01",
        "dagster/asset_partition_range_end": "2024-07-04",
    }
    assert run_delivery_window(backfill) == {"min_dt": "2024-07-01", "max_dt": "2024-07-04"}
    assert run_delivery_window({}) is None  # an unpartitioned run: every delivery day


@pytest.fixture(scope="module")
def day_build(small_lake, tmp_path_factory, graph):
    """One ``build_warehouse`` run for 2024-07-03 on a fresh copy of the small lake.

    Shared by the two tests below: the first reads what it materialized, the second breaks
    the next build on the same home (so it must run last). One build instead of two.
    """
    defs, _ = graph
    lake_paths, _, _ = small_lake
    home = tmp_path_factory.mktemp("dbt_dagster_home")
    shutil.copytree(lake_paths.lake, home / "lake")
    run = {
        "partition_key": "2024-07-03",
        "instance": dg.DagsterInstance.ephemeral(),
        "run_config": {"resources": {"cityops": {"config": {"home": str(home)}}}},
        "raise_on_error": False,
    }
    import dagster_dbt.core.resource as dagster_dbt_resource

    def no_version_process(command, *args, **kwargs):
        raise AssertionError(f"dagster-dbt started {command} (CityopsDbtCliResource)")

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CITYOPS_PII_KEY", TEST_KEY)
        # The whole run, end to end, without a `dbt --version` process: were dagster-dbt to
        # ask for the version another way, the resource's override would go unused unseen.
        patch.setattr(dagster_dbt_resource, "check_output", no_version_process)
        result = defs.resolve_job_def("build_warehouse").execute_in_process(**run)
    return home, run, result


def test_build_warehouse_materializes_every_dbt_asset_for_a_day(day_build):
    tmp_path, run, result = day_build
    assert result.success
    events = result.get_asset_materialization_events()
    materialized = {tuple(event.asset_key.path) for event in events}
    assert materialized >= INCREMENTAL
    assert len(materialized) >= 55
    evaluations = [
        event.event_specific_data
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert len(evaluations) > 200
    assert [e.check_name for e in evaluations if not e.passed] == []
    # Every planned check is evaluated, in the step that owns it: a relationship from a fact
    # to a dimension ran in the marts step, where dagster-dbt logged it as an observation.
    # (Planned events are written when the run starts, into the instance's log only.)
    logged = [entry.dagster_event for entry in run["instance"].all_logs(result.run_id)]
    planned = {
        (tuple(event.event_specific_data.asset_key.path), event.event_specific_data.check_name)
        for event in logged
        if event is not None and event.event_type_value == "ASSET_CHECK_EVALUATION_PLANNED"
    }
    assert planned == {(tuple(e.asset_key.path), e.check_name) for e in evaluations}
    in_daily_step = set(daily_step_tests())
    assert (("events", "fct_hotline_orders"), DIMENSION_TEST) in planned
    assert DIMENSION_TEST in in_daily_step
    # dbt tests Dagster does not model as checks (a singular test on several models, a
    # relationship to a model of a later step) run too, and are logged as observations; none
    # of the daily step's tests may be among them (the relationships to dim_streets and
    # dim_grids were, and their planned checks had no evaluation).
    observed = {
        event.asset_observation_data.asset_observation.metadata["unique_id"].text.split(".")[2]
        for event in logged
        if event is not None
        and event.event_type_value == "ASSET_OBSERVATION"
        and "unique_id" in event.asset_observation_data.asset_observation.metadata
    }
    assert "vital_signs_cover_every_indicator_and_day" in observed  # the query above sees them
    # A fact's relationship to a model of the marts step runs with the marts (docs/decisions.md).
    assert "relationships_fct_hotline_orders_caller_key__caller_key__ref_dim_callers_" in observed
    assert observed.isdisjoint(in_daily_step)
    assert (tmp_path / "warehouse" / "cityops.duckdb").exists()
    # After the checks: the serving snapshot, then the notifications that read it.
    assert {("serving", "snapshot"), ("vitals", "warning_notifications")} <= materialized
    assert (tmp_path / "serving" / "current.duckdb").resolve().exists()
    (snapshot,) = [e for e in events if tuple(e.asset_key.path) == ("serving", "snapshot")]
    metadata = snapshot.materialization.metadata
    assert metadata["copy_method"].value == "file"
    assert metadata["held_back"].value == []
    # The foundation step's tests on the lake's readings view check the day's deliveries only.
    (compiled,) = (tmp_path / "dbt").glob(
        f"{result.run_id[:8]}-cityops_dbt_foundation/compiled/**/"
        "stg_iot__readings_one_row_per_key_and_delivery_day.sql"
    )
    assert "try_cast('2024-07-03' as date)" in compiled.read_text(encoding="utf-8")


def test_the_later_dbt_steps_of_a_build_reuse_the_first_steps_parse(day_build):
    home, _, result = day_build
    logs = {
        step: (home / "dbt" / f"{result.run_id[:8]}-{step}" / "dbt.log").read_text("utf-8")
        for step in ("cityops_dbt_foundation", "cityops_dbt_daily", "cityops_dbt_marts")
    }
    # The home is not the repo's ./data, so the repo's parse does not fit its profile: the
    # first step parses the whole project; the next ones start from the parse it kept.
    assert (
        "Unable to do partial parsing because profile has changed" in logs["cityops_dbt_foundation"]
    )
    for step in ("cityops_dbt_daily", "cityops_dbt_marts"):
        assert "Unable to do partial parsing" not in logs[step]
        assert "artial parsing" in logs[step]  # "Partial parsing enabled" or "Nothing changed"
    assert (home / "dbt" / "partial_parse.msgpack").exists()


def test_build_warehouse_publishes_and_a_blocking_failure_leaves_the_snapshot_unchanged(
    day_build, monkeypatch, graph
):
    from serving import current_snapshot, serving_path
    from vitals.registry import DEFAULT_PATH

    defs, _ = graph
    tmp_path, run, good = day_build
    monkeypatch.setenv("CITYOPS_PII_KEY", TEST_KEY)
    job = defs.resolve_job_def("build_warehouse")
    home = paths(tmp_path)

    published = current_snapshot(home)

    # A registry with an indicator no model computes: dim_indicators builds, then the
    # blocking data test vital_signs_cover_every_indicator_and_day fails its dbt step.
    registry = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    extra = {**registry["indicators"][0], "code": "WEA_NOT_COMPUTED"}
    registry["indicators"].append(extra)
    broken = tmp_path / "indicators.yml"
    broken.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("CITYOPS_INDICATORS", str(broken))
    bad = job.execute_in_process(**run)

    assert good.success
    assert published is not None and published.run_id == good.run_id
    assert serving_path(home).resolve() == published.path
    assert not bad.success
    failed_steps = {
        event.step_key for event in bad.all_events if event.event_type_value == "STEP_FAILURE"
    }
    materialized = {tuple(e.asset_key.path) for e in bad.get_asset_materialization_events()}
    assert failed_steps == {"cityops_dbt_marts"}
    assert ("serving", "snapshot") not in materialized
    # Readers still get the first build's snapshot, untouched.
    assert current_snapshot(home) == published
