"""The demo source generator: determinism, contract shapes, scale, incidents and faults.

Runs are tiny (scale 0.02, three days: ~20 orders and ~23,000 readings a day) and share a
module-scoped landing folder, so the whole file runs in a few seconds.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import openpyxl
import pytest
from stdnum.cn import ric, uscc

from demo import generate
from demo.common import Config
from demo.iot import day_plan
from demo.world import device_counts, registry
from ingestion import lake
from ingestion.contract import CHECKS, Contract
from ingestion.grid.contract import CLASSIFICATIONS
from ingestion.iot.contract import METRICS
from ingestion.pipeline import ingest_partition
from ingestion.settings import Paths, paths
from ingestion.sources import BY_TABLE

START = date(2024, 7, 1)
SMALL = {"start": START, "days": 3, "seed": 7, "scale": 0.02}


def _run(home: Path, **overrides: object) -> dict:
    return generate(home, **{**SMALL, **overrides})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    home = tmp_path_factory.mktemp("gen")
    return home / "landing", _run(home)


def _sources(table: str) -> list[str]:
    return [f.source for f in BY_TABLE[table].fields]


def _file(landing: Path, manifest: dict, pattern: str) -> list[Path]:
    return [landing / f["path"] for f in manifest["files"] if re.search(pattern, f["path"])]


def _weather(landing: Path, manifest: dict, day: str) -> dict[str, list[dict]]:
    """Station id → the day's hourly observations, from however many files they came in."""
    hourly: dict[str, list[dict]] = {}
    for path in _file(landing, manifest, rf"^weather/{day}/"):
        for station in json.loads(path.read_text(encoding="utf-8"))["stations"]:
            hourly.setdefault(station["stationId"], []).extend(station["hourly"])
    return hourly


def _readings(landing: Path, day: str) -> list[list[str]]:
    rows: list[list[str]] = []
    for path in sorted((landing / "iot" / day).glob("readings_*.csv.gz")):
        text = gzip.decompress(path.read_bytes()).decode()
        rows += [r for r in list(csv.reader(io.StringIO(text)))[1:] if len(r) == 4]
    return rows  # the planted malformed lines are left out


# --- determinism -------------------------------------------------------------------------


