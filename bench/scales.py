"""The benchmark scales: what is generated, and the history lengths measured.

A scale generates ``days`` delivery days. For every history length ``h`` in ``histories``
the bench builds days 1 … h from an empty warehouse (the full build), then ingests day h + 1
and builds that one partition (the one-day incremental build); ``days`` is therefore the
longest history plus one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Scale:
    """One benchmark scale."""

    name: str
    start: dt.date
    scale: float
    histories: tuple[int, ...]
    seed: int = 7
    fault_rate: float = 0.002
    description: str = ""

    def __post_init__(self) -> None:
        if (
            len(self.histories) < 2
            or list(self.histories) != sorted(set(self.histories))
            or self.histories[0] < 1
        ):
            raise ValueError(f"{self.name}: histories must be ≥ 2 ascending lengths of ≥ 1 day")

    @property
    def days(self) -> int:
        """Delivery days generated: the longest history and its incremental day."""
        return self.histories[-1] + 1

    def day(self, number: int) -> dt.date:
        """The date of delivery day ``number`` (1-based)."""
        return self.start + dt.timedelta(days=number - 1)

    def with_histories(self, histories: tuple[int, ...]) -> Scale:
        """The same data at other history lengths (fewer days: a shorter run), said so."""
        if histories == self.histories:
            return self
        return replace(
            self,
            histories=histories,
            description=f"{self.description}; histories set to "
            f"{', '.join(map(str, histories))} days instead of "
            f"{', '.join(map(str, self.histories))}",
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready description (dates as ISO strings)."""
        body = asdict(self)
        body["start"] = self.start.isoformat()
        body["histories"] = list(self.histories)
        body["days"] = self.days
        return body


SCALES: dict[str, Scale] = {
    scale.name: scale
    for scale in (
        Scale(
            "small",
            dt.date(2024, 7, 1),
            scale=0.02,
            histories=(2, 4),
            seed=11,
            description="CI: scale 0.02 (≈ 20k readings a day), 5 days",
        ),
        Scale(
            "medium",
            dt.date(2024, 7, 1),
            scale=1.0,
            histories=(15, 30),
            description="the 30-day district demo (seed 7, scale 1.0) and one more day",
        ),
        Scale(
            "district-year",
            dt.date(2024, 1, 1),
            scale=1.0,
            histories=(90, 365),
            description="one district for the year 2024 (366 days, ≈ 1 M readings a day)",
        ),
        Scale(
            # The generator models one district; scale 16 multiplies people, devices and
            # records by 16 (16 districts' volume over Jing'an's 14 streets and 85 grids).
            "city",
            dt.date(2024, 7, 1),
            scale=16.0,
            histories=(30, 90),
            description="16 × district volume (scale 16.0) for 91 days",
        ),
    )
}
