"""Read delivered files into all-text Arrow tables, never losing a record.

Every reader returns the records it could parse as text columns named after the contract's
fields, and the records it could not parse as :class:`Reject` rows with their raw text. Typing
and validation happen later, in one place (:mod:`ingestion.validate`), so a bad value is
quarantined with a reason instead of being coerced here.

No file passes silently: a file yields records, or quarantine rows with a reason, or, when it
holds no record at all (0 bytes, a header only), a warning saying so (:attr:`FileRead.outcome`).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

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
GZIP_MAGIC = b"\x1f\x8b"
_GZIP_CHUNK = 1 << 16  # what a corrupt gzip block can lose at most, of decompressed input
_RAW_LIMIT = 4096  # characters of an undecodable or binary file kept as its raw record

FileOutcome = Literal["read", "quarantined", "empty"]


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

    @property
    def outcome(self) -> FileOutcome:
        """``read`` (records parsed), ``quarantined`` (only rejects) or ``empty`` (nothing)."""
        if self.records.num_rows:
            return "read"
        return "quarantined" if self.rejects else "empty"


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


def _empty(contract: Contract, warnings: list[str], why: str) -> FileRead:
    """A file that holds no record: nothing to quarantine, but never silent."""
    return FileRead(empty_records(contract), [], [*warnings, f"{why}: no records"])


# --------------------------------------------------------------------------- bytes and text


def _read_bytes(path: Path) -> tuple[bytes, list[str], bool]:
    """The file's bytes (decompressed for ``.gz``), warnings, and whether a gzip stream broke.

    A ``.gz`` file that is not gzip at all (no gzip magic number) is read as the plain file it
    is, with a warning. A gzip stream that is cut or corrupt keeps everything that decompresses
    before the break.
    """
    data = path.read_bytes()
    if path.suffix != ".gz":
        return data, [], False
    if not data:
        return data, [], False
    if not data.startswith(GZIP_MAGIC):
        return data, ["named .gz but not gzip-compressed: read as the plain file it is"], False
    try:
        return gzip.decompress(data), [], False
    except (EOFError, zlib.error, OSError):
        kept, why = _gunzip_salvage(data)
        return kept, [f"gzip stream {why}: records after the break are lost"], True


def _gunzip_salvage(data: bytes) -> tuple[bytes, str]:
    """Decompress a damaged gzip file member by member, chunk by chunk, up to the damage."""
    kept: list[bytes] = []
    rest = data
    while rest.startswith(GZIP_MAGIC):
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            for start in range(0, len(rest), _GZIP_CHUNK):
                kept.append(decompressor.decompress(rest[start : start + _GZIP_CHUNK]))
                if decompressor.eof:
                    rest = decompressor.unused_data + rest[start + _GZIP_CHUNK :]
                    break
        except zlib.error:
            return b"".join(kept), "is corrupt"
        if not decompressor.eof:
            return b"".join(kept), "ends before its end marker (cut short or corrupt)"
    return b"".join(kept), "has bytes after its end that are not gzip"


def _unify_newlines(data: bytes) -> bytes:
    """CRLF and CR-only (old Mac/Excel) line endings as LF.

    Safe at the byte level for the declared encodings (UTF-8, GB18030): 0x0D and 0x0A never
    occur inside a multi-byte character.
    """
    if b"\r" not in data:
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _split_truncated_tail(data: bytes) -> tuple[bytes, bytes | None]:
    """Separate a last record that the end of the file cut off.

    A file that does not end with a newline cannot vouch for its last record: it may have
    lost characters. That record is returned separately.
    """
    if not data or data.endswith(b"\n"):
        return data, None
    cut_at = data.rfind(b"\n") + 1
    return data[:cut_at], data[cut_at:]


def _decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _escaped(data: bytes, encoding: str) -> str:
    r"""Text of bytes with the undecodable ones escaped as ``\xff`` (no mojibake)."""
    return data.decode(encoding, errors="backslashreplace")


def _undecodable(data: bytes) -> str:
    """Best-effort text of bytes that decode in no known encoding, with escapes."""
    return data.decode("utf-8", errors="backslashreplace")


@dataclass
class _Lines:
    """A file's lines once its encoding is decided; undecodable lines already rejected."""

    texts: list[str]  # lines that decoded, without their newline
    numbers: list[int]  # the physical line number of each (1-based)
    rejects: list[Reject]  # lines that did not decode: encoding_mismatch with escaped raw text
    wrong_encoding: str | None = None  # the whole file is in this encoding, not the declared
    note: str = ""  # what else the encoding mismatch detail should say

    def __len__(self) -> int:
        return len(self.texts)


