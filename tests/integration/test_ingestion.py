"""The ingestion guarantees on generated data: real files, real DuckDB, real Parquet."""

import csv
import datetime as dt
import io
import json
from collections import Counter, defaultdict

import duckdb
import pytest

from ingestion import lake
from ingestion.contract import EXACT_DUPLICATE, REASONS, SUPERSEDED_VERSION
from ingestion.hotline.contract import CONTRACT as HOTLINE
from ingestion.pipeline import ingest_partition, read_log
from ingestion.sources import BY_TABLE, CONTRACTS

pytestmark = pytest.mark.integration

PLANTED_FAULT_KINDS = {
    "malformed_record",
    "exact_duplicate",
    "superseded_version",
    "late_record",
    "out_of_range",
    "unknown_code",
    "encoding_mismatch",
    "truncated_file",
}


def _count(parquet):
    return duckdb.sql(f"select count(*) from '{parquet}'").fetchall()[0][0]


def _planted(manifest):
    planted = defaultdict(Counter)
    for fault in manifest["faults"]:
        planted[fault["table"]][fault["kind"]] += fault["count"]
    return planted


def test_the_generator_plants_every_fault_kind(small_lake):
    _, manifest, _ = small_lake
    kinds = {kind for counter in _planted(manifest).values() for kind in counter}
    assert kinds >= PLANTED_FAULT_KINDS


@pytest.mark.parametrize("table", [c.table for c in CONTRACTS])
def test_each_planted_fault_is_handled_with_the_right_reason(small_lake, table):
    _, manifest, logs = small_lake
    planted = _planted(manifest)[table]
    quarantined, duplicates, late = Counter(), Counter(), 0
    for log in logs[table].values():
        quarantined.update(log["quarantined_by_reason"])
        duplicates.update(log["duplicates_by_kind"])
        late += log["late_rows"]
    # Every quarantined row is a planted fault of that reason, and every planted one is caught:
    # clean generated records all pass their contract.
    assert dict(quarantined) == {k: n for k, n in planted.items() if k in REASONS}
    assert dict(duplicates) == {
        k: n for k, n in planted.items() if k in (EXACT_DUPLICATE, SUPERSEDED_VERSION)
    }
    assert late == planted.get("late_record", 0)


def test_rows_read_equal_written_plus_quarantined_plus_duplicates(small_lake):
    lake_paths, manifest, logs = small_lake
    for table, by_day in logs.items():
        # Every record the generator delivered was read (the XLSX file feeds two tables, so
        # compare per table).
        assert sum(log["rows_read"] for log in by_day.values()) == manifest["records"][table]
        for day, log in by_day.items():
            balance = log["rows_written"] + log["rows_quarantined"] + log["duplicates_dropped"]
            assert log["rows_read"] == balance, (table, day)
            raw = lake_paths.raw_partition(table, day) / lake.PART_FILE
            assert _count(raw) == log["rows_written"]
            quarantine = lake_paths.quarantine_partition(table, day) / lake.PART_FILE
            if log["rows_quarantined"]:
                assert _count(quarantine) == log["rows_quarantined"]
            else:
                assert not quarantine.exists()


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.table)
def test_keys_are_unique_in_every_partition(small_lake, contract):
    lake_paths, _, _ = small_lake
    key = ", ".join(contract.key)
    files = f"{lake_paths.raw}/{contract.table}/*/*.parquet"
    duplicated = duckdb.sql(
        f"select dt, {key}, count(*) from read_parquet('{files}', hive_partitioning = true) "
        "group by all having count(*) > 1"
    ).fetchall()
    assert duplicated == []


def test_quarantined_rows_keep_reason_and_raw_text(small_lake):
    lake_paths, _, _ = small_lake
    files = f"{lake_paths.quarantine}/*/*/*.parquet"
    rows = duckdb.sql(f"select reason, reason_detail, raw_record from '{files}'").fetchall()
    assert rows
    for reason, detail, raw in rows:
        assert reason in REASONS
        assert detail
        assert raw


def test_lake_is_zstd_parquet_in_hive_layout(small_lake):
    lake_paths, _, logs = small_lake
    day = min(logs["iot_readings"])
    file = lake_paths.raw / "iot_readings" / f"dt={day.isoformat()}" / "part-0.parquet"
    codecs = duckdb.sql(f"select distinct compression from parquet_metadata('{file}')").fetchall()
    assert codecs == [("ZSTD",)]
    types = dict(duckdb.sql(f"describe select * from '{file}'").fetchall()[i][:2] for i in range(4))
    assert types == {
        "device_id": "VARCHAR",
        "metric": "VARCHAR",
        "value": "DOUBLE",
        "reading_at": "TIMESTAMP",
    }


