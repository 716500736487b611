"""Progress in a log: lines, not a live bar that only shows when the work is over."""

import io
import re

from rich.console import Console
from rich.progress import Progress

from dagster_project.cli.progress import LineProgress, progress


def log_console():
    return Console(file=io.StringIO(), force_terminal=False, width=200)


def lines(console):
    """The printed lines without their clock time and elapsed time, checked here."""
    printed = console.file.getvalue().splitlines()
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d .+ \(\d+:\d\d\)", line) for line in printed), printed
    return [re.sub(r" \(\d+:\d\d\)$", "", line.split(" ", 1)[1]) for line in printed]


def test_a_log_gets_lines_and_a_terminal_the_rich_bar():
    assert isinstance(progress(log_console()), LineProgress)
    assert isinstance(progress(Console(file=io.StringIO(), force_terminal=True)), Progress)


def test_a_task_prints_when_it_starts_when_it_finishes_and_what_was_left_at_the_end():
    console = log_console()
    # every_seconds far beyond the test: only the start, the finish and the exit print.
    with LineProgress(console, every_seconds=3600) as bar:
        days = bar.add_task("ingest_sources", total=3)
        bar.update(days, description="ingest_sources 2024-07-01")
        bar.advance(days)  # 1/3: not yet
        bar.advance(days)  # 2/3: not yet
        bar.update(days, description="ingest_sources 2024-07-03")
        bar.advance(days)  # 3/3: finished, printed
        build = bar.add_task("build_warehouse", total=None)
        bar.update(build, description="build_warehouse (dbt build)")  # printed at exit
    printed = lines(console)
    assert printed == [
        "ingest_sources 0/3",
        "ingest_sources 2024-07-03 3/3",
        "build_warehouse",
        "build_warehouse (dbt build)",
    ]


def test_a_moving_task_prints_again_once_the_interval_has_passed():
    console = log_console()
    with LineProgress(console, every_seconds=0) as bar:  # every change is due
        task = bar.add_task("generate", total=None)
        bar.update(task, description="generate: hotline done", completed=1, total=9)
        bar.update(task, description="generate: grid done", completed=2, total=9)
    assert lines(console) == ["generate", "generate: hotline done 1/9", "generate: grid done 2/9"]
