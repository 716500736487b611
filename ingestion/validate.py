"""Type, validate and de-duplicate one partition in DuckDB, with every rule taken from the contract.

Input: the all-text records the readers produced and the records they could not parse, loaded
file by file into DuckDB (:func:`prepare`, :func:`append`). Output, as temporary DuckDB tables
on the given connection:

- ``valid_rows``: typed rows, one per key, newest version kept;
- ``quarantined_rows``: every rejected record with its reason code, all findings and raw text.

SQL is generated from the contract. Identifiers come from validated contract names; allowed
codes travel as data in a registered table, not as SQL text; patterns and rule expressions are
constants written in the contracts (reviewed code, never delivered data).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from ingestion.contract import (
    CHECKS,
    EXACT_DUPLICATE,
    INVALID_FORMAT,
    INVALID_TYPE,
    MISSING_REQUIRED,
    OUT_OF_RANGE,
    SUPERSEDED_VERSION,
    UNKNOWN_CODE,
    Contract,
    Field,
)
from ingestion.read import Reject

QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("source_record", pa.int64()),
        ("reason", pa.string()),
        ("reason_detail", pa.string()),
        ("raw_record", pa.string()),
    ]
)


@dataclass(frozen=True)
class FileCounts:
    """How the records of one delivered file (or of a whole partition) were accounted for."""

    rows_written: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    duplicates_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def rows_quarantined(self) -> int:
        """Rows sent to quarantine, whatever the reason."""
        return sum(self.quarantined_by_reason.values())

    @property
    def duplicates_dropped(self) -> int:
        """Copies dropped: exact duplicates plus superseded versions."""
        return sum(self.duplicates_by_kind.values())

    @property
    def rows_accounted(self) -> int:
        """Written + quarantined + dropped: equals the rows read when nothing is lost."""
        return self.rows_written + self.rows_quarantined + self.duplicates_dropped


@dataclass(frozen=True)
class Counts(FileCounts):
    """How one partition's records were accounted for, in total and per delivered file."""

    late_rows: int = 0
    files: dict[str, FileCounts] = field(default_factory=dict)


def literal(text: str) -> str:
    """Quote a constant from a contract as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """Quote a contract identifier."""
    return '"' + name.replace('"', '""') + '"'


def _raw(field: Field) -> str:
    return ident(f"__raw__{field.name}")


def typed_expression(field: Field) -> str:
    """SQL turning the field's text into its type, NULL when the text does not parse."""
    column = _raw(field)
    if field.type == "string":
        return column
    if field.type == "int":
        # TRY_CAST('12.5' AS BIGINT) rounds to 13; accept only integral numbers.
        number = f"try_cast({column} as double)"
        return f"case when {number} = trunc({number}) then cast({number} as bigint) end"
    if field.type == "bool":
        trues = ", ".join(literal(v) for v in field.true_values)
        falses = ", ".join(literal(v) for v in field.false_values)
        lowered = f"lower(trim({column}))"
        return (
            f"case when {lowered} in ({trues}) then true "
            f"when {lowered} in ({falses}) then false end"
        )
    duckdb_type = {"float": "double", "timestamp": "timestamp", "date": "date"}[field.type]
    return f"try_cast(trim({column}) as {duckdb_type})"


def _finding(reason: str, field: Field, condition: str, with_value: bool = True) -> str:
    label = literal(f"{reason}: {field.name}")
    text = f"{label} || ' = ' || {_raw(field)}" if with_value else label
    return f"case when {condition} then {text} end"


