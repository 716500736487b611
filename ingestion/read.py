"""Read delivered files into all-text Arrow tables, never losing a record.

Every reader returns the records it could parse as text columns named after the contract's
fields, and the records it could not parse as :class:`Reject` rows with their raw text. Typing
and validation happen later, in one place (:mod:`ingestion.validate`), so a bad value is
quarantined with a reason instead of being coerced here.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from ingestion.contract import (
    ENCODING_MISMATCH,
    MALFORMED_RECORD,
    SCHEMA_MISMATCH,
    TRUNCATED_FILE,
    Contract,
)

# Encodings tried when a file does not decode as its source declares, to name the real one.
_FALLBACK_ENCODINGS = ("utf-8", "gb18030")
META_COLUMNS = ("_source_file", "_source_record", "_raw")


@dataclass(frozen=True)
class Reject:
    """A record that could not be parsed, kept with its raw text."""

    source_file: str
    source_line: int | None
    reason: str
    detail: str
    raw_record: str


@dataclass
class FileRead:
    """What one file yielded."""

    records: pa.Table
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Every record seen in the file, parsed or not."""
        return self.records.num_rows + len(self.rejects)


def read_file(path: Path, contract: Contract, name: str) -> FileRead:
    """Read one delivered file of ``contract``'s source; ``name`` is how lineage refers to it."""
    readers = {"csv": _read_csv, "jsonl": _read_jsonl, "json": _read_json, "xlsx": _read_xlsx}
    return readers[contract.format](path, contract, name)


def empty_records(contract: Contract) -> pa.Table:
    """An all-text table with the contract's columns and no rows."""
    return _table(contract, {f.source: [] for f in contract.fields}, [], [], "")


def _table(
    contract: Contract,
    columns: dict[str, list[str | None]],
    ordinals: list[int],
    raws: list[str | None],
    name: str,
) -> pa.Table:
    """Assemble text columns (keyed by source header) into a table keyed by field name."""
    length = len(ordinals)
    arrays: dict[str, pa.Array] = {}
    for fld in contract.fields:
        values = columns.get(fld.source)
        arrays[fld.name] = pa.array(values if values is not None else [None] * length, pa.string())
    arrays["_source_file"] = pa.array([name] * length, pa.string())
    arrays["_source_record"] = pa.array(ordinals, pa.int64())
    arrays["_raw"] = pa.array(raws, pa.string())
    return pa.table(arrays)


# --------------------------------------------------------------------------- bytes and text


def _read_bytes(path: Path) -> tuple[bytes, bool]:
    """Return the file's bytes (decompressed for ``.gz``) and whether a gzip stream was cut."""
    data = path.read_bytes()
    if path.suffix != ".gz":
        return data, False
    try:
        return gzip.decompress(data), False
    except (EOFError, zlib.error, OSError):
        # A truncated stream: keep everything that does decompress.
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            partial = decompressor.decompress(data)
        except zlib.error:
            partial = b""
        return partial, True


def _split_truncated_tail(data: bytes) -> tuple[bytes, bytes | None]:
    """Separate a last record that the end of the file cut off.

    A file that does not end with a newline cannot vouch for its last record: it may have
    lost characters. That record is returned separately.
    """
    if not data or data.endswith(b"\n"):
        return data, None
    cut_at = data.rfind(b"\n") + 1
    return data[:cut_at], data[cut_at:]


def _cut_warning(cut: bool) -> list[str]:
    return ["gzip stream ends before its end marker: records after the cut are lost"] if cut else []


def _decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _file_level_rejects(
    text: str, name: str, reason: str, detail: str, header_lines: int
) -> list[Reject]:
    """Turn every record line of a rejected file into a quarantine row."""
    rejects = []
    for number, line in enumerate(text.splitlines(), start=1):
        if number <= header_lines or not line.strip():
            continue
        rejects.append(Reject(name, number, reason, detail, line))
    return rejects


def _undecodable(data: bytes) -> str:
    """Best-effort text of bytes that decode in no known encoding, with escapes."""
    return data.decode("utf-8", errors="backslashreplace")


# --------------------------------------------------------------------------- CSV


