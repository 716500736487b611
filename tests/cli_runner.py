"""Run the ``cityops`` CLI in a child process, as a user would (test helper)."""

import os
import subprocess
import sys


def cityops(*arguments, home, timeout=600):
    """``python -m dagster_project.cli …`` against ``home``, with a bare PATH.

    A bare PATH, as under ``make run``: nothing may rely on the virtual environment being on
    it. ``DAGSTER_HOME`` is unset, so the CLI uses ``$CITYOPS_HOME/dagster``; so is
    ``CITYOPS_PII_KEY``, so the home keeps its own key file and its copies pseudonymise alike.
    """
    environment = {**os.environ, "CITYOPS_HOME": str(home), "PATH": "/usr/bin:/bin"}
    environment.pop("DAGSTER_HOME", None)
    environment.pop("CITYOPS_PII_KEY", None)
    command = [sys.executable, "-m", "dagster_project.cli", *arguments]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=timeout)
