"""The allowed values of the catalogue, from the standards it follows (domain.md §1, §2).

- 《政务信息资源目录编制指南（试行）》 (发改高技〔2017〕1272号), domain.md §1.3: 资源属性分类,
  信息资源格式, 信息项数据类型, 共享属性, 开放属性, 更新周期.
- GB/T 43697-2024 《数据安全技术 数据分类分级规则》, domain.md §2.1: the 6-rung ladder
  核心 > 重要 > 一般4 > 一般3 > 一般2 > 一般1.
- DCAT-AP controlled vocabularies (EU Publications Office NALs), domain.md §1.5.

Labels are the canonical values (domain.md §1.3: integer codes are not standardised).
"""

from __future__ import annotations

import re

# 人·地·物·事·情·组织: the six elements the topic database is organised by (district plan).
ELEMENTS = ("人", "地", "物", "事", "情", "组织")

# 资源属性分类 (domain.md §1.3 ✅).
RESOURCE_KINDS = ("基础信息资源", "主题信息资源", "部门信息资源")

# 信息资源格式: 格式分类 → 格式类型 (✅ field list; enums where two implementations agree).
# 其他 may name what it is in full-width parentheses: 其他（DuckDB）(see is_format_type).
FORMATS: dict[str, tuple[str, ...]] = {
    "数据库": (
        "access",
        "db2",
        "dbase",
        "dbf",
        "Dm",
        "KingbaseES",
        "oracle",
        "sqlServer",
        "sysbase",
        "mysql",
        "其他",
    ),
    "电子文件": ("doc", "docx", "html", "OFD", "pdf", "ppt", "txt", "wps", "xml", "其他"),
    "电子表格": ("et", "xls", "xlsx", "其他"),
    "图形图像": ("bmp", "gif", "jpg", "其他"),
    "流媒体": ("mpg", "rm", "swf", "其他"),
    "自描述格式": ("表驱动码", "其他"),
}

# 信息项数据类型: the guide's type letters.
DATA_TYPES: dict[str, str] = {
    "C": "字符型",
    "N": "数值型",
    "Y": "货币型",
    "D": "日期型",
    "T": "日期时间型",
    "L": "逻辑型",
    "M": "备注型",
    "G": "通用型",
    "B": "双精度型",
    "I": "整型",
    "F": "浮点型",
}

SHARE_TYPES = ("无条件共享", "有条件共享", "不予共享")
# 共享方式: 分类 → 类型 (类型 only under 共享平台方式). A database resource takes 数据库 or 接口.
SHARE_METHODS: dict[str, tuple[str, ...]] = {
    "共享平台方式": ("接口", "数据库", "文件"),
    "邮件或介质": (),
}
# 开放属性: the newer three-value form (🟡 [C4][C7]); the older 是/否 maps onto it.
OPEN_TYPES = ("无条件开放", "有条件开放", "不予开放")
# 更新周期: the guide's six, plus 每半年 and 不定期 seen in implementations (🟡 [C3][C5]);
# reference code lists change when the district changes them, which is 不定期.
UPDATE_CYCLES = ("实时", "每日", "每周", "每月", "每季度", "每半年", "每年", "不定期")

# GB/T 43697-2024, highest first. 核心 and 重要 never leave the bureau (see EXPORTABLE).
GRADES = ("核心", "重要", "一般4", "一般3", "一般2", "一般1")
EXPORTABLE_GRADES = ("一般4", "一般3", "一般2", "一般1")
PERSONAL_INFORMATION = ("明文", "假名化", "无")

# 更新周期 → EU frequency NAL (domain.md §1.5: mapping 💡, vocabulary ✅).
FREQUENCY_NAL = "http://publications.europa.eu/resource/authority/frequency/"
FREQUENCIES = {
    "实时": "CONT",
    "每日": "DAILY",
    "每周": "WEEKLY",
    "每月": "MONTHLY",
    "每季度": "QUARTERLY",
    "每半年": "ANNUAL_2",
    "每年": "ANNUAL",
    "不定期": "IRREG",
}
# 开放属性 → EU access-right NAL (mapping 💡, vocabulary ✅).
ACCESS_RIGHT_NAL = "http://publications.europa.eu/resource/authority/access-right/"
ACCESS_RIGHTS = {"无条件开放": "PUBLIC", "有条件开放": "RESTRICTED", "不予开放": "NON_PUBLIC"}