def _read_csv(path: Path, contract: Contract, name: str) -> FileRead:
    data, cut = _read_bytes(path)
    body, tail = _split_truncated_tail(data)
    text = _decode(body, contract.encoding)
    header = _csv_header(text) if text is not None else None
    required = set(contract.required_sources)
    if header is None or not required <= set(header):
        return _reject_csv_file(body, tail, contract, name)

    utf8 = body if contract.encoding.lower().replace("-", "") == "utf8" else text.encode()  # type: ignore[union-attr]
    rejects: list[Reject] = []

    def on_invalid(row: Any) -> str:
        detail = f"expected {row.expected_columns} fields, found {row.actual_columns}"
        rejects.append(Reject(name, row.number, MALFORMED_RECORD, detail, row.text))
        return "skip"

    parsed = pacsv.read_csv(
        io.BytesIO(utf8),
        read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(newlines_in_values=False, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={column: pa.string() for column in header},
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    warnings = _unexpected_columns(header, contract) + _cut_warning(cut)
    columns = {column: parsed.column(column) for column in header if column in _sources(contract)}
    length = parsed.num_rows
    arrays: dict[str, pa.Array | pa.ChunkedArray] = {}
    for fld in contract.fields:
        arrays[fld.name] = columns.get(fld.source, pa.nulls(length, pa.string()))
    arrays["_source_file"] = pa.array([name] * length, pa.string())
    arrays["_source_record"] = pa.array(range(1, length + 1), pa.int64())
    arrays["_raw"] = pa.nulls(length, pa.string())
    if tail is not None:
        line = body.count(b"\n") + 1
        tail_text = _decode(tail, contract.encoding) or _undecodable(tail)
        rejects.append(
            Reject(name, line, TRUNCATED_FILE, "file ends inside this record", tail_text)
        )
    return FileRead(pa.table(arrays), rejects, warnings)


def _csv_header(text: str) -> list[str] | None:
    first = text.split("\n", 1)[0].rstrip("\r").lstrip("\ufeff")
    if not first:
        return None
    return next(csv.reader([first]))


def _reject_csv_file(body: bytes, tail: bytes | None, contract: Contract, name: str) -> FileRead:
    """Quarantine a whole file whose encoding or header is wrong, line by line."""
    data = body + (tail or b"")
    required = set(contract.required_sources)
    for encoding in _FALLBACK_ENCODINGS:
        if encoding == contract.encoding:
            continue
        text = _decode(data, encoding)
        header = _csv_header(text) if text is not None else None
        if text is not None and header is not None and required <= set(header):
            detail = f"declared {contract.encoding}, file is {encoding}"
            rejects = _file_level_rejects(text, name, ENCODING_MISMATCH, detail, 1)
            return FileRead(empty_records(contract), rejects)
    text = _decode(data, contract.encoding) or _undecodable(data)
    header = _csv_header(text) or []
    missing = sorted(required - set(header))
    detail = f"missing required columns: {', '.join(missing)}"
    return FileRead(
        empty_records(contract), _file_level_rejects(text, name, SCHEMA_MISMATCH, detail, 1)
    )


def _sources(contract: Contract) -> set[str]:
    return {f.source for f in contract.fields}


def _unexpected_columns(columns: list[str], contract: Contract) -> list[str]:
    extra = [column for column in columns if column not in _sources(contract)]
    return [f"columns not in the contract, not loaded: {', '.join(extra)}"] if extra else []


# --------------------------------------------------------------------------- JSON


def _text_of(value: Any) -> str | None:
    """The text form of a JSON value, for uniform typing later."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class _Collector:
    """Accumulate JSON-like records into text columns."""

    def __init__(self, contract: Contract, name: str) -> None:
        self.contract = contract
        self.name = name
        self.columns: dict[str, list[str | None]] = {f.source: [] for f in contract.fields}
        self.ordinals: list[int] = []
        self.raws: list[str | None] = []
        self.extra: set[str] = set()

    def add(self, record: dict[str, Any], raw: str) -> None:
        for source, values in self.columns.items():
            values.append(_text_of(record.get(source)))
        self.extra.update(key for key in record if key not in self.columns)
        self.ordinals.append(len(self.ordinals) + 1)
        self.raws.append(raw)

    def result(self, rejects: list[Reject]) -> FileRead:
        table = _table(self.contract, self.columns, self.ordinals, self.raws, self.name)
        warnings = _unexpected_columns(sorted(self.extra), self.contract)
        return FileRead(table, rejects, warnings)


def _read_jsonl(path: Path, contract: Contract, name: str) -> FileRead:
    data, cut = _read_bytes(path)
    body, tail = _split_truncated_tail(data)
    text = _decode(body, contract.encoding)
    if text is None:
        detail = f"not valid {contract.encoding}"
        rejects = _file_level_rejects(_undecodable(data), name, ENCODING_MISMATCH, detail, 0)
        return FileRead(empty_records(contract), rejects)
    collector = _Collector(contract, name)
    rejects: list[Reject] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            rejects.append(
                Reject(name, number, MALFORMED_RECORD, f"invalid JSON: {error.msg}", line)
            )
            continue
        if not isinstance(record, dict):
            rejects.append(Reject(name, number, MALFORMED_RECORD, "not a JSON object", line))
            continue
        collector.add(record, line)
    if tail is not None:
        line_number = body.count(b"\n") + 1
        tail_text = _decode(tail, contract.encoding) or _undecodable(tail)
        rejects.append(
            Reject(name, line_number, TRUNCATED_FILE, "file ends inside this record", tail_text)
        )
    result = collector.result(rejects)
    result.warnings.extend(_cut_warning(cut))
    return result


def _read_json(path: Path, contract: Contract, name: str) -> FileRead:
    data, _ = _read_bytes(path)
    text = _decode(data, contract.encoding)
    if text is None:
        detail = f"not valid {contract.encoding}"
        reject = Reject(name, None, ENCODING_MISMATCH, detail, _undecodable(data))
        return FileRead(empty_records(contract), [reject])
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        reason = TRUNCATED_FILE if error.pos >= len(text.rstrip()) else MALFORMED_RECORD
        reject = Reject(name, error.lineno, reason, f"invalid JSON document: {error.msg}", text)
        return FileRead(empty_records(contract), [reject])
    collector = _Collector(contract, name)
    rejects: list[Reject] = []
    for record in _walk(document, contract.records_path, {}, rejects, name):
        collector.add(record, json.dumps(record, ensure_ascii=False, sort_keys=True))
    return collector.result(rejects)


def _walk(
    node: Any, path: tuple[str, ...], inherited: dict[str, Any], rejects: list[Reject], name: str
) -> Iterator[dict[str, Any]]:
    """Flatten nested arrays along ``path``; scalar fields of parents are inherited."""
    if not path:
        if isinstance(node, dict):
            yield {**inherited, **node}
        else:
            raw = json.dumps(node, ensure_ascii=False)
            rejects.append(Reject(name, None, MALFORMED_RECORD, "record is not an object", raw))
        return
    if not isinstance(node, dict) or not isinstance(node.get(path[0]), list):
        raw = json.dumps(node, ensure_ascii=False)[:10_000]
        rejects.append(
            Reject(name, None, MALFORMED_RECORD, f"expected an array at {path[0]!r}", raw)
        )
        return
    scalars = {k: v for k, v in node.items() if not isinstance(v, dict | list)}
    for child in node[path[0]]:
        yield from _walk(child, path[1:], {**inherited, **scalars}, rejects, name)


# --------------------------------------------------------------------------- XLSX


def _cell_text(value: Any) -> str | None:
    """Text of an Excel cell: dates as ISO dates, whole floats without '.0' noise kept exact."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return str(value)


def _read_xlsx(path: Path, contract: Contract, name: str) -> FileRead:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # a damaged zip or not a workbook at all
        detail = f"not a readable workbook: {error}"
        reject = Reject(
            name, None, MALFORMED_RECORD, detail, _undecodable(path.read_bytes()[:4096])
        )
        return FileRead(empty_records(contract), [reject])
    try:
        if contract.sheet not in workbook.sheetnames:
            detail = f"sheet {contract.sheet!r} missing; sheets: {workbook.sheetnames}"
            reject = Reject(name, None, SCHEMA_MISMATCH, detail, "")
            return FileRead(empty_records(contract), [reject])
        rows = workbook[contract.sheet].iter_rows(values_only=True)
        header = [_cell_text(value) or "" for value in next(rows, ())]
        collector = _Collector(contract, name)
        rejects: list[Reject] = []
        missing = sorted(set(contract.required_sources) - set(header))
        for number, row in enumerate(rows, start=2):
            if all(value is None for value in row):
                continue
            record = {header[i]: _cell_text(v) for i, v in enumerate(row) if i < len(header)}
            raw = json.dumps(record, ensure_ascii=False)
            if missing:
                detail = f"missing required columns: {', '.join(missing)}"
                rejects.append(Reject(name, number, SCHEMA_MISMATCH, detail, raw))
            elif len(row) > len(header) and any(v is not None for v in row[len(header) :]):
                rejects.append(
                    Reject(name, number, MALFORMED_RECORD, "cells beyond the header", raw)
                )
            else:
                collector.add(record, raw)
        return collector.result(rejects)
    finally:
        workbook.close()
