"""Write the catalogue as xlsx, CSV, JSON or DCAT, and read exports back.

Every format is written from the JSON document (:func:`catalog.model.to_document`) of a
catalogue filtered by grade, and :func:`read_export` returns that document again from a JSON
or xlsx export (or a CSV folder), so exports of any format compare as plain dictionaries
(``cityops catalog diff``, the round-trip test).

Grade filter: :func:`filter_catalogue` keeps the resources at or below ``max_grade``, and in
them the items at or below it. 核心 and 重要 data never leave in any export, whatever
``max_grade`` says: every export is treated as external.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from catalog.model import SCHEMA_VERSION, Catalogue, to_document
from catalog.standard import DATA_TYPES, EXPORTABLE_GRADES, GRADES, is_exportable
from catalog.text import display_width
from ingestion.files import atomic_path

FORMATS = ("xlsx", "csv", "json", "dcat")
SUFFIXES = {"xlsx": ".xlsx", "json": ".json", "dcat": ".jsonld", "csv": ""}
LIST_SEPARATOR = "；"
DEFAULT_MAX_GRADE = EXPORTABLE_GRADES[0]
BEIJING = ZoneInfo("Asia/Shanghai")


class ExportError(ValueError):
    """An export was asked for something it must not or cannot do."""


def filter_catalogue(catalogue: Catalogue, max_grade: str) -> tuple[Catalogue, list[str]]:
    """Resources and items at or below ``max_grade``; also the tables left out.

    Raises :class:`ExportError` when ``max_grade`` is 核心 or 重要 (or unknown): those never
    appear in an export. Related codes pointing at a withheld resource are dropped too, so
    an export names nothing it does not contain.
    """
    if max_grade not in GRADES:
        raise ExportError(f"--max-grade {max_grade!r} is not one of {', '.join(EXPORTABLE_GRADES)}")
    if max_grade not in EXPORTABLE_GRADES:
        raise ExportError(
            f"--max-grade {max_grade}: 核心数据 and 重要数据 never appear in an export "
            f"(GB/T 43697-2024); the highest allowed is {EXPORTABLE_GRADES[0]}"
        )
    kept, withheld = [], []
    for resource in catalogue.resources:
        if not is_exportable(resource.grade, max_grade):
            withheld.append(resource.table)
            continue
        items = tuple(item for item in resource.items if is_exportable(item.grade, max_grade))
        kept.append(replace(resource, items=items))
    codes = {resource.code for resource in kept}
    kept = [
        replace(resource, related_codes=tuple(c for c in resource.related_codes if c in codes))
        for resource in kept
    ]
    return replace(catalogue, resources=tuple(kept)), withheld


def document_for(
    catalogue: Catalogue, max_grade: str = DEFAULT_MAX_GRADE, exported_at: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The JSON document of the filtered catalogue, and the tables withheld."""
    filtered, withheld = filter_catalogue(catalogue, max_grade)
    # The export's own time (导出时间), in Beijing time like every date of the catalogue; the
    # catalogue's dates (发布日期, 数据截至) come from the data, not from this clock.
    stamp = exported_at or dt.datetime.now(BEIJING).replace(microsecond=0).isoformat()
    return to_document(filtered, max_grade=max_grade, exported_at=stamp), withheld


def export(
    catalogue: Catalogue,
    fmt: str,
    out: str | Path,
    *,
    max_grade: str = DEFAULT_MAX_GRADE,
    exported_at: str | None = None,
) -> tuple[list[Path], list[str]]:
    """Write one format to ``out``; returns the files written and the tables withheld.

    ``out`` is a file for xlsx, json and dcat, and a folder for csv (``resources.csv`` and
    ``items.csv``).
    """
    if fmt not in FORMATS:
        raise ExportError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    document, withheld = document_for(catalogue, max_grade, exported_at)
    return write_document(document, fmt, Path(out)), withheld


def write_document(document: Mapping[str, Any], fmt: str, out: Path) -> list[Path]:
    """Write an already filtered document in one format."""
    _refuse_unexportable(document)
    if fmt == "json":
        return [write_json(document, out)]
    if fmt == "xlsx":
        return [write_xlsx(document, out)]
    if fmt == "csv":
        return write_csv(document, out)
    if fmt == "dcat":
        from catalog.dcat import write_dcat

        return [write_dcat(document, out)]
    raise ExportError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")


