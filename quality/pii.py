r"""Personal data in free text: one normaliser, one finder, one scrubber.

Everything that judges free text for personal data goes through this module: the warehouse
scrubs served text with it (DuckDB functions registered on every dbt connection by
``dbt/plugins/cityops_pii.py``), the dbt test ``no_clear_pii`` and :func:`scan_database` look
for what is left with it. One implementation, so the scan can never disagree with the
scrubber about what a phone number is.

**Normalise, then match.** :func:`normalise` gives the text NFKC-folded (full-width ``１３９``
→ ``139``, ``＋`` → ``+``), every space-like and dash-like character as one plain space or
hyphen (zero-width spaces included), other scripts' decimal digits as ASCII digits, and a run
of seven or more Chinese digits (``一三九一二三四…``, ``幺`` for 1) as digits. Each character
of the normalised text remembers where it came from, so a finding replaces exactly its span
in the *original* text and everything else (full-width punctuation, spacing) is kept.
The patterns then accept up to three separators between digits (``139 1234 5678``,
``139-1234-5678``, ``110105 19491231 002X``) and an optional ``+86`` / ``0086`` / ``86``
before a mobile.

**What is found** (in this order; a later rule never overlaps an earlier finding):

===============  ============  =========================================================
kind             placeholder   rule
===============  ============  =========================================================
``id_number``    [身份证号]     18 characters in the GB 11643 shape (area code, a
                               YYYYMMDD between 1800 and 2099, sequence, check character),
                               *whatever its check character*: a mistyped ID still points
                               at a person (``checksum_ok`` says whether python-stdnum's
                               ``cn.ric`` accepts it); or 15 digits of a legacy 1989 ID
                               (an area code python-stdnum knows, then YYMMDD)
``long_number``  [长号码]       16 or more digits, together or in groups of 3–8 (bank cards
                               ``6222 0212 3456 7890``), not glued to letters; 15 digits
                               that are not a legacy ID (device IMEIs) and an organisation's
                               统一社会信用代码 (public; GB 32100 check character) are kept
``mobile``       [手机号]       ``1[3-9]`` and 9 digits, with an optional country prefix
``fixed_line``   [固定电话]     an area code ``0xx``/``0xxx`` (or ``(021)``, ``+86 21``) and
                               a 7–8 digit number; or a 7–8 digit number right after
                               电话/座机/固话/联系方式/tel
``email``        [邮箱]         ``name@domain.tld``
``plate``        [车牌号]       a licence plate (GA 36-2018): province, issuing letter,
                               5 characters (``沪A12345``, ``沪A·12345``), 6 for new-energy
                               vehicles (``沪AD12345``, ``沪A12345D``), or 4 and
                               挂/学/警/港/澳/领/试/超
``name``         [姓名]         a common surname before a form of address
                               (先生/女士/小姐/阿姨/师傅/老师/同志/大爷/大妈/阿婆/老伯/
                               大姐/大哥: ``张先生`` → ``[姓名]先生``), and every occurrence
                               of a name the row knows (the hotline caller's)
``house_number`` ``**``         the number before 弄/号/室/栋/幢/单元/楼 (not ``第N号``,
                               ``N号线`` or a date's ``7月3号``)
===============  ============  =========================================================

Not found, knowingly: a person's full name the row does not know (no reliable rule without
a name recogniser), a local 7–8 digit number with no area code and no keyword (dates and
amounts look the same), plates of embassies and the armed police.

:data:`SCANNED_KINDS` are the kinds a scan fails on: the ones with a shape precise enough
that a served table holding one is a leak, not a false alarm. Names and house numbers are
scrubbed from free text but not scanned for: "李老师" in a department's name or "3号" in a
place name are not personal data.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import duckdb

ID_NUMBER = "id_number"
LONG_NUMBER = "long_number"
MOBILE = "mobile"
FIXED_LINE = "fixed_line"
EMAIL = "email"
PLATE = "plate"
NAME = "name"
HOUSE_NUMBER = "house_number"

PLACEHOLDERS = {
    ID_NUMBER: "[身份证号]",
    LONG_NUMBER: "[长号码]",
    MOBILE: "[手机号]",
    FIXED_LINE: "[固定电话]",
    EMAIL: "[邮箱]",
    PLATE: "[车牌号]",
    NAME: "[姓名]",
    HOUSE_NUMBER: "**",
}
SCANNED_KINDS = frozenset({ID_NUMBER, LONG_NUMBER, MOBILE, FIXED_LINE, EMAIL, PLATE})

# Up to three separators between two digits ("139 - 1234 - 5678"); normalise() has turned
# every space and dash variant into " " or "-".
_SEP = r"[ \-]{0,3}"
_COUNTRY = r"(?:(?:\+|00)?86" + _SEP + r")"

# Spaces NFKC leaves alone, and invisible characters an adversary slips between digits.
_SPACES = "\u200b\u200c\u200d\u2060\ufeff\u180e"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d\u30fc"
_DOTS = "\u00b7\u2022\u2027\u30fb\uff65\u2219"
CHINESE_DIGITS = {
    "〇": "0",
    "零": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
# Seven digits at least (a local number): "三号楼" or "一室一厅" stay words.
_CHINESE_DIGIT_RUN = re.compile("[0-9" + "".join(CHINESE_DIGITS) + "]{7,}")

# Province abbreviations of mainland plates (GA 36-2018).
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Plate letters leave out I and O (they read as 1 and 0).
_PLATE_CHAR = "[A-HJ-NP-Za-hj-np-z0-9]"
# Surnames: about 250 common single ones and the common compound ones. 于 is left out:
# 由于/关于/对于 before 老师 would be read as a name far more often than 于老师 is written.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰"
    "焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁"
    "蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂"
    "全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙",
    "慕容", "令狐", "夏侯", "长孙", "宇文", "司徒", "端木",
)  # fmt: skip
FORMS_OF_ADDRESS = (
    "先生", "女士", "小姐", "阿姨", "师傅", "老师", "同志",
    "大爷", "大妈", "阿婆", "老伯", "大姐", "大哥",
)  # fmt: skip
# Words that end in a surname character and can meet a form of address: 对方女士, 律师先生 ….
_NOT_A_SURNAME_AFTER = {
    "方": set("对双男女店院校警官买卖甲乙军各一"),
    "金": set("基资黄现租押奖定订薪美白合千"),
    "安": set("保治公平"),
    "明": set("说证声表发"),
    "和": set("平温缓调"),
    "文": set("中英语散"),
    "成": set("完达造组形"),
    "师": set("律医教厨技老大导"),
}
# What a caller's name field holds when there is no name: never masked across the text.
NOT_NAMES = frozenset(
    {"匿名", "市民", "无", "未知", "不详", "保密", "来电人", "群众", "居民", "无名氏", "未提供"}
)
_ID_DATE = r"(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind and where it is in the original text."""

    kind: str
    start: int
    end: int
    text: str
    # For an ID number: whether python-stdnum's cn.ric accepts it (checksum, date, area code).
    checksum_ok: bool | None = None


