"""Progress of the ``cityops`` commands: a live bar in a terminal, plain lines in a log.

Rich draws nothing while stderr is not a terminal (``nohup``, cron, CI, ``| tee``) and prints
the bar once, when the work is over: a 10-minute ``cityops run`` then looks hung. There,
:class:`LineProgress` writes a timestamped line when a task starts, at most every
``every_seconds`` while it moves, and when it ends.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import Progress, ProgressColumn


class LineProgress:
    """The part of :class:`rich.progress.Progress` the CLIs use, as lines for a log."""

    def __init__(self, console: Console, every_seconds: float = 10.0) -> None:
        self.console = console
        self.every_seconds = every_seconds
        self.tasks: list[dict[str, Any]] = []

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *_: object) -> None:
        for number, task in enumerate(self.tasks):
            if task["printed"] != self._state(task):
                self._line(number)

    def add_task(self, description: str, total: float | None = None, **_: Any) -> int:
        """Start a task (printed at once)."""
        self.tasks.append(
            {
                "description": description,
                "total": total,
                "completed": 0.0,
                "started": time.monotonic(),
                "last": 0.0,
                "printed": None,
            }
        )
        self._line(len(self.tasks) - 1)
        return len(self.tasks) - 1

    def update(
        self,
        task_id: int,
        *,
        description: str | None = None,
        total: float | None = None,
        completed: float | None = None,
        advance: float | None = None,
        **_: Any,
    ) -> None:
        """Change a task; a line when it finishes or after ``every_seconds``."""
        task = self.tasks[task_id]
        if description is not None:
            task["description"] = description
        if total is not None:
            task["total"] = total
        if completed is not None:
            task["completed"] = completed
        if advance is not None:
            task["completed"] += advance
        finished = task["total"] is not None and task["completed"] >= task["total"]
        if finished or time.monotonic() - task["last"] >= self.every_seconds:
            self._line(task_id)

    def advance(self, task_id: int, advance: float = 1) -> None:
        """Add ``advance`` to a task's completed units."""
        self.update(task_id, advance=advance)

    @staticmethod
    def _state(task: dict[str, Any]) -> tuple[Any, ...]:
        return task["description"], task["completed"], task["total"]

    def _line(self, task_id: int) -> None:
        task = self.tasks[task_id]
        now = time.monotonic()
        elapsed = int(now - task["started"])
        count = "" if task["total"] is None else f" {task['completed']:g}/{task['total']:g}"
        self.console.print(
            f"{time.strftime('%H:%M:%S')} {task['description']}{count} "
            f"({elapsed // 60}:{elapsed % 60:02d})",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        task["last"] = now
        task["printed"] = self._state(task)


def progress(console: Console, *columns: ProgressColumn) -> Progress | LineProgress:
    """A rich bar with ``columns`` on a terminal, else :class:`LineProgress` on ``console``."""
    if console.is_terminal:
        return Progress(*columns, console=console, transient=False)
    return LineProgress(console)