def _refuse_unexportable(document: Mapping[str, Any]) -> None:
    """The last guard before a file is written: no 核心/重要 resource or item, ever."""
    found = []
    for resource in document["resources"]:
        if resource["grade"] not in EXPORTABLE_GRADES:
            found.append(f"{resource['table']} ({resource['grade']})")
        for item in resource["items"]:
            if item["grade"] not in EXPORTABLE_GRADES:
                found.append(f"{resource['table']}.{item['column']} ({item['grade']})")
    if found:
        raise ExportError(f"refusing to export 核心/重要 data: {', '.join(found)}")


def write_json(document: Mapping[str, Any], path: Path) -> Path:
    """The JSON export (UTF-8, Chinese kept readable)."""
    with atomic_path(path) as temporary:
        temporary.write_text(
            json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    return path


# Table layout shared by xlsx and CSV ------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of the 资源 or 信息项 table: header group, label, and how to get/put it."""

    group: str | None
    label: str
    get: Callable[[Mapping[str, Any], int], Any]
    put: Callable[[dict[str, Any], Any], None] | None = None
    text: bool = True
    width: int = 12


def _path_get(*keys: str) -> Callable[[Mapping[str, Any], int], Any]:
    def get(data: Mapping[str, Any], _: int) -> Any:
        value: Any = data
        for key in keys:
            value = value[key]
        return value

    return get


def _path_put(*keys: str, kind: str = "text") -> Callable[[dict[str, Any], Any], None]:
    def put(data: dict[str, Any], value: Any) -> None:
        target = data
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = _parse(value, kind)

    return put


def _parse(value: Any, kind: str) -> Any:
    text = "" if value is None else str(value)
    if kind == "list":
        return [part for part in text.split(LIST_SEPARATOR) if part]
    if kind == "int":
        return int(text) if text else None
    if kind == "code":
        code, _, name = text.partition(" ")
        return {"code": code, "name": name}
    if kind == "letter":
        return text[-1:] if text else ""
    return text if text else None


def _code_cell(*keys: str) -> Callable[[Mapping[str, Any], int], str]:
    get = _path_get(*keys)

    def cell(data: Mapping[str, Any], row: int) -> str:
        level = get(data, row)
        return f"{level['code']} {level['name']}"

    return cell


def _list_cell(key: str) -> Callable[[Mapping[str, Any], int], str]:
    return lambda data, _: LIST_SEPARATOR.join(data[key])


# Widths in characters of the default font (a Chinese character takes two): A4 landscape
# fitted to one page wide prints the 资源 sheet at about 40 % and the 信息项 sheet at about
# 70 %, so columns are narrow and text wraps; row heights follow the text (_row_height).
RESOURCE_COLUMNS: tuple[Column, ...] = (
    Column(None, "编号", lambda _, row: row, text=False, width=5),
    Column(
        "信息资源分类",
        "类",
        _code_cell("classification", "kind"),
        _path_put("classification", "kind", kind="code"),
        width=10,
    ),
    Column(
        "信息资源分类",
        "项",
        _code_cell("classification", "theme"),
        _path_put("classification", "theme", kind="code"),
        width=10,
    ),
    Column(
        "信息资源分类",
        "目",
        _code_cell("classification", "element"),
        _path_put("classification", "element", kind="code"),
        width=8,
    ),
    Column(
        "信息资源分类",
        "细目",
        _code_cell("classification", "layer"),
        _path_put("classification", "layer", kind="code"),
        width=8,
    ),
    Column(None, "信息资源名称", _path_get("name"), _path_put("name"), width=16),
    Column(None, "信息资源代码", _path_get("code"), _path_put("code"), width=14),
    Column(None, "信息资源提供方", _path_get("provider"), _path_put("provider"), width=10),
    Column(
        None,
        "信息资源提供方代码",
        _path_get("provider_code"),
        _path_put("provider_code"),
        width=8,
    ),
    Column(None, "信息资源摘要", _path_get("abstract"), _path_put("abstract"), width=40),
    Column(
        "信息资源格式",
        "格式分类",
        _path_get("format", "class"),
        _path_put("format", "class"),
        width=8,
    ),
    Column(
        "信息资源格式",
        "格式类型",
        _path_get("format", "type"),
        _path_put("format", "type"),
        width=10,
    ),
    Column(
        "共享属性", "共享类型", _path_get("share", "type"), _path_put("share", "type"), width=10
    ),
    Column(
        "共享属性",
        "共享条件",
        _path_get("share", "condition"),
        _path_put("share", "condition"),
        width=20,
    ),
    Column(
        "共享属性",
        "共享方式分类",
        _path_get("share", "method_class"),
        _path_put("share", "method_class"),
        width=8,
    ),
    Column(
        "共享属性",
        "共享方式类型",
        _path_get("share", "method_type"),
        _path_put("share", "method_type"),
        width=8,
    ),
    Column("开放属性", "开放类型", _path_get("open", "type"), _path_put("open", "type"), width=10),
    Column(
        "开放属性",
        "开放条件",
        _path_get("open", "condition"),
        _path_put("open", "condition"),
        width=16,
    ),
    Column(None, "更新周期", _path_get("update_cycle"), _path_put("update_cycle"), width=8),
    Column(None, "发布日期", _path_get("published_date"), _path_put("published_date"), width=11),
    Column(
        None,
        "关联资源代码",
        _list_cell("related_codes"),
        _path_put("related_codes", kind="list"),
        width=14,
    ),
    Column("数据分级", "级别", _path_get("grade"), _path_put("grade"), width=6),
    Column("数据分级", "定级依据", _path_get("grade_reason"), _path_put("grade_reason"), width=36),
    Column(None, "关键字", _list_cell("keywords"), _path_put("keywords", kind="list"), width=16),
    Column(None, "数据表", _path_get("table"), _path_put("table"), width=20),
    Column(
        None,
        "个人信息",
        _path_get("personal_information"),
        _path_put("personal_information"),
        width=6,
    ),
    Column(
        None, "来源部门", _path_get("source_department"), _path_put("source_department"), width=12
    ),
    Column(None, "信息项数", lambda data, _: len(data["items"]), text=False, width=6),
)

# An items row is (resource, item); the resource columns only repeat its name and table.
ITEM_COLUMNS: tuple[Column, ...] = (
    Column(None, "编号", lambda _, row: row, text=False, width=6),
    Column(None, "信息资源代码", lambda pair, _: pair[0]["code"], width=14),
    Column(None, "信息资源名称", lambda pair, _: pair[0]["name"], width=16),
    Column(None, "数据表", lambda pair, _: pair[0]["table"], width=22),
    Column(
        "信息项信息", "信息项名称", lambda pair, _: pair[1]["name"], _path_put("name"), width=16
    ),
    Column(
        "信息项信息", "字段名", lambda pair, _: pair[1]["column"], _path_put("column"), width=18
    ),
    Column(
        "信息项信息",
        "数据类型",
        lambda pair, _: f"{DATA_TYPES.get(pair[1]['data_type'], '')}{pair[1]['data_type']}",
        _path_put("data_type", kind="letter"),
        width=9,
    ),
    Column(
        "信息项信息", "数据长度", lambda pair, _: pair[1]["length"], _path_put("length"), width=6
    ),
    Column("数据分级", "级别", lambda pair, _: pair[1]["grade"], _path_put("grade"), width=6),
    Column(
        "数据分级",
        "定级依据",
        lambda pair, _: pair[1]["grade_reason"],
        _path_put("grade_reason"),
        width=36,
    ),
    Column(
        None,
        "字段序号",
        lambda pair, _: pair[1]["position"],
        _path_put("position", kind="int"),
        text=False,
        width=6,
    ),
    Column(
        None,
        "信息项描述",
        lambda pair, _: pair[1]["description"],
        _path_put("description"),
        width=36,
    ),
    Column(
        None,
        "数据库类型",
        lambda pair, _: pair[1]["database_type"],
        _path_put("database_type"),
        width=14,
    ),
)

# The 说明 sheet (and catalogue.csv): the catalogue's own fields.
HEAD_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("目录名称", "title", "text"),
    ("目录英文名称", "title_en", "text"),
    ("目录发布方", "publisher", "text"),
    ("发布方代码", "publisher_code", "text"),
    ("目录发布日期", "published_date", "text"),
    ("数据截至", "data_as_of", "text"),
    ("导出时间", "exported_at", "text"),
    ("最高数据分级", "max_grade", "text"),
    ("信息资源数", "resource_count", "int"),
    ("信息项数", "item_count", "int"),
    ("基础 IRI", "base_iri", "text"),
    ("扩展命名空间", "namespace", "text"),
    ("格式版本", "schema_version", "text"),
)
NOTES = (
    "数据分级依 GB/T 43697-2024：核心 > 重要 > 一般4 > 一般3 > 一般2 > 一般1；信息项逐项定级，"
    "资源按就高从严取最高级。核心、重要数据不出现在任何导出中。",
    "信息资源代码 = 分类码/顺序码；分类码 = 类(1位) + 项(2位) + 目(3位，人·地·物·事·情·组织) + "
    "细目(2位，数仓分层)。代码一经分配不再改变或复用。",
    "目录随每期服务快照发布：目录发布日期为本期服务快照的发布日期，数据截至为数据中最新统计时段的"
    "结束时刻，均为北京时间，与导出时的系统时间无关。资源表中的发布日期为该资源编入目录、登记信息"
    "资源代码的日期。",
    "信息资源格式：各信息资源均为城运主题数据库服务快照（DuckDB 数据库文件，只读）中的数据库表；"
    "编制指南所列数据库类型中没有 DuckDB，故格式分类为数据库，格式类型为其他（DuckDB）。",
    "本表由城运主题数据库自动生成（dbt 模型、字段与血缘 + catalog/catalogue.yml），请勿手工维护。",
)


