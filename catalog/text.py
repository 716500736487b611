"""Chinese text for the catalogue: the Chinese part of a dbt description, and its check.

dbt descriptions start with the Chinese name and often go on in English for developers
(``受理时间 (Beijing time).``, ``案件类型 — 部件 or 事件.``, ``街镇代码 — NBS 12-digit code.``).
The catalogue an officer files is Chinese only, so :func:`chinese_text` keeps of a
description what is Chinese, mechanically, without translating anything:

- the Chinese name (:func:`chinese_name`), cut before the first English word;
- a parenthesis after the name when it is Chinese (``（立案率分母）``), or when
  ``catalogue.yml phrases`` gives its fixed Chinese form (``Beijing time`` → 北京时间);
- the explanation after ``—``, clause by clause (``;`` and sentences): a clause is kept when it
  holds Chinese and no English word once the list words are written the Chinese way
  (``A, B or C`` → ``A、B或C``, ``e.g.`` → 如), and dropped otherwise.

Kept explanations follow the name after a full-width colon and end with a Chinese full stop
(``案件类型：部件或事件。``); a bare name has no full stop. Emoji markers (❓ 💡 🟡 ✅) never
appear. Where the Chinese part is not enough (a resource's 摘要), the Chinese text is written
in ``catalogue.yml`` (``abstracts``), never made up at export time.

:func:`english_words` and :func:`has_emoji` are the checks the validation applies to every
摘要 and 信息项描述. Units (mm, km, mg …) and upper-case abbreviations and codes (AQI, PM2.5,
GB/T 4754, HJ 633-2012, S00) are not English words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Full-width punctuation a Chinese sentence uses; spaces around them are dropped.
FULL_PUNCTUATION = "，。；：、（）《》“”！？"
_CJK = re.compile(f"[{CJK}]")
# Pictographs, dingbats and symbols (❓ ✅ ⚠ 💡 🟡 …) and the variation selector after them.
_EMOJI = re.compile("[\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff\ufe0f]")
_WORD = re.compile(r"[A-Za-z]+")
_LATIN_ABBREVIATION = re.compile(r"\b[a-z]\.[a-z]\.")
# An English full stop after Chinese: the "商圈名称." stub of a dbt description.
_LATIN_FULL_STOP = re.compile(f"[{CJK}）]\\.")
# Lower-case unit symbols that are not words.
UNITS = frozenset({"mm", "cm", "km", "mg", "kg", "ms", "kWh", "dB", "pH", "hPa", "kPa"})

# Where the Chinese name of a description ends: a dash, a parenthesis or a full stop.
_NAME_END = re.compile(r"—|\s\(|\(|\.\s|\.$|。")


def has_emoji(text: str) -> bool:
    """True when ``text`` holds an emoji or a pictographic marker."""
    return bool(_EMOJI.search(text))


def english_words(text: str) -> list[str]:
    """The English words in ``text``: runs of two or more Latin letters with a lower-case one.

    Unit symbols (:data:`UNITS`) and upper-case abbreviations or codes are not words;
    ``e.g.`` and ``i.e.`` are.
    """
    words = [
        word
        for word in _WORD.findall(text)
        if len(word) > 1 and word != word.upper() and word not in UNITS
    ]
    return words + _LATIN_ABBREVIATION.findall(text)


def is_chinese(text: str) -> bool:
    """True when ``text`` holds Chinese and neither an English word nor an emoji."""
    return bool(_CJK.search(text)) and not english_words(text) and not has_emoji(text)


def text_problem(text: str) -> str | None:
    """Why ``text`` is not Chinese only, or None when it is.

    English words, emoji, or an English full stop after Chinese (``商圈名称.``).
    """
    found = []
    words = english_words(text)
    if words:
        found.append(f"English words {', '.join(repr(w) for w in dict.fromkeys(words))}")
    if has_emoji(text):
        found.append(f"emoji {' '.join(dict.fromkeys(_EMOJI.findall(text)))}")
    if _LATIN_FULL_STOP.search(text):
        found.append("an English full stop after Chinese (write 。 or none)")
    return "; ".join(found) or None


def tidy(text: str) -> str:
    """One line; no emoji; no spaces between Chinese characters or around full-width marks."""
    text = " ".join(_EMOJI.sub(" ", text).split())
    text = re.sub(f"(?<=[{CJK}])\\s+(?=[{CJK}])", "", text)
    return re.sub(f"\\s*([{FULL_PUNCTUATION}])\\s*", r"\1", text)


def _split(description: str) -> tuple[str, str]:
    """The Chinese name a description starts with, and the rest."""
    text = " ".join(description.split())
    match = _NAME_END.search(text)
    if match is None:
        head, rest = text, ""
    else:
        head, rest = text[: match.start()], text[match.start() :]
    name = head.strip().rstrip(".。 ")
    # A name that runs on in English ("空气质量分指数 above the table") ends before it.
    start = _first_english(name)
    if start is not None:
        name, rest = name[:start].strip().rstrip(".,;:—- "), ""
    return name, rest


def _first_english(text: str) -> int | None:
    """Where the first English word of ``text`` starts, or None."""
    starts = [match.start() for match in _WORD.finditer(text) if english_words(match.group())] + [
        match.start() for match in _LATIN_ABBREVIATION.finditer(text)
    ]
    return min(starts, default=None)


def chinese_name(description: str) -> str:
    """The Chinese name a description starts with.

    ``来电人（假名化）— everyone …`` gives 来电人（假名化）; ``受理时间 (Beijing time).`` gives
    受理时间; ``空气质量分指数 above the table.`` gives 空气质量分指数.
    """
    return tidy(_split(description)[0])


def _parentheses(rest: str) -> tuple[list[str], str]:
    """The parentheses ``rest`` starts with (balanced), and what follows them."""
    found = []
    rest = rest.strip()
    while rest.startswith("("):
        depth = 0
        for index, char in enumerate(rest):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                found.append(rest[1:index].strip())
                rest = rest[index + 1 :].strip()
                break
        else:
            return found, ""
    return found, rest


def _chinese_way(clause: str) -> str:
    """List words written the Chinese way; ASCII parentheses and colons full-width."""
    clause = re.sub(r",?\s+or\s+", "或", clause)
    clause = re.sub(r",?\s+and\s+", "和", clause)
    clause = re.sub(r"\s*,\s*", "、", clause)
    clause = re.sub(r"\s*\(([^()]*)\)", r"（\1）", clause)
    clause = re.sub(f"(?<=[{CJK}）])\\s*:\\s*", "：", clause)
    return tidy(clause).rstrip(".。；;、 ")


def _clauses(explanation: str) -> list[str]:
    """An explanation cut into clauses: at semicolons and after sentences."""
    # Latin abbreviations first: their full stops do not end a sentence.
    explanation = re.sub(r"\s*,\s*e\.g\.\s*", "，如", explanation)
    explanation = re.sub(r"\be\.g\.\s*", "如", explanation)
    explanation = re.sub(r"\bi\.e\.\s*", "即", explanation)
    parts = re.split(r"\s*[;；]\s*|(?<=\.)\s+(?=\S)|(?<=。)", explanation)
    return [part.strip() for part in parts if part and part.strip(" .。")]


def chinese_text(description: str, phrases: Mapping[str, str] | None = None) -> str:
    """The Chinese part of a dbt description (see the module docstring).

    ``phrases`` maps English notes in parentheses to their Chinese form, case-insensitively
    (``{"Beijing time": "北京时间"}``). Returns "" when the description holds no Chinese.
    """
    known = {key.casefold(): value for key, value in (phrases or {}).items()}
    name, rest = _split(description)
    name = tidy(name)
    notes, rest = _parentheses(rest)
    kept_notes = []
    for note in notes:
        note = known.get(" ".join(note.split()).casefold(), note)
        note = _chinese_way(note)
        if is_chinese(note):
            kept_notes.append(note)
    explanation = rest.lstrip("—.。 ")
    clauses = [_chinese_way(clause) for clause in _clauses(explanation)]
    kept = [clause for clause in clauses if is_chinese(clause)]
    text = name + "".join(f"（{note}）" for note in kept_notes)
    if kept:
        text = f"{text}：{'；'.join(kept)}。" if text else f"{'；'.join(kept)}。"
    return text


def display_width(text: str) -> int:
    """Width in columns: 2 for a wide (CJK, full-width) character, 1 for the others."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
