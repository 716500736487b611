"""Appending landed batches to a partition (the live path) against ingesting the day at once.

The small lake's 2024-07-02 IoT readings (scale 0.02, planted faults: quarantined rows and
duplicate copies) are taken away and landed again in three groups of files. After the groups
are appended, the partition holds the same rows and books as the day ingested at once; the
daily run then writes it as one file, byte for byte the file of an ingestion at once.
"""

import datetime as dt
import gzip
import shutil

import duckdb
import pytest

from ingestion import lake
from ingestion.pipeline import ingest_partition, read_log
from ingestion.sources import BY_TABLE

pytestmark = pytest.mark.integration

DAY = dt.date(2024, 7, 2)
READINGS = BY_TABLE["iot_readings"]
# What the books of a partition must agree on, however it was ingested.
BOOKS = (
    "rows_read",
    "rows_written",
    "rows_quarantined",
    "quarantined_by_reason",
    "duplicates_dropped",
    "duplicates_by_kind",
    "late_rows",
)


def _content(folder):
    """A hash of the rows of every part file in ``folder`` (order and layout ignored)."""
    with duckdb.connect() as con:
        return con.execute(
            "select md5(string_agg(line, chr(10) order by line)) from "
            "(select cast(t as varchar) as line from read_parquet(?) as t)",
            [str(folder / lake.PART_GLOB)],
        ).fetchone()[0]


def _books(log):
    return {key: log[key] for key in BOOKS} | {
        "files": [(entry["path"], entry["rows_written"]) for entry in log["files"]]
    }


@pytest.fixture
def held_back(lake_copy, tmp_path):
    """The day's partition forgotten and its files held back: (paths, held files, at-once log)."""
    home, _ = lake_copy
    at_once = read_log(home, READINGS.table, DAY)
    raw, quarantine = (
        home.raw_partition(READINGS.table, DAY),
        home.quarantine_partition(READINGS.table, DAY),
    )
    expected = (_content(raw), _content(quarantine), (raw / lake.PART_FILE).read_bytes())
    shutil.rmtree(raw)
    shutil.rmtree(quarantine)
    (home.ingestion_log / READINGS.table / f"dt={DAY}.json").unlink()
    hold = tmp_path / "held"
    hold.mkdir()
    files = sorted(home.landing_day(READINGS.source, DAY).glob(READINGS.file_glob))
    for file in files[len(files) // 3 :]:
        shutil.move(file, hold / file.name)
    return home, sorted(hold.iterdir()), at_once, expected


def _land(home, files):
    for file in files:
        shutil.move(file, home.landing_day(READINGS.source, DAY) / file.name)


def test_appended_batches_equal_the_day_ingested_at_once(held_back):
    home, held, at_once, (rows, quarantined, base_file) = held_back
    raw = home.raw_partition(READINGS.table, DAY)
    first = ingest_partition(READINGS, DAY, home, append=True)
    assert first["mode"] == "full"  # nothing to append to yet

    middle = len(held) // 2
    modes = []
    for group in (held[:middle], held[middle:]):
        _land(home, group)
        log = ingest_partition(READINGS, DAY, home, append=True)
        modes.append(log["mode"])
        assert ingest_partition(READINGS, DAY, home, append=True)["status"] == "skipped"
    assert "append" in modes  # at least one group had no key of an earlier one
    log = read_log(home, READINGS.table, DAY)
    assert len(lake.parts(raw)) == len(log["parts"]) > 1
    # The same rows and quarantine, and the same books per file, as the day ingested at once.
    assert _content(raw) == rows
    assert _content(home.quarantine_partition(READINGS.table, DAY)) == quarantined
    assert _books(log) == _books(at_once)

    # The daily run ingests the partition whole again: one file, the same bytes as at once.
    daily = ingest_partition(READINGS, DAY, home)
    assert daily["mode"] == "full"
    assert lake.parts(raw) == [lake.PART_FILE]
    assert (raw / lake.PART_FILE).read_bytes() == base_file
    assert _books(daily) == _books(at_once)
    assert ingest_partition(READINGS, DAY, home)["status"] == "skipped"


def _resend_first_reading(home):
    """A new batch file re-sending the day's first valid reading with another value."""
    part = home.raw_partition(READINGS.table, DAY) / lake.PART_FILE
    with duckdb.connect() as con:
        device, metric, at, value = con.execute(
            "select device_id, metric, reading_at, value + 0.5 from read_parquet(?) "
            "order by all limit 1",
            [str(part)],
        ).fetchone()
    text = (
        f"device_id,metric,value,reading_time\n{device},{metric},{value},{at:%Y-%m-%d %H:%M:%S}\n"
    )
    name = f"readings_{DAY:%Y%m%d}235959_correction.csv.gz"
    (home.landing_day(READINGS.source, DAY) / name).write_bytes(gzip.compress(text.encode()))
    return device, metric, at, value


def test_a_batch_correcting_an_earlier_reading_is_not_appended_but_replaces_it(held_back):
    home, _, _, _ = held_back
    before = ingest_partition(READINGS, DAY, home, append=True)
    device, metric, at, value = _resend_first_reading(home)

    log = ingest_partition(READINGS, DAY, home, append=True)
    # Its key is in the partition: the newest-version rule needs every file, so all are read.
    assert log["mode"] == "full"
    assert log["rows_written"] == before["rows_written"]
    assert log["duplicates_dropped"] == before["duplicates_dropped"] + 1
    with duckdb.connect() as con:
        values = con.execute(
            "select value from read_parquet(?) where device_id = ? and metric = ? "
            "and reading_at = ?",
            [str(home.raw_partition(READINGS.table, DAY) / lake.PART_GLOB), device, metric, at],
        ).fetchall()
    assert values == [(value,)]


def test_a_part_left_by_a_crash_before_its_record_makes_the_next_ingestion_whole(held_back):
    home, held, _, _ = held_back
    raw = home.raw_partition(READINGS.table, DAY)
    ingest_partition(READINGS, DAY, home, append=True)
    _land(home, held[:1])
    appended = ingest_partition(READINGS, DAY, home, append=True)
    assert appended["mode"] == "append"
    rows = _content(raw)
    # A crash after publishing a part and before recording it: the record lists fewer parts.
    record = home.ingestion_log / READINGS.table / f"dt={DAY}.json"
    stray = raw / lake.part_name(7)
    shutil.copy(raw / appended["parts"][-1], stray)
    _land(home, held[1:2])

    log = ingest_partition(READINGS, DAY, home, append=True)
    assert log["mode"] == "full" and not stray.exists()
    assert lake.parts(raw) == [lake.PART_FILE]
    assert read_log(home, READINGS.table, DAY)["rows_written"] > appended["rows_written"]
    assert _content(raw) != rows and record.exists()
