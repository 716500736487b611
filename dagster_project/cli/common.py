"""What the ``cityops`` command modules share: the consoles, the progress bar, day options."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dagster_project.cli.progress import LineProgress, progress

T = TypeVar("T")

# Wide enough for the status table when output goes to a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def bar() -> Progress | LineProgress:
    """A progress bar with a count and the time taken, on stderr (lines when not a terminal)."""
    return progress(
        err,
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )


def parse_day(value: str | None) -> dt.date | None:
    """A ``YYYY-MM-DD`` option as a date (None stays None); a usage error otherwise."""
    return _parse(value, dt.date.fromisoformat, "a date like 2024-07-01")


def parse_time(value: str | None) -> dt.time | None:
    """An ``HH:MM`` option as a time of day (None stays None); a usage error otherwise."""
    return _parse(value, dt.time.fromisoformat, "a time like 14:00")


def _parse(value: str | None, parse: Callable[[str], T], example: str) -> T | None:
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as error:
        raise typer.BadParameter(f"{value!r} is not {example}") from error
