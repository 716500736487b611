"""The dbt project and the CLI resource that runs it against ``$CITYOPS_HOME``.

Nothing here runs dbt at import time, except under ``dagster dev``, where
``prepare_if_dev`` re-parses the project on load. Everywhere else the manifest the asset
definitions are built from must exist before Definitions load: ``make`` runs
``cd dbt && ../.venv/bin/dbt parse --quiet`` (see ``dbt/README.md``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from dagster_project.defs.ingestion.resources import CityopsHome
from ingestion.files import atomic_path
from ingestion.processes import environment

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt"
# dbt's own DBT_TARGET_PATH, when set, is where the manifest is read from and `dagster dev`
# parses to (the bench points it at its home's parse; the Dagster UI test at a private folder).
DBT_PROJECT = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target_path=os.environ.get("DBT_TARGET_PATH") or "target",
)
# Only `dagster dev` re-parses on load; deployments and tests use the manifest made by make.
DBT_PROJECT.prepare_if_dev()

PII_KEY_VARIABLE = "CITYOPS_PII_KEY"
# The build window's bounds, as the dbt macro `window_bound` reads them (dbt/macros/lake.sql).
WINDOW_VARIABLES = {"min_dt": "CITYOPS_MIN_DT", "max_dt": "CITYOPS_MAX_DT"}


def dbt_executable() -> str:
    """The dbt installed beside this interpreter, so runs work when the venv is not on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else "dbt"


class CityopsDbtCliResource(DbtCliResource):
    """dagster-dbt's CLI resource, without a ``dbt --version`` process before the first call.

    dagster-dbt learns the CLI's version by running ``dbt --version``, a whole dbt start-up,
    before the first dbt step of every ``build_warehouse`` run: that step waited 5.5 s before
    dbt started, 1.6–1.8 s without it (the runs' event logs, medium scale, 2026-11-26). The
    dbt beside this interpreter is the dbt-core installed in it, so its version is read from
    the package metadata instead; another dbt (on PATH) is still asked.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        if self.dbt_executable == str(Path(sys.executable).parent / "dbt"):
            return version.parse(metadata.version("dbt-core"))
        return super()._cli_version


def dbt_resource() -> DbtCliResource:
    """The dbt CLI of the cityops project (profiles.yml beside dbt_project.yml)."""
    return CityopsDbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable())


def run_dbt(
    dbt: DbtCliResource,
    cityops: CityopsHome,
    args: Sequence[str],
    context: dg.AssetExecutionContext,
    window: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """Run a dbt command for the selected assets against the home ``cityops`` points at.

    dbt reads ``CITYOPS_HOME`` from its environment (profiles.yml and the source locations);
    the resource's home is handed over for the duration of the call that starts dbt, so an
    explicit ``home`` in run config wins, as it does for ingestion. ``CITYOPS_PII_KEY`` is
    inherited from the environment; dbt refuses to build without it.

    The build window (``min_dt``/``max_dt``) goes to dbt as ``CITYOPS_MIN_DT`` and
    ``CITYOPS_MAX_DT`` (the ``window_bound`` macro), not as ``--vars``: vars that differ from
    the parse's make dbt re-parse the whole project on every run. Without a window both are
    removed from dbt's environment, so a step never inherits another step's window.
    """
    if not os.environ.get(PII_KEY_VARIABLE):
        raise dg.Failure(
            description=f"{PII_KEY_VARIABLE} is not set: dbt needs the pseudonymisation key.",
            allow_retries=False,
        )
    home = cityops.paths().home
    # Artifacts and logs of each invocation stay with the data they describe, not in the repo.
    target = home / "dbt" / f"{context.run_id[:8]}-{context.op_execution_context.op.name}"
    _reuse_parse(home, target)
    bounds = window or {}
    with environment(
        CITYOPS_HOME=str(home),
        # dbt ends when this process dies (dbt/plugins/cityops_lifetime.py).
        CITYOPS_DBT_PARENT_PID=str(os.getpid()),
        **{variable: bounds.get(name) for name, variable in WINDOW_VARIABLES.items()},
    ):
        # dagster-dbt copies os.environ into the dbt process when it starts it, here.
        invocation = dbt.cli(list(args), context=context, target_path=target)
    yield from invocation.stream()
    _keep_parse(home, target)


# The home's latest dbt parse, handed to the next invocation: dbt parses the whole project
# again when its profile differs from the parse's (the warehouse path, so any home but the
# repo's default ./data), and each invocation has a target folder of its own.
PARTIAL_PARSE = "partial_parse.msgpack"


def _reuse_parse(home: Path, target: Path) -> None:
    """Start the invocation's target from the home's last parse, when there is one.

    dagster-dbt copies the repo's ``dbt/target`` parse only into a target without one; dbt
    checks every file, var and profile value against the parse and re-parses what changed.
    """
    kept = home / "dbt" / PARTIAL_PARSE
    if kept.exists() and not (target / PARTIAL_PARSE).exists():
        target.mkdir(parents=True, exist_ok=True)
        with atomic_path(target / PARTIAL_PARSE) as temporary:
            temporary.write_bytes(kept.read_bytes())


def _keep_parse(home: Path, target: Path) -> None:
    """Keep the invocation's parse as the home's last parse (atomically: runs may overlap)."""
    made = target / PARTIAL_PARSE
    if made.exists():
        with atomic_path(home / "dbt" / PARTIAL_PARSE) as temporary:
            temporary.write_bytes(made.read_bytes())