def field_findings(field: Field) -> list[str]:
    """SQL expressions, one per check, each yielding a finding text or NULL."""
    raw, typed = _raw(field), ident(field.name)
    present = f"{raw} is not null"
    findings = []
    if not field.nullable:
        findings.append(_finding(MISSING_REQUIRED, field, f"{raw} is null", with_value=False))
    if field.type != "string":
        findings.append(_finding(INVALID_TYPE, field, f"{present} and {typed} is null"))
    if field.pattern is not None:
        pattern = literal(field.pattern)
        findings.append(
            _finding(
                INVALID_FORMAT, field, f"{present} and not regexp_full_match({raw}, {pattern})"
            )
        )
    if field.check is not None:
        findings.append(
            _finding(INVALID_FORMAT, field, f"{present} and not check_{field.check}({raw})")
        )
    if field.allowed is not None:
        in_set = f"select value from _code_sets where set_name = {literal('field:' + field.name)}"
        findings.append(_finding(UNKNOWN_CODE, field, f"{present} and {raw} not in ({in_set})"))
    if field.minimum is not None:
        findings.append(_finding(OUT_OF_RANGE, field, f"{typed} < {float(field.minimum)!r}"))
    if field.maximum is not None:
        findings.append(_finding(OUT_OF_RANGE, field, f"{typed} > {float(field.maximum)!r}"))
    return findings


def _code_sets(contract: Contract) -> pa.Table:
    names: list[str] = []
    values: list[str] = []
    sets: Iterable[tuple[str, tuple[str, ...]]] = [
        *((f"field:{f.name}", f.allowed) for f in contract.fields if f.allowed is not None),
        *contract.code_sets,
    ]
    for name, allowed in sets:
        names.extend([name] * len(allowed))
        values.extend(allowed)
    return pa.table(
        {"set_name": pa.array(names, pa.string()), "value": pa.array(values, pa.string())}
    )


