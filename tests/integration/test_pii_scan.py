"""The PII scan of a database file: served columns reported, restricted and staging skipped."""

import duckdb

from quality import pii


def test_scanning_a_database_reports_served_columns_and_skips_restricted_staging_and_keys(
    tmp_path,
):
    path = tmp_path / "snapshot.duckdb"
    with duckdb.connect(str(path)) as connection:
        for schema in ("events", "restricted", "staging"):
            connection.execute(f"create schema {schema}")
        # 3 rows: one clean text, one full-width mobile, one plate inside a list.
        connection.execute(
            """
            create table events.fct_orders as select * from (values
                (1, '积水', ['噪声'], '13912345678139123456781391234567813912345678abcdefabcdef'),
                (2, '电话１３９１２３４５６７８', ['积水'], null),
                (3, '积水', ['沪A12345'], null)
            ) as t(order_id, content, tags, caller_key)
            """
        )
        # Clear values where they belong: never reported.
        connection.execute("create table restricted.orders as select '13912345678' as phone")
        connection.execute("create view staging.orders as select '13912345678' as phone")
    findings = pii.scan_database(path)
    assert [(f.schema, f.table, f.column, f.kinds, f.values) for f in findings] == [
        ("events", "fct_orders", "content", ("mobile",), 1),
        ("events", "fct_orders", "tags", ("plate",), 1),
    ]
    # The sample says where, never what.
    assert findings[0].sample == "电话[手机号]"
    assert "12345" not in findings[1].sample
