"""城市生命体征指标 — the indicator registry (vitals/indicators.yml), validated on load.

A Python model so the registry has one home: the YAML file editors change. An invalid
registry fails this model, and with it the build, with every problem named by indicator
and field.
"""


def model(dbt, session):
    """One row per indicator: names, dimension, unit, grain, thresholds and 吹哨 matter."""
    dbt.config(materialized="table")
    from vitals.registry import load_registry, registry_table

    return registry_table(load_registry())