def _item_rows(document: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    return [(resource, item) for resource in document["resources"] for item in resource["items"]]


def _headers(columns: Sequence[Column]) -> list[str]:
    return [f"{c.group}/{c.label}" if c.group else c.label for c in columns]


def _head_value(document: Mapping[str, Any], key: str) -> Any:
    if key == "schema_version":
        return document["schema_version"]
    # Exports of format 1.0 have no published_date.
    return document["catalogue"].get(key, "")


def write_csv(document: Mapping[str, Any], folder: Path) -> list[Path]:
    """Write ``resources.csv``, ``items.csv`` and ``catalogue.csv`` into ``folder``.

    UTF-8 with a BOM, so Excel opens it as UTF-8; one header row of ``group/label`` names.
    """
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "resources.csv": (
            _headers(RESOURCE_COLUMNS),
            [
                [c.get(resource, row) for c in RESOURCE_COLUMNS]
                for row, resource in enumerate(document["resources"], start=1)
            ],
        ),
        "items.csv": (
            _headers(ITEM_COLUMNS),
            [
                [c.get(pair, row) for c in ITEM_COLUMNS]
                for row, pair in enumerate(_item_rows(document), start=1)
            ],
        ),
        "catalogue.csv": (
            ["项目", "值"],
            [[label, _head_value(document, key)] for label, key, _ in HEAD_FIELDS],
        ),
    }
    written = []
    for name, (header, rows) in tables.items():
        with (
            atomic_path(folder / name) as temporary,
            temporary.open("w", encoding="utf-8-sig", newline="") as handle,
        ):
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(["" if v is None else v for v in row] for row in rows)
        written.append(folder / name)
    return written


