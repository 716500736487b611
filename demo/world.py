"""The static world of a run: Jing'an geography and the IoT device registry.

Geography comes only from ``ingestion/reference`` (streets, grids, roads, underpasses). The
registry depends on (seed, scale, start) and is rebuilt identically in every worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import numpy as np

from demo import people
from demo.common import csv_line, py_rng
from ingestion import reference
from ingestion.iot.contract import DEVICE_TYPES, DEVICES

# The northern streets the rainstorm incident hits (彭浦镇, 共和新路, 大宁路, 芷江西路).
STORM_STREETS = ("310106100000", "310106018000", "310106019000", "310106022000")
# Older 新村 estates where e-bikes are charged in stairwells: 彭浦新村, 临汾路, 共和新路, 宝山路.
EBIKE_STREETS = ("310106020000", "310106021000", "310106018000", "310106017000")
# Office-heavy streets whose elevators follow the working day rather than the household one.
OFFICE_STREETS = ("310106012000", "310106013000", "310106011000", "310106015000")
EBIKE_INCIDENT_CHARGERS = 8  # chargers placed in the incident grid (the incident needs ≥ 6)

# Devices at scale 1.0 (the brief's volumes). Ponding sensors are one per underpass (fixed).
BASE_COUNTS = {
    "smoke_detector": 12_000,
    "ebike_charger": 1_600,
    "water_meter": 1_200,
    "air_station": 12,
    "rain_gauge": 20,
    "road_segment": 260,
    "elevator": 4_000,
    "camera": 300,
    "gas_detector": 2_000,
}
INSTALLED_FROM = {
    "smoke_detector": date(2019, 1, 1),
    "ebike_charger": date(2020, 6, 1),
    "water_meter": date(2020, 9, 1),
    "air_station": date(2016, 1, 1),
    "rain_gauge": date(2015, 1, 1),
    "ponding_sensor": date(2018, 1, 1),
    "road_segment": date(2017, 1, 1),
    "elevator": date(2019, 6, 1),
    "camera": date(2018, 1, 1),
    "gas_detector": date(2021, 1, 1),
}
# Vendor names are illustrative (assumption): the real platform's supplier list is not public.
VENDORS = {
    "smoke_detector": ("海湾安全", "泛海三江", "尼特智能", "中消云"),
    "ebike_charger": ("万马爱充", "小绿人", "充电喵"),
    "water_meter": ("三川智慧", "宁波水表", "上海水务表计"),
    "air_station": ("聚光科技", "先河环保"),
    "rain_gauge": ("华云升达", "南京水文仪器"),
    "ponding_sensor": ("汉威科技", "城投智能"),
    "road_segment": ("海信网络科技", "电科智能"),
    "elevator": ("上海三菱", "日立电梯", "迅达", "奥的斯"),
    "camera": ("海康威视", "大华股份", "宇视科技"),
    "gas_detector": ("汉威科技", "特安电子", "诺安智能"),
}
CAMERA_SCENES = (
    "占道经营",
    "非机动车乱停放",
    "机动车乱停放",
    "暴露垃圾",
    "道路积水",
    "非法小广告",
    "道路遗撒",
    "人群聚集",
)
# Infrastructure maintained by the district is always online; mass-deployed devices mostly.
STATUS_WEIGHTS = {"online": 0.988, "offline": 0.006, "fault": 0.004, "retired": 0.002}
LNG_RANGE = (121.38, 121.52)  # the contract's plausible box for Jing'an
LAT_RANGE = (31.19, 31.34)


@dataclass(frozen=True)
class Geo:
    """Streets, grids and roads from ``ingestion/reference``."""

    streets: tuple[dict[str, str], ...]
    grids: tuple[dict[str, str], ...]
    street_by_code: dict[str, dict[str, str]]
    grids_by_street: dict[str, tuple[dict[str, str], ...]]
    roads_by_street: dict[str, tuple[str, ...]]
    grid_by_code: dict[str, dict[str, str]]

    def grid_roads(self, grid: dict[str, str]) -> list[str]:
        """The roads bounding one grid."""
        return grid["roads"].split("|")


@cache
def geo() -> Geo:
    """Load the reference geography once per process."""
    streets = reference.load("streets")
    grids = reference.load("grids")
    roads: dict[str, list[str]] = {}
    for row in reference.load("roads"):
        roads.setdefault(row["street_code"], []).append(row["road_name"])
    return Geo(
        streets=streets,
        grids=grids,
        street_by_code={s["street_code"]: s for s in streets},
        grids_by_street={
            s["street_code"]: tuple(g for g in grids if g["street_code"] == s["street_code"])
            for s in streets
        },
        roads_by_street={code: tuple(names) for code, names in roads.items()},
        grid_by_code={g["grid_code"]: g for g in grids},
    )


def ebike_incident_grid(seed: int) -> str:
    """The grid of the e-bike charging alarm cluster: one old estate grid, fixed per seed."""
    rng = py_rng(seed, "incident", "ebike_grid")
    candidates = [g["grid_code"] for code in EBIKE_STREETS for g in geo().grids_by_street[code]]
    return rng.choice(candidates)


def near(rng, grid: dict[str, str], spread: float = 0.0022) -> tuple[float, float]:
    """A point near a grid's centroid (grids are ~0.004° across), clipped to Jing'an."""
    lng = float(grid["center_lng"]) + rng.uniform(-spread, spread)
    lat = float(grid["center_lat"]) + rng.uniform(-spread * 0.8, spread * 0.8)
    lng = min(max(lng, LNG_RANGE[0] + 1e-4), LNG_RANGE[1] - 1e-4)
    lat = min(max(lat, LAT_RANGE[0] + 1e-4), LAT_RANGE[1] - 1e-4)
    return round(lng, 6), round(lat, 6)


@dataclass
class Registry:
    """Every IoT device of a run, in registry order (grouped by type, ids ascending)."""

    rows: list[dict[str, object]]
    slices: dict[str, slice]
    ids: list[str]
    grid_index: np.ndarray  # index into geo().grids
    street_codes: list[str]
    latitude: np.ndarray
    base_online: np.ndarray  # bool: base status online or fault (both report readings)
    reporting: np.ndarray  # bool: status online or fault
    line_parts: list[tuple[str, str]]  # CSV text before and after the status column

    def of_type(self, device_type: str) -> range:
        """Registry indices of one device type."""
        part = self.slices[device_type]
        return range(part.start, part.stop)

    def row(self, device_id: str) -> dict[str, object]:
        """The registry row of one device."""
        prefix, digits = device_id[:2], int(device_id[2:])
        for device_type, (type_prefix, _) in DEVICE_TYPES.items():
            if type_prefix == prefix:
                return self.rows[self.slices[device_type].start + digits - 1]
        raise KeyError(device_id)


def device_counts(scale: float) -> dict[str, int]:
    """Devices per type at ``scale`` (at least one of each; fixed infrastructure unscaled)."""
    counts = {t: max(1, round(n * scale)) for t, n in BASE_COUNTS.items()}
    counts["ebike_charger"] = max(counts["ebike_charger"], EBIKE_INCIDENT_CHARGERS)
    counts["ponding_sensor"] = len(reference.load("underpasses"))
    return {t: counts[t] for t in DEVICE_TYPES}


def _placement(device_type: str, i: int, n: int, rng, seed: int) -> dict[str, object]:
    """Where device ``i`` of a type sits, plus its type-specific columns."""
    g = geo()
    if device_type == "rain_gauge":
        # One gauge per street (the storm streets first, so even scale 0.01 has one there),
        # then a second gauge in the storm streets and the rest.
        order = list(STORM_STREETS) + [
            s["street_code"] for s in g.streets if s["street_code"] not in STORM_STREETS
        ]
        street = order[i % len(order)]
        grids = g.grids_by_street[street]
        grid = grids[(i // len(order) * 3) % len(grids)]
        return {"grid": grid, "device_name": f"{grid['grid_name']}雨量站"}
    if device_type == "ponding_sensor":
        underpass = reference.load("underpasses")[i]
        return {
            "grid": g.grid_by_code[underpass["grid_code"]],
            "device_name": f"{underpass['underpass_name']}积水监测",
            "underpass_code": underpass["underpass_code"],
        }
    if device_type == "air_station":
        street = g.streets[i % len(g.streets)]
        grids = g.grids_by_street[street["street_code"]]
        grid = grids[len(grids) // 2]
        return {"grid": grid, "device_name": f"{street['street_name']}空气质量微站"}
    if device_type == "road_segment":
        roads = reference.load("roads")
        pair = roads[i % len(roads)]
        street_grids = g.grids_by_street[pair["street_code"]]
        on_road = [x for x in street_grids if pair["road_name"] in g.grid_roads(x)]
        grid = (on_road or list(street_grids))[(i // len(roads)) % len(on_road or street_grids)]
        section = i // len(roads) + 1
        return {
            "grid": grid,
            "device_name": f"{pair['road_name']}第{section}检测断面",
            "road_name": pair["road_name"],
        }
    if device_type == "ebike_charger" and i < EBIKE_INCIDENT_CHARGERS:
        grid = g.grid_by_code[ebike_incident_grid(seed)]
    else:
        grid = rng.choice(g.grids)
    extra: dict[str, object] = {"grid": grid}
    road = rng.choice(g.grid_roads(grid))
    if device_type in ("smoke_detector", "water_meter", "gas_detector"):
        extra["address"] = people.house_address(rng, road, room=True)
    elif device_type == "elevator":
        extra["address"] = people.house_address(rng, road, room=False)
    elif device_type == "ebike_charger":
        extra["address"] = f"{people.house_address(rng, road, room=False)}非机动车棚"
    elif device_type == "camera":
        scenes = rng.sample(CAMERA_SCENES, rng.choice((1, 2, 2, 3)))
        extra["tags"] = "|".join(scenes)
        extra["device_name"] = f"{road}{rng.randrange(1, 1500)}号AI视频探头"
    if device_type == "water_meter":
        female = rng.random() < 0.62  # elderly people living alone are mostly women
        extra["resident_name"] = people.full_name(rng, female)
        extra["resident_phone"] = (
            people.mobile(rng) if rng.random() < 0.55 else people.landline(rng)
        )
        extra["resident_id_number"] = people.resident_id(
            rng, date(1930, 1, 1), date(1956, 12, 31), female
        )
    return extra


@cache
def registry(seed: int, scale: float, start: date) -> Registry:
    """Build the device registry of a run (identical in every process for the same args)."""
    g = geo()
    grid_position = {x["grid_code"]: k for k, x in enumerate(g.grids)}
    rows: list[dict[str, object]] = []
    slices: dict[str, slice] = {}
    latest_install = start - timedelta(days=30)
    for device_type, n in device_counts(scale).items():
        prefix, cn_name = DEVICE_TYPES[device_type]
        rng = py_rng(seed, "registry", device_type)
        begin = len(rows)
        fixed = device_type in ("air_station", "rain_gauge", "ponding_sensor", "road_segment")
        earliest = min(INSTALLED_FROM[device_type], latest_install - timedelta(days=1))
        for i in range(n):
            extra = _placement(device_type, i, n, rng, seed)
            grid = extra.pop("grid")
            lng, lat = near(rng, grid)
            address = extra.get("address")
            default_name = f"{cn_name}（{people.coarse_address(address)}）" if address else cn_name
            status = (
                "online"
                if fixed
                else rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
            )
            rows.append(
                {
                    "device_id": f"{prefix}{i + 1:06d}",
                    "device_type": device_type,
                    "device_name": extra.get("device_name", default_name),
                    "grid_code": grid["grid_code"],
                    "street_code": grid["street_code"],
                    "longitude": lng,
                    "latitude": lat,
                    "install_date": earliest
                    + timedelta(days=rng.randrange((latest_install - earliest).days + 1)),
                    "status": status,
                    "vendor": rng.choice(VENDORS[device_type]),
                    "address": address,
                    "resident_name": extra.get("resident_name"),
                    "resident_phone": extra.get("resident_phone"),
                    "resident_id_number": extra.get("resident_id_number"),
                    "road_name": extra.get("road_name"),
                    "underpass_code": extra.get("underpass_code"),
                    "tags": extra.get("tags"),
                }
            )
        slices[device_type] = slice(begin, len(rows))
    # The incident devices must be live: the charger cluster and every fixed sensor.
    first_charger = slices["ebike_charger"].start
    for k in range(first_charger, first_charger + EBIKE_INCIDENT_CHARGERS):
        rows[k]["status"] = "online"
    status = np.array([r["status"] for r in rows])
    reporting = (status == "online") | (status == "fault")
    return Registry(
        rows=rows,
        slices=slices,
        ids=[str(r["device_id"]) for r in rows],
        grid_index=np.array([grid_position[str(r["grid_code"])] for r in rows], dtype=np.int32),
        street_codes=[str(r["street_code"]) for r in rows],
        latitude=np.array([r["latitude"] for r in rows], dtype=float),
        base_online=status == "online",
        reporting=reporting,
        line_parts=_line_parts(rows),
    )


def _cell(value: object) -> object:
    """How one registry value is written in the CSV."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return value


def _line_parts(rows: list[dict[str, object]]) -> list[tuple[str, str]]:
    """Pre-rendered CSV text around the status column, so daily snapshots are cheap."""
    names = [f.name for f in DEVICES.fields]
    cut = names.index("status")
    before, after = DEVICES.fields[:cut], DEVICES.fields[cut + 1 :]
    return [
        (
            csv_line(_cell(row[f.name]) for f in before) + ",",
            "," + csv_line(_cell(row[f.name]) for f in after),
        )
        for row in rows
    ]
