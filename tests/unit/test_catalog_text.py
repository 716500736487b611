"""The catalogue's Chinese text and the sizing of its printed sheets, on values in memory.

catalog/text.py keeps the Chinese of a dbt description mechanically; catalog/export.py sizes
rows from the text. Writing and opening the xlsx is in tests/integration/test_catalog_exports.py.
"""

import pytest
from openpyxl import Workbook

from catalog.export import _first_data_row, _title, wrapped_lines
from catalog.text import chinese_text, display_width, english_words, has_emoji, text_problem

PHRASES = {"Beijing time": "北京时间", "exclusive": "不含"}


@pytest.mark.parametrize(
    ("description", "text"),
    [
        ("商圈名称.", "商圈名称"),  # the stub: no English full stop
        ("受理时间 (Beijing time).", "受理时间（北京时间）"),  # phrases, case-insensitive
        ("时段结束 (EXCLUSIVE).", "时段结束（不含）"),
        ("办理时限（源系统）(Beijing time).", "办理时限（源系统）（北京时间）"),
        ("上报案件数 (立案率分母).", "上报案件数（立案率分母）"),  # a Chinese note stays
        ("小类代码 (4 digits, 大类 + 2).", "小类代码"),  # an English note goes
        ("案件类型 — 部件 or 事件.", "案件类型：部件或事件。"),
        (
            "日类型 — 工作日, 调休上班, 周末 or 法定节假日.",
            "日类型：工作日、调休上班、周末或法定节假日。",
        ),
        ("标签 — e.g. 占道经营, 道路积水.", "标签：如占道经营、道路积水。"),
        ("预警等级 — 0 正常, 1 蓝, 4 红; null unknown.", "预警等级：0 正常、1 蓝、4 红。"),
        ("合计 — e.g. rainfall or flow in the hour.", "合计"),
        ("街镇代码 — NBS 12-digit code, e.g. 310106012000 南京西路街道.", "街镇代码"),
        (
            "红色吹哨处置时限（小时）— the same for 红 (❓ illustrative).",
            "红色吹哨处置时限（小时）",
        ),
        ("派单层级 — 规则所定 ❓.", "派单层级：规则所定。"),  # emoji go, the Chinese stays
        (
            "首次派单时间 — 最早的交付版本所载（北京时间）；未派单为空.",
            "首次派单时间：最早的交付版本所载（北京时间）；未派单为空。",
        ),
        (
            "建议办结时限 — 第 time_limit_workdays 个工作日；有生效规则即给出.",
            "建议办结时限：有生效规则即给出。",
        ),
        ("空气质量分指数 above the table.", "空气质量分指数"),
        ("一氧化碳24小时平均（mg/m³）.", "一氧化碳24小时平均（mg/m³）"),
        ("Grain: one row per order.", ""),
    ],
)
def test_the_chinese_text_of_a_description(description, text):
    assert chinese_text(description, PHRASES) == text
    assert text_problem(text) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("PM2.5 24 小时平均（µg/m³），一氧化碳为 mg/m³", []),  # codes and units
        ("HJ 633-2012 表 1；GB/T 4754；S00 属地；AQI；CITYOPS_AQI_HJ633_2026_FROM", []),
        ("商圈 — the four business districts.", ["the", "four", "business", "districts"]),
        ("如 e.g. 占道经营", ["e.g."]),
        ("dbt 测试", ["dbt"]),
    ],
)
def test_english_words_are_lower_case_latin_words_but_not_codes_or_units(text, words):
    assert english_words(text) == words


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("商圈名称", None),
        ("PM2.5 24 小时平均。", None),  # a decimal point is not a full stop
        ("商圈名称.", "an English full stop after Chinese (write 。 or none)"),
        ("商圈 — the four.", "English words 'the', 'four'"),
        ("待确认 ❓", "emoji ❓"),
    ],
)
def test_text_problem_names_what_is_not_chinese(text, problem):
    assert text_problem(text) == problem


def test_emoji_markers_are_found():
    assert [
        has_emoji(t) for t in ("待确认 ❓", "项目规则 💡", "部分 🟡", "已核实 ✅", "蓝/黄/橙/红")
    ] == [
        True,
        True,
        True,
        True,
        False,
    ]


def test_a_chinese_character_takes_two_columns():
    assert display_width("街镇代码") == 8
    assert display_width("（北京时间）：") == 14  # full-width marks too
    assert display_width("10300201/0001") == 13


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        (None, 10, 1),
        ("", 10, 1),
        ("街镇", 10, 1),
        # 40 characters = 80 columns in a 40-wide cell: 39 usable, with 10 % slack → 3 lines.
        ("街" * 40, 40, 3),
        ("第一行\n第二行", 20, 2),  # explicit line breaks count
    ],
)
def test_wrapped_lines_count_chinese_as_two_columns(text, width, lines):
    assert wrapped_lines(text, width) == lines


def test_the_title_row_names_the_catalogue_and_its_own_dates():
    document = {
        "catalogue": {
            "title": "测试目录",
            "published_date": "2024-07-31",
            "data_as_of": "2024-07-30 23:00",
            "max_grade": "一般4",
        }
    }
    assert _title(document, "资源") == (
        "测试目录　信息资源表　　发布日期：2024-07-31　数据截至：2024-07-30 23:00（北京时间）　"
        "最高数据分级：一般4"
    )


@pytest.mark.parametrize(("header_row", "first"), [(1, 3), (2, 4)])
def test_the_reader_finds_the_header_with_or_without_a_title_row(header_row, first):
    # Exports written before the title row have the header on rows 1–2, data from row 3.
    sheet = Workbook().active
    sheet.cell(row=header_row, column=1, value="编号")
    assert _first_data_row(sheet) == first
