"""Content comparison of two DuckDB warehouses or snapshots, table by table (test helper)."""

from pathlib import Path

import duckdb


def differences(
    one: Path, other: Path, skip: frozenset[str] = frozenset()
) -> tuple[list[tuple[str, str]], dict[str, tuple[int, int]]]:
    """(every base table of ``one``, {"schema.table": (rows only in one, rows only in other)}).

    Rows are compared as multisets (``except all``) with doubles rounded to 6 decimals:
    parallel sums may differ in the last bit. Tables named in ``skip`` are listed, not compared.
    """
    found = {}
    with duckdb.connect() as connection:
        connection.execute(f"attach '{one}' as one (read_only)")
        connection.execute(f"attach '{other}' as other (read_only)")
        tables = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = 'one' and table_type = 'BASE TABLE' order by all"
        ).fetchall()
        for schema, table in tables:
            if f"{schema}.{table}" in skip:
                continue
            columns = connection.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_catalog = 'one' and table_schema = ? and table_name = ? "
                "order by ordinal_position",
                [schema, table],
            ).fetchall()
            selected = ", ".join(
                f'round("{name}", 6) as "{name}"' if kind == "DOUBLE" else f'"{name}"'
                for name, kind in columns
            )
            a = f"select {selected} from one.{schema}.{table}"
            b = f"select {selected} from other.{schema}.{table}"
            counts = tuple(
                connection.execute(f"select count(*) from ({x} except all {y})").fetchone()[0]
                for x, y in ((a, b), (b, a))
            )
            if counts != (0, 0):
                found[f"{schema}.{table}"] = counts
    return tables, found
