"""Runs the repository's dbt project against a temporary ``$CITYOPS_HOME`` (test helper)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt"
TEST_KEY = "integration-test-key-0123456789abcdef"


def run_dbt(home, target, *arguments, key=TEST_KEY, env=None):
    """Run this environment's dbt CLI in the project folder against ``home``.

    Artifacts and logs go to ``target``, so the repository's ``dbt/target`` (the manifest
    Dagster loads) is never touched. ``env`` adds environment variables.
    """
    environment = {
        **os.environ,
        "CITYOPS_HOME": str(home),
        "CITYOPS_PII_KEY": key,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **(env or {}),
    }
    command = [
        str(Path(sys.executable).with_name("dbt")),
        *arguments,
        "--target-path",
        str(target),
        "--log-path",
        str(target),
    ]
    return subprocess.run(
        command, cwd=DBT_PROJECT, env=environment, capture_output=True, text=True, timeout=900
    )


def copy_built_home(home, destination):
    """A private copy of a built home: lake, warehouse and serving snapshots (links kept)."""
    for folder in ("lake", "warehouse", "serving"):
        if (home / folder).exists():
            shutil.copytree(home / folder, destination / folder, symlinks=True)
    return destination
