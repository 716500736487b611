"""What the suites read: one lake partition, or one table of the working warehouse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from ingestion.settings import Paths, duckdb_config


def read_partition(paths: Paths, table: str, day: dt.date) -> Any | None:
    """The Parquet of one lake partition as a pandas DataFrame, or None when it is missing.

    ``hive_partitioning`` is off so the frame holds exactly the table's columns (the ``dt``
    folder is not a column of the data).
    """
    folder = paths.raw_partition(table, day)
    if not any(folder.glob("*.parquet")):
        return None
    with duckdb.connect(config=duckdb_config()) as con:
        return con.execute(
            "select * from read_parquet(?, hive_partitioning = false)",
            [str(folder / "*.parquet")],
        ).df()


def read_table(warehouse: Path, schema: str, table: str, columns: Sequence[str] = ()) -> Any:
    """One warehouse table as a pandas DataFrame, read through a read-only connection.

    Only ``columns`` when some are given (every column otherwise).
    """
    with duckdb.connect(str(warehouse), read_only=True) as con:
        relation = con.table(f"{schema}.{table}")
        if columns:
            relation = relation.select(*(duckdb.ColumnExpression(c) for c in columns))
        return relation.df()