# The printed page: A4 landscape, one page wide, the header rows on every page.
BODY_FONT_SIZE = 10
TITLE_FONT_SIZE = 14
# Points per line of 10-point text. Chinese glyphs fall back to a CJK font whose line is
# taller than Calibri's (Noto Sans CJK 1.45 em, Microsoft YaHei 1.32 em): 15 pt holds either.
LINE_HEIGHT = 15.0
ROW_PADDING = 3.0
TITLE_HEIGHT = 24.0
MAX_ROW_HEIGHT = 409.0  # Excel's limit
# Wrapped text rarely fills a line: words and punctuation that may not start a line move down.
WRAP_SLACK = 1.1
MARGINS_INCH = {"left": 0.4, "right": 0.4, "top": 0.7, "bottom": 0.6, "header": 0.3, "footer": 0.3}
TITLE_ROW, GROUP_ROW, LABEL_ROW = 1, 2, 3
FIRST_ROW = LABEL_ROW + 1  # the first data row
SHEET_TITLES = {"资源": "信息资源表", "信息项": "信息项表"}


def wrapped_lines(value: Any, width: float) -> int:
    """Lines ``value`` takes in a wrapped cell ``width`` characters wide (CJK counts 2).

    openpyxl writes no row heights of its own and Excel does not grow a row written with text
    that wraps, so the writer sets every height from this estimate.
    """
    if value is None or value == "":
        return 1
    usable = max(1.0, width - 1.0)  # the cell's inner margins
    return sum(
        max(1, math.ceil(display_width(line) * WRAP_SLACK / usable))
        for line in str(value).split("\n")
    )


