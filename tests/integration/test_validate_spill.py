"""Validation of a day larger than DuckDB's memory limit: it spills to the folder it is given."""

import datetime as dt

import duckdb

from ingestion.validate import append, prepare, validate
from tests.unit.test_validate import CONTRACT, DAY, T, _records


def test_a_day_larger_than_the_memory_limit_is_loaded_file_by_file_and_spills(tmp_path):
    # 4 files × 50,000 records; record i is order JA(i mod 1000) updated at 09:(i mod 60).
    # (order, minute) pairs repeat every lcm(1000, 60) = 3,000 records, so 3,000 distinct
    # records: 1,000 keys kept, 2,000 superseded versions, 197,000 exact copies dropped.
    # JA000 (i = 0, 1000, 2000, 3000 …) was updated at minutes 0, 40, 20, 0 …: 09:40 wins.
    spill = tmp_path / "spill"
    limits = {"memory_limit": "32MB", "threads": "1", "temp_directory": str(spill)}
    with duckdb.connect(config=limits) as con:
        prepare(con, CONTRACT)
        for file in range(4):
            numbers = range(file * 50_000, (file + 1) * 50_000)
            rows = [
                (
                    f"JA{i % 1000:03d}",
                    "彭浦镇",
                    "1",
                    "是",
                    f"{T[:14]}{i % 60:02d}:00",
                    f"{file}.csv",
                    i,
                )
                for i in numbers
            ]
            append(con, _records(rows), [])
        counts = validate(con, CONTRACT, DAY)
        spilled = [
            path for (path,) in con.execute("select path from duckdb_temporary_files()").fetchall()
        ]
        newest = con.execute(
            "select updated_at from valid_rows where order_id = 'JA000'"
        ).fetchall()
    assert counts.rows_written == 1_000
    assert counts.duplicates_by_kind == {"exact_duplicate": 197_000, "superseded_version": 2_000}
    assert counts.rows_quarantined == 0
    assert newest == [(dt.datetime(2024, 7, 1, 9, 40),)]
    # The records did not fit in 32 MB: DuckDB wrote some to the temporary folder it was given
    # (and removes it when the connection closes).
    assert spilled and all(path.startswith(str(spill)) for path in spilled)
    assert not spill.exists()