def _decode_lines(
    body: bytes, declared: str, name: str, fits: Callable[[str], bool] = lambda _: True
) -> _Lines:
    """Decide a file's encoding, then decode it line by line.

    1. The declared encoding decodes every byte: it is the file's encoding.
    2. A fallback encoding decodes every byte and ``fits`` its first line (a header with the
       contract's columns): the whole file is in the wrong encoding, named.
    3. Neither: the encoding that decodes the most lines (the declared one on a tie). When
       that is a fallback whose first line fits, the whole file is in the wrong encoding
       (damaged too). Else the declared encoding, line by line: a line it cannot decode is an
       ``encoding_mismatch`` at that line, kept with its undecodable bytes escaped.

    Deciding for the file first matters: GB18030 decodes most byte sequences, so choosing an
    encoding per line would turn the lines of a damaged UTF-8 file into plausible mojibake.
    ``body`` ends with a newline (or is empty).
    """
    chunks = body.split(b"\n")[:-1] if body else []
    numbers = list(range(1, len(chunks) + 1))
    text = _decode(body, declared)
    if text is not None:
        return _Lines(text.split("\n")[:-1] if text else [], numbers, [])
    fallbacks = [encoding for encoding in _FALLBACK_ENCODINGS if encoding != declared.lower()]
    for encoding in fallbacks:
        other = _decode(body, encoding)
        if other is not None and fits(other.split("\n", 1)[0]):
            return _Lines(other.split("\n")[:-1], numbers, [], wrong_encoding=encoding)
    decodable = {
        encoding: sum(_decode(chunk, encoding) is not None for chunk in chunks)
        for encoding in [declared, *fallbacks]
    }
    best = max(decodable, key=lambda encoding: decodable[encoding])  # first wins a tie
    if best != declared and chunks and fits(_escaped(chunks[0], best)):
        broken = len(chunks) - decodable[best]
        texts = [_escaped(chunk, best) for chunk in chunks]
        note = f" ({broken} line(s) not valid {best} either, kept escaped)"
        return _Lines(texts, numbers, [], wrong_encoding=best, note=note)
    texts, kept, rejects = [], [], []
    for number, chunk in zip(numbers, chunks, strict=True):
        try:
            texts.append(chunk.decode(declared))
            kept.append(number)
        except UnicodeDecodeError as error:
            detail = (
                f"not valid {declared}: byte {chunk[error.start : error.start + 1].hex()} "
                f"at byte {error.start + 1} of the line"
            )
            rejects.append(
                Reject(name, number, ENCODING_MISMATCH, detail, _escaped(chunk, declared))
            )
    return _Lines(texts, kept, rejects)


def _whole_file_rejects(
    lines: _Lines, name: str, reason: str, detail: str, header_lines: int
) -> list[Reject]:
    """Turn every record line of a refused file into a quarantine row (plus its bad lines)."""
    rejects = [
        Reject(name, number, reason, detail, text)
        for number, text in zip(lines.numbers, lines.texts, strict=True)
        if number > header_lines and text.strip()
    ]
    rejects += [r for r in lines.rejects if r.source_line is None or r.source_line > header_lines]
    return sorted(rejects, key=lambda r: r.source_line or 0)


def _tail_reject(tail: bytes, line: int, encoding: str, name: str) -> Reject:
    detail = "file ends inside this record"
    text = _decode(tail, encoding)
    return Reject(name, line, TRUNCATED_FILE, detail, text or _escaped(tail, encoding))


# --------------------------------------------------------------------------- CSV