def _row_height(lines: int) -> float:
    return min(MAX_ROW_HEIGHT, lines * LINE_HEIGHT + ROW_PADDING)


def _title(document: Mapping[str, Any], sheet: str) -> str:
    """The title row: the catalogue, the sheet and the data's own dates."""
    head = document["catalogue"]
    as_of = head.get("data_as_of") or "—"
    return (
        f"{head['title']}　{SHEET_TITLES.get(sheet, sheet)}　　"
        f"发布日期：{head.get('published_date') or '—'}　数据截至：{as_of}（北京时间）　"
        f"最高数据分级：{head['max_grade']}"
    )


def write_xlsx(document: Mapping[str, Any], path: Path) -> Path:
    """Write the xlsx in the guide's layout, ready to print and file.

    资源 and 信息项 sheets: a title row (catalogue, 发布日期, 数据截至), then the guide's
    two-row grouped header (merged group cells), text-formatted cells so codes keep their
    leading zeros, frozen title, header and name columns, filters; a 说明 sheet holds the
    catalogue's own fields. Every sheet prints on A4 landscape, one page wide, with the header
    rows repeated on each page; text wraps and each row is as high as its longest text.
    """
    from openpyxl import Workbook

    workbook = Workbook()
    resources = workbook.active
    resources.title = "资源"
    _sheet(
        resources,
        RESOURCE_COLUMNS,
        [
            [c.get(resource, row) for c in RESOURCE_COLUMNS]
            for row, resource in enumerate(document["resources"], start=1)
        ],
        freeze="G4",  # title, header, 编号, 分类 and 名称 stay in view
        title=_title(document, "资源"),
    )
    items = workbook.create_sheet("信息项")
    _sheet(
        items,
        ITEM_COLUMNS,
        [
            [c.get(pair, row) for c in ITEM_COLUMNS]
            for row, pair in enumerate(_item_rows(document), start=1)
        ],
        freeze="G4",  # title, header, 编号, resource and 信息项名称/字段名 stay in view
        title=_title(document, "信息项"),
    )
    notes = workbook.create_sheet("说明")
    _notes_sheet(notes, document)
    for sheet in (resources, items):
        _print_setup(sheet, document, repeat=f"{GROUP_ROW}:{LABEL_ROW}")
    _print_setup(notes, document, repeat="1:1")
    with atomic_path(path) as temporary:
        workbook.save(temporary)
    return path


def _print_setup(sheet: Any, document: Mapping[str, Any], repeat: str) -> None:
    """A4 landscape, fitted to one page wide, ``repeat`` rows on every page, page numbers."""
    from openpyxl.worksheet.page import PageMargins
    from openpyxl.worksheet.properties import PageSetupProperties

    setup = sheet.page_setup
    setup.orientation = "landscape"
    setup.paperSize = sheet.PAPERSIZE_A4
    setup.fitToWidth = 1
    setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_margins = PageMargins(**MARGINS_INCH)
    sheet.print_options.horizontalCentered = True
    sheet.print_title_rows = repeat
    head = document["catalogue"]
    # "&" starts a header code; a literal one is doubled.
    sheet.oddHeader.center.text = f"{head['title']}　{SHEET_TITLES.get(sheet.title, sheet.title)}"
    sheet.oddHeader.center.text = sheet.oddHeader.center.text.replace("&", "&&")
    sheet.oddHeader.right.text = f"数据截至 {head.get('data_as_of') or '—'}（北京时间）"
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"


