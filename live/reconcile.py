"""Does the daily build agree with the live path? The live indicators' marts, row by row.

After the daily build has run over the same deliveries, every warning, step and 吹哨 order
of the live indicators must be the same in the serving snapshot as in the live store: same
ids, open and close times, levels, ``known_at``, limits and status. Rows are compared whole,
as sets; the result lists, per table, the rows only one side holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from live.store import MIXED_TABLES


def differences(
    live_store: Path, snapshot: Path, codes: list[str], *, sample: int = 5
) -> dict[str, dict[str, Any]]:
    """Per table, the rows of the ``codes`` indicators held by only one of the two files."""
    found: dict[str, dict[str, Any]] = {}
    with duckdb.connect() as con:
        con.execute("attach ? as live (read_only)", [str(live_store)])
        con.execute("attach ? as daily (read_only)", [str(snapshot)])
        for table in MIXED_TABLES:
            sides = {}
            for name, first, second in (
                ("only_live", "live", "daily"),
                ("only_daily", "daily", "live"),
            ):
                # Table names are this package's constants, never input.
                query = (
                    f"select * from {first}.vitals.{table} "  # noqa: S608
                    "where list_contains($codes, indicator_code) except "
                    f"select * from {second}.vitals.{table} "
                    "where list_contains($codes, indicator_code)"
                )
                rows = con.execute(query, {"codes": codes}).fetchall()
                sides[name] = {"count": len(rows), "sample": rows[:sample]}
            if sides["only_live"]["count"] or sides["only_daily"]["count"]:
                found[table] = sides
    return found
