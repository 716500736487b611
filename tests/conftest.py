"""Shared fixtures: a small generated lake, built once per test session with the real pipeline."""

import datetime as dt
import shutil
from collections import defaultdict

import pytest

from ingestion.pipeline import ingest_partition, landing_days
from ingestion.settings import paths
from ingestion.sources import CONTRACTS
from serving import publish
from tests.cli_runner import cityops
from tests.integration.dbt_runner import run_dbt
from tests.superset_fixtures import monkeypatch_session, serving_home, superset_instance  # noqa: F401

# `make test` runs the suite on two pytest-xdist workers. A module goes to one worker whole (its
# module fixtures are built once), and the modules that share an expensive session fixture go
# together, so that no such fixture is built on both workers. A module that starts using one of
# these fixtures belongs in its group here; left out, it is still correct, only slower.
SHARED_FIXTURE_GROUPS = {
    # cli_run: `cityops generate` twice and one `cityops run`.
    "cli": ("tests/integration/test_dagster.py", "tests/e2e/test_dagster_ui.py"),
    # small_warehouse (a full dbt build) and the Superset server started over its snapshot.
    "warehouse": (
        "tests/integration/test_dbt_build.py",
        "tests/integration/test_dbt_incremental.py",
        "tests/integration/test_serving.py",
        "tests/integration/test_resource_catalog.py",
        "tests/integration/test_dashboards.py",
        "tests/e2e/test_dashboards_browser.py",
    ),
}


def work_group(nodeid: str) -> str:
    """The unit of work a test belongs to: its shared-fixture group, else its module."""
    module = nodeid.split("::")[0]
    for name, modules in SHARED_FIXTURE_GROUPS.items():
        if module in modules:
            return name
    return module


# The longest units of work, longest first (seconds on one worker, 2026-11-26). xdist hands
# out units in collection order, and by default reorders them by their number of tests: the
# `cli` group, few tests but 410 s, then started last, and the other worker idled for its
# last 400 s (a 19 min 39 s run). Longest first, the two workers end close together.
SLOWEST_FIRST = (
    "tests/integration/test_bench.py",  # 578 s: `cityops bench --scale small`
    "tests/integration/test_crash.py",  # 535 s: four `cityops run`, three killed (2026-12-07)
    "warehouse",  # ≈ 500 s
    "cli",  # ≈ 410 s
    "tests/faults/test_delivery_faults.py",  # ≈ 540 s on a loaded machine (2026-12-07): 3 builds
    "tests/integration/test_dbt_dagster.py",  # 161 s
    "tests/integration/test_operations.py",  # 131 s
)


def pytest_configure(config):
    """Fail on a scheduling entry that names no group or test file (a typo would be ignored)."""
    named = set(SLOWEST_FIRST) - set(SHARED_FIXTURE_GROUPS)
    for modules in SHARED_FIXTURE_GROUPS.values():
        named.update(modules)
    missing = sorted(name for name in named if not (config.rootpath / name).is_file())
    if missing:
        raise pytest.UsageError(
            f"tests/conftest.py schedules {missing}: neither a group of SHARED_FIXTURE_GROUPS "
            "nor a test file"
        )


def pytest_collection_modifyitems(config, items):
    """Put the slowest units of work first (a stable sort: the order within a unit stays)."""
    rank = {unit: number for number, unit in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(work_group(item.nodeid), len(rank)))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """xdist's scope scheduling, with :func:`work_group` as the scope, in collection order.

    (``--dist loadgroup`` with ``xdist_group`` marks would say the same, but with pytest 9.2
    and pytest-xdist 3.8 the marks are ignored: xdist renames ``item._nodeid``, which pytest 9.2
    no longer reads, and every test was scheduled alone.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_group(nodeid)

    # The order of SLOWEST_FIRST, not xdist's by number of tests (--no-loadscope-reorder).
    config.option.loadscopereorder = False
    return SharedFixtureScheduling(config, log)


# Four days so that every file-level fault (wrong encoding from day 2, truncation from day 3)
# is planted; scale 0.02 keeps the whole lake at a few hundred thousand readings.
SMALL = {"start": dt.date(2024, 7, 1), "days": 4, "seed": 11, "scale": 0.02, "fault_rate": 0.01}


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory):
    """Generated landing files only (no lake yet)."""
    from demo import generate

    home = tmp_path_factory.mktemp("landing_home")
    manifest = generate(home, **SMALL)
    return paths(home), manifest


@pytest.fixture(scope="session")
def small_lake(small_landing, tmp_path_factory):
    """The landing files ingested for every table and day; returns (paths, manifest, logs)."""
    landing_paths, manifest = small_landing
    home = tmp_path_factory.mktemp("lake_home")
    shutil.copytree(landing_paths.landing, home / "landing")
    lake_paths = paths(home)
    logs = defaultdict(dict)
    for contract in CONTRACTS:
        for day in landing_days(lake_paths, contract):
            logs[contract.table][day] = ingest_partition(contract, day, lake_paths)
    return lake_paths, manifest, logs


@pytest.fixture
def lake_copy(small_lake, tmp_path):
    """A private copy of the small lake for tests that change or break it."""
    lake_paths, manifest, _ = small_lake
    shutil.copytree(lake_paths.home, tmp_path / "home")
    return paths(tmp_path / "home"), manifest


@pytest.fixture(scope="session")
def small_warehouse(small_lake, tmp_path_factory):
    """(home, dbt target) after one full ``dbt build`` of the small lake, then a publication.

    Every seed, model, data test and unit test, as test_dbt_build.py checks; shared by the
    tests that read a built warehouse or its serving snapshot (dbt build, catalogue,
    dashboards). Read it; to change anything, work on ``copy_built_home`` of it.
    """
    lake_paths, _, _ = small_lake
    home = tmp_path_factory.mktemp("warehouse_home")
    shutil.copytree(lake_paths.lake, home / "lake")
    target = tmp_path_factory.mktemp("warehouse_dbt_target")
    built = run_dbt(home, target, "build")
    assert built.returncode == 0, built.stdout[-6000:]
    # What the Dagster job does after a build whose checks passed: readers get a snapshot.
    publish(paths(home), run_id="small-warehouse")
    return home, target


# `cityops generate` arguments of the CLI home: two days, so `cityops run` ingests a range.
CLI_GENERATE = ("generate", "--days", "2", "--scale", "0.01", "--seed", "3")


@pytest.fixture(scope="session")
def cli_run(tmp_path_factory):
    """A fresh home after ``cityops generate`` (twice) and one ``cityops run``, by the CLI.

    Returns (home, generated, generated again, run): the completed processes. Shared by the
    CLI test (test_dagster.py, which re-runs on it last) and the Dagster UI test, which works
    on a copy; one `cityops run` instead of two.
    """
    home = tmp_path_factory.mktemp("cli_home") / "home"
    generated = cityops(*CLI_GENERATE, home=home)
    again = cityops(*CLI_GENERATE, home=home)
    first = cityops("run", home=home)
    return home, generated, again, first