def _read_csv(path: Path, contract: Contract, name: str) -> FileRead:
    data, warnings, cut = _read_bytes(path)
    body, tail = _split_truncated_tail(_unify_newlines(data))
    if not body.strip(b"\n"):
        # No complete line: nothing, a header without its newline, or a header cut short.
        return _csv_without_records(data, tail, contract, name, warnings, cut)
    tail_line = body.count(b"\n") + 1
    tails = [] if tail is None else [_tail_reject(tail, tail_line, contract.encoding, name)]
    text = _decode(body, contract.encoding)
    lines: _Lines | None = None
    if text is None:  # not wholly in the declared encoding: decide, then go line by line
        required = set(contract.required_sources)

        def header_fits(line: str) -> bool:
            header = _csv_header(line)
            return header is not None and required <= set(header)

        lines = _decode_lines(body, contract.encoding, name, header_fits)
        if lines.wrong_encoding is not None:
            detail = f"declared {contract.encoding}, file is {lines.wrong_encoding}{lines.note}"
            rejects = _whole_file_rejects(lines, name, ENCODING_MISMATCH, detail, 1)
            if tail is not None:
                rejects.append(_tail_reject(tail, tail_line, lines.wrong_encoding, name))
            return FileRead(empty_records(contract), rejects, warnings)
        if not lines.numbers or lines.numbers[0] != 1:
            detail = f"header line is not valid {contract.encoding}: the columns cannot be read"
            rejects = _whole_file_rejects(lines, name, ENCODING_MISMATCH, detail, 1)
            return FileRead(empty_records(contract), rejects + tails, warnings)
        header = _csv_header(lines.texts[0]) or []
    else:
        header = _csv_header(text[: text.find("\n")]) or []
    problem = _header_problem(header, contract)
    if problem is not None:
        if lines is None:
            assert text is not None
            texts = text.split("\n")[:-1]
            lines = _Lines(texts, list(range(1, len(texts) + 1)), [])
        rejects = _whole_file_rejects(lines, name, SCHEMA_MISMATCH, problem, 1)
        return FileRead(empty_records(contract), rejects + tails, warnings)

    if lines is None:  # the common case: the parser reads the bytes as they are
        utf8 = body if _is_utf8(contract.encoding) else text.encode()  # type: ignore[union-attr]
        rejects: list[Reject] = []
    else:  # without the undecodable lines, each parsed line mapped to its physical number
        utf8 = ("\n".join(lines.texts) + "\n").encode()
        rejects = list(lines.rejects)
    columns = _unique_names(header)
    physical: list[int] = []  # the physical number of each non-empty line, when needed

    def on_invalid(row: Any) -> str:
        # The parser numbers the non-empty lines, the header being 1; empty lines are skipped.
        if not physical:
            physical.extend(_nonblank_line_numbers(body if lines is None else lines))
        detail = f"expected {row.expected_columns} fields, found {row.actual_columns}"
        rejects.append(Reject(name, physical[row.number - 1], MALFORMED_RECORD, detail, row.text))
        return "skip"

    parsed = pacsv.read_csv(
        io.BytesIO(utf8),
        read_options=pacsv.ReadOptions(
            use_threads=False, block_size=1 << 24, column_names=columns, skip_rows=1
        ),
        parse_options=pacsv.ParseOptions(newlines_in_values=False, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={column: pa.string() for column in columns},
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    sources = _sources(contract)
    by_source = {
        column: parsed.column(unique)
        for column, unique in zip(header, columns, strict=True)
        if column in sources
    }
    length = parsed.num_rows
    arrays: dict[str, pa.Array | pa.ChunkedArray] = {}
    for fld in contract.fields:
        arrays[fld.name] = by_source.get(fld.source, pa.nulls(length, pa.string()))
    arrays["_source_file"] = pa.array([name] * length, pa.string())
    arrays["_source_record"] = pa.array(range(1, length + 1), pa.int64())
    arrays["_raw"] = pa.nulls(length, pa.string())
    rejects = sorted(rejects + tails, key=lambda r: r.source_line or 0)
    result = FileRead(pa.table(arrays), rejects, warnings + _unexpected_columns(header, contract))
    if result.outcome == "empty":
        result.warnings.append("header only: no records")
    return result


def _nonblank_line_numbers(source: bytes | _Lines) -> list[int]:
    """Physical numbers of the non-empty lines of a body (or of the lines that decoded)."""
    if isinstance(source, _Lines):
        return [n for n, text in zip(source.numbers, source.texts, strict=True) if text]
    return [n for n, line in enumerate(source.split(b"\n"), start=1) if line]


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("-", "").replace("_", "") == "utf8"


def _csv_without_records(
    data: bytes,
    tail: bytes | None,
    contract: Contract,
    name: str,
    warnings: list[str],
    cut: bool,
) -> FileRead:
    """A CSV with no complete line: empty, a header only, or cut before its first record."""
    if tail is None or not tail.strip():
        if cut:  # a gzip stream broken before any byte of it decompressed
            detail = "gzip stream breaks off before its first record: no record survives"
            raw = _undecodable(data[:_RAW_LIMIT]) if data else "(empty gzip output)"
            reject = Reject(name, None, TRUNCATED_FILE, detail, raw)
            return FileRead(empty_records(contract), [reject], warnings)
        why = "empty file (0 bytes)" if not data else "blank lines only"
        return _empty(contract, warnings, why)
    text = _decode(tail, contract.encoding)
    header = _csv_header(text) if text is not None else None
    if not cut and header is not None and _header_problem(header, contract) is None:
        return _empty(contract, warnings, "header only (no final newline)")
    detail = "file ends inside its header line: no record survives"
    reject = Reject(name, 1, TRUNCATED_FILE, detail, text or _escaped(tail, contract.encoding))
    return FileRead(empty_records(contract), [reject], warnings)


def _csv_header(line: str | None) -> list[str] | None:
    first = (line or "").lstrip("\ufeff")
    if not first.strip():
        return None
    try:
        return next(csv.reader([first]))
    except csv.Error:
        return None


def _header_problem(header: list[str], contract: Contract) -> str | None:
    """Why a header cannot be read under the contract, or None.

    A required column that is missing, or a contract column that appears twice (which of the
    two holds the value is ambiguous). A repeated column the contract does not use is harmless.
    """
    missing = sorted(set(contract.required_sources) - set(header))
    if missing:
        return f"missing required columns: {', '.join(missing)}"
    repeated = sorted(
        column for column, n in Counter(header).items() if n > 1 and column in _sources(contract)
    )
    if repeated:
        return (
            f"columns appear more than once in the header: {', '.join(repeated)}; "
            "which one holds the value is ambiguous"
        )
    return None


def _unique_names(header: list[str]) -> list[str]:
    """Header names made unique for the parser: repeats get ``#2``, ``#3`` and so on."""
    seen: Counter[str] = Counter()
    names = []
    for column in header:
        seen[column] += 1
        names.append(column if seen[column] == 1 else f"{column}#{seen[column]}")
    return names


def _sources(contract: Contract) -> set[str]:
    return {f.source for f in contract.fields}


def _unexpected_columns(columns: list[str], contract: Contract) -> list[str]:
    sources = _sources(contract)
    extra = list(dict.fromkeys(column for column in columns if column not in sources))
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

    def result(self, rejects: list[Reject], warnings: list[str]) -> FileRead:
        table = _table(self.contract, self.columns, self.ordinals, self.raws, self.name)
        warnings = warnings + _unexpected_columns(sorted(self.extra), self.contract)
        return FileRead(table, rejects, warnings)


def _read_jsonl(path: Path, contract: Contract, name: str) -> FileRead:
    data, warnings, cut = _read_bytes(path)
    body, tail = _split_truncated_tail(_unify_newlines(data))
    lines = _decode_lines(body, contract.encoding, name)
    if lines.wrong_encoding is not None:
        detail = f"declared {contract.encoding}, file is {lines.wrong_encoding}{lines.note}"
        rejects = _whole_file_rejects(lines, name, ENCODING_MISMATCH, detail, 0)
        return FileRead(empty_records(contract), rejects, warnings)
    collector = _Collector(contract, name)
    rejects = list(lines.rejects)
    for number, line in zip(lines.numbers, lines.texts, strict=True):
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
    if tail is not None and tail.strip():
        rejects.append(_tail_reject(tail, body.count(b"\n") + 1, contract.encoding, name))
    elif cut and not collector.ordinals and not rejects:
        detail = "gzip stream breaks off before its first record: no record survives"
        rejects.append(Reject(name, None, TRUNCATED_FILE, detail, _undecodable(data[:_RAW_LIMIT])))
    rejects.sort(key=lambda r: r.source_line or 0)
    result = collector.result(rejects, warnings)
    if result.outcome == "empty":
        result.warnings.append(("empty file" if not data else "blank lines only") + ": no records")
    return result


def _read_json(path: Path, contract: Contract, name: str) -> FileRead:
    data, warnings, _ = _read_bytes(path)
    text = _decode(data, contract.encoding)
    if text is None:
        detail = f"not valid {contract.encoding}"
        for encoding in _FALLBACK_ENCODINGS:
            if encoding != contract.encoding.lower() and _decode(data, encoding) is not None:
                detail = f"declared {contract.encoding}, file is {encoding}"
                break
        raw = _escaped(data, contract.encoding)
        reject = Reject(name, None, ENCODING_MISMATCH, detail, raw)
        return FileRead(empty_records(contract), [reject], warnings)
    if not text.strip():
        return _empty(contract, warnings, "empty file" if not data else "blank file")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        reason = TRUNCATED_FILE if error.pos >= len(text.rstrip()) else MALFORMED_RECORD
        reject = Reject(name, error.lineno, reason, f"invalid JSON document: {error.msg}", text)
        return FileRead(empty_records(contract), [reject], warnings)
    collector = _Collector(contract, name)
    rejects: list[Reject] = []
    for record in _walk(document, contract.records_path, {}, rejects, name):
        collector.add(record, json.dumps(record, ensure_ascii=False, sort_keys=True))
    result = collector.result(rejects, warnings)
    if result.outcome == "empty":
        result.warnings.append("a JSON document without records: no records")
    return result


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


def _sheet_rows(sheet: Any) -> tuple[list[str], Iterator[tuple[int, tuple[Any, ...]]]]:
    """A sheet's header (as text) and its non-blank data rows with their row numbers."""
    rows = sheet.iter_rows(values_only=True)
    header = [_cell_text(value) or "" for value in next(rows, ())]
    numbered = (
        (number, row)
        for number, row in enumerate(rows, start=2)
        if not all(value is None for value in row)
    )
    return header, numbered


def _record(header: list[str], row: tuple[Any, ...]) -> dict[str, str | None]:
    return {header[i]: _cell_text(v) for i, v in enumerate(row) if i < len(header) and header[i]}


def _read_xlsx(path: Path, contract: Contract, name: str) -> FileRead:
    from openpyxl import load_workbook

    if path.stat().st_size == 0:
        return _empty(contract, [], "empty file (0 bytes)")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # a damaged zip or not a workbook at all
        detail = f"not a readable workbook: {error}"
        raw = _undecodable(path.read_bytes()[:_RAW_LIMIT])
        reject = Reject(name, None, MALFORMED_RECORD, detail, raw)
        return FileRead(empty_records(contract), [reject])
    try:
        if contract.sheet not in workbook.sheetnames:
            return _missing_sheet(workbook, contract, name)
        header, rows = _sheet_rows(workbook[contract.sheet])
        collector = _Collector(contract, name)
        rejects: list[Reject] = []
        problem = _header_problem(header, contract)
        for number, row in rows:
            raw = json.dumps(_record(header, row), ensure_ascii=False)
            if problem is not None:
                rejects.append(Reject(name, number, SCHEMA_MISMATCH, problem, raw))
            elif len(row) > len(header) and any(v is not None for v in row[len(header) :]):
                rejects.append(
                    Reject(name, number, MALFORMED_RECORD, "cells beyond the header", raw)
                )
            else:
                collector.add(_record(header, row), raw)
        result = collector.result(rejects, [])
        if result.outcome == "empty":
            result.warnings.append(f"sheet {contract.sheet!r} has a header only: no records")
        return result
    finally:
        workbook.close()


def _missing_sheet(workbook: Any, contract: Contract, name: str) -> FileRead:
    """The contract's sheet is not in the workbook: quarantine the rows meant for it.

    A sheet under another name whose header holds the contract's required columns is taken to
    be the renamed sheet: each of its rows is quarantined (``schema_mismatch``), so every record
    is counted. Its rows are not read as valid data: the sheet name is part of the contract,
    and the source must re-send the workbook with the sheet named as agreed. Without such a
    sheet, one row for the whole file says what is missing.
    """
    found = ", ".join(workbook.sheetnames)
    rejects = []
    for sheet_name in workbook.sheetnames:
        header, rows = _sheet_rows(workbook[sheet_name])
        if _header_problem(header, contract) is not None:
            continue
        detail = (
            f"sheet {contract.sheet!r} missing (sheets: {found}); sheet {sheet_name!r} has its "
            f"columns: re-send the workbook with the sheet named {contract.sheet!r}"
        )
        for number, row in rows:
            raw = json.dumps(_record(header, row), ensure_ascii=False)
            rejects.append(Reject(name, number, SCHEMA_MISMATCH, detail, raw))
    if not any(r.source_line is not None for r in rejects):
        detail = f"sheet {contract.sheet!r} missing; sheets: {found}"
        rejects = [Reject(name, None, SCHEMA_MISMATCH, detail, json.dumps(workbook.sheetnames))]
    return FileRead(empty_records(contract), rejects)
