"""A day's fast batches landed again, at their cadence, into a home that has the days before.

``cityops live --replay DAY`` and ``cityops bench latency`` need a home whose published
warehouse ends the day before ``DAY`` and a landing folder that receives ``DAY``'s files as
the platforms delivered them. :func:`prepare` makes that home beside the demo's (its landing
days before ``DAY`` are links to the demo's folders, its warehouse is built by
``cityops run``); :class:`Replayer` copies ``DAY``'s IoT and weather files into it at the
times the generator's manifest gives (``landed_at``), ``speed`` times faster than real time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from ingestion import files
from ingestion.lake import append_jsonl
from ingestion.landing import day_folders
from ingestion.settings import Paths
from ingestion.sources import CONTRACTS
from live.runner import live_contracts
from live.store import LivePaths
from vitals.dispatch import forget_order, read_orders

SHANGHAI = ZoneInfo("Asia/Shanghai")
MANIFEST = "_manifest.json"
REPLAY_LOG = "replay.jsonl"


@dataclass(frozen=True)
class Delivery:
    """One file of the replayed day: when the platform delivered it, and where it lives."""

    landed_at: dt.datetime  # data time (Beijing)
    path: str  # relative to the landing folder


def read_manifest(home: Paths) -> dict:
    """The generator's manifest of a home's landing folder."""
    path = home.landing / MANIFEST
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: replay needs a home made by `cityops generate`."
        )
    document: dict = json.loads(path.read_text(encoding="utf-8"))
    return document


def schedule(home: Paths, day: dt.date) -> list[Delivery]:
    """The live tables' files of ``day``, in the order and at the times they were delivered."""
    from demo.landing_times import landing_schedule

    wanted = {
        path.relative_to(home.landing).as_posix()
        for contract in live_contracts()
        for path in home.landing_day(contract.source, day).glob(contract.file_glob)
    }
    found = [
        Delivery(at, path)
        for at, path in landing_schedule(read_manifest(home), day)
        if path in wanted
    ]
    missing = wanted - {delivery.path for delivery in found}
    if missing:
        raise ValueError(
            f"The manifest gives no delivery time for {len(missing)} file(s) of {day}, e.g. "
            f"{sorted(missing)[0]}: regenerate the demo (`cityops generate --force`)."
        )
    return found


def cityops(*arguments: str, home: Path) -> subprocess.CompletedProcess[str]:
    """``python -m dagster_project.cli …`` with ``CITYOPS_HOME=home``, output kept."""
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli", *arguments],
        env={**os.environ, "CITYOPS_HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
    )


def replay_home(home: Paths, day: dt.date) -> Paths:
    """Where the replay of ``day`` lives: ``$CITYOPS_HOME/replays/<day>``."""
    return Paths(home.home / "replays" / day.isoformat())


def prepare(source: Paths, day: dt.date, target: Paths, *, log: Callable[[str], None]) -> bool:
    """Make ``target`` a home with ``source``'s days before ``day``, built and published.

    Landing day folders are symbolic links to the source's (nothing is copied); ``day``'s
    folders start empty. Returns False when the home was already prepared for the same
    generated data.
    """
    marker = target.home / "prepared.json"
    manifest = read_manifest(source)
    stamp = {"day": day.isoformat(), "generator": manifest.get("generator")}
    if marker.exists() and json.loads(marker.read_text(encoding="utf-8")) == stamp:
        return False
    target.landing.mkdir(parents=True, exist_ok=True)
    for folder in sorted(p for p in source.landing.iterdir() if p.is_dir()):
        for folder_day, path in day_folders(source, folder.name):
            link = target.landing / folder.name / folder_day.isoformat()
            if folder_day < day and not link.exists():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(path.resolve(), target_is_directory=True)
    files.write_json(target.landing / MANIFEST, manifest)
    log(f"building {target.home} through {day - dt.timedelta(days=1)} (`cityops run`) …")
    clock = time.perf_counter()
    built = cityops("run", home=target.home)
    if built.returncode != 0:
        raise RuntimeError(
            f"`cityops run` in {target.home} failed:\n{built.stdout[-2000:]}{built.stderr[-3000:]}"
        )
    log(f"built in {time.perf_counter() - clock:.0f} s")
    files.write_json(marker, stamp)
    return True


