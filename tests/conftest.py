"""Shared fixtures: a small generated lake, built once per test session with the real pipeline."""

import datetime as dt
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.pipeline import ingest_partition, landing_days
from ingestion.settings import paths
from ingestion.sources import CONTRACTS
from serving import publish
from tests.cli_runner import cityops
from tests.integration.dbt_runner import run_dbt
from tests.superset_fixtures import monkeypatch_session, serving_home, superset_instance  # noqa: F401

# Scheduling on pytest-xdist workers (`make test` runs two). A unit of work goes to one worker
# whole; it is a test module (its module fixtures are built once), except that the modules
# using one of ONE_PER_RUN's fixtures form one unit together. Every other session fixture (the
# small lake and warehouse, the built home) is built at most once per worker, by whichever
# test needs it first. Units start longest first by their tests' durations in the previous
# run (the pytest cache). Units the cache does not know (all of them on a fresh clone) start
# before those it knows: first those whose tests declare a longer timeout than the default
# (the heavy module fixtures, longest first), then in collection order (e2e, faults,
# integration, unit).
ONE_PER_RUN = ("superset_instance",)  # a Superset server: started once, not on every worker
UNITS_KEY = "cityops/units"  # test module → unit, written by the workers' collection
SECONDS_KEY = "cityops/seconds"  # test id → seconds (setup, call and teardown) last run


def _module(nodeid: str) -> str:
    return nodeid.split("::")[0]


def _units(items) -> dict[str, str]:
    """Test module → unit: the module, or the ONE_PER_RUN fixture its tests use."""
    units = {}
    for item in items:
        module = _module(item.nodeid)
        shared = [name for name in ONE_PER_RUN if name in getattr(item, "fixturenames", ())]
        if shared:
            units[module] = shared[0]
        else:
            units.setdefault(module, module)
    return units


def pytest_collection_modifyitems(config, items):
    """Order units longest first (see above) and leave the unit map for the xdist scheduler."""
    cache = getattr(config, "cache", None)
    units = _units(items)
    seconds = cache.get(SECONDS_KEY, {}) if cache else {}
    cost = defaultdict(float)
    known = set()
    for item in items:
        unit = units[_module(item.nodeid)]
        if item.nodeid in seconds:
            cost[unit] += seconds[item.nodeid]
            known.add(unit)
    first, declared = {}, defaultdict(float)
    for number, item in enumerate(items):
        unit = units[_module(item.nodeid)]
        first.setdefault(unit, number)
        marker = item.get_closest_marker("timeout")
        if marker is not None and (marker.args or "timeout" in marker.kwargs):
            limit = marker.args[0] if marker.args else marker.kwargs["timeout"]
            declared[unit] = max(declared[unit], float(limit))
    items.sort(
        key=lambda item: (
            (unit := units[_module(item.nodeid)]) in known,
            -cost[unit] if unit in known else -declared[unit],
            first[unit],
        )
    )
    if cache is not None:
        # Both workers write the same map before they report their collection; the
        # scheduler reads it once every collection is in.
        cache.set(UNITS_KEY, units)


class _Durations:
    """Each test's duration (setup + call + teardown), kept in the pytest cache at the end."""

    def __init__(self):
        self.seconds = defaultdict(float)

    def pytest_runtest_logreport(self, report):
        self.seconds[report.nodeid] += report.duration

    def pytest_sessionfinish(self, session):
        cache = getattr(session.config, "cache", None)
        if cache is not None and self.seconds:
            cache.set(SECONDS_KEY, {**cache.get(SECONDS_KEY, {}), **self.seconds})


def pytest_configure(config):
    """Record durations in the process that sees every report (not in an xdist worker)."""
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Durations(), "cityops-durations")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """xdist's scope scheduling with the units above as scopes, in the workers' order.

    (``--dist loadgroup`` with ``xdist_group`` marks would say the same, but with pytest 9.2
    and pytest-xdist 3.8 the marks are ignored: xdist renames ``item._nodeid``, which pytest 9.2
    no longer reads, and every test was scheduled alone.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):
        units = None

        def _split_scope(self, nodeid: str) -> str:
            if self.units is None:  # called once every worker has collected
                cache = getattr(config, "cache", None)
                self.units = cache.get(UNITS_KEY, {}) if cache else {}
            module = _module(nodeid)
            return self.units.get(module, module)

    # The workers' order (above), not xdist's by number of tests (--no-loadscope-reorder).
    config.option.loadscopereorder = False
    return UnitScheduling(config, log)


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


# The built home: 3 days, so that every delivery fault of tests/faults has its day; no planted
# faults, so that the faults a test plants are the only ones; scale 0.02 (≈ 20k readings a
# day) leaves enough records on each day for every fault kind.
BUILT_GENERATE = (
    "generate",
    "--start",
    "2024-07-01",
    "--days",
    "3",
    "--seed",
    "3",
    "--scale",
    "0.02",
    "--no-faults",
)


@dataclass(frozen=True)
class BuiltHome:
    """A home after ``cityops generate`` (twice) and one ``cityops run``, and those processes."""

    home: Path
    generated: subprocess.CompletedProcess
    again: subprocess.CompletedProcess
    run: subprocess.CompletedProcess

    @property
    def days(self) -> int:
        """The number of delivery days generated."""
        return int(BUILT_GENERATE[BUILT_GENERATE.index("--days") + 1])

    def copy(self, destination: Path) -> Path:
        """A private copy of the whole home (``cp -a``: links, modes and times kept)."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-a", str(self.home), str(destination)], check=True)
        return destination

    def landing_copy(self, destination: Path) -> Path:
        """A new home with the same deliveries and pseudonymisation key, nothing ingested."""
        for folder in ("landing", ".secrets"):
            (destination / folder).parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                ["cp", "-a", str(self.home / folder), str(destination / folder)], check=True
            )
        return destination


@pytest.fixture(scope="session")
def built_home(tmp_path_factory) -> BuiltHome:
    """One home built by the CLI as a user builds it, once per test process; read it only.

    Shared by the CLI test, the Dagster UI test, the crash tests (the uninterrupted run they
    compare with) and the fault suite (the clean home it faults a copy of). A test that
    changes anything works on :meth:`BuiltHome.copy` or :meth:`BuiltHome.landing_copy`.
    """
    home = tmp_path_factory.mktemp("built") / "home"
    generated = cityops(*BUILT_GENERATE, home=home)
    again = cityops(*BUILT_GENERATE, home=home)
    run = cityops("run", home=home)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return BuiltHome(home, generated, again, run)