@dataclass(frozen=True)
class Normalised:
    """Text folded for matching; ``origin[i]`` is the original index of character ``i``."""

    text: str
    origin: Sequence[int]


# What the patterns read: digits, letters, and the punctuation of numbers and addresses.
_MATCHED = frozenset("0123456789+-()@.:%_ ") | frozenset(string.ascii_letters)
# Characters beyond the Basic Multilingual Plane (𝟏𝟑𝟗, mathematical letters) are rare; they
# take the character-by-character path, which keeps the common path's patterns small.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@cache
def _folds() -> tuple[dict[str, str], re.Pattern[str], re.Pattern[str]]:
    """One-character folds, a pattern of the characters they fold, and of those NFKC expands.

    Only what the patterns read is folded (full-width ``１`` and ``（``, other scripts'
    digits, space and dash variants); Chinese punctuation stays as it is. Folding is NFKC
    character by character, not of the whole text, so a fold never joins two characters
    and every folded character still has one origin.
    """
    folds: dict[str, str] = {}
    expanding: list[str] = []
    for code in range(0x80, 0x10000):
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char)
        if char in _SPACES or folded.isspace():
            folds[char] = " "
        elif char in _DASHES:
            folds[char] = "-"
        elif char in _DOTS:
            folds[char] = "·"
        elif char.isdecimal():
            folds[char] = str(unicodedata.decimal(char))
        elif len(folded) == 1 and folded != char and folded in _MATCHED:
            folds[char] = folded
        elif len(folded) > 1 and _MATCHED.intersection(folded):
            expanding.append(char)
    folds.update(dict.fromkeys("\t\n\r\x0b\x0c", " "))
    return folds, _character_class(folds), _character_class(expanding)


