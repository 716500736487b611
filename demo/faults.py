"""Planted delivery faults: how many, and the small text surgeries that make them.

Kinds are the ingestion engine's reason codes (:mod:`ingestion.contract`) plus
``late_record``. Per (table, day, kind) the count is ``max(1, round(fault_rate × records))``
when ``fault_rate > 0``; a record never carries two faults and incident records none.
"""

from __future__ import annotations

import json
import random

from stdnum.cn import uscc

LATE_RECORD = "late_record"  # valid, but its event time is on an earlier day than the delivery

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z


def fault_count(rate: float, records: int) -> int:
    """How many records of one kind to break in a delivery of ``records`` records."""
    if rate <= 0:
        return 0
    return max(1, round(rate * records))


def malformed_csv(fields: list[str], rng: random.Random) -> list[str]:
    """The fields of a CSV record with one field missing or one extra field appended."""
    if rng.random() < 0.5:
        return fields[:-1]
    return [*fields, "补充说明"]


def malformed_json(record: dict[str, object], rng: random.Random) -> str:
    """A line that is not valid JSON: a trailing comma, or a Python-style dict dump."""
    if rng.random() < 0.5:
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        return text[:-1] + ",}"
    return repr(record)


def truncate(line: str) -> str:
    """Cut a record in the middle (on a character boundary, so the encoding stays valid)."""
    return line[: max(1, len(line) // 2)]


def wrong_check_character(code: str) -> str:
    """A 统一社会信用代码 whose last character is not the GB 32100 check character."""
    valid = uscc.calc_check_digit(code[:17])
    position = USCC_ALPHABET.index(valid)
    return code[:17] + USCC_ALPHABET[(position + 7) % len(USCC_ALPHABET)]
