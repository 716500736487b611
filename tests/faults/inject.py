"""Delivery faults applied to a copy of a landing folder, as a hostile supplier or an unlucky
operator would produce them (test helper for ``tests/faults/``).

Each injector changes one landing file or folder of a generated home (3 days from 2024-07-01,
the ``built_home`` of ``tests/conftest.py``) and returns a :class:`Fault` saying which files it
touched and what the platform must make of them. Faults touch distinct files, so every file's
accounting can be checked on its own after one run.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook

HOTLINE_ENCODING = "gb18030"


@dataclass
class Fault:
    """One applied fault: its kind, the landing paths it touched, what it planted."""

    kind: str
    files: list[str]
    expect: dict = field(default_factory=dict)


def _rel(landing: Path, path: Path) -> str:
    return path.relative_to(landing).as_posix()


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _csv_text(rows: list[list[str]], newline: str = "\n") -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    return buffer.getvalue()


def _readings(landing: Path, day: str, hour: int) -> Path:
    """The first 5-minute readings batch of ``hour`` (it holds the hour's hourly readings)."""
    return landing / "iot" / day / f"readings_{day.replace('-', '')}{hour:02d}00.csv.gz"


def _gz_rows(path: Path) -> list[list[str]]:
    return _csv_rows(gzip.decompress(path.read_bytes()).decode("utf-8"))


def _write_gz(path: Path, text: str) -> None:
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))


def _hotline_main(landing: Path, day: str) -> Path:
    return landing / "hotline" / day / f"12345工单_{day.replace('-', '')}.csv"


def _read_hotline(path: Path) -> list[list[str]]:
    return _csv_rows(path.read_bytes().decode(HOTLINE_ENCODING))


def _write_hotline(path: Path, rows: list[list[str]], encoding: str = HOTLINE_ENCODING) -> None:
    path.write_bytes(_csv_text(rows).encode(encoding))


# --------------------------------------------------------------------------- new kinds (#22)


def withdrawn_record(landing: Path) -> Fault:
    """A corrected re-send of the hotline day 07-02 that no longer lists one order.

    The order chosen has versions on 07-02 only, so after the re-send no version of it is
    left anywhere: it must vanish from every table, not only from the lake.
    """
    day = "2024-07-02"
    others: set[str] = set()
    for other in ("2024-07-01", "2024-07-03"):
        for path in sorted((landing / "hotline" / other).glob("*.csv")):
            others.update(row[0] for row in _read_hotline(path)[1:] if row)
    files = sorted((landing / "hotline" / day).glob("*.csv"))
    candidates = [row[0] for row in _read_hotline(files[0])[1:] if row and row[0] not in others]
    withdrawn = sorted(candidates)[0]
    for path in files:
        rows = _read_hotline(path)
        _write_hotline(path, [row for row in rows if not row or row[0] != withdrawn])
    return Fault("withdrawn_record", [_rel(landing, p) for p in files], {"order_id": withdrawn})


def gzip_that_is_plain_csv(landing: Path) -> Fault:
    """A readings batch named ``.csv.gz`` whose bytes are plain CSV."""
    path = _readings(landing, "2024-07-02", 5)
    rows = _gz_rows(path)
    path.write_bytes(_csv_text(rows).encode("utf-8"))
    return Fault("gzip_that_is_plain_csv", [_rel(landing, path)], {"records": len(rows) - 1})


def gzip_cut_after_20_bytes(landing: Path) -> Fault:
    """A readings batch cut after 20 bytes: not even the header decompresses."""
    path = _readings(landing, "2024-07-02", 6)
    path.write_bytes(path.read_bytes()[:20])
    return Fault("gzip_cut_after_20_bytes", [_rel(landing, path)])


def empty_resend(landing: Path) -> Fault:
    """The grid day 07-02 re-sent as 0-byte files: a day that had data now says nothing."""
    files = sorted((landing / "grid" / "2024-07-02").glob("*.jsonl"))
    for path in files:
        path.write_bytes(b"")
    return Fault("empty_resend", [_rel(landing, p) for p in files], {"table": "grid_cases"})


def header_only_resend(landing: Path) -> Fault:
    """The enterprise workbook of 07-03 re-sent with its headers and no record.

    (Not a feed behind the vital signs: an accepted empty day of business-district flows
    leaves the street-level 客流 indicators without rows, which blocks the publish.)
    """
    (path,) = (landing / "business" / "2024-07-03").glob("企业登记_*.xlsx")
    workbook = load_workbook(path)
    for sheet in workbook.worksheets:
        if sheet.max_row > 1:
            sheet.delete_rows(2, sheet.max_row - 1)
    workbook.save(path)
    return Fault("header_only_resend", [_rel(landing, path)], {"table": "enterprises"})


