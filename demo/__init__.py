"""Deterministic demo source files for Jing'an's 一网统管 city-operations centre.

``generate`` writes what the real sources would deliver, day by day, into
``<home>/landing/<source>/<YYYY-MM-DD>/`` (12345 orders, grid cases, IoT registry and
readings, enterprise registry, footfall, market prices, weather), plants five incidents and
a controlled set of delivery faults, and describes all of it in ``landing/_manifest.json``.
See ``README.md`` beside this file.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path

from demo import incidents
from demo.common import Config
from ingestion.settings import Paths
from ingestion.sources import CONTRACTS

__all__ = ["SOURCES", "generate"]

VERSION = 1
SOURCES = ("hotline", "grid", "iot", "business", "weather")
Progress = Callable[[str, int, int], None]


def _file_fault_days(config: Config) -> tuple[date | None, date | None]:
    """The hotline day delivered in UTF-8 and the grid day whose file is cut short.

    Once per run each (when the window is long enough), never on the storm day, whose
    hotline surge is an incident.
    """
    if config.fault_rate <= 0:
        return None, None
    window = config.window
    encoding_day = truncated_day = None
    if config.days >= 2:
        index = int(0.45 * config.days)
        if window[index] == incidents.plan(config).rain_day:
            index = (index + 1) % config.days
        encoding_day = window[index]
    if config.days >= 3:
        truncated_day = window[int(0.8 * config.days)]
    return encoding_day, truncated_day


def _task(config: Config, kind: str, day: date | None) -> dict[str, object]:
    """Run one unit of work (in a worker process or inline) and normalise its result."""
    from demo import business, grid, hotline, iot, weather

    encoding_day, truncated_day = _file_fault_days(config)
    if kind == "hotline":
        result = hotline.generate_hotline(config, encoding_day)
        result["records"] = {"hotline_orders": result["records"]}
    elif kind == "grid":
        result = grid.generate_grid(config, truncated_day)
        result["records"] = {"grid_cases": result["records"]}
    elif kind == "business":
        result = business.generate_business(config)
    elif kind == "weather":
        result = weather.generate_weather(config)
        result["records"] = {"weather_hourly": 48 * config.days}
    else:
        assert day is not None
        result = iot.generate_day(config, day)
        files = result["files"]
        readings = sum(int(f["records"]) for f in files if "/readings_" in str(f["path"]))
        result["records"] = {"iot_devices": int(files[0]["records"]), "iot_readings": readings}
    return result


def _run_tasks(
    config: Config,
    tasks: list[tuple[str, date | None]],
    workers: int,
    progress: Progress | None,
) -> list[dict[str, object]]:
    """Run every task, in a spawn process pool when ``workers > 1``; results in task order.

    If the pool breaks (typically: the calling script lacks an ``if __name__ == "__main__":``
    guard, so spawned workers cannot import it), the remaining tasks run in this process.
    """
    total = len(tasks) + 1
    results: dict[int, dict[str, object]] = {}

    def finished(index: int, result: dict[str, object]) -> None:
        results[index] = result
        if progress:
            progress(tasks[index][0], len(results), total)

    if workers > 1:
        context = multiprocessing.get_context("spawn")
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                futures = {pool.submit(_task, config, *task): k for k, task in enumerate(tasks)}
                for future in as_completed(futures):
                    finished(futures[future], future.result())
        except BrokenProcessPool:
            warnings.warn(
                "generator worker processes failed to start (is the calling script missing an "
                "`if __name__ == '__main__':` guard?); finishing in this process",
                RuntimeWarning,
                stacklevel=3,
            )
    for k, task in enumerate(tasks):
        if k not in results:
            finished(k, _task(config, *task))
    return [results[k] for k in range(len(tasks))]


def _merge(into: dict[str, dict[str, object]], more: dict[str, dict[str, object]]) -> None:
    """Merge incident details reported by different tasks (nested dicts are united)."""
    for kind, values in more.items():
        target = into.setdefault(kind, {})
        for key, value in values.items():
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                target[key] = {**target[key], **value}
            else:
                target[key] = value


def generate(
    home: Path,
    start: date,
    days: int,
    seed: int = 7,
    scale: float = 1.0,
    fault_rate: float = 0.002,
    progress: Progress | None = None,
    *,
    workers: int | None = None,
) -> dict:
    """Generate ``days`` days of source deliveries from ``start`` into ``<home>/landing``.

    Output is byte-identical for the same arguments. ``scale`` multiplies people, devices
    and records (fixed infrastructure such as business districts, markets, weather stations
    and underpass sensors stays fixed). ``fault_rate`` sets how many records of each fault
    kind are planted per table and day (``max(1, round(rate × records))``); 0 plants none.
    The window's day folders are deleted first, so a re-run overwrites cleanly.

    ``progress(stage, done, total)`` is called as units of work finish: ``stage`` names the
    source just finished (``hotline``, ``grid``, ``business``, ``weather``, ``iot``, and
    finally ``manifest``); ``done``/``total`` count units across the whole run, so a single
    progress bar can follow them. ``workers`` (default: 2 processes for big runs, inline for
    small ones) does not change the output.

    Returns the manifest, also written to ``<home>/landing/_manifest.json``.
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # A spawned worker is importing a caller's unguarded main script (the same test the
        # standard library's spawn module makes): stop before deleting or writing anything.
        raise RuntimeError("generate() called while a worker process imports the main module")
    if days < 1:
        raise ValueError("days must be at least 1")
    if scale <= 0:
        raise ValueError("scale must be positive")
    if not 0 <= fault_rate < 1:
        raise ValueError("fault_rate must be in [0, 1)")
    if seed < 0:
        raise ValueError("seed must be non-negative")
    config = Config(Path(home).resolve(), start, days, seed, float(scale), float(fault_rate))
    paths = Paths(config.home)
    for source in SOURCES:
        for day in config.window:
            shutil.rmtree(paths.landing_day(source, day), ignore_errors=True)

    tasks: list[tuple[str, date | None]] = [("hotline", None), ("grid", None)]
    tasks += [("iot", day) for day in config.window]
    tasks += [("business", None), ("weather", None)]
    if workers is None:
        workers = 1 if scale * days < 3 else min(2, os.cpu_count() or 1)
    results = _run_tasks(config, tasks, workers, progress)

    files: list[dict[str, object]] = []
    faults: list[dict[str, object]] = []
    details: dict[str, dict[str, object]] = {}
    records = {contract.table: 0 for contract in CONTRACTS}
    for result in results:
        files.extend(result["files"])  # type: ignore[arg-type]
        faults.extend(result["faults"])  # type: ignore[arg-type]
        _merge(details, result.get("details", {}))  # type: ignore[arg-type]
        for table, count in result["records"].items():  # type: ignore[union-attr]
            records[table] += count
    manifest = {
        "generator": {
            "version": VERSION,
            "start": start.isoformat(),
            "days": days,
            "seed": seed,
            "scale": float(scale),
            "fault_rate": float(fault_rate),
        },
        "files": sorted(files, key=lambda f: str(f["path"])),
        "faults": sorted(faults, key=lambda f: (f["table"], f["date"], f["kind"], f["file"])),
        "incidents": incidents.manifest(config, details),
        "records": records,
    }
    paths.landing.mkdir(parents=True, exist_ok=True)
    text = json.dumps(manifest, sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    (paths.landing / "_manifest.json").write_text(text, encoding="utf-8")
    if progress:
        progress("manifest", len(tasks) + 1, len(tasks) + 1)
    return manifest
