"""Data-quality checks as plain functions, and the store of their results.

Expectation suites (``expectations/``), freshness SLAs, volume baselines, delivery faults and
personal-data scanning each judge a lake table or a mart; ``results`` keeps every check's
evaluations. Dagster wires them as asset checks in ``dagster_project/defs/quality/``.
"""