# Personal data in the forms the scrubber missed, each in a hotline order's free text.
PII_FORMS = (
    "回电+8613812345678",
    "手机１３９１２３４５６７８",
    "电话139 1234 5678",
    "电话139-1234-5678",
    "身份证110105 19491231 002X",
    "证件号１１０１０５１９４９１２３１００２Ｘ",
    "车牌沪A12345违停",
    "新能源车沪AD12345占位",
)


def personal_data_in_free_text(landing: Path) -> Fault:
    """Phones, ID numbers and plates in unusual forms in 诉求内容 and 退单原因 (07-03)."""
    path = _hotline_main(landing, "2024-07-03")
    rows = _read_hotline(path)
    header = rows[0]
    content, reason = header.index("诉求内容"), header.index("退单原因")
    orders = []
    for row, form in zip(rows[1:], PII_FORMS, strict=False):
        row[content] = f"{row[content]}{form}"
        orders.append(row[0])
    # One 退单原因 with a phone number stopped the whole district's publish (#22 item 10).
    rows[len(PII_FORMS) + 1][reason] = "联系人13912345678不在家，退回"
    orders.append(rows[len(PII_FORMS) + 1][0])
    _write_hotline(path, rows)
    return Fault("personal_data_in_free_text", [_rel(landing, path)], {"order_ids": orders})


def formula_and_sql_text(landing: Path) -> Fault:
    """A spreadsheet formula and SQL in two grid cases' descriptions (07-01): stored as text."""
    (path,) = (landing / "grid" / "2024-07-01").glob("*.jsonl")
    lines = path.read_text(encoding="utf-8").split("\n")
    texts = {}
    for number, text in ((1, '=HYPERLINK("http://x.invalid","点击")'), (2, "'; drop table x; --")):
        record = json.loads(lines[number])
        record["description"] = text
        texts[record["caseId"]] = text
        lines[number] = json.dumps(record, ensure_ascii=False)
    path.write_text("\n".join(lines), encoding="utf-8")
    return Fault("formula_and_sql_text", [_rel(landing, path)], {"texts": texts})


def one_bad_byte(landing: Path) -> Fault:
    """One 0xFF byte inside the second record of the GB18030 hotline file of 07-01."""
    path = _hotline_main(landing, "2024-07-01")
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2][:10] + b"\xff" + lines[2][10:]
    path.write_bytes(b"\n".join(lines))
    return Fault("one_bad_byte", [_rel(landing, path)], {"line": 3})


def misnamed_day_folders(landing: Path) -> Fault:
    """Day folders named ``20240704`` and ``2024-13-45``, each with a copy of a real file."""
    source = _hotline_main(landing, "2024-07-01")
    planted = []
    for name in ("20240704", "2024-13-45"):
        folder = landing / "hotline" / name
        folder.mkdir()
        target = folder / source.name
        shutil.copyfile(source, target)
        planted.append(_rel(landing, target))
    return Fault("misnamed_day_folders", planted)


def xlsx_with_renamed_sheet(landing: Path) -> Fault:
    """The enterprise workbook of 07-02 with its 企业登记 sheet renamed, five records in it.

    Copies of the sheet's last record bring it to five, so a reader that counts a missing
    sheet as one record is caught.
    """
    (path,) = (landing / "business" / "2024-07-02").glob("企业登记_*.xlsx")
    workbook = load_workbook(path)
    sheet = workbook["企业登记"]
    last = [cell.value for cell in sheet[sheet.max_row]]
    while sheet.max_row < 6:
        sheet.append(last)
    sheet.title = "企业登记（更正）"
    workbook.save(path)
    return Fault("xlsx_with_renamed_sheet", [_rel(landing, path)], {"records": 5})


def cr_only_line_endings(landing: Path) -> Fault:
    """A readings batch whose lines end with a bare CR (an old spreadsheet export)."""
    path = _readings(landing, "2024-07-03", 7)
    rows = _gz_rows(path)
    _write_gz(path, _csv_text(rows, newline="\r"))
    return Fault("cr_only_line_endings", [_rel(landing, path)], {"records": len(rows) - 1})