def _fold_one(char: str) -> str:
    """NFKC of one character (of any plane), then the folds."""
    folds = _folds()[0]
    if char in folds:
        return folds[char]
    folded = unicodedata.normalize("NFKC", char)
    return "".join(
        folds.get(c, str(unicodedata.decimal(c)) if c.isdecimal() else c) for c in folded
    )


def _character_class(characters: Iterable[str]) -> re.Pattern[str]:
    """A pattern matching any one of ``characters``, written as ranges."""
    codes = sorted({ord(c) for c in characters})
    ranges: list[str] = []
    index = 0
    while index < len(codes):
        first = last = codes[index]
        while index + 1 < len(codes) and codes[index + 1] == last + 1:
            index += 1
            last = codes[index]
        ranges.append(re.escape(chr(first)) + ("-" + re.escape(chr(last)) if last > first else ""))
        index += 1
    return re.compile("[" + "".join(ranges) + "]")


def normalise(text: str) -> Normalised:
    """``text`` folded for matching, with each character's index in ``text``."""
    folds, foldable, expanding = _folds()
    origin: Sequence[int] = range(len(text))
    folded = text
    if expanding.search(text) or _ASTRAL.search(text):
        # Rare characters that NFKC expands (①⑩ ㈱) or from beyond the BMP: one at a time.
        pieces: list[str] = []
        positions: list[int] = []
        for index, char in enumerate(text):
            piece = _fold_one(char)
            pieces.append(piece)
            positions.extend([index] * len(piece))
        folded, origin = "".join(pieces), positions
    elif foldable.search(text):
        folded = foldable.sub(lambda match: folds[match.group()], text)
    if _CHINESE_DIGIT_RUN.search(folded):
        folded = _CHINESE_DIGIT_RUN.sub(
            lambda run: "".join(CHINESE_DIGITS.get(c, c) for c in run.group()), folded
        )
    return Normalised(folded, origin)


def _digits(text: str) -> str:
    return re.sub(r"[^0-9Xx]", "", text)


def _id_number_18(span: str) -> bool:
    """18 characters in the GB 11643 shape, whatever the check character."""
    return bool(re.fullmatch("[1-9][0-9]{5}" + _ID_DATE + "[0-9]{3}[0-9X]", _digits(span).upper()))


def _checksum_ok(span: str) -> bool:
    """Whether python-stdnum's ``cn.ric`` accepts the number (check character, date, area)."""
    from stdnum.cn import ric

    return bool(ric.is_valid(_digits(span).upper()))


def _legacy_id_number(span: str) -> bool:
    """15 digits of a GB 11643-1989 ID: a known area code, then a valid YYMMDD."""
    number = _digits(span)
    if len(number) != 15:
        return False
    try:
        dt.date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError:
        return False
    from stdnum import numdb

    # python-stdnum's table keeps former counties (闸北 310108) with their years, so old
    # numbers are recognised (domain.md §2.5: never judge them by today's list).
    return any("county" in properties for _, properties in numdb.get("cn/loc").info(number[:6]))


def _long_number(span: str) -> bool:
    """16 digits or more, and not an organisation's 统一社会信用代码 (public, GB 32100)."""
    digits = _digits(span)
    if len(digits) < 16:
        return False
    from stdnum.cn import uscc

    return not (len(digits) == 18 and uscc.is_valid(digits))


