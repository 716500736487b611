"""The live path on a storm day, reconciled with the daily build over the same deliveries.

Four demo days at scale 0.05 (seed 7) put the planted rainstorm on 2024-07-02 from 15:00.
The home is built through 2024-07-01 (`cityops run`); then 2024-07-02's IoT and weather
files land in three groups by their delivery time (before 15:00; 15:00–17:00 with an
elevator entrapment and a smoke alarm added as alarm-event files; the rest), and the live
path takes each group through one cycle. Finally the day's other sources land and the daily
build runs over the day: every warning, step and 吹哨 order of the live indicators must be the
same in its snapshot as in the live store, and no notice may be sent twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from ingestion.settings import Paths
from live.reconcile import differences
from live.replay import schedule
from live.runner import LiveRunner
from live.store import LivePaths
from tests.cli_runner import cityops
from vitals.notify import load_config
from vitals.notify.deliver import read_log

pytestmark = pytest.mark.integration

DAY = dt.date(2024, 7, 2)
GROUPS = (dt.time(15, 0), dt.time(17, 0))  # the storm starts at 15:00 on DAY


def _alarm_file(landing: Path, device_type: str, metric: str, at: dt.datetime) -> str:
    """An alarm-event file in the IoT contract's format for the first device of a type."""
    with (landing / "iot" / DAY.isoformat() / f"devices_{DAY:%Y%m%d}.csv").open() as handle:
        device = next(
            row["device_id"] for row in csv.DictReader(handle) if row["device_type"] == device_type
        )
    name = f"readings_{at:%Y%m%d%H%M%S}_alarm_{device}.csv.gz"
    text = f"device_id,metric,value,reading_time\n{device},{metric},1,{at:%Y-%m-%d %H:%M:%S}\n"
    (landing / "iot" / DAY.isoformat() / name).write_bytes(gzip.compress(text.encode()))
    return f"iot/{DAY.isoformat()}/{name}"


def _warnings_of_the_day(store: Path, indicator: str) -> list[tuple]:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute(
            "select events.area_code, events.opened_at, orders.whistle_order_id "
            "from vitals.fct_warning_events as events left join vitals.fct_whistle_orders as "
            "orders using (warning_id) where events.indicator_code = ? and events.opened_at >= ?",
            [indicator, DAY],
        ).fetchall()