def duplicated_header_column(landing: Path) -> Fault:
    """A readings batch whose header names ``value`` twice."""
    path = _readings(landing, "2024-07-03", 8)
    rows = _gz_rows(path)
    rows = [[*row, row[2]] for row in rows]
    _write_gz(path, _csv_text(rows))
    return Fault("duplicated_header_column", [_rel(landing, path)], {"records": len(rows) - 1})


# --------------------------------------------------------------------------- kinds handled before


def wrong_encoding(landing: Path) -> Fault:
    """An extra hotline file of 07-03 in UTF-8 where 12345 sends GB18030."""
    source = _hotline_main(landing, "2024-07-03")
    rows = _read_hotline(source)[:4]
    target = source.with_name(source.stem + "_补传9.csv")
    _write_hotline(target, rows, encoding="utf-8")
    return Fault("wrong_encoding", [_rel(landing, target)], {"records": len(rows) - 1})


def truncated_gzip(landing: Path) -> Fault:
    """A readings batch whose gzip stream is cut in the middle."""
    path = _readings(landing, "2024-07-02", 9)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return Fault("truncated_gzip", [_rel(landing, path)])


def missing_column(landing: Path) -> Fault:
    """A readings batch without its required ``value`` column."""
    path = _readings(landing, "2024-07-02", 10)
    rows = _gz_rows(path)
    _write_gz(path, _csv_text([row[:2] + row[3:] for row in rows]))
    return Fault("missing_column", [_rel(landing, path)], {"records": len(rows) - 1})


def extra_column(landing: Path) -> Fault:
    """A readings batch with a column the contract does not know."""
    path = _readings(landing, "2024-07-02", 11)
    rows = _gz_rows(path)
    rows = [[*rows[0], "备注"], *([*row, "x"] for row in rows[1:])]
    _write_gz(path, _csv_text(rows))
    return Fault("extra_column", [_rel(landing, path)], {"records": len(rows) - 1})


def byte_order_mark(landing: Path) -> Fault:
    """The business-district flows of 07-01 with a UTF-8 BOM."""
    (path,) = (landing / "business" / "2024-07-01").glob("商圈客流_*.csv")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    return Fault("byte_order_mark", [_rel(landing, path)])


def crlf_line_endings(landing: Path) -> Fault:
    """The market prices of 07-02 with CRLF line endings."""
    (path,) = (landing / "business" / "2024-07-02").glob("菜价_*.csv")
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    return Fault("crlf_line_endings", [_rel(landing, path)])


def broken_json_line(landing: Path) -> Fault:
    """One grid case line of 07-03 that is not valid JSON."""
    (path, *_) = sorted((landing / "grid" / "2024-07-03").glob("*.jsonl"))
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[1] = lines[1][:-1] + ",}"
    path.write_text("\n".join(lines), encoding="utf-8")
    return Fault("broken_json_line", [_rel(landing, path)], {"line": 2})


def future_dates(landing: Path) -> Fault:
    """A readings batch with one reading stamped a year after its delivery."""
    path = _readings(landing, "2024-07-03", 12)
    rows = _gz_rows(path)
    stamp = dt.datetime.fromisoformat(rows[1][3]) + dt.timedelta(days=365)
    rows[1][3] = stamp.isoformat(sep=" ")
    _write_gz(path, _csv_text(rows))
    return Fault("future_dates", [_rel(landing, path)], {"records": len(rows) - 1})


INJECTORS: tuple[Callable[[Path], Fault], ...] = (
    withdrawn_record,
    gzip_that_is_plain_csv,
    gzip_cut_after_20_bytes,
    empty_resend,
    header_only_resend,
    personal_data_in_free_text,
    formula_and_sql_text,
    one_bad_byte,
    misnamed_day_folders,
    xlsx_with_renamed_sheet,
    cr_only_line_endings,
    duplicated_header_column,
    wrong_encoding,
    truncated_gzip,
    missing_column,
    extra_column,
    byte_order_mark,
    crlf_line_endings,
    broken_json_line,
    future_dates,
)


def inject_all(landing: Path) -> dict[str, Fault]:
    """Apply every fault kind to ``landing``; the faults by kind."""
    faults = [inject(landing) for inject in INJECTORS]
    touched = [name for fault in faults for name in fault.files]
    assert len(touched) == len(set(touched)), "two faults touched the same file"
    return {fault.kind: fault for fault in faults}


def manifest_files(landing: Path) -> list[str]:
    """Every delivered file under ``landing`` (the generator's manifest excluded)."""
    return sorted(
        _rel(landing, path)
        for path in landing.rglob("*")
        if path.is_file() and path.name != "_manifest.json"
    )