def _register_checks(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    for name in {f.check for f in contract.fields if f.check is not None}:
        with contextlib.suppress(duckdb.CatalogException):  # already on this connection
            con.create_function(f"check_{name}", CHECKS[name], ["VARCHAR"], "BOOLEAN")


def _rejects_table(rejects: list[Reject]) -> pa.Table:
    return pa.table(
        {
            "source_file": [r.source_file for r in rejects],
            "source_line": [r.source_line for r in rejects],
            "source_record": [None] * len(rejects),
            "reason": [r.reason for r in rejects],
            "reason_detail": [r.detail for r in rejects],
            "raw_record": [r.raw_record for r in rejects],
        },
        schema=QUARANTINE_SCHEMA,
    )


def prepare(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    """Create the partition's empty input tables on ``con``: ``_records`` and ``_rejects``.

    :func:`append` then loads the delivered files one at a time, so a day's records are held
    by DuckDB (which spills beyond its ``memory_limit``), not as Arrow tables in Python: a
    city day of readings (16 M rows in 24 files) took 6.4 GB of process read whole.
    """
    _register_checks(con, contract)
    con.register("_code_sets_input", _code_sets(contract))
    con.execute("create or replace temp table _code_sets as select * from _code_sets_input")
    con.unregister("_code_sets_input")
    columns = ", ".join(f"{ident('__raw__' + f.name)} varchar" for f in contract.fields)
    con.execute(
        f"create or replace temp table _records ({columns}, "
        "_source_file varchar, _source_record bigint, _raw varchar)"
    )
    con.register("_rejects_input", _rejects_table([]))
    con.execute("create or replace temp table _rejects as select * from _rejects_input")
    con.unregister("_rejects_input")


def append(con: duckdb.DuckDBPyConnection, records: pa.Table, rejects: list[Reject]) -> None:
    """Add one file's parsed records and unparsable records to the tables :func:`prepare` made.

    ``records`` is the readers' all-text table (contract field names, then ``_source_file``,
    ``_source_record`` and ``_raw``); columns are matched by name.
    """
    renamed = records.rename_columns(
        [f"__raw__{name}" if not name.startswith("_") else name for name in records.column_names]
    )
    con.register("_file_records", renamed)
    con.execute("insert into _records by name select * from _file_records")
    con.unregister("_file_records")
    if rejects:
        con.register("_file_rejects", _rejects_table(rejects))
        con.execute("insert into _rejects by name select * from _file_rejects")
        con.unregister("_file_rejects")


def validate(con: duckdb.DuckDBPyConnection, contract: Contract, day: dt.date) -> Counts:
    """Build ``valid_rows`` and ``quarantined_rows`` on ``con`` and return the accounting.

    The input is what :func:`prepare` and :func:`append` loaded on ``con``.
    """
    typed = ",\n    ".join(f"{typed_expression(f)} as {ident(f.name)}" for f in contract.fields)
    raws = ", ".join(_raw(f) for f in contract.fields)
    findings = [finding for f in contract.fields for finding in field_findings(f)]
    findings += [
        f"case when {rule.violated_when} then {literal(f'{rule.reason}: {rule.detail}')} end"
        for rule in contract.rules
    ]
    if contract.event_time is not None:
        # A record stamped later than its delivery day (plus a grace period) is implausible.
        latest = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()) + dt.timedelta(
            hours=contract.max_lead_hours
        )
        event = ident(contract.event_time)
        detail = literal(f"{OUT_OF_RANGE}: {contract.event_time} after the delivery day")
        findings.append(
            f"case when {event} > timestamp {literal(latest.isoformat(sep=' '))} "
            f"then {detail} || ' = ' || cast({event} as varchar) end"
        )
    raw_json = (
        "json_object(" + ", ".join(f"{literal(f.source)}, {_raw(f)}" for f in contract.fields) + ")"
    )
    con.execute(
        f"""
        create or replace temp table _checked as
        with typed as (
            select
                {typed},
                {raws},
                _source_file, _source_record, _raw
            from _records
        )
        select
            *,
            list_filter([{", ".join(findings)}], lambda finding: finding is not null) as _findings
        from typed
        """
    )
    con.execute(
        f"""
        create or replace temp table quarantined_rows as
        select
            _source_file as source_file,
            cast(null as bigint) as source_line,
            _source_record as source_record,
            split_part(_findings[1], ':', 1) as reason,
            array_to_string(_findings, '; ') as reason_detail,
            coalesce(_raw, cast({raw_json} as varchar)) as raw_record
        from _checked
        where len(_findings) > 0
        union all
        select * from _rejects
        order by source_file, coalesce(source_record, 0), coalesce(source_line, 0)
        """
    )
    key = ", ".join(ident(k) for k in contract.key)
    newest_first = (
        f"{ident(contract.version_by)} desc nulls last, " if contract.version_by else ""
    ) + "_source_file desc, _source_record desc"
    columns = ", ".join(ident(f.name) for f in contract.fields)
    # One window picks the newest version per key; among identical copies any one will do.
    con.execute(
        f"""
        create or replace temp table valid_rows as
        select {columns}, _source_file, _source_record
        from _checked
        where len(_findings) = 0
        qualify row_number() over (partition by {key} order by {newest_first}) = 1
        order by _source_file, _source_record
        """
    )
    return _counts(con, contract, day)


def _scalar(
    con: duckdb.DuckDBPyConnection, sql: str, parameters: list[object] | None = None
) -> int:
    row = con.execute(sql, parameters or []).fetchone()
    return int(row[0]) if row else 0


def _per_file(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, int]:
    return {str(name): int(n) for name, n in con.execute(sql).fetchall()}


def _counts(con: duckdb.DuckDBPyConnection, contract: Contract, day: dt.date) -> Counts:
    """The partition's accounting, per file: a dropped copy is charged to the file it came from.

    Per file, valid rows = written + exact copies + superseded versions. Among identical valid
    records, the representative is the copy :func:`validate` would keep (the latest file and
    record); every other copy is an ``exact_duplicate`` of its own file. A representative that
    is not the row kept for its key is a ``superseded_version``. Hash aggregates count both
    kinds without another sort.
    """
    quarantined: dict[str, Counter[str]] = {}
    for file, reason, n in con.execute(
        "select source_file, reason, count(*) from quarantined_rows group by all order by all"
    ).fetchall():
        quarantined.setdefault(str(file), Counter())[str(reason)] = int(n)
    raws = ", ".join(_raw(f) for f in contract.fields)
    valid = _per_file(
        con, "select _source_file, count(*) from _checked where len(_findings) = 0 group by all"
    )
    representatives = _per_file(
        con,
        f"""
        select kept.file, count(*)
        from (
            select max(struct_pack(file := _source_file, record := _source_record)) as kept
            from _checked
            where len(_findings) = 0
            group by {raws}
        )
        group by all
        """,
    )
    written = _per_file(con, "select _source_file, count(*) from valid_rows group by all")
    files = {}
    for name in sorted({*quarantined, *valid}):
        kinds = {
            EXACT_DUPLICATE: valid.get(name, 0) - representatives.get(name, 0),
            SUPERSEDED_VERSION: representatives.get(name, 0) - written.get(name, 0),
        }
        files[name] = FileCounts(
            rows_written=written.get(name, 0),
            quarantined_by_reason=dict(sorted(quarantined.get(name, Counter()).items())),
            duplicates_by_kind={kind: n for kind, n in kinds.items() if n},
        )
    late = 0
    if contract.event_time is not None and contract.counts_late:
        late = _scalar(
            con,
            f"select count(*) from valid_rows where {ident(contract.event_time)} < ?",
            [dt.datetime.combine(day, dt.time())],
        )
    by_reason: Counter[str] = Counter()
    duplicates: Counter[str] = Counter()
    for counts in files.values():
        by_reason.update(counts.quarantined_by_reason)
        duplicates.update(counts.duplicates_by_kind)
    return Counts(
        rows_written=_scalar(con, "select count(*) from valid_rows"),
        quarantined_by_reason=dict(sorted(by_reason.items())),
        duplicates_by_kind={kind: duplicates[kind] for kind in sorted(duplicates)},
        late_rows=late,
        files=files,
    )


def withdrawn_keys(
    con: duckdb.DuckDBPyConnection, contract: Contract, replaced: Path, sample: int
) -> tuple[int, list[str]]:
    """Keys of the partition file ``replaced`` that ``valid_rows`` no longer holds.

    Returns their number and the first ``sample`` of them (sorted, parts joined by " | "):
    records the re-send left out, or re-sent in a form that is now quarantined.
    Informational: a withdrawn record is not read, so it is not part of the books. No source
    sends explicit delete records; a key missing from a re-sent day is how a withdrawal shows.
    """
    if not replaced.exists():
        return 0, []
    key = ", ".join(ident(name) for name in contract.key)
    con.execute(
        f"create or replace temp table _withdrawn as "
        f"select {key} from read_parquet(?) except select {key} from valid_rows",
        [str(replaced)],
    )
    row = con.execute("select count(*) from _withdrawn").fetchone()
    first = con.execute(f"select {key} from _withdrawn order by all limit {int(sample)}").fetchall()
    return (int(row[0]) if row else 0), [" | ".join(str(v) for v in values) for values in first]


def keys_taken(con: duckdb.DuckDBPyConnection, contract: Contract, existing: list[Path]) -> bool:
    """Whether a row of ``valid_rows`` has its key in the ``existing`` part files."""
    if not existing:
        return False
    key = ", ".join(ident(name) for name in contract.key)
    bounds, parameters = "", []
    if contract.event_time in contract.key:
        # Readings of a batch span minutes: the Parquet statistics skip the other row groups.
        event = ident(contract.event_time)
        low, high = con.execute(f"select min({event}), max({event}) from valid_rows").fetchone()
        bounds, parameters = f"where {event} between ? and ?", [low, high]
    row = con.execute(
        f"select exists (select {key} from read_parquet(?) {bounds} "
        f"intersect select {key} from valid_rows)",
        [[str(path) for path in existing], *parameters],
    ).fetchone()
    return bool(row and row[0])