def test_rerunning_a_partition_gives_the_same_content(lake_copy):
    lake_paths, _ = lake_copy
    day = dt.date(2024, 7, 2)
    before = {
        c.table: lake.content_hash(lake_paths.raw_partition(c.table, day) / lake.PART_FILE)
        for c in CONTRACTS
    }
    for contract in CONTRACTS:
        assert ingest_partition(contract, day, lake_paths)["status"] == "skipped"
        assert ingest_partition(contract, day, lake_paths, force=True)["status"] == "ingested"
    after = {
        c.table: lake.content_hash(lake_paths.raw_partition(c.table, day) / lake.PART_FILE)
        for c in CONTRACTS
    }
    assert after == before


def test_a_crash_between_write_and_rename_leaves_the_previous_partition(lake_copy, monkeypatch):
    lake_paths, _ = lake_copy
    day = dt.date(2024, 7, 1)
    partition = lake_paths.raw_partition("hotline_orders", day) / lake.PART_FILE
    before = lake.content_hash(partition)

    def crash(source, target):
        raise OSError("disk failure injected between write and rename")

    monkeypatch.setattr(lake.os, "replace", crash)
    with pytest.raises(OSError, match="injected"):
        ingest_partition(HOTLINE, day, lake_paths, force=True)
    monkeypatch.undo()

    assert lake.content_hash(partition) == before  # still readable, still the old rows
    assert list(lake_paths.staging.glob("*")) == []  # no half-written file left behind
    runs = [
        json.loads(line)
        for line in (lake_paths.ingestion_log / "runs.jsonl").read_text().splitlines()
    ]
    assert runs[-1]["status"] == "failed" and "injected" in runs[-1]["error"]


def test_a_changed_resend_replaces_the_earlier_version_by_key(lake_copy):
    lake_paths, _ = lake_copy
    day = dt.date(2024, 7, 1)
    file = sorted(lake_paths.landing_day("hotline", day).glob("12345工单_*.csv"))[0]
    rows = list(csv.reader(io.StringIO(file.read_bytes().decode("gb18030"))))
    header, first = rows[0], rows[1]
    order_id = first[header.index("工单编号")]
    # The source re-sends the day's file with one order's 诉求内容 corrected.
    first[header.index("诉求内容")] += "（已更正）"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    file.write_bytes(buffer.getvalue().encode("gb18030"))

    before = read_log(lake_paths, "hotline_orders", day)
    log = ingest_partition(HOTLINE, day, lake_paths)
    assert log["status"] == "ingested"  # the changed file was not skipped
    assert log["rows_written"] == before["rows_written"]  # replaced, not appended
    partition = lake_paths.raw_partition("hotline_orders", day)
    contents = duckdb.sql(
        f"select content from '{partition}/*.parquet' where order_id = '{order_id}'"
    ).fetchall()
    assert len(contents) == 1 and contents[0][0].endswith("（已更正）")


def test_gb18030_chinese_text_round_trips_into_parquet(small_lake):
    lake_paths, _, _ = small_lake
    day = dt.date(2024, 7, 1)
    delivered = set()
    for file in lake_paths.landing_day("hotline", day).glob("12345工单_*.csv"):
        for row in csv.DictReader(io.StringIO(file.read_bytes().decode("gb18030"))):
            delivered.add((row["工单编号"], row["诉求内容"], row["地址"], row["所属街镇"]))
    partition = lake_paths.raw_partition("hotline_orders", day)
    lake_rows = duckdb.sql(
        f"select order_id, content, address, street_name from '{partition}/*.parquet'"
    ).fetchall()
    assert lake_rows
    # Every Chinese text in the lake is exactly as the source wrote it in GB18030.
    assert set(lake_rows) <= delivered
    assert all(street.endswith(("街道", "镇")) for *_, street in lake_rows)


