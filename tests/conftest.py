"""Shared fixtures: a small generated lake, built once per test session with the real pipeline."""

import datetime as dt
import shutil
from collections import defaultdict

import pytest

from ingestion.pipeline import ingest_partition, landing_days
from ingestion.settings import paths
from ingestion.sources import CONTRACTS
from tests.superset_fixtures import monkeypatch_session, serving_home, superset_instance  # noqa: F401

# Four days so that every file-level fault (wrong encoding from day 2, truncation from day 3)
# is planted; scale 0.02 keeps the whole lake at a few hundred thousand readings.
SMALL = {"start": dt.date(2024, 7, 1), "days": 4, "seed": 11, "scale": 0.02, "fault_rate": 0.01}


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory):
    """Generated landing files only (no lake yet)."""
    from ingestion.generator import generate

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