# 字符型 fields longer than this are 备注型 (dBase/FoxPro, whose letters the guide uses, cap
# a character field at 254).
MAX_CHARACTER_LENGTH = 254
# 字符型 长度 is the declared capacity: the smallest of these that holds the longest value, so
# the catalogue does not change every time a longer name arrives.
CHARACTER_LENGTHS = (2, 4, 8, 16, 32, 64, 128, 254)


_OTHER = re.compile(r"^其他（[^（）]+）$")


def is_format_type(format_class: str, format_type: str) -> bool:
    """True for a 格式类型 of the guide's list of ``format_class``, or 其他 naming what it is.

    The guide lists database products (oracle, mysql …) and ends with 其他; a product it does
    not list is written 其他 with its name in full-width parentheses, 其他（DuckDB）, so the
    value still reads as the list's 其他 and says what the resource really is.
    """
    allowed = FORMATS.get(format_class, ())
    return format_type in allowed or ("其他" in allowed and bool(_OTHER.match(format_type)))


def grade_rank(grade: str) -> int:
    """Higher is more sensitive: 一般1 → 1 … 核心 → 6. Raises ValueError for an unknown grade."""
    return len(GRADES) - GRADES.index(grade)


def highest(grades: list[str]) -> str:
    """The most sensitive of ``grades`` (就高从严)."""
    return max(grades, key=grade_rank)


def is_exportable(grade: str, max_grade: str) -> bool:
    """True when ``grade`` may appear in an export capped at ``max_grade``.

    核心 and 重要 are never exportable, whatever the cap.
    """
    return grade in EXPORTABLE_GRADES and grade_rank(grade) <= grade_rank(max_grade)


_DECIMAL = re.compile(r"^(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
_INTEGERS = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "INT",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}
_TEXT = {"VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR", "UUID", "INTERVAL", "TIME"}


def type_letter(database_type: str, max_length: int | None = None) -> tuple[str, str | None]:
    """The guide's type letter and 长度 for a DuckDB column type.

    ``max_length`` is the longest value in a text column (None when unknown or empty). 长度 is
    given where it means something: the capacity of a 字符型 column and ``p,s`` of a decimal.
    Raises ValueError for a type with no letter (the validation reports it).
    """
    kind = " ".join(database_type.upper().split())
    if kind.endswith("[]") or kind.startswith(("STRUCT", "MAP", "UNION", "LIST", "JSON")):
        return "M", None  # nested values are exchanged as their text form
    if kind == "BOOLEAN":
        return "L", None
    if kind == "DATE":
        return "D", None
    if kind.startswith(("TIMESTAMP", "DATETIME")):
        return "T", None
    if kind in _INTEGERS:
        return "I", None
    if kind in ("DOUBLE", "FLOAT8"):
        return "B", None
    if kind in ("REAL", "FLOAT", "FLOAT4"):
        return "F", None
    if match := _DECIMAL.match(kind):
        return "N", f"{match.group(1)},{match.group(2)}"
    if kind in ("DECIMAL", "NUMERIC"):
        return "N", "18,3"  # DuckDB's default precision and scale
    if kind in ("BLOB", "BYTEA"):
        return "G", None
    if kind.split("(")[0] in _TEXT or kind.startswith("ENUM"):
        if max_length is not None and max_length > MAX_CHARACTER_LENGTH:
            return "M", None
        if max_length is None or max_length == 0:
            return "C", None
        return "C", str(next(size for size in CHARACTER_LENGTHS if size >= max_length))
    raise ValueError(f"no 数据类型 letter for the database type {database_type!r}")
