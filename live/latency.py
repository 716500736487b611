"""Latency of the live path, per landed file, from the cycles' records.

Each file landed at its modification time (the rename into landing); the cycle that took it
records when ingestion, the live models, the live store and the notifier finished. A file's
latency to a stage is that stage's end minus its landing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

# Stage → what the user sees when it ends.
STAGES = {
    "ingested": "入湖 (ingested)",
    "computed": "指标与预警已算 (models run)",
    "published": "预警可查 (live store readable)",
    "notified": "通知已发 (notifier returned)",
}


def paced_cycles(
    cycles: Iterable[dict[str, Any]], started: float, paced_from: float | None
) -> list[dict[str, Any]]:
    """A replay's cycles (begun at ``started`` or later), each with only its paced files.

    Files landed before ``paced_from`` are a replay's backlog, landed at once: not counted.
    """
    since = paced_from or started
    return [
        {**cycle, "files": [landed for landed in cycle["files"] if landed["landed_at"] >= since]}
        for cycle in cycles
        if cycle["started_at"] >= started
    ]


def file_latencies(cycles: Iterable[dict[str, Any]]) -> dict[str, list[float]]:
    """Seconds from each file's landing to the end of each stage, over successful cycles."""
    found: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for cycle in cycles:
        if cycle.get("error"):
            continue
        for landed in cycle["files"]:
            for stage in STAGES:
                if stage in cycle["stages"]:
                    found[stage].append(cycle["stages"][stage] - landed["landed_at"])
    return found


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in 0…1) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def summarise(values: Sequence[float]) -> dict[str, float | int | None]:
    """Count, p50, p95 and max of a list of seconds."""
    return {
        "count": len(values),
        "p50": percentile(values, 0.5),
        "p95": percentile(values, 0.95),
        "max": max(values) if values else None,
    }
