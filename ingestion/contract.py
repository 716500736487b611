"""Declarative source contracts.

One :class:`Contract` per lake table says how the delivered file looks (format, encoding,
headers or keys), what each field must hold (type, nullability, allowed codes, range,
format) and what identifies a record (its key and version). Parsing, validation,
de-duplication and the lake schema are all derived from it in :mod:`ingestion.validate`,
so the rules live in exactly one place.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Final, Literal

FieldType = Literal["string", "int", "float", "timestamp", "date", "bool"]
FileFormat = Literal["csv", "jsonl", "json", "xlsx"]

# What one delivery states (see ingestion/README.md, "Delivery semantics"). No source sends
# explicit delete records: a record is withdrawn by re-sending its day without it.
DAY_FEED: Final = "day_feed"  # the day's files are the whole statement of that delivery day
REGISTRY_SNAPSHOT: Final = "registry_snapshot"  # each delivery lists the whole registry
Delivery = Literal["day_feed", "registry_snapshot"]
DELIVERIES = (DAY_FEED, REGISTRY_SNAPSHOT)

# Quarantine reason codes, in the order a record is examined. A quarantined row carries the
# first reason that applies, and every finding in ``reason_detail``.
ENCODING_MISMATCH = "encoding_mismatch"  # the file is not in the encoding the source declares
SCHEMA_MISMATCH = "schema_mismatch"  # the file lacks columns the contract requires
TRUNCATED_FILE = "truncated_file"  # the record is cut off by the end of the file
MALFORMED_RECORD = "malformed_record"  # wrong number of fields, or not valid JSON
MISSING_REQUIRED = "missing_required"  # a non-nullable field is empty
INVALID_TYPE = "invalid_type"  # text that does not parse as the field's type
INVALID_FORMAT = "invalid_format"  # fails a pattern or a checksum (e.g. 统一社会信用代码)
UNKNOWN_CODE = "unknown_code"  # a code outside the allowed list (street, grid, matter …)
OUT_OF_RANGE = "out_of_range"  # a number or time outside its plausible range

REASONS = (
    ENCODING_MISMATCH,
    SCHEMA_MISMATCH,
    TRUNCATED_FILE,
    MALFORMED_RECORD,
    MISSING_REQUIRED,
    INVALID_TYPE,
    INVALID_FORMAT,
    UNKNOWN_CODE,
    OUT_OF_RANGE,
)

# Records removed as duplicates are counted, never quarantined: they are not errors.
EXACT_DUPLICATE = "exact_duplicate"  # byte-for-byte the same record delivered again
SUPERSEDED_VERSION = "superseded_version"  # an older version of a key that a re-send corrected

DUCKDB_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "bool": "BOOLEAN",
}

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")

# Validators that need more than SQL (checksums); registered as DuckDB functions by name.
CHECKS: dict[str, Callable[[str], bool]] = {}


def register_check(name: str) -> Callable[[Callable[[str], bool]], Callable[[str], bool]]:
    """Register a per-value validator usable as ``Field(check=name)``."""

    def wrap(function: Callable[[str], bool]) -> Callable[[str], bool]:
        CHECKS[name] = function
        return function

    return wrap


@register_check("uscc")
def _is_valid_uscc(value: str) -> bool:
    """统一社会信用代码 (GB 32100-2015) including its check character, via python-stdnum."""
    from stdnum.cn import uscc

    return bool(uscc.is_valid(value))


@dataclass(frozen=True)
class Field:
    """One column: where it comes from in the delivered file and what it must hold."""

    name: str
    source: str
    type: FieldType = "string"
    description: str = ""
    nullable: bool = True
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    check: str | None = None
    true_values: tuple[str, ...] = ("是", "true", "1")
    false_values: tuple[str, ...] = ("否", "false", "0")
    pii: bool = False

    def __post_init__(self) -> None:
        if not _IDENTIFIER.match(self.name):
            raise ValueError(f"field name {self.name!r} is not a lower-case identifier")
        if self.check is not None and self.check not in CHECKS:
            raise ValueError(f"field {self.name!r}: unknown check {self.check!r}")
        if (self.minimum is not None or self.maximum is not None) and self.type not in (
            "int",
            "float",
        ):
            raise ValueError(f"field {self.name!r}: a range needs a numeric type")


@dataclass(frozen=True)
class Rule:
    """A row-level rule across fields.

    ``violated_when`` is a DuckDB boolean expression over the typed columns that is true
    when the row breaks the rule; ``reason`` is one of :data:`REASONS`.
    """

    reason: str
    violated_when: str
    detail: str

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise ValueError(f"rule {self.detail!r}: unknown reason {self.reason!r}")


@dataclass(frozen=True)
class Contract:
    """What one lake table receives from one source, and how its records are identified."""

    source: str
    table: str
    title: str
    format: FileFormat
    file_glob: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    # day_feed: a re-send replaces the day, and a record missing from it is withdrawn.
    # registry_snapshot: the same per day, and the newest day lists every entity there is.
    delivery: Delivery
    version_by: str | None = None
    event_time: str | None = None
    encoding: str = "utf-8"
    sheet: str | None = None
    records_path: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    code_sets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    max_lead_hours: float = 1.0
    # Registries deliver history by nature (a full snapshot carries old 核准日期): for them an
    # event before the delivery day is not a late arrival, so it is not counted as one.
    counts_late: bool = True
    # An event feed that sends a file only on days with events: a day without one is an
    # empty delivery (an empty partition), not a missing one.
    quiet_days: bool = False
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.table}: duplicate field names")
        for name in (*self.key, self.version_by, self.event_time):
            if name is not None and name not in names:
                raise ValueError(f"{self.table}: {name!r} is not a field")
        if not _IDENTIFIER.match(self.table):
            raise ValueError(f"table name {self.table!r} is not a lower-case identifier")
        if self.delivery not in DELIVERIES:
            raise ValueError(f"{self.table}: delivery must be one of {DELIVERIES}")

    def field(self, name: str) -> Field:
        """Return the field called ``name``."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    @property
    def required_sources(self) -> tuple[str, ...]:
        """Headers or keys that every delivered file must contain."""
        return tuple(f.source for f in self.fields if not f.nullable)

    def fingerprint(self) -> str:
        """A hash of the contract, so a changed contract re-ingests unchanged files."""
        payload = json.dumps(asdict(self), ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def lake_schema(self) -> dict[str, str]:
        """Column name → DuckDB type of the typed lake table (Hive ``dt`` excluded)."""
        schema = {f.name: DUCKDB_TYPES[f.type] for f in self.fields}
        schema["_source_file"] = "VARCHAR"
        schema["_source_record"] = "BIGINT"
        return schema
