"""The dbt project and the CLI resource that runs it against ``$CITYOPS_HOME``.

Nothing here runs dbt at import time, except under ``dagster dev``, where
``prepare_if_dev`` re-parses the project on load. Everywhere else the manifest the asset
definitions are built from must exist before Definitions load: ``make`` runs
``cd dbt && ../.venv/bin/dbt parse --quiet`` (see ``dbt/README.md``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

from dagster_project.defs.ingestion.resources import CityopsHome

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt"
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Only `dagster dev` re-parses on load; deployments and tests use the manifest made by make.
DBT_PROJECT.prepare_if_dev()

PII_KEY_VARIABLE = "CITYOPS_PII_KEY"


def dbt_executable() -> str:
    """The dbt installed beside this interpreter, so runs work when the venv is not on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else "dbt"


def dbt_resource() -> DbtCliResource:
    """The dbt CLI of the cityops project (profiles.yml beside dbt_project.yml)."""
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable())


def run_dbt(
    dbt: DbtCliResource,
    cityops: CityopsHome,
    args: Sequence[str],
    context: dg.AssetExecutionContext,
    dbt_vars: Mapping[str, Any] | None = None,
) -> Iterator[Any]:
    """Run a dbt command for the selected assets against the home ``cityops`` points at.

    dbt reads ``CITYOPS_HOME`` from its environment (profiles.yml and the source locations);
    the resource's home is handed over for the duration of the call that starts dbt, so an
    explicit ``home`` in run config wins, as it does for ingestion. ``CITYOPS_PII_KEY`` is
    inherited from the environment; dbt refuses to build without it.
    """
    if not os.environ.get(PII_KEY_VARIABLE):
        raise dg.Failure(
            description=f"{PII_KEY_VARIABLE} is not set: dbt needs the pseudonymisation key.",
            allow_retries=False,
        )
    arguments = list(args)
    if dbt_vars:
        arguments += ["--vars", json.dumps(dict(dbt_vars))]
    home = cityops.paths().home
    # Artifacts and logs of each invocation stay with the data they describe, not in the repo.
    target = home / "dbt" / f"{context.run_id[:8]}-{context.op_execution_context.op.name}"
    with _environment(CITYOPS_HOME=str(home)):
        # dagster-dbt copies os.environ into the dbt process when it starts it, here.
        invocation = dbt.cli(arguments, context=context, target_path=target)
    yield from invocation.stream()


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
