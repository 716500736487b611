"""Readers on small real files: encodings, truncation, malformed records, XLSX and nested JSON."""

import csv
import datetime as dt
import gzip
import io
import json

import pytest
from openpyxl import Workbook

from ingestion.business.contract import ENTERPRISES
from ingestion.grid.contract import CONTRACT as GRID
from ingestion.hotline.contract import CONTRACT as HOTLINE
from ingestion.iot.contract import READINGS
from ingestion.read import read_file
from ingestion.weather.contract import CONTRACT as WEATHER

RARE = "彭浦镇共康路𠮷祥里3弄12号"  # 𠮷 is a four-byte GB18030 character


def _hotline_csv(rows, encoding="gb18030"):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([f.source for f in HOTLINE.fields])
    for row in rows:
        writer.writerow([row.get(f.source, "") for f in HOTLINE.fields])
    return buffer.getvalue().encode(encoding)


ORDER = {"工单编号": "JA20240701000001", "诉求内容": "积水严重，电话13812345678", "地址": RARE}


def test_gb18030_chinese_text_round_trips(tmp_path):
    path = tmp_path / "12345工单_20240701.csv"
    path.write_bytes(_hotline_csv([ORDER]))
    result = read_file(path, HOTLINE, path.name)
    assert result.rejects == []
    row = result.records.to_pylist()[0]
    assert row["address"] == RARE
    assert row["content"] == "积水严重，电话13812345678"


def test_a_utf8_file_declared_gb18030_is_an_encoding_mismatch(tmp_path):
    path = tmp_path / "12345工单_20240702.csv"
    path.write_bytes(_hotline_csv([ORDER, {**ORDER, "工单编号": "JA20240701000002"}], "utf-8"))
    result = read_file(path, HOTLINE, path.name)
    assert result.records.num_rows == 0
    assert [r.reason for r in result.rejects] == ["encoding_mismatch"] * 2
    assert "declared gb18030, file is utf-8" in result.rejects[0].detail
    assert RARE in result.rejects[0].raw_record  # raw text kept readable


def test_a_file_missing_required_columns_is_a_schema_mismatch(tmp_path):
    path = tmp_path / "12345工单_20240703.csv"
    path.write_bytes("工单编号,地址\nJA20240701000001,江宁路1号\n".encode("gb18030"))
    result = read_file(path, HOTLINE, path.name)
    assert [r.reason for r in result.rejects] == ["schema_mismatch"]
    assert "受理时间" in result.rejects[0].detail


def test_a_csv_cut_mid_record_quarantines_only_the_cut_record(tmp_path):
    path = tmp_path / "12345工单_20240704.csv"
    data = _hotline_csv([ORDER, {**ORDER, "工单编号": "JA20240701000002"}])
    path.write_bytes(data[:-25])  # cut inside the second record, no trailing newline
    result = read_file(path, HOTLINE, path.name)
    assert result.records.num_rows == 1
    assert [r.reason for r in result.rejects] == ["truncated_file"]
    assert result.rejects[0].source_line == 3


def test_jsonl_bad_lines_and_a_cut_tail_are_rejected_with_their_text(tmp_path):
    good = json.dumps({"caseId": "WG20240701000001", "gridCode": "JA006-01"}, ensure_ascii=False)
    path = tmp_path / "cases_20240701.jsonl"
    path.write_text(f'{good}\n{{"caseId": "WG2024\n{good[:30]}', encoding="utf-8")
    result = read_file(path, GRID, path.name)
    assert result.records.num_rows == 1
    assert [(r.reason, r.source_line) for r in result.rejects] == [
        ("malformed_record", 2),
        ("truncated_file", 3),
    ]
    assert result.rejects[1].raw_record == good[:30]


def test_a_truncated_gzip_keeps_what_decompresses(tmp_path):
    lines = "device_id,metric,value,reading_time\n" + "".join(
        f"SD{i:06d},temperature_c,26.5,2024-07-01 10:00:00\n" for i in range(2000)
    )
    data = gzip.compress(lines.encode(), mtime=0)
    path = tmp_path / "readings_2024070110.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    result = read_file(path, READINGS, path.name)
    assert 0 < result.records.num_rows < 2000
    assert result.warnings and "gzip stream ends" in result.warnings[0]
    assert all(r.reason == "truncated_file" for r in result.rejects)


def test_csv_rows_with_the_wrong_field_count_are_malformed(tmp_path):
    path = tmp_path / "readings_2024070111.csv.gz"
    text = (
        "device_id,metric,value,reading_time\n"
        "SD000001,temperature_c,26.5,2024-07-01 11:00:00\n"
        "SD000002,temperature_c\n"
        "SD000003,temperature_c,26.5,2024-07-01 11:00:00,extra\n"
    )
    path.write_bytes(gzip.compress(text.encode(), mtime=0))
    result = read_file(path, READINGS, path.name)
    assert result.records.num_rows == 1
    assert [(r.reason, r.source_line) for r in result.rejects] == [
        ("malformed_record", 3),
        ("malformed_record", 4),
    ]


