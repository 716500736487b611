"""Orchestration: the Dagster definitions and the ``cityops`` command line."""