def _sheet(
    sheet: Any, columns: Sequence[Column], rows: list[list[Any]], freeze: str, title: str
) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    fill = PatternFill("solid", fgColor="DDEBF7")
    bold = Font(bold=True, size=BODY_FONT_SIZE)
    body = Font(size=BODY_FONT_SIZE)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    heading = sheet.cell(row=TITLE_ROW, column=1, value=title)
    # Not wrapped and not merged: the title runs on over the empty cells to its right.
    heading.font = Font(bold=True, size=TITLE_FONT_SIZE)
    heading.alignment = Alignment(vertical="center")
    sheet.row_dimensions[TITLE_ROW].height = TITLE_HEIGHT
    group_lines, label_lines, single_lines = 1, 1, 1
    index = 1
    while index <= len(columns):
        column = columns[index - 1]
        if column.group is None:
            sheet.cell(row=GROUP_ROW, column=index, value=column.label)
            sheet.merge_cells(
                start_row=GROUP_ROW, start_column=index, end_row=LABEL_ROW, end_column=index
            )
            single_lines = max(single_lines, wrapped_lines(column.label, column.width))
            index += 1
            continue
        end = index
        while end < len(columns) and columns[end].group == column.group:
            end += 1
        sheet.cell(row=GROUP_ROW, column=index, value=column.group)
        if end > index:
            sheet.merge_cells(
                start_row=GROUP_ROW, start_column=index, end_row=GROUP_ROW, end_column=end
            )
        spanned = sum(c.width for c in columns[index - 1 : end])
        group_lines = max(group_lines, wrapped_lines(column.group, spanned))
        for position in range(index, end + 1):
            label = columns[position - 1]
            sheet.cell(row=LABEL_ROW, column=position, value=label.label)
            label_lines = max(label_lines, wrapped_lines(label.label, label.width))
        index = end + 1
    # A label over both header rows needs their lines together.
    label_lines = max(label_lines, single_lines - group_lines)
    sheet.row_dimensions[GROUP_ROW].height = _row_height(group_lines)
    sheet.row_dimensions[LABEL_ROW].height = _row_height(label_lines)
    for row in (GROUP_ROW, LABEL_ROW):
        for position in range(1, len(columns) + 1):
            cell = sheet.cell(row=row, column=position)
            cell.font, cell.fill, cell.alignment, cell.border = bold, fill, centre, border
    wrap = Alignment(vertical="top", wrap_text=True)
    for offset, values in enumerate(rows, start=FIRST_ROW):
        lines = 1
        for position, (column, value) in enumerate(zip(columns, values, strict=True), start=1):
            cell = sheet.cell(row=offset, column=position)
            if column.text:
                cell.number_format = "@"
                if value is not None:
                    cell.value = str(value)
                    cell.data_type = "s"  # text starting with "=" stays text, not a formula
            else:
                cell.value = value
            cell.font, cell.alignment, cell.border = body, wrap, border
            lines = max(lines, wrapped_lines(value, column.width))
        sheet.row_dimensions[offset].height = _row_height(lines)
    for position, column in enumerate(columns, start=1):
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            # Cells typed later in a spreadsheet stay text too (codes keep leading zeros).
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = freeze
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A{LABEL_ROW}:{last}{max(LABEL_ROW, len(rows) + LABEL_ROW)}"


NOTE_WIDTHS = (14, 90)


def _notes_sheet(sheet: Any, document: Mapping[str, Any]) -> None:
    from openpyxl.styles import Alignment, Font

    sheet.append(["项目", "值"])
    for label, key, _ in HEAD_FIELDS:
        value = _head_value(document, key)
        sheet.append([label, value if isinstance(value, int) else str(value)])
        sheet.cell(row=sheet.max_row, column=2).number_format = (
            "@" if not isinstance(value, int) else "General"
        )
    sheet.append([])
    for note in NOTES:
        sheet.append(["说明", note])
    for cell in sheet[1]:
        cell.font = Font(bold=True, size=BODY_FONT_SIZE)
    sheet.column_dimensions["A"].width = NOTE_WIDTHS[0]
    sheet.column_dimensions["B"].width = NOTE_WIDTHS[1]
    for row in sheet.iter_rows(min_row=2):
        row[0].font = Font(size=BODY_FONT_SIZE)
        row[1].font = Font(size=BODY_FONT_SIZE)
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
        lines = wrapped_lines(row[1].value, NOTE_WIDTHS[1])
        sheet.row_dimensions[row[1].row].height = _row_height(lines)
    sheet.freeze_panes = "A2"


# Reading exports back ---------------------------------------------------------------------


def read_export(path: str | Path) -> dict[str, Any]:
    """The JSON document of a JSON export, an xlsx export or a CSV export folder."""
    path = Path(path)
    if path.is_dir():
        return read_csv(path)
    if path.suffix.lower() == ".xlsx":
        return read_xlsx(path)
    if path.suffix.lower() == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    raise ExportError(f"{path}: not a .json or .xlsx export or a CSV export folder")


