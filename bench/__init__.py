"""``cityops bench``: the pipeline measured at small, district-year and city scale.

Every stage runs in its own child process, one after another, so each stage's peak memory is
the peak of its own process tree (Dagster, the dbt subprocess, DuckDB inside either). Beside
the framework (Dagster + dbt) the same run measures a baseline: the same transformations as
plain DuckDB SQL in one process (:mod:`bench.baseline`). See ``docs/performance.md``.
"""
