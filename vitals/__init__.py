"""城市生命体征 (urban vital signs): the indicator registry and the warnings in the warehouse.

The registry (``indicators.yml`` beside this file) is the policy: which indicators exist, the
model that computes each, and the 蓝/黄/橙/红 thresholds. dbt loads it through the Python
model ``dim_indicators``; everything downstream (levels, warnings, 吹哨 orders, health
scores) is SQL in ``dbt/models/marts/vitals``. ``warnings`` reads them from the serving
snapshot, and ``notify`` delivers them to the configured channels.
"""

from vitals.registry import (
    DIMENSIONS,
    LEVELS,
    UNITS,
    Indicator,
    Registry,
    RegistryError,
    load_registry,
)

__all__ = [
    "DIMENSIONS",
    "LEVELS",
    "UNITS",
    "Indicator",
    "Registry",
    "RegistryError",
    "load_registry",
]
