"""Our pipeline, run the way ``cityops run`` runs it, with timings.

Ingestion is one ``ingest_sources`` run per delivery day; a build is one ``build_warehouse``
run over a day range (partition-range tags, one dbt invocation per dbt step), exactly as
``cityops run`` starts them (``dagster_project/execution.py``), with the check results of
every run collected after it. Called inside a bench worker process whose environment holds
``CITYOPS_HOME``, ``DAGSTER_HOME`` and ``CITYOPS_PII_KEY``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ingestion.settings import Paths


def ingest_days(home: Paths, days: Iterable[dt.date], journal: Path) -> list[dict[str, Any]]:
    """Run ``ingest_sources`` for each day; one record per day, also appended to ``journal``.

    Days already in the journal (an interrupted stage resumed) are not run again. Raises
    ``RuntimeError`` on a failed run or a blocking check failed with severity ERROR, where
    ``cityops run`` would stop before building.
    """
    from dagster import DagsterInstance

    from dagster_project.execution import (
        blocking_failures,
        collect_run,
        execute_ingestion,
        run_config,
    )
    from ingestion.pipeline import read_log
    from ingestion.sources import CONTRACTS

    done = {}
    if journal.exists():
        for line in journal.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            done[record["day"]] = record
    instance = DagsterInstance.get()
    records = []
    for day in days:
        if day.isoformat() in done:
            records.append(done[day.isoformat()])
            continue
        started = time.perf_counter()
        result = execute_ingestion(instance, day, run_config(home))
        ran = time.perf_counter()
        collect_run(instance, home, result.run_id)
        collected = time.perf_counter()
        blocked = blocking_failures(result)
        if not result.success or blocked:
            raise RuntimeError(f"ingest_sources {day} failed or was blocked: {blocked}")
        tables = {}
        for contract in CONTRACTS:
            log = read_log(home, contract.table, day)
            # A quiet event feed's day without a file (the 吹哨 feedback) reads nothing.
            if log is None or not log["files"]:
                continue
            tables[contract.table] = {
                "status": log["status"],
                "rows_read": log["rows_read"],
                "rows_written": log["rows_written"],
                "rows_quarantined": log["rows_quarantined"],
                "duration_s": log["duration_s"],
            }
        record = {
            "day": day.isoformat(),
            "run_id": result.run_id,
            "run_seconds": round(ran - started, 3),
            "collect_seconds": round(collected - ran, 3),
            "tables": tables,
        }
        with journal.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        records.append(record)
    instance.dispose()
    return records


def parse_target(home: Paths) -> Path:
    """Where the bench's ``dbt parse`` leaves ``partial_parse.msgpack`` (``DBT_TARGET_PATH``)."""
    return home.home / "dbt" / "_parse"


def parse_project(home: Paths) -> dict[str, Any]:
    """``dbt parse`` with this home's environment, as ``make setup`` does for ``./data``.

    dagster-dbt copies ``$DBT_TARGET_PATH/partial_parse.msgpack`` into each invocation's target
    folder, and dbt re-parses the whole project when the profile it was parsed with differs
    (the warehouse path follows ``CITYOPS_HOME``). A deployment parses with its own home
    (``make setup``), so the bench does too, into :func:`parse_target`, which the stages'
    environment names as ``DBT_TARGET_PATH``.
    """
    import os
    import subprocess

    from dagster_project.defs.transformation.resources import DBT_PROJECT_DIR, dbt_executable

    target = parse_target(home)
    command = [dbt_executable(), "parse", "--quiet", "--target-path", str(target)]
    env = {**os.environ, "CITYOPS_HOME": str(home.home)}
    env.pop("DBT_TARGET_PATH", None)
    started = time.perf_counter()
    subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, check=True, stdout=subprocess.DEVNULL)
    return {"seconds": round(time.perf_counter() - started, 3), "target": str(target)}


def remove_warehouse(home: Paths) -> None:
    """Delete the working warehouse (and DuckDB's WAL and spill folder) for a build from scratch."""
    from serving import remove_database, working_path

    database = working_path(home)
    remove_database(database)
    shutil.rmtree(database.with_name(database.name + ".tmp"), ignore_errors=True)


