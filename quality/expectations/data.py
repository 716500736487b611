"""What the suites read: one lake partition, or one table of the working warehouse.

Frames come through Arrow (:func:`frame`), never DuckDB's own ``.df()``, and hold the values
of the columns a suite names only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from ingestion.settings import Paths, duckdb_config

# Arrow's defaults would turn booleans and integers with nulls into ``object`` and ``float64``;
# they stay nullable, as with ``.df()``. Other types keep Arrow's default (strings become pandas'
# Arrow-backed ``str`` either way).
_NULLABLE = {
    pa.bool_(): pd.BooleanDtype(),
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
}


def _without_decimals(table: pa.Table) -> pa.Table:
    """Decimals (DuckDB's ``sum`` of integers) as doubles, as ``.df()`` gives them.

    pandas would hold them as Python ``Decimal`` objects otherwise.
    """
    schema = pa.schema(
        field.with_type(pa.float64()) if pa.types.is_decimal(field.type) else field
        for field in table.schema
    )
    return table if schema == table.schema else table.cast(schema)


def frame(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """A relation as a pandas DataFrame, through Arrow.

    DuckDB's ``.df()`` builds a Python object per string first: one city day of readings
    (16 M rows, 6 columns) took 16.3 s and 8.9 GB of process that way, through Arrow 2.7 s and
    2.6 GB, with the same string, float and timestamp columns (docs/performance.md).
    """
    return _without_decimals(relation.to_arrow_table()).to_pandas(
        types_mapper=_NULLABLE.get, date_as_object=False
    )


def _only(relation: duckdb.DuckDBPyRelation, columns: Sequence[str]) -> duckdb.DuckDBPyRelation:
    """``columns`` with their values; every other column of ``relation`` as typed nulls.

    The frame keeps the relation's column set, so a suite's schema expectation still sees
    what the data holds (a named column the data lacks stays missing, and its expectations
    fail as on a whole read), while the values no expectation reads are never loaded.
    """
    wanted = set(columns)
    return relation.select(
        *(
            duckdb.ColumnExpression(name)
            if name in wanted
            else duckdb.ConstantExpression(None).cast(kind).alias(name)
            for name, kind in zip(relation.columns, relation.types, strict=True)
        )
    )


def read_partition(
    paths: Paths, table: str, day: dt.date, columns: Sequence[str] = ()
) -> pd.DataFrame | None:
    """The Parquet of one lake partition as a pandas DataFrame, or None when it is missing.

    ``hive_partitioning`` is off so the frame holds exactly the table's columns (the ``dt``
    folder is not a column of the data). With ``columns``, only those hold values; the
    others are all null (:func:`_only`).
    """
    folder = paths.raw_partition(table, day)
    if not any(folder.glob("*.parquet")):
        return None
    with duckdb.connect(config=duckdb_config()) as con:
        relation = con.read_parquet(str(folder / "*.parquet"), hive_partitioning=False)
        return frame(_only(relation, columns) if columns else relation)


def read_table(
    warehouse: Path, schema: str, table: str, columns: Sequence[str] = ()
) -> pd.DataFrame:
    """One warehouse table as a pandas DataFrame, read through a read-only connection.

    Only ``columns`` when some are given (every column otherwise).
    """
    with duckdb.connect(str(warehouse), read_only=True) as con:
        relation = con.table(f"{schema}.{table}")
        if columns:
            relation = relation.select(*(duckdb.ColumnExpression(c) for c in columns))
        return frame(relation)