def test_status_shows_every_partition_with_its_counts(small_lake):
    from typer.testing import CliRunner

    from dagster_project.cli import app

    lake_paths, manifest, logs = small_lake
    result = CliRunner().invoke(
        app, ["status", "--json"], env={"CITYOPS_HOME": str(lake_paths.home)}
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {(r["table"], r["dt"]) for r in rows} == {
        (table, day.isoformat()) for table, by_day in logs.items() for day in by_day
    }
    assert len(rows) == len(BY_TABLE) * manifest["generator"]["days"]
    for row in rows:
        log = logs[row["table"]][dt.date.fromisoformat(row["dt"])]
        assert row["status"] == "ok"
        assert row["rows_written"] == log["rows_written"]
        assert row["quarantined_by_reason"] == log["quarantined_by_reason"]
    text = CliRunner().invoke(
        app, ["status", "--table", "hotline_orders"], env={"CITYOPS_HOME": str(lake_paths.home)}
    )
    assert text.exit_code == 0
    assert "hotline_orders" in text.stdout and "encoding_mismatch" in text.stdout


def test_every_file_balances_in_the_accounting_record(small_lake):
    _, _, logs = small_lake
    for table, by_day in logs.items():
        for day, log in by_day.items():
            for entry in log["files"]:
                # Per file: read = written + quarantined + duplicates (dropped copies charged
                # to the file they came from).
                balance = (
                    entry["rows_written"] + entry["rows_quarantined"] + entry["duplicates_dropped"]
                )
                assert entry["rows_read"] == balance, (table, day, entry["path"])
                # A file without any record is never silent (the quiet licence sheets here).
                if entry["outcome"] == "empty":
                    assert entry["rows_read"] == 0 and entry["warnings"], entry
            # The partition's totals are the sums over its files.
            for total in ("rows_read", "rows_written", "rows_quarantined", "duplicates_dropped"):
                assert log[total] == sum(entry[total] for entry in log["files"]), (table, total)


def test_the_planted_truncated_and_wrongly_encoded_files_are_charged_to_their_files(small_lake):
    _, manifest, logs = small_lake
    for fault in manifest["faults"]:
        if fault["kind"] not in ("encoding_mismatch", "truncated_file"):
            continue
        log = logs[fault["table"]][dt.date.fromisoformat(fault["date"])]
        (entry,) = [entry for entry in log["files"] if entry["path"] == fault["file"]]
        assert entry["quarantined_by_reason"][fault["kind"]] == fault["count"]


def _resend_day_as(lake_paths, day, data):
    """Re-send a hotline day as one file holding ``data`` (the 补传 file withdrawn too)."""
    files = sorted(lake_paths.landing_day("hotline", day).glob("12345工单_*.csv"))
    for extra in files[1:]:
        extra.unlink()
    files[0].write_bytes(data)
    return files[0]


HOTLINE_HEADER = ",".join(f.source for f in HOTLINE.fields).encode("gb18030") + b"\n"


@pytest.mark.parametrize("data", [b"", HOTLINE_HEADER], ids=["0 bytes", "header only"])
def test_an_empty_resend_is_refused_and_the_partition_kept(lake_copy, data):
    from ingestion.pipeline import SmallerResend
    from ingestion.status import partition_status

    lake_paths, _ = lake_copy
    day = dt.date(2024, 7, 1)
    partition = lake_paths.raw_partition("hotline_orders", day) / lake.PART_FILE
    before, log_before = lake.content_hash(partition), read_log(lake_paths, "hotline_orders", day)
    _resend_day_as(lake_paths, day, data)

    with pytest.raises(SmallerResend) as refused:
        ingest_partition(HOTLINE, day, lake_paths)
    message = str(refused.value)
    assert f"replace {log_before['rows_written']:,} rows with 0" in message
    assert "12345工单_20240701.csv" in message and "no records" in message
    assert "--accept-smaller-resend" in message
    # Nothing published: the lake and the accounting record still hold the previous delivery.
    assert lake.content_hash(partition) == before
    assert read_log(lake_paths, "hotline_orders", day) == log_before
    (row,) = [r for r in partition_status(lake_paths, "hotline_orders") if r["dt"] == "2024-07-01"]
    assert (row["status"], row["blocked"]) == ("failed", "smaller_resend")
    assert "SmallerResend" in row["last_error"]

    # Confirmed, the smaller delivery replaces the partition, and the record says so.
    log = ingest_partition(HOTLINE, day, lake_paths, accept_smaller_resend=True)
    assert (log["rows_read"], log["rows_written"]) == (0, 0)
    assert log["smaller_resend_accepted"] is True
    assert log["previous_rows_written"] == log_before["rows_written"]
    assert log["withdrawn_keys"] == log_before["rows_written"]
    assert log["files"][0]["outcome"] == "empty" and log["warnings"]


def test_a_resend_keeping_more_than_half_is_ingested_and_counts_the_withdrawn_keys(lake_copy):
    lake_paths, _ = lake_copy
    day = dt.date(2024, 7, 1)
    files = sorted(lake_paths.landing_day("hotline", day).glob("12345工单_*.csv"))
    rows = list(csv.reader(io.StringIO(files[0].read_bytes().decode("gb18030"))))
    later = "".join(file.read_bytes().decode("gb18030") for file in files[1:])
    header = rows[0]
    # The source re-sends the day without one order that no later file carries either.
    dropped = next(row for row in rows[1:] if len(row) == len(header) and row[0] not in later)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(r for r in rows if r is not dropped)
    files[0].write_bytes(buffer.getvalue().encode("gb18030"))

    before = read_log(lake_paths, "hotline_orders", day)
    log = ingest_partition(HOTLINE, day, lake_paths)
    # One order fewer: 1 key withdrawn, named in the sample (informational, not "read").
    assert log["rows_written"] == before["rows_written"] - 1
    assert log["withdrawn_keys"] == 1
    assert log["withdrawn_key_sample"] == [dropped[header.index("工单编号")]]
    assert log["smaller_resend_accepted"] is False
    assert log["delivery"] == "day_feed"


def test_a_header_only_file_in_a_delivery_is_recorded_without_records(lake_copy):
    lake_paths, _ = lake_copy
    day = dt.date(2024, 7, 2)
    before = read_log(lake_paths, "hotline_orders", day)
    extra = lake_paths.landing_day("hotline", day) / "12345工单_20240702_r2.csv"
    extra.write_bytes(HOTLINE_HEADER)
    log = ingest_partition(HOTLINE, day, lake_paths)
    (entry,) = [e for e in log["files"] if e["path"].endswith("_r2.csv")]
    assert (entry["outcome"], entry["rows_read"]) == ("empty", 0)
    assert entry["warnings"] == ["header only: no records"]
    assert (
        "hotline/2024-07-02/12345工单_20240702_r2.csv: header only: no records" in log["warnings"]
    )
    assert log["rows_written"] == before["rows_written"]


def test_misnamed_day_folders_and_unmatched_files_are_reported_not_ingested(lake_copy):
    from typer.testing import CliRunner

    from dagster_project.cli import app
    from ingestion.landing import landing_days, landing_problems, problems_path

    lake_paths, _ = lake_copy
    days = landing_days(lake_paths, HOTLINE)
    landing = lake_paths.landing
    (landing / "hotline" / "20240704").mkdir()  # date.fromisoformat accepts this one
    (landing / "hotline" / "20240704" / "12345工单_20240704.csv").write_bytes(HOTLINE_HEADER)
    (landing / "hotline" / "2024-13-45").mkdir()
    (landing / "iot" / "2024-07-01" / "说明.txt").write_text("readme", encoding="utf-8")
    (landing / "parking").mkdir()

    assert landing_days(lake_paths, HOTLINE) == days  # neither folder is a delivery day
    found = {(p.path, p.kind) for p in landing_problems(lake_paths)}
    assert found == {
        ("hotline/20240704/", "not_a_day_folder"),
        ("hotline/2024-13-45/", "not_a_day_folder"),
        ("iot/2024-07-01/说明.txt", "unmatched_file"),
        ("parking/", "unknown_source"),
    }
    result = CliRunner().invoke(
        app, ["status", "--table", "hotline_orders"], env={"CITYOPS_HOME": str(lake_paths.home)}
    )
    assert result.exit_code == 0, result.output
    assert "rename it to 2024-07-04" in result.output
    assert "iot/2024-07-01/说明.txt" in result.output
    recorded = json.loads(problems_path(lake_paths).read_text(encoding="utf-8"))
    assert len(recorded["problems"]) == 4


def test_cityops_run_refuses_an_empty_resend_until_the_run_config_confirms_it(lake_copy):
    from dagster import DagsterInstance

    from dagster_project.definitions import defs
    from dagster_project.execution import run_config
    from tests.cli_runner import cityops

    lake_paths, _ = lake_copy
    day = dt.date(2024, 7, 1)
    partition = lake_paths.raw_partition("hotline_orders", day) / lake.PART_FILE
    before = lake.content_hash(partition)
    _resend_day_as(lake_paths, day, b"")

    result = cityops("run", "--start", "2024-07-01", "--end", "2024-07-01", home=lake_paths.home)
    assert result.returncode == 1, result.stdout
    assert "hotline_orders 2024-07-01 refused" in result.stderr
    assert "--accept-smaller-resend" in result.stderr
    assert "The warehouse was not rebuilt" in result.stderr
    assert lake.content_hash(partition) == before
    status = json.loads(cityops("status", "--json", home=lake_paths.home).stdout)
    (row,) = [r for r in status if (r["table"], r["dt"]) == ("hotline_orders", "2024-07-01")]
    assert (row["status"], row["blocked"]) == ("failed", "smaller_resend")

    # The flag reaches the ingestion assets as run config, the way `cityops run` passes it.
    confirmed = defs.resolve_job_def("ingest_sources").execute_in_process(
        partition_key="2024-07-01",
        instance=DagsterInstance.ephemeral(),
        run_config=run_config(lake_paths, accept_smaller_resend=True),
        raise_on_error=False,
    )
    hotline = [
        event
        for event in confirmed.get_asset_materialization_events()
        if event.asset_key.path == ["raw", "hotline_orders"]
    ]
    assert hotline, "the confirmed re-send was materialized"
    log = read_log(lake_paths, "hotline_orders", day)
    assert (log["rows_written"], log["smaller_resend_accepted"]) == (0, True)
