"""``python -m dagster_project.cli``: the ``cityops`` command without its console script."""

from dagster_project.cli import app

app()
