"""The bench's sequence of stages, each in its own child process, one at a time.

For a scale with histories h₁ < h₂ (days 1 … h₂ + 1 generated)::

    generate                      landing files for every day
    dbt parse                     partial-parse state for this home (as make setup does)
    ingest days 1 … h₁            one ingest_sources run per day
    full build 1 … h₁             build_warehouse over the range, empty warehouse first
    ingest day h₁+1, build it     the one-day incremental build after h₁ days of history
    ingest days h₁+2 … h₂
    full build 1 … h₂             from an empty warehouse again: the headline full build
    dbt compile                   the baseline's SQL, against a copy of that warehouse (not
                                  timed as part of the baseline)
    baseline ingest 1 … h₂        landing → Parquet with DuckDB alone
    baseline build                compiled SQL in one DuckDB process, tests, snapshot
    dashboard queries             on our serving snapshot and on the baseline's
    compare                       row counts of every table, ours against the baseline's
    ingest day h₂+1, build it     the one-day incremental build after h₂ days

Every stage's result is saved under ``<work>/stages/``; ``resume=True`` skips the stages that
finished (an interrupted ingestion stage continues with its next day).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.measure import StageResult, run_stage
from bench.scales import Scale

REPO = Path(__file__).resolve().parents[1]
# Notification channels are configured through these variables; a benchmark never posts.
CHANNEL_VARIABLES = ("WEBHOOK", "DINGTALK", "WECOM", "FEISHU")


@dataclass(frozen=True)
class Step:
    """One stage to run: its unique name, the worker stage and its arguments."""

    name: str
    stage: str
    arguments: dict[str, Any]
    kind: str


def _iso(days: list[dt.date]) -> list[str]:
    return [day.isoformat() for day in days]


def plan(scale: Scale, work: Path, *, memory_limit: str, threads: int, repeat: int) -> list[Step]:
    """The stages of one bench run, in order."""
    home = str(work / "home")
    baseline = work / "baseline"
    steps = [
        Step(
            "generate",
            "generate",
            {
                "home": home,
                "start": scale.start.isoformat(),
                "days": scale.days,
                "seed": scale.seed,
                "scale": scale.scale,
                "fault_rate": scale.fault_rate,
            },
            "generate",
        ),
        Step("dbt-parse", "parse", {"home": home}, "setup"),
    ]
    ingested = 0
    for history in scale.histories:
        last = history == scale.histories[-1]
        days = [scale.day(n) for n in range(ingested + 1, history + 1)]
        name = f"ingest-days-{ingested + 1:03d}-{history:03d}"
        steps.append(
            Step(
                name,
                "ingest",
                {
                    "home": home,
                    "days": _iso(days),
                    "journal": str(work / "stages" / f"{name}.jsonl"),
                },
                "ingest",
            )
        )
        steps.append(
            Step(
                f"full-build-{history:03d}d",
                "build",
                {
                    "home": home,
                    "first": scale.start.isoformat(),
                    "last": scale.day(history).isoformat(),
                    "fresh": True,
                },
                "full_build",
            )
        )
        if last:
            every_day = _iso([scale.day(n) for n in range(1, history + 1)])
            steps += [
                # Against a copy of the warehouse just built: some tests compile from the
                # relation's columns (bench.baseline.compile_project).
                Step("dbt-compile", "compile", {"home": home, "folder": str(baseline)}, "compile"),
                Step(
                    "baseline-ingest",
                    "baseline_ingest",
                    {"home": home, "lake": str(baseline / "lake"), "days": every_day},
                    "baseline_ingest",
                ),
                Step(
                    "baseline-build",
                    "baseline_build",
                    {
                        "manifest": str(baseline / "target" / "manifest.json"),
                        "folder": str(baseline),
                        "memory_limit": memory_limit,
                        "threads": threads,
                    },
                    "baseline_build",
                ),
                Step(
                    "queries-ours",
                    "queries",
                    {
                        "snapshot": str(work / "home" / "serving" / "current.duckdb"),
                        "repeat": repeat,
                    },
                    "queries",
                ),
                Step(
                    "queries-baseline",
                    "queries",
                    {"snapshot": str(baseline / "serving" / "current.duckdb"), "repeat": repeat},
                    "queries",
                ),
                Step(
                    "compare",
                    "compare",
                    {
                        "ours": str(work / "home" / "serving" / "current.duckdb"),
                        "baseline": str(baseline / "serving" / "current.duckdb"),
                    },
                    "compare",
                ),
            ]
        day = scale.day(history + 1).isoformat()
        name = f"ingest-day-{history + 1:03d}"
        steps += [
            Step(
                name,
                "ingest",
                {"home": home, "days": [day], "journal": str(work / "stages" / f"{name}.jsonl")},
                "ingest",
            ),
            Step(
                f"incremental-build-after-{history:03d}d",
                "build",
                {"home": home, "first": day, "last": day, "fresh": False},
                "incremental_build",
            ),
        ]
        ingested = history + 1
    return steps


def worker_environment(work: Path, *, memory_limit: str, threads: int) -> dict[str, str]:
    """The stages' environment: the bench home, its Dagster instance, key and DuckDB limits."""
    from dagster_project.execution import dagster_instance_folder, pii_key_file
    from ingestion.settings import paths

    home = work / "home"
    dagster_home = dagster_instance_folder(home / "dagster")
    key_file, _ = pii_key_file(paths(home))  # a throw-away key: the data are synthetic
    env = {
        name: value
        for name, value in os.environ.items()
        if not (name.startswith("CITYOPS_") and any(part in name for part in CHANNEL_VARIABLES))
    }
    env.update(
        CITYOPS_HOME=str(home),
        DAGSTER_HOME=str(dagster_home),
        CITYOPS_PII_KEY=key_file.read_text(encoding="utf-8").strip(),
        CITYOPS_DUCKDB_MEMORY_LIMIT=memory_limit,
        CITYOPS_DUCKDB_THREADS=str(threads),
        # dagster-dbt starts every dbt invocation from the partial parse of this home (as a
        # deployment's `make setup` does for its own); see bench.ours.parse_project.
        DBT_TARGET_PATH=str(home / "dbt" / "_parse"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    return env


def run_bench(
    scale: Scale,
    work: Path,
    *,
    memory_limit: str,
    threads: int,
    repeat: int,
    resume: bool = False,
    on_stage: Callable[[Step, StageResult | None, bool], None] | None = None,
) -> list[tuple[Step, StageResult]]:
    """Run (or resume) every stage; returns each step with its measurements.

    ``on_stage(step, result, reused)`` is called before a stage (result None) and after it.
    """
    work.mkdir(parents=True, exist_ok=True)
    (work / "stages").mkdir(exist_ok=True)
    steps = plan(scale, work, memory_limit=memory_limit, threads=threads, repeat=repeat)
    env = worker_environment(work, memory_limit=memory_limit, threads=threads)
    done = []
    for step in steps:
        saved = work / "stages" / f"{step.name}.json"
        if resume and saved.exists():
            result = StageResult.from_dict(json.loads(saved.read_text(encoding="utf-8")))
            if on_stage:
                on_stage(step, result, True)
            done.append((step, result))
            continue
        if on_stage:
            on_stage(step, None, False)
        result = run_stage(step.name, step.stage, step.arguments, env=env, work=work, cwd=REPO)
        saved.write_text(
            json.dumps(result.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        if on_stage:
            on_stage(step, result, False)
        done.append((step, result))
    return done


def disk_usage(folder: Path) -> int:
    """Bytes of every file under ``folder`` (links not followed)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            path = Path(root, name)
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def remove_work(work: Path) -> None:
    """Delete the bench's scratch folder."""
    shutil.rmtree(work, ignore_errors=True)
