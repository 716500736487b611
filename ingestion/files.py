"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every file cityops writes for others to read (landing deliveries, ingestion logs, the
catalogue's exports and codes, Superset's settings, bench results) is written to a hidden
temporary file in the same folder, flushed to disk (``fsync``) and renamed over the target:
a rename within one file system is atomic, and the fsync makes sure the renamed file holds
its bytes after a power cut. The temporary name carries the writer's pid
(``.pid<pid>-<name>.<random>.tmp``), hidden so that no folder scan (landing/ above all)
takes it for data, and it is removed when the write fails.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ingestion.processes import owned_name


@contextmanager
def atomic_path(path: Path, *, mode: int | None = None) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; renamed onto ``path`` when the block ends.

    The caller writes the temporary file by any means (a library's ``save(path)``); on a
    normal exit it is synced and renamed into place, on an exception removed. ``mode``
    (e.g. ``0o600``) is set on the file before it takes the target's name.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{owned_name(path.name)}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield temporary
        if mode is not None:
            temporary.chmod(mode)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path, mode=mode) as temporary:
        # Created with the final mode already when one is given: a secret is never readable.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode or 0o666)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    return path


def write_text(path: Path, text: str, *, mode: int | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"), mode=mode)


def write_json(path: Path, document: Any, *, mode: int | None = None, **dumps: Any) -> Path:
    """Write a JSON document atomically; ``dumps`` go to :func:`json.dumps` (indent, …)."""
    return write_text(path, json.dumps(document, ensure_ascii=False, **dumps), mode=mode)
