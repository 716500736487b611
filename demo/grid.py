"""网格化管理案件: simulated 数字城管 cases written as a daily JSON Lines change feed.

Lifecycle (domain.md §4.3, CJJ/T 106 practice): 发现 → 立案 (or 核实后注销) → 派遣 → 处置 →
核查 (failed checks send the case back: 返工) → 结案. The disposal time limit is the
subcategory's ``time_limit_hours`` from grid_categories.csv, counted from 派遣.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

from demo import incidents
from demo.common import Config, fmt_ts, py_rng
from demo.faults import malformed_json
from demo.feed import Entity, FeedFormat, Record, write_feed
from demo.workdays import HOLIDAY, MAKEUP_WORKDAY, WEEKEND, WORKDAY, day_kind
from demo.world import LAT_RANGE, LNG_RANGE, STORM_STREETS, geo, near
from ingestion import reference
from ingestion.grid.contract import CONTRACT

SOURCE = "grid"
DAILY_CASES = 400  # new cases per workday at scale 1.0
DAY_FACTOR = {WORKDAY: 1.0, MAKEUP_WORKDAY: 0.95, WEEKEND: 0.75, HOLIDAY: 0.7}
METHODS = {"巡查": 0.45, "视频AI": 0.25, "市民随手拍": 0.12, "12345转办": 0.10, "物联感知": 0.08}
# Hours at which each discovery method reports (weights by hour of day).
PATROL_HOURS = tuple(1.0 if 8 <= h < 18 else 0.0 for h in range(24))
CITIZEN_HOURS = tuple(1.0 if 7 <= h < 22 else 0.1 for h in range(24))
MACHINE_HOURS = tuple(1.0 if 6 <= h < 23 else 0.35 for h in range(24))
# 事件 a video-AI model is trained to recognise (the cameras' tags).
AI_DETECTABLE = {"0101", "0201", "0501", "0502", "0504", "0303", "0401"}
PREFIX = {
    "巡查": "网格监督员巡查发现：",
    "视频AI": "视频AI识别：",
    "市民随手拍": "市民随手拍上报：",
    "12345转办": "12345热线转办：",
    "物联感知": "物联感知设备告警：",
}
CANCEL_SHARE = 0.05  # 核实后注销
REWORK_SHARE = 0.04
OVERDUE_SHARE = 0.07  # ASSUMPTION: no published 按期结案率 for Jing'an
STORM_CASES = 25  # 道路积水 cases at scale 1.0


@cache
def phrases() -> dict[tuple[str, str], str]:
    """What the case description says per (部件/事件, subcategory)."""
    path = Path(__file__).parent / "data" / "grid_phrases.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            (r["case_type"], r["subcategory_code"]): r["phrase"] for r in csv.DictReader(handle)
        }


def _address(rng: random.Random, grid: dict[str, str]) -> str:
    roads = geo().grid_roads(grid)
    road = rng.choice(roads)
    if rng.random() < 0.2 and len(roads) > 1:
        return f"{roads[0]}{roads[1]}路口"
    return f"{road}{rng.randrange(1, 1500)}号" + ("附近" if rng.random() < 0.4 else "")


def _lifecycle(rng: random.Random, e: Entity, found: datetime, limit_hours: int) -> None:
    """Add 立案 … 结案 (or 注销) after 发现."""
    if rng.random() < CANCEL_SHARE:
        e.add(found + timedelta(minutes=rng.uniform(10, 90)), status="已注销", is_cancelled=True)
        return
    registered = found + timedelta(minutes=rng.uniform(3, 40))
    e.add(registered, status="已立案", registered_at=registered)
    dispatched = registered + timedelta(minutes=rng.uniform(2, 30))
    limit = timedelta(hours=limit_hours)
    e.add(dispatched, status="已派遣", dispatched_at=dispatched, deadline_at=dispatched + limit)
    if rng.random() < OVERDUE_SHARE:
        disposed = dispatched + limit * rng.uniform(1.05, 1.8)
    else:
        disposed = dispatched + max(timedelta(minutes=20), limit * rng.betavariate(2, 2.5))
    e.add(disposed, status="已处置", disposed_at=disposed)
    checked = disposed + timedelta(minutes=rng.uniform(20, 360))
    if rng.random() < REWORK_SHARE:
        e.add(checked, status="处置中", rework_count=1)  # the check failed: back to the unit
        disposed = checked + timedelta(hours=rng.uniform(1, 12))
        e.add(disposed, status="已处置", disposed_at=disposed)
        checked = disposed + timedelta(minutes=rng.uniform(20, 360))
    e.add(checked, status="已核查", verified_at=checked)
    closed = checked + timedelta(minutes=rng.uniform(5, 120))
    e.add(closed, status="已结案", closed_at=closed)


def _day_cases(config: Config, day: date, counters: dict[str, object]) -> list[Entity]:
    """Simulate the cases found on ``day``."""
    rng = py_rng(config.seed, SOURCE, day)
    plan = incidents.plan(config)
    categories = reference.load("grid_categories")
    weights = [float(c["weight"]) for c in categories]
    ai_weights = [
        w if c["case_type"] == "事件" and c["subcategory_code"] in AI_DETECTABLE else 0
        for c, w in zip(categories, weights, strict=True)
    ]
    by_sub = {(c["case_type"], c["subcategory_code"]): c for c in categories}
    grids = geo().grids
    midnight = datetime(day.year, day.month, day.day)
    n = max(1, round(DAILY_CASES * config.scale * DAY_FACTOR[day_kind(day)] * rng.gauss(1, 0.06)))

    # (seconds after midnight, method, category, grid, incident)
    drafts: list[tuple[float, str, dict[str, str], dict[str, str], str | None]] = []
    for _ in range(n):
        method = rng.choices(list(METHODS), list(METHODS.values()))[0]
        hours = {"巡查": PATROL_HOURS, "市民随手拍": CITIZEN_HOURS, "12345转办": PATROL_HOURS}
        hour = rng.choices(range(24), hours.get(method, MACHINE_HOURS))[0]
        pool = ai_weights if method == "视频AI" and rng.random() < 0.8 else weights
        category = rng.choices(categories, pool)[0]
        drafts.append(
            (hour * 3600 + rng.uniform(0, 3600), method, category, rng.choice(grids), None)
        )
    in_window = config.start <= day <= config.end
    if in_window and day == plan.rain_day:
        storm_grids = [g for s in STORM_STREETS for g in geo().grids_by_street[s]]
        flooding = by_sub["事件", "0401"]
        for _ in range(max(4, round(STORM_CASES * config.scale))):
            seconds = rng.uniform(incidents.RAIN_PEAK_HOUR, incidents.RAIN_PEAK_HOUR + 3) * 3600
            method = rng.choices(["物联感知", "视频AI", "巡查"], [0.4, 0.3, 0.3])[0]
            drafts.append((seconds, method, flooding, rng.choice(storm_grids), incidents.RAINSTORM))
    if in_window and day == plan.ebike_day:
        seconds = incidents.EBIKE_NIGHT[1] * 3600 - rng.uniform(0, 1800)
        drafts.append(
            (
                seconds,
                "物联感知",
                by_sub["事件", "0602"],
                geo().grid_by_code[plan.ebike_grid],
                incidents.EBIKE,
            )
        )
    drafts.sort(key=lambda d: d[0])

    cases: list[Entity] = []
    for seq, (seconds, method, category, grid, incident) in enumerate(drafts, start=1):
        key = f"WG{day:%Y%m%d}{seq:06d}"
        found = midnight + timedelta(seconds=int(seconds))
        address = _address(rng, grid)
        lng, lat = near(rng, grid)
        phrase = phrases().get(
            (category["case_type"], category["subcategory_code"]), category["subcategory_name"]
        )
        description = f"{PREFIX[method]}{address}{phrase}"
        if incident == incidents.EBIKE:
            description += "，充电桩连续上报过流告警，疑似多辆电瓶车同时违规充电"
            counters["ebike_case"] = key
        entity = Entity(key=key, incident=incident)
        entity.add(
            found,
            case_id=key,
            grid_code=grid["grid_code"],
            street_code=grid["street_code"],
            case_type=category["case_type"],
            category_code=category["category_code"],
            category_name=category["category_name"],
            subcategory_code=category["subcategory_code"],
            subcategory_name=category["subcategory_name"],
            discovery_method=method,
            description=description,
            address=address,
            longitude=lng,
            latitude=lat,
            discovered_at=found,
            status="已发现",
            is_cancelled=False,
            rework_count=0,
            # S00 is the dispatch dictionary's code for the street office (属地); the case's
            # streetCode says which one.
            department_code=category["department_code"],
            reporter_id=f"JDY{grid['street_code'][6:9]}{rng.randint(1, 30):03d}"
            if method == "巡查"
            else None,
        )
        _lifecycle(rng, entity, found, int(category["time_limit_hours"]))
        cases.append(entity)
        if incident == incidents.RAINSTORM:
            counters["storm_cases"] = int(counters.get("storm_cases", 0)) + 1
    return cases


def _json(record: Record) -> dict[str, object]:
    """The API object: contract camelCase keys in contract order."""
    out: dict[str, object] = {}
    for f in CONTRACT.fields:
        value = record.get(f.name)
        out[f.source] = fmt_ts(value) if isinstance(value, datetime) else value
    return out


def _perturb(record: Record, rng: random.Random) -> Record | None:
    """The first export carried a GPS fix ~300 m off; the 补传 has the corrected point."""
    lng, lat = record["longitude"], record["latitude"]
    if not isinstance(lng, float) or not isinstance(lat, float):
        return None
    wrong_lng = min(max(lng + 0.003, LNG_RANGE[0] + 1e-4), LNG_RANGE[1] - 1e-4)
    wrong_lat = min(max(lat - 0.002, LAT_RANGE[0] + 1e-4), LAT_RANGE[1] - 1e-4)
    return {**record, "longitude": round(wrong_lng, 6), "latitude": round(wrong_lat, 6)}


def _dumps(value: dict[str, object]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


FORMAT = FeedFormat(
    table=CONTRACT.table,
    source=SOURCE,
    encoding=CONTRACT.encoding,
    header=None,
    main_name=lambda day: f"cases_{day:%Y%m%d}.jsonl",
    resend_name=lambda day: f"cases_{day:%Y%m%d}_补传.jsonl",
    serialize=lambda record: _dumps(_json(record)),
    malformed=lambda record, rng: malformed_json(_json(record), rng),
    unknown_code=lambda record: {**record, "grid_code": "JA999-99"},
    perturb=_perturb,
)


def generate_grid(config: Config, truncated_day: date | None) -> dict[str, object]:
    """Simulate every case of the window and write the daily change feed."""
    counters: dict[str, object] = {}
    entities = [c for day in config.window for c in _day_cases(config, day, counters)]
    eve = _day_cases(config, config.start - timedelta(days=1), {})
    result = write_feed(config, FORMAT, entities, eve, None, truncated_day)
    result["details"] = {
        incidents.RAINSTORM: {
            "grid_cases": counters.get("storm_cases", 0),
            "grid_classification": "事件-0401 道路积水",
        },
        incidents.EBIKE: {
            "grid_case_id": counters.get("ebike_case"),
            "grid_classification": "事件-0602 电瓶车违规充电",
        },
    }
    return result