def test_xlsx_cells_become_text_with_iso_dates(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "企业登记"
    sheet.append([f.source for f in ENTERPRISES.fields])
    values = {
        "统一社会信用代码": "91310106MA1FL4XY2B",
        "企业名称": "上海静安示例有限公司",
        "注册资本(万元)": 100,
        "成立日期": dt.datetime(2020, 5, 6),
    }
    sheet.append([values.get(f.source) for f in ENTERPRISES.fields])
    path = tmp_path / "企业登记_20240701.xlsx"
    workbook.save(path)
    result = read_file(path, ENTERPRISES, path.name)
    row = result.records.to_pylist()[0]
    assert row["established_date"] == "2020-05-06"
    assert row["registered_capital_10k_yuan"] == "100"
    assert row["enterprise_name"] == "上海静安示例有限公司"


def test_nested_weather_json_is_flattened_per_station_and_hour(tmp_path):
    document = {
        "timezone": "Asia/Shanghai",
        "stations": [
            {
                "stationId": "A3601",
                "stationName": "静安",
                "hourly": [
                    {"time": "2024-07-01 00:00:00", "temperature": 27.1},
                    {"time": "2024-07-01 01:00:00", "temperature": 26.8},
                ],
            },
            {
                "stationId": "A3602",
                "stationName": "大宁",
                "hourly": [{"time": "2024-07-01 00:00:00", "temperature": 27.4}],
            },
        ],
    }
    path = tmp_path / "weather_20240701.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    rows = read_file(path, WEATHER, path.name).records.to_pylist()
    assert [(r["station_id"], r["temperature_c"]) for r in rows] == [
        ("A3601", "27.1"),
        ("A3601", "26.8"),
        ("A3602", "27.4"),
    ]


READINGS_HEADER = "device_id,metric,value,reading_time\n"


def _readings(n):
    return READINGS_HEADER + "".join(
        f"SD{i:06d},temperature_c,26.5,2024-07-01 10:00:00\n" for i in range(n)
    )


def test_a_gz_file_that_is_plain_csv_is_read_with_a_warning(tmp_path):
    path = tmp_path / "readings_2024070112.csv.gz"
    path.write_bytes(_readings(3).encode())  # named .gz, never compressed
    result = read_file(path, READINGS, path.name)
    assert result.records.num_rows == 3  # all three readings, none lost
    assert result.rejects == []
    assert result.warnings == ["named .gz but not gzip-compressed: read as the plain file it is"]


def test_a_gzip_stream_cut_before_its_first_record_is_quarantined_as_truncated(tmp_path):
    path = tmp_path / "readings_2024070113.csv.gz"
    path.write_bytes(gzip.compress(_readings(100).encode(), mtime=0)[:20])  # 20 bytes survive
    result = read_file(path, READINGS, path.name)
    # No record decompresses: one quarantine row for the whole file says so.
    assert result.records.num_rows == 0
    assert [r.reason for r in result.rejects] == ["truncated_file"]
    assert "no record survives" in result.rejects[0].detail
    assert result.rows_read == 1 and result.outcome == "quarantined"
    assert any("gzip stream ends" in warning for warning in result.warnings)


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("readings_2024070114.csv.gz", b"", "empty file (0 bytes)"),
        ("readings_2024070115.csv.gz", gzip.compress(READINGS_HEADER.encode()), "header only"),
        ("readings_2024070116.csv.gz", READINGS_HEADER.strip().encode(), "header only"),
    ],
    ids=["0 bytes", "header only", "header without newline"],
)
def test_a_file_without_records_says_so(tmp_path, name, data, why):
    path = tmp_path / name
    path.write_bytes(data)
    result = read_file(path, READINGS, path.name)
    assert result.rows_read == 0 and result.outcome == "empty"
    assert any(warning.startswith(why) for warning in result.warnings), result.warnings


def test_a_bad_byte_quarantines_only_its_line_as_an_encoding_mismatch(tmp_path):
    orders = [{**ORDER, "工单编号": f"JA2024070100000{n}"} for n in range(1, 4)]
    lines = _hotline_csv(orders).split(b"\n")
    # One 0xFF byte in the second order (line 3): no encoding decodes the whole file.
    lines[2] = lines[2].replace("积水".encode("gb18030"), b"\xff" + "水".encode("gb18030"))
    path = tmp_path / "12345工单_20240705.csv"
    path.write_bytes(b"\n".join(lines))
    result = read_file(path, HOTLINE, path.name)
    # Orders 1 and 3 are read; order 2 is quarantined at its line, its text kept escaped.
    assert [r["order_id"] for r in result.records.to_pylist()] == [
        "JA20240701000001",
        "JA20240701000003",
    ]
    ((reject),) = result.rejects
    assert (reject.reason, reject.source_line) == ("encoding_mismatch", 3)
    assert "not valid gb18030" in reject.detail
    assert "\\xff水严重" in reject.raw_record and RARE in reject.raw_record  # not mojibake


