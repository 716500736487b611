"""Run one stage in a child process and measure its wall time and its process tree's memory.

Peak memory is measured two ways, both reported:

- ``peak_tree_rss_bytes``: the sum of the resident set sizes (``VmRSS``) of the child and all
  its descendants (the dbt subprocess Dagster starts, spawned generator workers), sampled from
  ``/proc`` every ``interval`` seconds. A peak shorter than the interval can be missed, and
  pages shared between processes are counted in each of them.
- ``max_process_rss_bytes`` / ``max_descendant_rss_bytes``: the kernel's exact high-water
  marks from ``getrusage`` in the child, for itself and for the largest of its waited-for
  descendants (``RUSAGE_CHILDREN`` reports the largest single process, not a sum).

psutil is not a dependency of the project (Dagster 1.13 does not pull it), so the tree is read
from ``/proc`` directly: Linux only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAGE_LOG_TAIL = 4000


class StageFailed(RuntimeError):
    """A stage's child process exited with an error; the message holds its log's tail."""


@dataclass
class StageResult:
    """What the parent measured around one stage, and what the stage reported."""

    name: str
    wall_seconds: float
    peak_tree_rss_bytes: int
    samples: int
    result: dict[str, Any] = field(default_factory=dict)
    load_average: tuple[float, float] = (0.0, 0.0)
    started_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the stage's own result under ``result``)."""
        return {
            "name": self.name,
            "wall_seconds": round(self.wall_seconds, 3),
            "peak_tree_rss_bytes": self.peak_tree_rss_bytes,
            "rss_samples": self.samples,
            # 1-minute load average before and after: the machine may be shared.
            "load_average": list(self.load_average),
            "started_at": self.started_at,
            "max_process_rss_bytes": self.result.get("max_process_rss_bytes"),
            "max_descendant_rss_bytes": self.result.get("max_descendant_rss_bytes"),
            "result": self.result,
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> StageResult:
        """Read back what :meth:`as_dict` wrote (for ``--resume``)."""
        return cls(
            name=body["name"],
            wall_seconds=body["wall_seconds"],
            peak_tree_rss_bytes=body["peak_tree_rss_bytes"],
            samples=body["rss_samples"],
            result=body["result"],
            load_average=tuple(body.get("load_average") or (0.0, 0.0)),
            started_at=body.get("started_at", ""),
        )


def _parent_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        # Field 4 is the parent pid; the command name (field 2) may hold spaces and ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss_bytes(root: int) -> int:
    """Sum of VmRSS over ``root`` and every descendant, now."""
    children = _parent_map()
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss_bytes(pid)
        stack.extend(children.get(pid, []))
    return total


class TreeSampler:
    """Samples a process tree's total RSS in a background thread; keeps the peak."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        self.root = root
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.root))
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def run_stage(
    name: str,
    stage: str,
    arguments: dict[str, Any],
    *,
    env: dict[str, str],
    work: Path,
    cwd: Path,
) -> StageResult:
    """Run ``python -m bench.worker <stage>`` and measure it; raise :class:`StageFailed`.

    The worker writes its result to ``work/stages/<name>.result.json``; its output goes to
    ``work/logs/<name>.log``.
    """
    (work / "stages").mkdir(parents=True, exist_ok=True)
    (work / "logs").mkdir(parents=True, exist_ok=True)
    result_path = work / "stages" / f"{name}.result.json"
    result_path.unlink(missing_ok=True)
    log_path = work / "logs" / f"{name}.log"
    command = [sys.executable, "-m", "bench.worker", stage, json.dumps(arguments), str(result_path)]
    load_before = os.getloadavg()[0]
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with log_path.open("w", encoding="utf-8") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        with TreeSampler(process.pid) as sampler:
            code = process.wait()
        wall = time.perf_counter() - started
    if code != 0 or not result_path.exists():
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-PAGE_LOG_TAIL:]
        raise StageFailed(f"stage {name} failed (exit {code}); {log_path}:\n{tail}")
    result = json.loads(result_path.read_text(encoding="utf-8"))
    load = (round(load_before, 2), round(os.getloadavg()[0], 2))
    return StageResult(name, wall, sampler.peak, sampler.samples, result, load, started_at)