@pytest.fixture(scope="module")
def storm_day(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    source, home = Paths(root / "source"), Paths(root / "home")
    generated = cityops(
        "generate",
        "--start",
        "2024-07-01",
        "--days",
        "4",
        "--seed",
        "7",
        "--scale",
        "0.05",
        home=source.home,
    )
    assert generated.returncode == 0, generated.stderr[-2000:]
    for folder in source.landing.iterdir():
        if folder.is_dir():
            (home.landing / folder.name).mkdir(parents=True)
            shutil.copytree(folder / "2024-07-01", home.landing / folder.name / "2024-07-01")
    shutil.copy(source.landing / "_manifest.json", home.landing / "_manifest.json")
    built = cityops("run", home=home.home)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return source, home


def test_the_live_path_warns_during_the_storm_and_the_daily_build_agrees(
    storm_day, robot, monkeypatch
):
    source, home = storm_day
    monkeypatch.setenv("CITYOPS_WEBHOOK_URL", robot.url("/hook"))
    monkeypatch.setenv("CITYOPS_PII_KEY", (home.home / ".secrets" / "pii_key").read_text().strip())
    deliveries = schedule(source, DAY)
    # Alarm events in the storm's window: an entrapment at 15:20, a smoke alarm at 16:10.
    entrapment = _alarm_file(
        source.landing, "elevator", "elevator_entrapment", dt.datetime(2024, 7, 2, 15, 20)
    )
    smoke = _alarm_file(
        source.landing, "smoke_detector", "smoke_alarm", dt.datetime(2024, 7, 2, 16, 10)
    )
    runner = LiveRunner(home, notify_config=load_config())
    store = LivePaths(home).store

    def land(paths: list[str]) -> None:
        for path in paths:
            (home.landing / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source.landing / path, home.landing / path)

    def before(limit: dt.time | None) -> list[str]:
        return [
            d.path
            for d in deliveries
            if limit is None
            or (d.landed_at.timetz().replace(tzinfo=None) < limit and d.landed_at.date() == DAY)
        ]

    # 1. Before the storm: the day's first batches; no ponding warning yet.
    land(before(GROUPS[0]))
    first = runner.cycle()
    assert first is not None and first.error is None, first and first.error
    assert first.rebased_from is not None  # the live copy was made from the snapshot
    assert _warnings_of_the_day(store, "UTI_PONDING_DEPTH") == []
    # 2. The storm's first hours with the two alarm events: each raises its warning and order.
    land([path for path in before(GROUPS[1]) if not (home.landing / path).exists()])
    land([entrapment, smoke])
    second = runner.cycle()
    assert second is not None and second.error is None, second.error
    assert {entry["status"] for entry in second.ingested} == {"ingested"}
    # Only the new batches were read, and only their hours aggregated again.
    assert {e["mode"] for e in second.ingested if e["table"] == "iot_readings"} == {"append"}
    assert second.hours_from is not None and second.hours_from >= "2024-07-02T14:00"
    ponding = _warnings_of_the_day(store, "UTI_PONDING_DEPTH")
    assert any(opened >= dt.datetime(2024, 7, 2, 15) and order for _, opened, order in ponding)
    trapped = _warnings_of_the_day(store, "SAF_ELEVATOR_TRAPPED")
    assert any(order for *_, order in trapped), trapped  # in its grid
    assert second.new_notices, "the storm's steps are notified in the cycle that saw them"
    # 3. The rest of the day.
    land([d.path for d in deliveries if not (home.landing / d.path).exists()])
    third = runner.cycle()
    assert third is not None and third.error is None, third.error
    assert third.hours_from is not None and third.hours_from >= "2024-07-02T16:00"
    assert runner.cycle() is None  # nothing new: no cycle

    # The daily build over the same day, with the other sources' deliveries.
    for folder in source.landing.iterdir():
        if folder.is_dir():
            for file in (folder / DAY.isoformat()).iterdir():
                target = home.landing / folder.name / DAY.isoformat() / file.name
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(file, target)
    daily = cityops("run", "--start", DAY.isoformat(), "--end", DAY.isoformat(), home=home.home)
    assert daily.returncode == 0, daily.stdout[-3000:] + daily.stderr[-3000:]
    snapshot = home.home / "serving" / "current.duckdb"
    assert differences(store, snapshot, runner.live_codes) == {}
    # Every hour of the day aggregated in the live copy, cycle by cycle, as the daily build did.
    hourly = "select * from things.fct_device_readings_hourly where cast(hour_at as date) = ?"
    with duckdb.connect(str(LivePaths(home).database), read_only=True) as con:
        live_hours = set(con.execute(hourly, [DAY]).fetchall())
    with duckdb.connect(str(home.warehouse / "cityops.duckdb"), read_only=True) as con:
        assert set(con.execute(hourly, [DAY]).fetchall()) == live_hours != set()
    with duckdb.connect(str(snapshot), read_only=True) as con:
        live_warnings_of_the_day = con.execute(
            "select count(*) from vitals.fct_warning_events "
            "where list_contains($codes, indicator_code) and opened_at >= $day",
            {"codes": runner.live_codes, "day": DAY},
        ).fetchone()[0]
    assert live_warnings_of_the_day >= 3  # the comparison is not over empty tables
    # Each step was sent once: the daily build's notifier skipped what the live path sent.
    sent = Counter(
        (record["channel"], record["key"])
        for record in read_log(home.notifications)
        if record.get("ok") is True
    )
    assert sent and max(sent.values()) == 1
    # What the robot received matches the log: one post per delivered step.
    assert len(robot.at("/hook")) == sum(sent.values())