def test_jsonl_lines_that_do_not_decode_are_encoding_mismatches_at_their_line(tmp_path):
    good = json.dumps({"caseId": "WG20240701000001", "desc": "积水"}, ensure_ascii=False)
    bad = good.encode().replace("积".encode(), b"\xff")
    path = tmp_path / "cases_20240702.jsonl"
    path.write_bytes(good.encode() + b"\n" + bad + b"\n" + good.encode() + b"\n")
    result = read_file(path, GRID, path.name)
    assert result.records.num_rows == 2
    assert [(r.reason, r.source_line) for r in result.rejects] == [("encoding_mismatch", 2)]
    assert "\\xff" in result.rejects[0].raw_record


def test_cr_only_line_endings_are_read(tmp_path):
    path = tmp_path / "12345工单_20240706.csv"
    orders = [ORDER, {**ORDER, "工单编号": "JA20240701000002"}]
    path.write_bytes(_hotline_csv(orders).replace(b"\n", b"\r"))  # an old Mac/Excel export
    result = read_file(path, HOTLINE, path.name)
    assert result.rejects == []
    assert [r["address"] for r in result.records.to_pylist()] == [RARE, RARE]


def test_a_repeated_contract_column_rejects_the_file_with_its_name(tmp_path):
    header = [f.source for f in HOTLINE.fields] + ["工单编号"]
    row = ["JA20240701000001"] * len(header)
    text = ",".join(header) + "\n" + ",".join(row) + "\n" + ",".join(row) + "\n"
    path = tmp_path / "12345工单_20240707.csv"
    path.write_bytes(text.encode("gb18030"))
    result = read_file(path, HOTLINE, path.name)
    # Which 工单编号 holds the order is ambiguous: both records are quarantined, not guessed.
    assert result.records.num_rows == 0
    assert [(r.reason, r.source_line) for r in result.rejects] == [
        ("schema_mismatch", 2),
        ("schema_mismatch", 3),
    ]
    assert "工单编号" in result.rejects[0].detail and "more than once" in result.rejects[0].detail


def test_a_repeated_column_outside_the_contract_is_read_and_noted(tmp_path):
    header = [f.source for f in HOTLINE.fields] + ["备注", "备注"]
    row = [ORDER.get(source, "") for source in header[:-2]] + ["a", "b"]
    path = tmp_path / "12345工单_20240708.csv"
    path.write_bytes((",".join(header) + "\n" + ",".join(row) + "\n").encode("gb18030"))
    result = read_file(path, HOTLINE, path.name)
    assert result.records.num_rows == 1 and result.rejects == []
    assert result.warnings == ["columns not in the contract, not loaded: 备注"]


def test_a_renamed_sheet_quarantines_every_row_and_names_the_sheets_found(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"  # the source renamed 企业登记
    sheet.append([f.source for f in ENTERPRISES.fields])
    for n in range(3):
        sheet.append([f"9131010600000000{n}X"] + [None] * (len(ENTERPRISES.fields) - 1))
    workbook.create_sheet("许可证").append(["许可证编号"])
    path = tmp_path / "企业登记_20240702.xlsx"
    workbook.save(path)
    result = read_file(path, ENTERPRISES, path.name)
    # Each of the 3 rows is counted and quarantined at its row, not 1 row for the file.
    assert [(r.reason, r.source_line) for r in result.rejects] == [
        ("schema_mismatch", 2),
        ("schema_mismatch", 3),
        ("schema_mismatch", 4),
    ]
    assert "sheet '企业登记' missing (sheets: Sheet1, 许可证)" in result.rejects[0].detail
    assert result.records.num_rows == 0


def test_a_damaged_file_mostly_in_another_encoding_is_a_whole_file_mismatch_without_mojibake(
    tmp_path,
):
    orders = [{**ORDER, "工单编号": f"JA2024070100000{n}"} for n in range(1, 4)]
    lines = _hotline_csv(orders, "utf-8").split(b"\n")
    lines[2] = lines[2].replace("积水".encode(), b"\xff" + "水".encode())  # one bad byte
    path = tmp_path / "12345工单_20240709.csv"
    path.write_bytes(b"\n".join(lines))
    result = read_file(path, HOTLINE, path.name)
    # Neither GB18030 (declared) nor UTF-8 decodes every line; UTF-8 decodes the most, so the
    # file is UTF-8: all 3 orders are encoding mismatches, their text readable, not mojibake.
    assert result.records.num_rows == 0
    assert [(r.reason, r.source_line) for r in result.rejects] == [
        ("encoding_mismatch", 2),
        ("encoding_mismatch", 3),
        ("encoding_mismatch", 4),
    ]
    assert "declared gb18030, file is utf-8 (1 line(s)" in result.rejects[0].detail
    assert RARE in result.rejects[0].raw_record and "\\xff水严重" in result.rejects[1].raw_record