def test_same_arguments_give_byte_identical_files(run, tmp_path):
    landing, manifest = run
    again = _run(tmp_path)
    assert again == manifest
    for entry in manifest["files"]:
        data = (landing / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
    written = (landing / "_manifest.json").read_text(encoding="utf-8")
    assert written == (tmp_path / "landing" / "_manifest.json").read_text(encoding="utf-8")


def test_worker_processes_do_not_change_the_output(run, tmp_path):
    _, manifest = run
    assert _run(tmp_path, workers=2) == manifest


def test_another_seed_gives_other_files(run, tmp_path):
    _, manifest = run
    other = _run(tmp_path, seed=8)
    ours = {f["path"]: f["sha256"] for f in manifest["files"]}
    theirs = {f["path"]: f["sha256"] for f in other["files"]}
    common = ours.keys() & theirs.keys()  # re-sent hours (…_r1) are drawn per seed
    assert len(common) > 0.9 * len(ours)
    # An alarm file holds only its device, time and flag: the e-bike cluster's alarms, on the
    # quarter hours of the same chargers, may be drawn alike by both seeds.
    common = {path for path in common if "_alarm_" not in path}
    assert all(ours[p] != theirs[p] for p in common)


def test_rerun_overwrites_the_window_cleanly(run, tmp_path):
    _, manifest = run
    stray = tmp_path / "landing" / "hotline" / "2024-07-02" / "12345工单_20240702_old.csv"
    stray.parent.mkdir(parents=True)
    stray.write_text("left over from an earlier run")
    assert _run(tmp_path) == manifest
    assert not stray.exists()


def test_progress_counts_every_unit_of_work(tmp_path):
    calls: list[tuple[str, int, int]] = []
    _run(tmp_path, days=1, progress=lambda *args: calls.append(args))
    assert [done for _, done, _ in calls] == list(range(1, len(calls) + 1))
    assert calls[-1] == ("manifest", len(calls), len(calls))
    assert {stage for stage, _, _ in calls} == {
        "hotline",
        "grid",
        "iot",
        "business",
        "weather",
        "manifest",
    }


# --- shapes come from the contracts -------------------------------------------------------


def test_csv_headers_are_the_contract_sources(run):
    landing, manifest = run
    for pattern, table, encoding in (
        (r"12345工单_\d{8}(_补传)?\.csv$", "hotline_orders", "gb18030"),
        (r"devices_\d{8}\.csv$", "iot_devices", "utf-8"),
        (r"商圈客流_\d{8}\.csv$", "business_district_flows", "utf-8"),
        (r"菜价_\d{8}\.csv$", "market_prices", "utf-8"),
    ):
        headers = set()
        for path in _file(landing, manifest, pattern):
            text = path.read_bytes().decode(encoding, errors="replace")
            headers.add(text.split("\n", 1)[0])
        expected = ",".join(_sources(table))
        assert expected in headers, table
    for path in _file(landing, manifest, r"readings_\d+(_r1|_alarm_\w+)?\.csv\.gz$"):
        header = gzip.decompress(path.read_bytes()).split(b"\n", 1)[0].decode()
        assert header == "device_id,metric,value,reading_time" == ",".join(_sources("iot_readings"))


def test_hotline_is_gb18030_with_chinese_text_except_the_encoding_fault(run):
    landing, manifest = run
    (bad,) = [f for f in manifest["faults"] if f["kind"] == "encoding_mismatch"]
    header = ",".join(_sources("hotline_orders"))
    for path in _file(landing, manifest, r"12345工单_"):
        data = path.read_bytes()
        assert data.endswith(b"\n")
        if path == landing / bad["file"]:
            assert not data.decode("gb18030", errors="replace").startswith(header)
            assert data.decode("utf-8").startswith(header)
            assert bad["count"] == data.count(b"\n") - 1
        else:
            text = data.decode("gb18030")
            assert text.startswith(header) and "市民" in text


def test_json_keys_and_xlsx_headers_are_the_contract_sources(run):
    landing, manifest = run
    for path in _file(landing, manifest, r"cases_\d{8}(_补传)?\.jsonl$"):
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        assert list(json.loads(first)) == _sources("grid_cases")
    weather = json.loads(_file(landing, manifest, r"weather_")[0].read_text(encoding="utf-8"))
    assert weather["timezone"] == "Asia/Shanghai"
    station = weather["stations"][0]
    assert [station["stationId"], station["stationName"]] and len(station["hourly"]) == 1
    assert [len(hours) for hours in _weather(landing, manifest, "2024-07-01").values()] == [24, 24]
    assert ["stationId", "stationName", *station["hourly"][0]] == _sources("weather_hourly")
    book = openpyxl.load_workbook(_file(landing, manifest, r"企业登记_")[0])
    for table in ("enterprises", "enterprise_licences"):
        sheet = book[BY_TABLE[table].sheet]
        assert [c.value for c in sheet[1]] == _sources(table)
    assert book["企业登记"]["A2"].number_format == "@"  # the USCC column is text


# --- delivery as it comes in (batch_minutes) ----------------------------------------------
# Rules of demo/landing_times.py: name pattern → (format of its time, time → due, delay s).
LANDING_RULES = (
    (r"readings_(\d{12})\.csv\.gz", "%Y%m%d%H%M", timedelta(minutes=5), (20, 90)),
    (r"readings_(\d{14})_alarm_\w+\.csv\.gz", "%Y%m%d%H%M%S", timedelta(0), (5, 50)),
    (r"readings_(\d{10})_r1\.csv\.gz", "%Y%m%d%H", timedelta(hours=1), (600, 1200)),
    (r"weather_(\d{10})\.json", "%Y%m%d%H", timedelta(hours=1), (120, 600)),
)


def _due(path: str) -> tuple[datetime, tuple[int, int]]:
    """When the file at ``path`` is due (Beijing time) and the range of its delay in seconds."""
    source, day, name = path.split("/")
    for pattern, stamp, after, delay in LANDING_RULES:
        if found := re.fullmatch(pattern, name):
            return datetime.strptime(found[1], stamp) + after, delay
    # Daily deliveries: overnight, or when the offices open for the business reports.
    at = "08:30" if source == "business" else "00:30"
    return datetime.fromisoformat(f"{date.fromisoformat(day) + timedelta(days=1)} {at}"), (0, 0)


def test_every_file_lands_by_its_rule(run):
    _, manifest = run
    assert manifest["generator"]["batch_minutes"] == 5
    seen = Counter()
    for entry in manifest["files"]:
        landed = datetime.fromisoformat(entry["landed_at"])
        assert landed.utcoffset() == timedelta(hours=8), entry
        due, (low, high) = _due(entry["path"])
        assert low <= (landed.replace(tzinfo=None) - due).total_seconds() <= high, entry
        seen[low, high] += 1
    # 288 readings batches and 24 weather files a day, some alarms and re-sends, daily files.
    assert seen[20, 90] == 3 * 288 and seen[120, 600] == 3 * 24
    assert seen[5, 50] > 0 and seen[600, 1200] > 0 and seen[0, 0] > 0


def test_each_alarm_is_a_file_of_its_own_and_no_batch_holds_one(run):
    landing, manifest = run
    flags = {name for name, (_, unit, _, _) in METRICS.items() if unit == "flag"}
    alarm_files = Counter()
    for path in _file(landing, manifest, r"readings_\d{12,14}(_alarm_\w+)?\.csv\.gz$"):
        rows = list(csv.reader(io.StringIO(gzip.decompress(path.read_bytes()).decode())))[1:]
        if alarm := re.fullmatch(r"readings_(\d{14})_alarm_(\w+)\.csv\.gz", path.name):
            at = datetime.strptime(alarm[1], "%Y%m%d%H%M%S").strftime("%Y-%m-%d %H:%M:%S")
            ((device, metric, value, time),) = rows
            assert (device, metric in flags, time) == (alarm[2], True, at)
            alarm_files[value] += 1
        else:
            assert not [r for r in rows if len(r) > 1 and r[1] in flags], path.name
    # One file per alarm event the day plans drew (flag 1), and one per alarm end (flag 0).
    config = Config(landing.parent, START, 3, 7, 0.02, 0.002)
    plans = [day_plan(config, day) for day in config.window]
    assert alarm_files["1"] == sum(len(d) for p in plans for d, _ in p.events.values()) > 0
    assert alarm_files["0"] == sum(len(d) for p in plans for d, _ in p.alarm_ends.values()) > 0
    assert set(alarm_files) == {"0", "1"}


def test_every_alarm_ends_with_its_flag_back_at_zero(run):
    """A device reports normal again (its flag at 0) within its metric's minutes after the
    alarm; only an alarm whose end falls after the window, or whose device drops out the next
    day, stays without one."""
    from demo.iot import ALARM_MINUTES, FIRE_ALARM_MINUTES

    landing, _ = run
    config = Config(landing.parent, START, 3, 7, 0.02, 0.002)
    reg = registry(7, 0.02, START)
    flags = {name for name, (_, unit, _, _) in METRICS.items() if unit == "flag"}
    series: dict[tuple[str, str], list[tuple[datetime, str]]] = {}
    for day in config.window:
        for device, metric, value, at in _readings(landing, day.isoformat()):
            if metric in flags:
                series.setdefault((device, metric), []).append((datetime.fromisoformat(at), value))
    end = datetime.combine(config.end + timedelta(days=1), datetime.min.time())
    ended = 0
    for (device, metric), readings in series.items():
        readings.sort()
        longest = FIRE_ALARM_MINUTES[1] if metric == "smoke_alarm" else ALARM_MINUTES[metric][1]
        for (at, value), following in zip(readings, [*readings[1:], None], strict=True):
            if value != "1":
                continue
            if following is None:
                next_day = day_plan(config, at.date() + timedelta(days=1))
                offline = not next_day.reporting[reg.ids.index(device)]
                assert at + timedelta(minutes=longest) >= end or offline, (device, metric, at)
                continue
            minutes = (following[0] - at).total_seconds() / 60
            assert following[1] == "0" and 1 <= minutes <= longest, (device, metric, at)
            ended += 1
    assert ended > 10


def test_an_alarm_that_ends_after_midnight_ends_in_the_next_days_files():
    """At scale 1.0 over four days (day plans only): each alarm's end is planned on the day it
    falls on, the alarm's day or the next, at most four hours later; late-evening alarms of
    elevators cross midnight. Only a device that drops out the next day may send none."""
    from demo.iot import EPOCH

    config = Config(Path("unused"), START, days=4, seed=7, scale=1.0, fault_rate=0.0)
    plans = {day: day_plan(config, day) for day in config.window}
    crossed = 0
    for day in config.window[:-1]:
        following = day + timedelta(days=1)
        midnight = int((datetime.combine(following, datetime.min.time()) - EPOCH).total_seconds())
        for metric, (devices, times) in plans[day].events.items():
            ends = {
                (device, at)
                for other in (day, following)
                for device, at in zip(*plans[other].alarm_ends[metric], strict=True)
            }
            for device, at in zip(devices.tolist(), times.tolist(), strict=True):
                found = min((t for d, t in ends if d == device and t > at), default=None)
                if found is None:
                    assert not plans[following].reporting[device], (metric, device, at)
                    continue
                assert found - at <= 4 * 3600, (metric, device, at)
                crossed += found >= midnight
    assert crossed > 0


def _lake_rows(home: Paths, table: str, day: date) -> tuple[list[tuple], list[tuple]]:
    """A partition's valid and quarantined rows without their lineage (file, record, line)."""

    def rows(folder: Path, lineage: str) -> list[tuple]:
        parquet = folder / lake.PART_FILE
        return duckdb.sql(f"select * exclude ({lineage}) from '{parquet}' order by all").fetchall()

    return (
        rows(home.raw_partition(table, day), "_source_file, _source_record"),
        rows(home.quarantine_partition(table, day), "source_file, source_line, source_record"),
    )


def test_five_minute_and_hourly_batches_ingest_to_the_same_lake(tmp_path):
    homes = {}
    for minutes in (5, 60):
        homes[minutes] = paths(tmp_path / f"batches_{minutes}")
        _run(homes[minutes].home, days=2, fault_rate=0.01, batch_minutes=minutes)
    # Hourly batches keep the file names of old.
    hourly = sorted(p.name for p in homes[60].landing_day("iot", START).glob("readings_*"))
    assert hourly[:2] == ["readings_2024070100.csv.gz", "readings_2024070101.csv.gz"]
    weather = [p.name for p in homes[60].landing_day("weather", START).iterdir()]
    assert weather == ["weather_20240701.json"]
    for table in ("iot_readings", "weather_hourly"):
        for day in (START, START + timedelta(days=1)):
            logs = {m: ingest_partition(BY_TABLE[table], day, home) for m, home in homes.items()}
            for log in logs.values():
                for entry in log["files"]:
                    kept = entry["rows_written"] + entry["rows_quarantined"]
                    assert entry["rows_read"] == kept + entry["duplicates_dropped"], entry["path"]
            assert len(logs[5]["files"]) > len(logs[60]["files"])
            for total in ("quarantined_by_reason", "duplicates_by_kind", "late_rows"):
                assert logs[5][total] == logs[60][total], (table, day, total)
            valid, quarantined = _lake_rows(homes[5], table, day)
            assert len(valid) > 40 and quarantined, (table, day)
            assert (valid, quarantined) == _lake_rows(homes[60], table, day), (table, day)


# --- volumes ------------------------------------------------------------------------------


def test_volumes_follow_the_scale(run):
    _, manifest = run
    counts = device_counts(0.02)
    assert counts["smoke_detector"] == 240 and counts["ponding_sensor"] == 8
    assert counts["air_station"] == counts["rain_gauge"] == 1  # at least one of each type
    records = manifest["records"]
    # ≈1,000 × 0.02 new orders a day, each in the feed once or more.
    assert 40 < records["hotline_orders"] < 200
    assert records["business_district_flows"] == 4 * 24 * 3  # fixed infrastructure
    assert records["market_prices"] == 15 * 20 * 3
    assert records["weather_hourly"] == 2 * 24 * 3
    # 240 smoke detectors × 48 + 32 chargers × 96 + … ≈ 22,700 readings a day, plus faults.
    assert 3 * 22_000 < records["iot_readings"] < 3 * 24_000


def test_scale_one_delivers_at_least_a_million_readings_a_day(tmp_path):
    config = Config(tmp_path, START, 3, 7, 1.0, 0.0)
    reg = registry(7, 1.0, START)
    assert all(day_plan(config, day).count(reg) >= 1_000_000 for day in config.window)


# --- incidents ----------------------------------------------------------------------------


def test_all_ten_planted_incidents_are_in_the_manifest_with_what_they_must_raise(run):
    _, manifest = run
    kinds = {i["kind"]: i for i in manifest["incidents"]}
    assert set(kinds) - {"fire", "elevator_entrapment", "gas_leak"} == {
        "rainstorm",
        "heat_wave",
        "festival_footfall",
        "ebike_charging_alarm",
        "water_meter_silent",
        "power_outage",
        "complaint_topic_spike",
        "road_congestion",
        "pollution_episode",
        "price_spike",
    }
    assert all(i["name_zh"] and i["start"] < i["end"] for i in kinds.values())
    # Each expects an indicator in named areas by a time inside the incident's day.
    for incident in kinds.values():
        for expect in incident["expect"]:
            assert expect["areas"] and expect["min_level"] in "蓝黄橙红"
            assert incident["start"][:10] <= expect["by"] < incident["end"][:10] + "T"
    storm = kinds["rainstorm"]["expect"]
    assert storm[0]["indicator"] == "WEA_RAIN_1H" and storm[0]["by"].endswith("16:00:00")


def test_every_critical_event_is_an_incident_and_a_fire_heats_its_detector():
    """At scale 1.0 over ten days (day plans and values only, no files): a fire's detector
    reads 12–35 %/m and 3–6 °C above the hour before, a nuisance alarm 3–8 %/m and no rise
    (the dbt rule confirms at 2 °C), a gas leak 25–60 %LEL; every fire, entrapment and leak
    is an incident expecting its critical indicator in its grid."""
    from demo import incidents
    from demo.iot import EPOCH, HOUR, _values

    config = Config(Path("unused"), START, days=10, seed=7, scale=1.0, fault_rate=0.0)
    reg = registry(7, 1.0, START)
    seen = Counter()
    for day in config.window:
        plan = day_plan(config, day)
        built = _values(config, plan, reg)
        temperature = built.arrays["smoke_detector", "temperature_c"]
        smoke = built.arrays["smoke_detector", "smoke_obscuration_pct"]
        lel = built.arrays["gas_detector", "gas_lel_pct"]
        midnight = int((datetime.combine(day, datetime.min.time()) - EPOCH).total_seconds())
        devices, times = plan.events["smoke_alarm"]
        for device, at in zip(devices.tolist(), times.tolist(), strict=True):
            row, hour = device - reg.slices["smoke_detector"].start, (at - midnight) // HOUR
            fire = device in plan.fires
            seen["fire" if fire else "nuisance"] += 1
            assert (12 <= smoke[row, hour] <= 35) if fire else (3 <= smoke[row, hour] <= 8)
            if hour > 0:
                rise = temperature[row, hour] - temperature[row, hour - 1]
                assert rise >= 2.5 if fire else rise < 2
        devices, times = plan.events["gas_alarm"]
        for device, at in zip(devices.tolist(), times.tolist(), strict=True):
            seen["leak"] += 1
            assert lel[device - reg.slices["gas_detector"].start, (at - midnight) // HOUR] >= 25
        assert lel.max() <= 60
        seen["entrapment"] += len(plan.events["elevator_entrapment"][0])
    assert min(seen.values()) >= 1, seen
    events = Counter(e["kind"] for e in incidents.critical_events(config))
    assert events == {
        "fire": seen["fire"],
        "elevator_entrapment": seen["entrapment"],
        "gas_leak": seen["leak"],
    }
    expects = {e["kind"]: e["expect"][0]["indicator"] for e in incidents.critical_events(config)}
    assert expects == {
        "fire": "SAF_FIRE_CONFIRMED",
        "elevator_entrapment": "SAF_ELEVATOR_TRAPPED",
        "gas_leak": "SAF_GAS_ALARM",
    }


def test_the_silent_water_meter_reads_zero_for_36_hours(run):
    landing, manifest = run
    (meter,) = [i for i in manifest["incidents"] if i["kind"] == "water_meter_silent"]
    (device,) = meter["devices"]
    hours = {}
    for day in ("2024-07-01", "2024-07-02", "2024-07-03"):
        for dev, metric, value, at in _readings(landing, day):
            if dev == device and metric == "water_flow_l":
                hours[at] = float(value)
    start = datetime.fromisoformat(meter["start"])
    silent = [start + timedelta(hours=h) for h in range(36)]
    assert all(hours[t.strftime("%Y-%m-%d %H:%M:%S")] == 0 for t in silent)
    # The hour before (08:00) is a daytime hour, when a meter in use never reads zero.
    before = (start - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    assert hours[before] > 0  # the silence has a visible start


def test_the_rainstorm_is_in_gauges_ponding_weather_hotline_and_grid(run):
    landing, manifest = run
    (storm,) = [i for i in manifest["incidents"] if i["kind"] == "rainstorm"]
    day = storm["start"][:10]
    gauges = {d for d in storm["devices"] if d.startswith("RG")}
    hour: Counter[str] = Counter()
    ponding: Counter[str] = Counter()
    for dev, metric, value, at in _readings(landing, day):
        if metric == "rainfall_mm" and dev in gauges and at[11:13] == "16":
            hour[dev] += float(value)
        if metric == "ponding_depth_cm" and dev in storm["devices"]:
            ponding[dev] = max(ponding[dev], float(value))
    assert gauges and all(hour[g] >= 80 for g in gauges)
    assert ponding and all(30 <= v <= 45 for v in ponding.values())
    north = _weather(landing, manifest, day)["A3602"]
    assert 60 <= max(h["precipitation"] for h in north) <= 90
    hotline = _file(landing, manifest, rf"12345工单_{day.replace('-', '')}\.csv")[0]
    text = hotline.read_bytes().decode("gb18030", errors="replace")
    assert text.count(",030102,") + text.count(",030103,") >= 5
    cases = _file(landing, manifest, rf"cases_{day.replace('-', '')}\.jsonl")[0].read_text()
    assert cases.count('"subcategoryName":"道路积水"') >= 4


def test_heat_wave_festival_and_ebike_cluster_are_in_the_data(run):
    landing, manifest = run
    incidents = {i["kind"]: i for i in manifest["incidents"]}
    maxima = []
    for day in sorted({path.parent.name for path in _file(landing, manifest, r"weather_")}):
        if incidents["heat_wave"]["start"][:10] <= day < incidents["heat_wave"]["end"][:10]:
            hourly = _weather(landing, manifest, day)["A3601"]
            maxima.append(max(h["temperature"] for h in hourly if h["temperature"] < 45))
    assert len(maxima) == 3 and all(37 <= t <= 39.5 for t in maxima) and max(maxima) >= 38

    festival = incidents["festival_footfall"]
    day = festival["start"][:10].replace("-", "")
    rows = list(csv.DictReader(_file(landing, manifest, f"商圈客流_{day}")[0].open()))
    evening = {r["商圈编码"]: int(r["客流人次"]) for r in rows if r["统计时段"][11:13] == "19"}
    assert evening["BD01"] > 2 * 42_000 and evening["BD02"] > 2 * 30_000

    ebike = incidents["ebike_charging_alarm"]
    alarms = [
        r
        for r in _readings(landing, ebike["start"][:10])
        if r[1] == "overcurrent_alarm" and r[2] == "1" and r[0] in ebike["devices"]
    ]
    assert len(alarms) >= 12 and len({r[0] for r in alarms}) >= 6
    currents = {
        (r[0], r[3]): float(r[2])
        for r in _readings(landing, ebike["start"][:10])
        if r[1] == "charging_current_a"
    }
    assert all(currents[r[0], r[3]] > 16 for r in alarms)
    assert ebike["details"]["grid_case_id"].startswith("WG")


# --- checksums of valid identifiers -------------------------------------------------------


def test_valid_usccs_and_id_numbers_pass_stdnum(run):
    landing, manifest = run
    broken = sum(f["count"] for f in manifest["faults"] if f["kind"] == "invalid_format")
    bad = 0
    for path in _file(landing, manifest, r"企业登记_"):
        sheet = openpyxl.load_workbook(path)["企业登记"]
        codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
        bad += sum(not uscc.is_valid(code) for code in codes)
    assert bad == broken > 0
    ids = []
    for path in _file(landing, manifest, r"12345工单_"):
        ids += re.findall(r"身份证号(\w{18})", path.read_bytes().decode("gb18030", "replace"))
    devices = _file(landing, manifest, r"devices_")[0].read_text(encoding="utf-8")
    ids += [
        r["resident_id_number"]
        for r in csv.DictReader(io.StringIO(devices))
        if r["resident_id_number"]
    ]
    assert ids and all(ric.is_valid(number) for number in ids)


# --- faults: the manifest says exactly what an independent audit finds --------------------


def test_planted_faults_match_an_independent_audit(run):
    landing, manifest = run
    claimed: Counter[tuple[str, str, str]] = Counter()
    for fault in manifest["faults"]:
        claimed[fault["table"], fault["date"], fault["kind"]] += fault["count"]
    assert audit(landing) == claimed
    kinds = {kind for _, _, kind in claimed}
    assert kinds == {
        "malformed_record",
        "exact_duplicate",
        "superseded_version",
        "late_record",
        "out_of_range",
        "unknown_code",
        "invalid_format",
        "encoding_mismatch",
        "truncated_file",
    }


def test_no_faults_at_all_when_the_rate_is_zero(tmp_path):
    manifest = _run(tmp_path, fault_rate=0.0)
    assert manifest["faults"] == []
    assert audit(tmp_path / "landing") == Counter()
    names = [f["path"] for f in manifest["faults"]] + [f["path"] for f in manifest["files"]]
    assert not [n for n in names if "补传" in n or "_r1" in n]


# --- the audit: re-derive fault counts from the delivered bytes ---------------------------
# Deliberately simple and driven by the contracts; it is not the ingestion engine.

TIMESTAMP = "%Y-%m-%d %H:%M:%S"
FEEDS = ("hotline_orders", "grid_cases", "iot_readings")  # tables whose late records count


def _fault_of(contract: Contract, record: dict[str, object]) -> str | None:
    found = set()
    for name, value in record.items():
        f = contract.field(name)
        if value is None or value == "":
            found.add(None if f.nullable else "missing_required")
            continue
        if f.type in ("int", "float") and not (
            (f.minimum is None or float(value) >= f.minimum)  # type: ignore[arg-type]
            and (f.maximum is None or float(value) <= f.maximum)  # type: ignore[arg-type]
        ):
            found.add("out_of_range")
        if f.type == "timestamp":
            datetime.strptime(str(value), TIMESTAMP)
        if f.allowed is not None and str(value) not in f.allowed:
            found.add("unknown_code")
        if (f.pattern and not re.fullmatch(f.pattern, str(value))) or (
            f.check and not CHECKS[f.check](str(value))
        ):
            found.add("invalid_format")
    classification = f"{record.get('case_type')}-{record.get('subcategory_code')}"
    if contract.table == "grid_cases" and classification not in CLASSIFICATIONS:
        found.add("unknown_code")
    if contract.table == "iot_readings" and record["metric"] in METRICS:
        low, high = METRICS[str(record["metric"])][2:]
        if not low <= float(str(record["value"])) <= high:
            found.add("out_of_range")
    order = ("missing_required", "invalid_format", "unknown_code", "out_of_range")
    return next((reason for reason in order if reason in found), None)


def audit(landing: Path) -> Counter[tuple[str, str, str]]:
    """Fault counts per (table, day, kind) found in the files under ``landing``."""
    counts: Counter[tuple[str, str, str]] = Counter()
    valid: dict[tuple[str, str], list[tuple[str, tuple[object, ...], str]]] = {}

    def check(table: str, day: str, raw: str, values: dict[str, object]) -> None:
        contract = BY_TABLE[table]
        record = {f.name: values.get(f.source) for f in contract.fields}
        fault = _fault_of(contract, record)
        if fault:
            counts[table, day, fault] += 1
        else:
            key = tuple(record[k] for k in contract.key)
            event = str(record[contract.event_time])[:10] if contract.event_time else day
            valid.setdefault((table, day), []).append((raw, key, event))

    def rows(table: str, day: str, text: str) -> None:
        header, *lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
        for line in lines:
            values = next(csv.reader([line]))
            if len(values) != len(header.split(",")):
                counts[table, day, "malformed_record"] += 1
            else:
                check(table, day, line, dict(zip(header.split(","), values, strict=True)))

    for path in sorted(p for p in landing.rglob("*") if p.is_file() and p.name[0] != "_"):
        source, day, name = *path.parts[-3:-1], path.name
        data = path.read_bytes()
        if source == "hotline":
            text = data.decode("gb18030", errors="replace")
            if not text.startswith(BY_TABLE["hotline_orders"].fields[0].source):
                counts["hotline_orders", day, "encoding_mismatch"] += text.count("\n") - 1
            else:
                rows("hotline_orders", day, text)
        elif source == "grid":
            text = data.decode("utf-8")
            lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
            for k, line in enumerate(lines):
                if k == len(lines) - 1 and not text.endswith("\n"):
                    counts["grid_cases", day, "truncated_file"] += 1
                    continue
                try:
                    check("grid_cases", day, line, json.loads(line))
                except json.JSONDecodeError:
                    counts["grid_cases", day, "malformed_record"] += 1
        elif name.startswith("readings_"):
            rows("iot_readings", day, gzip.decompress(data).decode())
        elif name.startswith(("devices_", "商圈客流_", "菜价_")):
            table = {"d": "iot_devices", "商": "business_district_flows", "菜": "market_prices"}
            rows(table[name[0]], day, data.decode())
        elif name.startswith("企业登记_"):
            book = openpyxl.load_workbook(io.BytesIO(data))
            for table in ("enterprises", "enterprise_licences"):
                header, *records = book[BY_TABLE[table].sheet].iter_rows(values_only=True)
                for values in records:
                    cells = [v.date().isoformat() if isinstance(v, datetime) else v for v in values]
                    check(table, day, repr(cells), dict(zip(header, cells, strict=True)))
        elif source == "weather":
            for station in json.loads(data)["stations"]:
                for hour in station["hourly"]:
                    values = {**hour, "stationId": station["stationId"]}
                    check("weather_hourly", day, repr(values), values)
    # Within one day's delivery: same key and bytes = duplicate; same key, other bytes = an
    # older version superseded; an event time before the delivery day = late.
    for (table, day), kept in valid.items():
        versions: dict[tuple[object, ...], list[str]] = {}
        for raw, key, _ in kept:
            versions.setdefault(key, []).append(raw)
        for raws in versions.values():
            counts[table, day, "exact_duplicate"] += len(raws) - len(set(raws))
            counts[table, day, "superseded_version"] += len(set(raws)) - 1
        if table in FEEDS:
            counts[table, day, "late_record"] += len({raw for raw, _, e in kept if e < day})
    return +counts