def _plate(span: str) -> bool:
    # A real plate's serial has digits; "新HTML5" or a word in capitals is not one.
    return sum(c.isdigit() for c in span) >= 2


@dataclass(frozen=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    # What a text must contain for the pattern to have a chance: tested once per text, it
    # spares most texts most patterns (a hotline text: 60 µs → 25 µs).
    needs: re.Pattern[str]
    accept: Any = None  # span → bool: whether the match really is of this kind
    group: int = 0


def _rules() -> tuple[_Rule, ...]:
    digit = "[0-9]"
    surnames = "|".join((*COMPOUND_SURNAMES, f"[{SURNAMES}]"))
    seven_digits = re.compile(rf"[0-9](?:{_SEP}[0-9]){{6}}")
    forms = "|".join(FORMS_OF_ADDRESS)
    return (
        _Rule(
            ID_NUMBER,
            re.compile(rf"(?<![0-9])[1-9](?:{_SEP}{digit}){{16}}{_SEP}[0-9Xx](?![0-9])"),
            seven_digits,
            _id_number_18,
        ),
        _Rule(
            ID_NUMBER,
            re.compile(rf"(?<![0-9])[1-9](?:{_SEP}{digit}){{14}}(?![0-9Xx])"),
            seven_digits,
            _legacy_id_number,
        ),
        _Rule(
            LONG_NUMBER,
            # Not glued to letters: 91310106203433615T is an organisation's code.
            re.compile(
                r"(?<![0-9A-Za-z])(?:[0-9]{16,}[Xx]?|[0-9]{3,8}(?:[ \-][0-9]{3,8})+)(?![0-9A-Za-z])"
            ),
            seven_digits,
            _long_number,
        ),
        _Rule(
            MOBILE,
            re.compile(rf"(?<![0-9+]){_COUNTRY}?1[3-9](?:{_SEP}{digit}){{9}}(?![0-9])"),
            seven_digits,
        ),
        _Rule(
            FIXED_LINE,
            re.compile(
                rf"(?<![0-9+])(?:{_COUNTRY}\(?0?[1-9][0-9]{{1,2}}\)?|\(0[1-9][0-9]{{1,2}}\)"
                rf"|0[1-9][0-9]{{1,2}}){_SEP}[2-9](?:{_SEP}{digit}){{6,7}}(?![0-9])"
            ),
            seven_digits,
        ),
        _Rule(
            FIXED_LINE,
            re.compile(
                r"(?:电话|座机|固话|联系方式|tel|phone)(?:号码)?[:：]?\s{0,2}(?:是|为)?[:：]?\s{0,2}"
                r"([2-9](?:[ \-]?[0-9]){6,7})(?![0-9])",
                re.IGNORECASE,
            ),
            seven_digits,
            group=1,
        ),
        _Rule(
            EMAIL,
            re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"),
            re.compile("@"),
        ),
        _Rule(
            PLATE,
            re.compile(
                rf"(?<![A-Za-z0-9])[{_PROVINCES}][ ·\-]?[A-HJ-NP-Za-hj-np-z][ ·\-]?"
                rf"(?:{_PLATE_CHAR}{{5,6}}|{_PLATE_CHAR}{{4}}[挂学警港澳领试超])(?![A-Za-z0-9])"
            ),
            re.compile(f"[{_PROVINCES}]"),
            _plate,
        ),
        _Rule(
            NAME,
            re.compile(rf"({surnames})(?:{'|'.join(FORMS_OF_ADDRESS)})"),
            re.compile(forms),
            group=1,
        ),
        _Rule(
            HOUSE_NUMBER,
            re.compile(r"(?<![0-9第月])[0-9]+(?=弄|号(?!线)|室|栋|幢|单元|楼)"),
            re.compile("[0-9]"),
        ),
    )


_RULES = _rules()


def _known_names(names: Iterable[str | None]) -> list[tuple[str, int]]:
    """(text to look for, how many of its first characters to mask), longest first.

    A name with a form of address (段先生) masks the name and keeps the form, as the surname
    rule does: ``[姓名]先生``; the bare name is looked for too when it has two characters or
    more (one, a bare surname, would mask every 段 in 段落).
    """
    found: set[tuple[str, int]] = set()
    for raw in names:
        if not raw:
            continue
        name = normalise(raw.strip()).text.replace(" ", "")
        if name in NOT_NAMES:
            continue
        core = name
        for form in FORMS_OF_ADDRESS:
            if core.endswith(form) and len(core) > len(form):
                core = core[: -len(form)]
                break
        if core != name:
            found.add((name, len(core)))
        if len(core) >= 2 and core not in NOT_NAMES:
            found.add((core, len(core)))
    return sorted(found, key=lambda needle: len(needle[0]), reverse=True)


def find(text: str | None, names: Iterable[str | None] = ()) -> list[Finding]:
    """Every piece of personal data in ``text``, in text order, spans in the original.

    ``names``: names the row knows (a hotline caller's); each occurrence is a ``name``.
    """
    if not text:
        return []
    known = _known_names(names)
    normalised = normalise(text)
    folded = normalised.text
    taken = bytearray(len(folded))
    spans: list[tuple[int, int, str, bool | None]] = []

    def claim(start: int, end: int, kind: str, checksum_ok: bool | None = None) -> None:
        if start < end and taken.find(1, start, end) == -1:
            taken[start:end] = b"\x01" * (end - start)
            spans.append((start, end, kind, checksum_ok))

    for needle, masked in known:
        at = folded.find(needle)
        while at != -1:
            claim(at, at + masked, NAME)
            at = folded.find(needle, at + len(needle))
    present: dict[re.Pattern[str], bool] = {}
    for rule in _RULES:
        if rule.needs not in present:
            present[rule.needs] = rule.needs.search(folded) is not None
        if not present[rule.needs]:
            continue
        for match in rule.pattern.finditer(folded):
            start, end = match.span(rule.group)
            if rule.accept and not rule.accept(folded[start:end]):
                continue
            if rule.kind == NAME and _is_word_not_name(folded, start):
                continue
            checksum_ok = _checksum_ok(folded[start:end]) if rule.accept is _id_number_18 else None
            claim(start, end, rule.kind, checksum_ok)
    origin = normalised.origin
    findings = []
    for start, end, kind, checksum_ok in sorted(spans):
        begin, finish = origin[start], origin[end - 1] + 1
        findings.append(Finding(kind, begin, finish, text[begin:finish], checksum_ok))
    return findings


def _is_word_not_name(folded: str, start: int) -> bool:
    """True when the surname character ends a word instead (对方女士, 律师先生)."""
    before = _NOT_A_SURNAME_AFTER.get(folded[start])
    return bool(before) and start > 0 and folded[start - 1] in before


def scrub(text: str | None, names: Iterable[str | None] = ()) -> str | None:
    """``text`` with every finding replaced by its placeholder; the rest as it was."""
    if text is None:
        return None
    findings = find(text, names)
    if not findings:
        return text
    pieces: list[str] = []
    position = 0
    for finding in findings:
        pieces.append(text[position : finding.start])
        pieces.append(PLACEHOLDERS[finding.kind])
        position = finding.end
    pieces.append(text[position:])
    return "".join(pieces)


def kinds(text: str | None, names: Iterable[str | None] = ()) -> list[str]:
    """The kinds of personal data in ``text``, sorted, each once."""
    return sorted({finding.kind for finding in find(text, names)})


# The DuckDB functions, as dbt models and tests call them. Labels repeat (a street office's
# name on every order), so results are cached; 65 536 entries of a hotline text are ~20 MB.
@lru_cache(maxsize=65536)
def _scrub_cached(text: str, name: str | None) -> str | None:
    return scrub(text, (name,))


def _sql_scrub(text: str | None, name: str | None) -> str | None:
    return None if text is None else _scrub_cached(text, name)


@lru_cache(maxsize=65536)
def _sql_kinds(text: str | None) -> list[str] | None:
    return None if text is None else kinds(text)


def _sql_scan(text: str | None) -> list[str] | None:
    found = _sql_kinds(text)
    return None if found is None else [kind for kind in found if kind in SCANNED_KINDS]


SQL_FUNCTIONS = ("pii_scrub", "pii_kinds", "pii_scan")


def register(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the SQL functions on ``connection`` (again on a new connection; idempotent).

    - ``pii_scrub(text, known_name)``: :func:`scrub`, masking ``known_name`` too (NULL: none);
    - ``pii_kinds(text)``: :func:`kinds`, every kind found, ``[]`` when none;
    - ``pii_scan(text)``: the kinds of :data:`SCANNED_KINDS` found, ``[]`` when none.

    NULL text gives NULL. They are Python functions: a view that called one would fail for
    any reader without them, so models call them only in tables (as ``pii_hash`` does).
    """
    existing = {
        row[0]
        for row in connection.execute(
            "select function_name from duckdb_functions() where function_name in ?",
            [list(SQL_FUNCTIONS)],
        ).fetchall()
    }
    text, texts = duckdb.sqltype("VARCHAR"), duckdb.list_type(duckdb.sqltype("VARCHAR"))
    # The finders are declared volatile (side_effects) though they have none: DuckDB then
    # never pushes a filter on them below a distinct. Pushed down (even out of a
    # MATERIALIZED CTE), the scan of the readings of a 30-day district home called Python
    # for each of 30 million rows instead of each of 750 values: 66 s instead of 1 s.
    definitions = {
        "pii_scrub": (_sql_scrub, [text, text], text, False),
        "pii_kinds": (_sql_kinds, [text], texts, True),
        "pii_scan": (_sql_scan, [text], texts, True),
    }
    for name, (function, parameters, returns, volatile) in definitions.items():
        if name not in existing:
            connection.create_function(
                name,
                function,
                parameters,
                returns,
                null_handling="special",
                side_effects=volatile,
            )


@dataclass(frozen=True)
class ColumnFinding:
    """Personal data left in a readable column: where, what, and a masked example."""

    schema: str
    table: str
    column: str
    kinds: tuple[str, ...]
    values: int  # distinct values with a finding
    sample: str  # one such value, scrubbed: it says where, never what


def scan_database(
    path: Path | str,
    *,
    exclude_schemas: Iterable[str] = ("restricted", "staging"),
    kinds: Iterable[str] = SCANNED_KINDS,
) -> list[ColumnFinding]:
    """Every text column of every table and view in the DuckDB file, scanned.

    Opens ``path`` read-only, so it works on the serving snapshot while readers use it and
    on a working warehouse no build holds. Text columns are VARCHAR ones and anything that
    casts to text with VARCHAR inside (lists, structs); ``*_key`` columns are keyed SHA-256
    pseudonyms and are skipped, as in the dbt test ``no_clear_pii``.
    """
    wanted = sorted(set(kinds))
    excluded = sorted({*exclude_schemas, "information_schema", "pg_catalog"})
    findings: list[ColumnFinding] = []
    with duckdb.connect(str(path), read_only=True) as connection:
        register(connection)
        columns = connection.execute(
            """
            select table_schema, table_name, column_name, data_type
            from information_schema.columns
            where table_schema not in (select unnest(?)) and data_type like '%VARCHAR%'
                and column_name not like '%\\_key' escape '\\'
            order by all
            """,
            [excluded],
        ).fetchall()
        for schema, table, column, data_type in columns:
            value = _identifier(column)
            if data_type != "VARCHAR":
                value = f"cast({value} as varchar)"
            relation = f"{_identifier(schema)}.{_identifier(table)}"
            row = connection.execute(
                f"""
                with scanned as (
                    select value, list_intersect(pii_kinds(value), ?) as found
                    from (select distinct {value} as value from {relation})
                )
                select flatten(list(distinct found)), count(*), min(value)
                from scanned
                where len(found) > 0
                """,  # noqa: S608 (identifiers from the database's own catalogue, quoted)
                [wanted],
            ).fetchone()
            if row and row[1]:
                findings.append(
                    ColumnFinding(
                        schema,
                        table,
                        column,
                        tuple(sorted(set(row[0]))),
                        row[1],
                        scrub(row[2]) or "",
                    )
                )
    return findings


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
