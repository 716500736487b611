"""What an expectation suite reads: only its columns, from a warehouse file or a lake partition."""

import datetime as dt


def test_a_mart_table_is_read_with_only_the_suites_columns(tmp_path):
    import duckdb

    from quality.expectations.data import read_table

    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema vitals")
        # Two rows; "detail" is not read by any expectation of the suite below.
        con.execute(
            "create table vitals.t as select * from (values (1, 'x', 'long text'), "
            "(2, 'y', 'more text')) as v(id, code, detail)"
        )
    frame = read_table(warehouse, "vitals", "t", ("code", "id"))
    assert list(frame.columns) == ["code", "id"]
    assert frame["id"].tolist() == [1, 2]
    assert list(read_table(warehouse, "vitals", "t").columns) == ["id", "code", "detail"]


def test_a_lake_partition_keeps_its_columns_but_loads_only_the_suites_values(tmp_path):
    import duckdb

    from ingestion.settings import paths
    from quality.expectations.data import read_partition

    home = paths(tmp_path)
    day = dt.date(2024, 7, 1)
    folder = home.raw_partition("t", day)
    folder.mkdir(parents=True)
    # Two rows; only "code" and "n" are named by the suite.
    duckdb.sql(
        "copy (select * from (values (1, 'x', 'long text', true), (null, 'y', 'more', null))"
        f" as v(n, code, detail, flag)) to '{folder / 'part-0.parquet'}'"
    )
    frame = read_partition(home, "t", day, ("code", "n"))
    # The schema expectation still sees every column, in the file's order …
    assert list(frame.columns) == ["n", "code", "detail", "flag"]
    # … with values in the named ones (nullable integers stay integers) and nulls elsewhere.
    assert frame["code"].tolist() == ["x", "y"]
    assert str(frame["n"].dtype) == "Int32" and frame["n"].isna().tolist() == [False, True]
    assert frame["detail"].isna().all() and frame["flag"].isna().all()
    assert str(frame["flag"].dtype) == "boolean"
    # A column the suite names but the data lacks is missing, as on a whole read.
    assert list(read_partition(home, "t", day, ("code", "gone")).columns) == list(frame.columns)
    whole = read_partition(home, "t", day)
    assert whole["detail"].tolist() == ["long text", "more"]
    assert read_partition(home, "t", dt.date(2024, 7, 2)) is None
