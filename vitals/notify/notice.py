"""What a notice is: the message every channel formats in its own way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# Warning levels, lowest first: the four colours of GB/T 27962-2011 (气象灾害预警信号), which
# the district's other warnings (积水, 空气质量, 设备告警) reuse.
LEVELS: tuple[str, ...] = ("蓝", "黄", "橙", "红")
LEVEL_RANK: Mapping[str, int] = {level: rank for rank, level in enumerate(LEVELS)}

# How the known events read in a message; any other event is shown as given.
EVENT_LABELS: Mapping[str, str] = {
    "opened": "新发布",
    "escalated": "升级",
    "run_failed": "运行失败",
    "test": "测试",
}


@dataclass(frozen=True)
class Notice:
    """One message to deliver to every channel, de-duplicated by ``key`` per channel.

    ``lines`` are plain text: the formatters turn them into each robot's markdown or text.
    ``fields`` is the machine-readable payload, sent as is by the ``webhook`` kind.
    """

    key: str
    event: str
    level: str | None
    title: str
    lines: tuple[str, ...]
    occurred_at: datetime
    fields: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ValueError("Notice.key must be a non-empty string")
        if self.level is not None and self.level not in LEVEL_RANK:
            raise ValueError(f"Notice.level must be one of {'/'.join(LEVELS)} or None")
        if not isinstance(self.title, str) or not self.title:
            raise ValueError("Notice.title must be a non-empty string")
        if isinstance(self.lines, str):
            raise ValueError("Notice.lines must be a sequence of lines, not one string")
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError("Notice.occurred_at must be time-zone aware")
        # Accept any sequence of lines, keep a tuple so the notice stays immutable.
        object.__setattr__(self, "lines", tuple(str(line) for line in self.lines))

    @property
    def event_label(self) -> str:
        """The event in Chinese (``opened`` → 新发布), or the event itself when unknown."""
        return EVENT_LABELS.get(self.event, self.event)