def _document(
    head: Mapping[str, Any], resource_rows: list[dict[str, Any]], item_rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """Rebuild the JSON document from 说明, 资源 and 信息项 rows (label → cell value)."""
    resources: list[dict[str, Any]] = []
    by_code: dict[str, dict[str, Any]] = {}
    for row in resource_rows:
        resource: dict[str, Any] = {}
        for column in RESOURCE_COLUMNS:
            if column.put is not None:
                column.put(resource, row.get(_key(column)))
        resource["items"] = []
        resources.append(_ordered_resource(resource))
        by_code[resources[-1]["code"]] = resources[-1]
    for row in item_rows:
        item: dict[str, Any] = {}
        for column in ITEM_COLUMNS:
            if column.put is not None:
                column.put(item, row.get(_key(column)))
        owner = by_code.get(str(row.get("信息资源代码") or ""))
        if owner is None:
            raise ExportError(f"信息项 {item.get('column')} names an unknown 信息资源代码")
        owner["items"].append(_ordered_item(item))
    catalogue = {}
    for label, key, kind in HEAD_FIELDS:
        if key != "schema_version":
            catalogue[key] = _parse(head.get(label), kind)
            if kind == "text" and catalogue[key] is None:
                catalogue[key] = ""
    return {
        "schema_version": str(head.get("格式版本") or SCHEMA_VERSION),
        "catalogue": catalogue,
        "resources": resources,
    }


RESOURCE_KEYS = (
    "code", "classification", "name", "table", "provider", "provider_code", "abstract",
    "format", "share", "open", "update_cycle", "published_date", "related_codes", "keywords",
    "grade", "grade_reason", "personal_information", "source_department", "items",
)  # fmt: skip
ITEM_KEYS = (
    "position", "column", "name", "data_type", "length", "grade", "grade_reason",
    "description", "database_type",
)  # fmt: skip


def _ordered_resource(resource: Mapping[str, Any]) -> dict[str, Any]:
    ordered = {key: resource.get(key) for key in RESOURCE_KEYS}
    ordered["classification"] = {
        level: resource["classification"][level] for level in ("kind", "theme", "element", "layer")
    }
    ordered["format"] = {key: resource["format"].get(key) for key in ("class", "type")}
    ordered["share"] = {
        key: resource["share"].get(key)
        for key in ("type", "condition", "method_class", "method_type")
    }
    ordered["open"] = {key: resource["open"].get(key) for key in ("type", "condition")}
    return ordered


def _ordered_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: item.get(key) for key in ITEM_KEYS}


def _key(column: Column) -> str:
    return f"{column.group}/{column.label}" if column.group else column.label


def read_xlsx(path: str | Path) -> dict[str, Any]:
    """The JSON document of an xlsx export (the inverse of :func:`write_xlsx`)."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        for name in ("资源", "信息项", "说明"):
            if name not in workbook.sheetnames:
                raise ExportError(f"{path}: no sheet {name!r}; not a catalogue export")
        resources = _sheet_rows(workbook["资源"], RESOURCE_COLUMNS)
        items = _sheet_rows(workbook["信息项"], ITEM_COLUMNS)
        head = {
            str(row[0]): row[1]
            for row in workbook["说明"].iter_rows(min_row=2, values_only=True)
            if row and row[0] and row[0] != "说明"
        }
    finally:
        workbook.close()
    return _document(head, resources, items)


def _first_data_row(sheet: Any) -> int:
    """Two rows below the header's first row (编号): row 3 before the title row, now row 4."""
    heads = sheet.iter_rows(min_row=1, max_row=FIRST_ROW, max_col=1, values_only=True)
    for number, values in enumerate(heads, start=1):
        if values and values[0] == "编号":
            return number + 2
    raise ExportError(f"sheet {sheet.title!r}: no header row starting with 编号")


def _sheet_rows(sheet: Any, columns: Sequence[Column]) -> list[dict[str, Any]]:
    keys = [_key(column) for column in columns]
    rows = []
    for values in sheet.iter_rows(min_row=_first_data_row(sheet), values_only=True):
        if values is None or all(value is None for value in values):
            continue
        rows.append(dict(zip(keys, values, strict=False)))
    return rows


def read_csv(folder: str | Path) -> dict[str, Any]:
    """The JSON document of a CSV export folder."""
    folder = Path(folder)

    def rows(name: str) -> list[dict[str, Any]]:
        with (folder / name).open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))

    head = {row["项目"]: row["值"] for row in rows("catalogue.csv")}
    return _document(head, rows("resources.csv"), rows("items.csv"))
