"""Reference data shared by the generator, the source contracts and the dbt seeds.

The CSV files beside this module are the single source of truth for Jing'an geography and
code lists. Street codes are the NBS 12-digit 统计用区划代码 (verified:
docs/domain.md#52-jingan-district-and-its-street-codes). Everything else here is an
ASSUMPTION made for the demo and labelled as such in ``README.md`` beside this file: grid
codes and their shapes, road-to-grid assignment, department codes, the hotline matter list,
underpasses, markets and business-district bases.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).parent


@cache
def load(name: str) -> tuple[dict[str, str], ...]:
    """Return the rows of ``<name>.csv`` as read-only dicts of strings."""
    with (REFERENCE_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


def column(name: str, field: str) -> tuple[str, ...]:
    """Return the distinct values of one column of a reference table, in file order."""
    return tuple(dict.fromkeys(row[field] for row in load(name)))


def street_codes() -> tuple[str, ...]:
    """NBS codes of the 13 streets and 彭浦镇."""
    return column("streets", "street_code")


def street_names() -> tuple[str, ...]:
    """Chinese names of the 13 streets and 彭浦镇, as the hotline writes them."""
    return column("streets", "street_name")


def grid_codes() -> tuple[str, ...]:
    """Codes of the 85 city-operations grids (synthetic codes, an assumption)."""
    return column("grids", "grid_code")