def build(home: Paths, first: dt.date, last: dt.date) -> dict[str, Any]:
    """One ``build_warehouse`` run over ``first`` … ``last``; its steps and dbt's node timings."""
    from dagster import DagsterInstance

    from dagster_project.execution import collect_run, execute_build, run_config

    instance = DagsterInstance.get()
    started = time.perf_counter()
    result = execute_build(instance, first, last, run_config(home))
    ran = time.perf_counter()
    collect_run(instance, home, result.run_id)
    collected = time.perf_counter()
    steps = [
        {
            "step": stats.step_key,
            "status": stats.status.value if stats.status else None,
            "seconds": round((stats.end_time or 0) - (stats.start_time or 0), 3),
        }
        for stats in instance.get_run_step_stats(result.run_id)
    ]
    instance.dispose()
    if not result.success:
        failed = [step["step"] for step in steps if step["status"] != "SUCCESS"]
        raise RuntimeError(f"build_warehouse {first} … {last} failed: {failed}")
    return {
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "run_id": result.run_id,
        "run_seconds": round(ran - started, 3),
        "collect_seconds": round(collected - ran, 3),
        "steps": steps,
        "dbt": dbt_timings(home, result.run_id),
    }


def dbt_timings(home: Paths, run_id: str) -> dict[str, Any]:
    """Per dbt step: dbt's elapsed time and the summed execution time of its nodes by kind.

    Read from each invocation's ``run_results.json`` (``$CITYOPS_HOME/dbt/<run>-<op>/``).
    Node times overlap when dbt runs two threads, so their sum can exceed the elapsed time.
    ``parse`` is how the invocation loaded the project (:func:`parse_record`).
    """
    steps = {}
    for folder in sorted((home.home / "dbt").glob(f"{run_id[:8]}-*")):
        path = folder / "run_results.json"
        if not path.exists():
            continue
        body = json.loads(path.read_text(encoding="utf-8"))
        by_kind: dict[str, dict[str, float]] = defaultdict(lambda: {"count": 0, "seconds": 0.0})
        statuses: dict[str, int] = defaultdict(int)
        slowest = []
        for node in body["results"]:
            kind = node["unique_id"].split(".")[0]
            by_kind[kind]["count"] += 1
            by_kind[kind]["seconds"] += node.get("execution_time") or 0.0
            statuses[node["status"]] += 1
            slowest.append((node.get("execution_time") or 0.0, node["unique_id"]))
        slowest.sort(reverse=True)
        steps[folder.name.split("-", 1)[1]] = {
            "elapsed_seconds": round(body.get("elapsed_time") or 0.0, 3),
            "nodes": {
                kind: {**v, "seconds": round(v["seconds"], 3)} for kind, v in by_kind.items()
            },
            "statuses": dict(statuses),
            "slowest": [{"node": node, "seconds": round(s, 3)} for s, node in slowest[:5]],
            "parse": parse_record(folder / "dbt.log"),
        }
    return steps


def parse_record(log: Path) -> dict[str, Any]:
    """How one dbt invocation loaded the project, from its JSON ``dbt.log``.

    ``partial`` is False when dbt re-parsed the whole project (``reason`` says why: changed
    ``--vars`` did that on every daily run, docs/performance.md); ``seconds`` runs from dbt's
    first log line to the manifest's stats line (imports before the first line not included).
    """
    first = None
    reason = None
    if log.exists():
        with log.open(encoding="utf-8") as lines:
            for line in lines:
                info = json.loads(line)["info"]
                stamp = dt.datetime.fromisoformat(info["ts"].replace("Z", "+00:00"))
                first = first or stamp
                if info["name"] == "UnableToPartialParse":
                    reason = info["msg"]
                elif info["name"] == "FoundStats":
                    return {
                        "partial": reason is None,
                        "reason": reason,
                        "seconds": round((stamp - first).total_seconds(), 3),
                    }
    return {"partial": None, "reason": reason, "seconds": None}