def forget_day(home: Paths, day: dt.date) -> None:
    """Remove what an earlier replay left of ``day``, so the day lands anew.

    Its landed files, lake partitions and accounting records, the live copy and the live
    store, and the 吹哨 orders it opened from the dispatch outbox.
    """
    for source in {contract.source for contract in CONTRACTS}:
        folder = home.landing_day(source, day)
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
    for contract in CONTRACTS:
        shutil.rmtree(home.raw_partition(contract.table, day), ignore_errors=True)
        shutil.rmtree(home.quarantine_partition(contract.table, day), ignore_errors=True)
        (home.ingestion_log / contract.table / f"dt={day.isoformat()}.json").unlink(missing_ok=True)
    shutil.rmtree(LivePaths(home).folder, ignore_errors=True)
    LivePaths(home).store.unlink(missing_ok=True)
    for order in read_orders(home):
        if order["opened_at"].startswith(day.isoformat()):
            forget_order(home, order["whistle_order_id"])


class Replayer:
    """Lands ``day``'s deliveries into ``target`` at ``speed`` times their real pace."""

    def __init__(
        self,
        source: Paths,
        target: Paths,
        day: dt.date,
        *,
        speed: float = 60.0,
        start_at: dt.time | None = None,
        until: dt.time | None = None,
    ) -> None:
        self.source, self.target, self.day, self.speed = source, target, day, speed
        deliveries = schedule(source, day)
        self.clock_start = _at(day, start_at) if start_at else None
        end = _at(day, until) if until else None
        self.deliveries = [d for d in deliveries if end is None or d.landed_at <= end]
        self.landed = 0
        # When the paced landing began (wall clock); files landed earlier are the backlog.
        self.paced_from: float | None = None
        self.last_landed = 0.0

    @property
    def done(self) -> bool:
        """Every scheduled file has landed."""
        return self.landed >= len(self.deliveries)

    def taken_by(self, runner_idle_since: float | None) -> bool:
        """True once a look at landing after the last file found nothing left to take."""
        return runner_idle_since is not None and runner_idle_since > self.last_landed

    def run(
        self,
        stop: Callable[[], bool] = lambda: False,
        caught_up: Callable[[], bool] = lambda: True,
    ) -> None:
        """Land the files before ``start_at`` at once, then each when its time comes.

        After the backlog has landed, the pace starts only once ``caught_up()`` (the live
        path took the backlog), so the backlog's cycle does not delay the paced files.
        """
        backlog = [
            d for d in self.deliveries if self.clock_start and d.landed_at < self.clock_start
        ]
        for delivery in backlog:
            self.land(delivery)
        while backlog and not stop() and not caught_up():
            time.sleep(0.1)
        paced = self.deliveries[len(backlog) :]
        if not paced:
            return
        origin = self.clock_start or paced[0].landed_at
        self.paced_from = time.time()
        for delivery in paced:
            offset = max(0.0, (delivery.landed_at - origin).total_seconds()) / self.speed
            due = self.paced_from + offset
            while not stop() and time.time() < due:
                time.sleep(min(0.05, max(0.0, due - time.time())))
            if stop():
                return
            self.land(delivery)

    def land(self, delivery: Delivery) -> None:
        """Copy one file into the target's landing folder (written aside, then renamed)."""
        data = (self.source.landing / delivery.path).read_bytes()
        files.write_bytes(self.target.landing / delivery.path, data)
        append_jsonl(
            self.target.home / "live" / REPLAY_LOG,
            {
                "path": delivery.path,
                "data_time": delivery.landed_at.isoformat(),
                "landed_wall": time.time(),
            },
        )
        self.landed += 1
        self.last_landed = time.time()


def _at(day: dt.date, moment: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, moment, tzinfo=SHANGHAI)
