"""城运物联感知平台: the daily device registry and gzip batches of readings as they come in.

A day is built in two steps. :func:`day_plan` draws the cheap, discrete things (who reports,
alarm events, charging sessions) so that the number of readings of any day is known without
generating them; :func:`day_batches` then builds every value with numpy, one array per device
type and metric, and cuts the day into hourly batches. Faults are placed per hour; each hour is
then delivered in batch files of ``batch_minutes`` (default 5) minutes, each device alarm in a
file of its own (:func:`hour_deliveries`). An alarm flag reads 1 when the device alarms and 0
when it reports normal again (:func:`alarm_ends`). No per-reading Python loop anywhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from demo import incidents
from demo.common import (
    Config,
    fault_entry,
    gzip_bytes,
    headers,
    np_rng,
    rel,
    write_delivery,
)
from demo.faults import LATE_RECORD, fault_count
from demo.landing_times import ALARM_DELAY, BATCH_DELAY, RESEND_DELAY, landed_at, next_day
from demo.weather import NORTH_STATION, DayWeather, day_weather
from demo.workdays import is_workday
from demo.world import OFFICE_STREETS, STORM_STREETS, Registry, registry
from ingestion.contract import (
    EXACT_DUPLICATE,
    MALFORMED_RECORD,
    OUT_OF_RANGE,
    SUPERSEDED_VERSION,
    UNKNOWN_CODE,
)
from ingestion.iot.contract import DEVICES, METRICS, READINGS

SOURCE = "iot"
UNKNOWN_METRIC = "pm1"  # not in the contract's metric list → unknown_code
METRIC_NAMES = (*METRICS, UNKNOWN_METRIC)
M = {name: k for k, name in enumerate(METRIC_NAMES)}
ALARMS = ("smoke_alarm", "overcurrent_alarm", "elevator_fault", "elevator_entrapment", "gas_alarm")
FLAGS = np.array([name in ALARMS for name in METRIC_NAMES])
LOW = np.array([METRICS[m][2] if m in METRICS else 0.0 for m in METRIC_NAMES])
HIGH = np.array([METRICS[m][3] if m in METRICS else 1e9 for m in METRIC_NAMES])
EPOCH = datetime(2000, 1, 1)
HOUR, FIVE_MIN, QUARTER = 3600, 300, 900
OVERCURRENT_A = 16.0  # a charger port trips its overcurrent alarm above 16 A
NORTH_LATITUDE = 31.26  # gauges north of Zhongshan North Road follow the 大宁 station

# Readings per device per day, by type (the brief's cadences).
CADENCE = {
    "smoke_detector": (HOUR, ("smoke_obscuration_pct", "temperature_c")),
    "ebike_charger": (QUARTER, ("charging_current_a",)),
    "water_meter": (HOUR, ("water_flow_l",)),
    "air_station": (HOUR, ("pm25", "pm10", "so2", "no2", "co", "o3")),
    "rain_gauge": (FIVE_MIN, ("rainfall_mm",)),
    "ponding_sensor": (FIVE_MIN, ("ponding_depth_cm",)),
    "road_segment": (FIVE_MIN, ("speed_kmh", "flow_veh")),
    "elevator": (HOUR, ("run_count",)),
    "gas_detector": (HOUR, ("gas_lel_pct",)),
}
# Daily event rates at scale 1.0 (ASSUMPTION: order-of-magnitude guesses for 12,000 smoke
# detectors, 4,000 elevators and 1,600 chargers). Most smoke alarms are nuisance (steam,
# dust: the flag without a fire's heat); a fire (about one every three days, in line with
# a district of a million people) also heats the detector by 3–6 °C within the hour.
SMOKE_NUISANCE, SMOKE_FIRES, ELEVATOR_FAULTS, ENTRAPMENTS = 3.0, 0.3, 6.0, 1.2
LONE_OVERCURRENTS = 2.0
GAS_LEAKS = 0.1  # 2,000 home gas detectors: a leak every ten days or so
# Minutes from an alarm until the device reports normal again, its flag back at 0
# (ASSUMPTION: illustrative, not measured). Steam or dust clears in minutes; a fire's
# detector is reset once the fire is out; a tripped charger port resets before its next
# quarter-hour reading; an elevator fault waits for the maintenance company; an entrapment
# for the rescue (30 minutes is the target, some take longer); a gas detector stays latched
# until the home is aired and it is reset.
ALARM_MINUTES = {
    "smoke_alarm": (3.0, 20.0),
    "overcurrent_alarm": (1.0, 14.0),
    "elevator_fault": (30.0, 240.0),
    "elevator_entrapment": (10.0, 50.0),
    "gas_alarm": (20.0, 120.0),
}
FIRE_ALARM_MINUTES = (30.0, 90.0)
DAILY_OFFLINE = 0.002  # share of mass-deployed devices that drop out for a day

# Household water use in L/h by hour for one elderly person (≈ 120 L/day); zero is only
# plausible at night, so a normal meter never shows more than 8 zero hours in a row.
WATER_PROFILE = np.array(
    [1, 0.5, 0.3, 0.3, 0.5, 3, 10, 14, 9, 5, 4, 7, 8, 4, 3, 3, 4, 7, 11, 10, 7, 5, 3, 1.5]
)
WATER_ZERO_HOURS = np.isin(np.arange(24), (23, 0, 1, 2, 3, 4, 5, 6))
RESIDENTIAL_RUNS = np.array(
    [2, 1, 1, 1, 1, 3, 12, 25, 20, 12, 10, 12, 14, 10, 9, 10, 13, 22, 26, 22, 16, 10, 6, 3]
)
OFFICE_RUNS = np.array(
    [1, 0.3, 0.2, 0.2, 0.3, 1, 5, 40, 85, 45, 30, 35, 60, 40, 30, 30, 35, 70, 45, 15, 8, 4, 2, 1]
)


@dataclass
class Batch:
    """Readings as parallel arrays; ``device`` indexes the registry, ``metric`` METRIC_NAMES."""

    device: np.ndarray
    metric: np.ndarray
    time: np.ndarray  # seconds since EPOCH
    value: np.ndarray
    incident: np.ndarray

    def __len__(self) -> int:
        return len(self.device)

    def take(self, index: np.ndarray) -> Batch:
        """The rows at ``index``."""
        return Batch(*(a[index] for a in self._arrays()))

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return self.device, self.metric, self.time, self.value, self.incident

    @staticmethod
    def concat(parts: list[Batch]) -> Batch:
        """Rows of several batches, in order."""
        return Batch(
            *(np.concatenate(cols) for cols in zip(*(p._arrays() for p in parts), strict=True))
        )


@dataclass
class DayPlan:
    """The discrete draws of one day: who reports, alarm events and charging sessions."""

    day: date
    reporting: np.ndarray
    offline_today: np.ndarray
    incident_index: np.ndarray
    events: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    # The ends of alarms (flag 0) that fall on the day, the previous day's late ones included.
    alarm_ends: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    sessions: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    fires: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def critical_events(self, reg: Registry) -> list[tuple[str, str, int]]:
        """(kind, device id, time) of each fire, entrapment and gas leak of the day, in order."""
        fires = set(self.fires.tolist())
        found = []
        for metric, kind in (
            ("smoke_alarm", incidents.FIRE),
            ("elevator_entrapment", incidents.ENTRAPMENT),
            ("gas_alarm", incidents.GAS_LEAK),
        ):
            devices, times = self.events[metric]
            for device, at in zip(devices.tolist(), times.tolist(), strict=True):
                if kind != incidents.FIRE or device in fires:
                    found.append((kind, reg.ids[device], int(at)))
        return sorted(found, key=lambda event: (event[2], event[1]))

    def count(self, reg: Registry) -> int:
        """The number of readings this day produces (before faults)."""
        total = 0
        for device_type, (step, metrics) in CADENCE.items():
            n = int(self.reporting[reg.slices[device_type]].sum())
            total += n * (86400 // step) * len(metrics)
        flags = (*self.events.values(), *self.alarm_ends.values())
        return total + sum(len(devices) for devices, _ in flags)


def _midnight(day: date) -> int:
    return (day - EPOCH.date()).days * 86400


@cache
def day_plan(config: Config, day: date) -> DayPlan:
    """Draw the discrete events of ``day`` (cheap; no readings are generated).

    The alarms' ends on the day come with them: those of the day's alarms before midnight,
    and those of the previous day's alarms after it, so each day's files hold the readings
    timed on that day. An alarm of the window's last day may end after the window, and a
    device that drops out for the day after its alarm sends no end: either stays in alarm at
    the end of the data.
    """
    plan = _drawn_plan(config, day)
    midnight = _midnight(day)
    ends = [alarm_ends(config, day - timedelta(days=1)), alarm_ends(config, day)]
    ends_today = {}
    for metric in ALARMS:
        devices = np.concatenate([found[metric][0] for found in ends])
        times = np.concatenate([found[metric][1] for found in ends])
        today = (times >= midnight) & (times < midnight + 86400) & plan.reporting[devices]
        ends_today[metric] = (devices[today], times[today])
    return replace(plan, alarm_ends=ends_today)


@cache
def alarm_ends(config: Config, day: date) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Metric → (device, time) of the end of each alarm drawn for ``day``: its flag at 0.

    From a stream of its own: the day's other draws stay those of generator version 3.
    """
    plan = _drawn_plan(config, day)
    rng = np_rng(config.seed, SOURCE, "alarm_ends", day)
    ends = {}
    for metric in ALARMS:
        devices, times = plan.events[metric]
        minutes = rng.uniform(*ALARM_MINUTES[metric], len(devices))
        if metric == "smoke_alarm":
            fire = rng.uniform(*FIRE_ALARM_MINUTES, len(devices))
            minutes = np.where(np.isin(devices, plan.fires), fire, minutes)
        ends[metric] = (devices, times + np.round(minutes * 60).astype(np.int64))
    return ends


@cache
def _drawn_plan(config: Config, day: date) -> DayPlan:
    """The day's own draws: who reports, alarms, charging sessions (no alarm ends)."""
    reg = registry(config.seed, config.scale, config.start)
    plan = incidents.plan(config)
    rng = np_rng(config.seed, SOURCE, "plan", day)
    incident_ids = plan.incident_devices(config, day)
    incident_index = np.array(sorted(reg.ids.index(i) for i in incident_ids), dtype=np.int64)
    protected = np.zeros(len(reg.ids), dtype=bool)
    protected[incident_index] = True
    # Mass-deployed devices occasionally drop out for a day; infrastructure does not.
    mass = np.zeros(len(reg.ids), dtype=bool)
    for t in ("smoke_detector", "ebike_charger", "water_meter", "elevator", "gas_detector"):
        mass[reg.slices[t]] = True
    flip = mass & reg.reporting & ~protected & (rng.random(len(reg.ids)) < DAILY_OFFLINE)
    reporting = reg.reporting & ~flip
    reporting[reg.slices["camera"]] = False  # cameras are in the registry only

    def pick(device_type: str, rate: float, exclude: np.ndarray) -> np.ndarray:
        part = reg.slices[device_type]
        candidates = part.start + np.flatnonzero(reporting[part] & ~exclude[part])
        k = min(int(rng.poisson(rate * config.scale)), len(candidates))
        return np.sort(rng.choice(candidates, size=k, replace=False)) if k else candidates[:0]

    midnight = _midnight(day)
    events: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    fires = pick("smoke_detector", SMOKE_FIRES, protected)
    smoke = np.sort(np.concatenate([fires, pick("smoke_detector", SMOKE_NUISANCE, protected)]))
    smoke = np.unique(smoke)  # a detector alarms at most once a day
    # The alarm fires within ten minutes after the hourly reading that shows the smoke.
    smoke_hour = rng.integers(0, 24, len(smoke))
    events["smoke_alarm"] = (smoke, midnight + smoke_hour * HOUR + rng.integers(5, 600, len(smoke)))
    for metric, rate in (("elevator_fault", ELEVATOR_FAULTS), ("elevator_entrapment", ENTRAPMENTS)):
        devices = pick("elevator", rate, protected)
        events[metric] = (devices, midnight + rng.integers(6 * HOUR, 86400, len(devices)))
    leaks = pick("gas_detector", GAS_LEAKS, protected)
    # The detector alarms within ten minutes after the hourly reading that shows the gas.
    leak_hour = rng.integers(0, 24, len(leaks))
    events["gas_alarm"] = (leaks, midnight + leak_hour * HOUR + rng.integers(5, 600, len(leaks)))
    # The readings of a fire, an entrapment and a leak are never faulted: the backtest
    # expects them.
    critical = [fires, events["elevator_entrapment"][0], leaks]
    incident_index = np.union1d(incident_index, np.concatenate(critical)).astype(np.int64)
    lone = pick("ebike_charger", LONE_OVERCURRENTS, protected)
    lone_slots = rng.integers(72, 96, len(lone))  # 18:00–23:45, when bikes are plugged in
    over_devices, over_slots = [lone], [lone_slots]
    if day == plan.ebike_day:
        for device_id in plan.ebike_devices:
            onset = int(rng.integers(4, 10))  # 01:00–02:15 in quarter-hour slots
            length = int(rng.integers(3, 7))
            over_devices.append(np.full(length, reg.ids.index(device_id)))
            over_slots.append(np.arange(onset, onset + length))
    devices = np.concatenate(over_devices).astype(np.int64)
    slots = np.concatenate(over_slots).astype(np.int64)
    events["overcurrent_alarm"] = (devices, midnight + slots * QUARTER)
    chargers = reg.slices["ebike_charger"]
    n_chargers = chargers.stop - chargers.start
    evening = rng.random(n_chargers) < 0.8
    start = np.where(evening, rng.uniform(17.5, 23.5, n_chargers), rng.uniform(10, 15, n_chargers))
    has_session = rng.random(n_chargers) < 0.75
    start = np.where(has_session, start * HOUR, np.nan)
    duration = rng.uniform(2, 7, n_chargers) * HOUR
    level = rng.uniform(2.5, 9.0, n_chargers)
    return DayPlan(
        day=day,
        reporting=reporting,
        offline_today=np.flatnonzero(flip),
        incident_index=incident_index,
        events=events,
        sessions=(start, duration, level),
        fires=fires,
    )


def _grid_rows(
    reg: Registry, plan: DayPlan, device_type: str, metric: str, values: np.ndarray, step: int
) -> Batch:
    """Rows of one (type, metric) array of shape (devices, steps), time-major."""
    part = reg.slices[device_type]
    index = np.arange(part.start, part.stop)
    keep = plan.reporting[part]
    index, values = index[keep], values[keep]
    steps = values.shape[1]
    times = _midnight(plan.day) + np.arange(steps, dtype=np.int64) * step
    return Batch(
        device=np.tile(index, steps),
        metric=np.full(len(index) * steps, M[metric], dtype=np.int16),
        time=np.repeat(times, len(index)),
        value=values.T.ravel(),
        incident=np.zeros(len(index) * steps, dtype=bool),
    )


def _traffic(day: date) -> np.ndarray:
    """Relative traffic demand per 5 minutes.

    Twin rush hours on workdays (07:30–09:30, 17:00–19:30); a broad afternoon hump at
    weekends and on holidays.
    """
    hours = np.arange(288) / 12
    night = 0.12 + 0.5 / (1 + np.exp(-(hours - 6.5) * 2)) - 0.45 / (1 + np.exp(-(hours - 22) * 1.5))
    if is_workday(day):
        peaks = 0.55 * np.exp(-((hours - 8.25) ** 2) / 0.9) + 0.6 * np.exp(
            -((hours - 17.9) ** 2) / 1.2
        )
    else:
        peaks = 0.3 * np.exp(-((hours - 15) ** 2) / 10)
    return night + peaks


def _rain_series(rng: np.random.Generator, hourly: np.ndarray, n: int) -> np.ndarray:
    """Split hourly totals (n, 24) into 5-minute amounts (n, 288) with random shares."""
    shares = rng.dirichlet(np.full(12, 2.0), size=(n, 24))
    return (hourly[:, :, None] * shares).reshape(n, 288)


def _downpour(rng: np.random.Generator, n: int) -> np.ndarray:
    """The storm hour at one gauge: four 5-minute intervals of 20–25 mm, 2–6 mm around them.

    The hour totals ≥ 96 mm (Shanghai 暴雨橙色: > 80 mm in 1 h, domain.md §3.3).
    """
    series = rng.uniform(2, 6, size=(n, 12))
    onset = rng.integers(2, 6, size=n)
    for k in range(n):
        series[k, onset[k] : onset[k] + 4] = rng.uniform(20, 25, size=4)
    return series


@dataclass
class _Day:
    """What every device type's value model needs to know about the day."""

    config: Config
    plan: DayPlan
    reg: Registry
    rng: np.random.Generator
    weather: DayWeather
    storm: bool
    heat: bool
    winter: float  # 1 in mid-January, 0 in mid-July
    arrays: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    details: dict[str, dict[str, object]] = field(default_factory=dict)

    def count(self, device_type: str) -> int:
        part = self.reg.slices[device_type]
        return part.stop - part.start

    def station_rain(self, device_type: str) -> np.ndarray:
        """Hourly rain (devices, 24) of each device's nearest station."""
        north = self.reg.latitude[self.reg.slices[device_type]] >= NORTH_LATITUDE
        rain = self.weather.precipitation
        return np.where(north[:, None], rain[NORTH_STATION], rain[1 - NORTH_STATION])

    def in_storm_streets(self, device_type: str) -> np.ndarray:
        return np.isin(np.array(self.reg.street_codes[self.reg.slices[device_type]]), STORM_STREETS)


def _smoke(d: _Day) -> None:
    """Smoke detectors: indoor temperature follows the outdoors loosely; obscuration ≈ 0.

    At an alarm, a fire fills the detector's chamber (12–35 %/m) and heats it by 3–6 °C; a
    nuisance alarm (steam, dust) shows 3–8 %/m and no heat.
    """
    n = d.count("smoke_detector")
    offset = np_rng(d.config.seed, SOURCE, "smoke_offset").normal(0, 1.2, n)
    outdoor = d.weather.temperature[0]
    indoor = 14 + 0.45 * outdoor[None, :] + offset[:, None] + d.rng.normal(0, 0.25, (n, 24))
    smoke = d.rng.gamma(1.2, 0.03, (n, 24))
    alarm_devices, alarm_times = d.plan.events["smoke_alarm"]
    rows = alarm_devices - d.reg.slices["smoke_detector"].start
    hours = (alarm_times - _midnight(d.plan.day)) // HOUR
    fire = np.isin(alarm_devices, d.plan.fires)
    smoke[rows, hours] = np.where(
        fire, d.rng.uniform(12, 35, len(rows)), d.rng.uniform(3, 8, len(rows))
    )
    indoor[rows, hours] += np.where(fire, d.rng.uniform(3, 6, len(rows)), 0.0)
    d.arrays["smoke_detector", "smoke_obscuration_pct"] = np.round(smoke, 2)
    d.arrays["smoke_detector", "temperature_c"] = np.round(indoor, 1)


def _chargers(d: _Day) -> None:
    """E-bike chargers: one evening (or midday) session per charger, tapering at the end."""
    n = d.count("ebike_charger")
    day = d.plan.day
    t = np.arange(96) * QUARTER
    current = np.zeros((n, 96))
    previous = _drawn_plan(d.config, day - timedelta(days=1)).sessions
    for start, duration, level, shift in ((*d.plan.sessions, 0), (*previous, -86400)):
        begin = (start + shift)[:, None]
        elapsed = t[None, :] - begin
        inside = (elapsed >= 0) & (elapsed < duration[:, None])
        progress = np.clip(elapsed / duration[:, None], 0, 1)
        taper = np.where(progress < 0.7, 1.0, 1 - (progress - 0.7) / 0.3 * 0.7)
        current += np.where(inside, level[:, None] * taper, 0.0)
    current = np.where(current > 0, current + d.rng.normal(0, 0.15, (n, 96)), 0.0)
    current = np.clip(current, 0, 15.0)
    over_devices, over_times = d.plan.events["overcurrent_alarm"]
    rows = over_devices - d.reg.slices["ebike_charger"].start
    slots = (over_times - _midnight(day)) // QUARTER
    current[rows, slots] = d.rng.uniform(OVERCURRENT_A + 0.5, 22.0, len(rows))
    d.arrays["ebike_charger", "charging_current_a"] = np.round(current, 2)
    plan = incidents.plan(d.config)
    if day == plan.ebike_day:
        ids = {d.reg.ids.index(x) for x in plan.ebike_devices}
        mine = np.isin(over_devices, list(ids))
        d.details[incidents.EBIKE] = {
            "overcurrent_alarm_rows": int(mine.sum()),
            "chargers_alarming": len(set(over_devices[mine].tolist())),
            "max_current_a": float(np.round(current[rows[mine], slots[mine]].max(), 2)),
        }


def _water(d: _Day) -> None:
    """Water meters of elderly people living alone; more water in a heat wave."""
    n = d.count("water_meter")
    person = np_rng(d.config.seed, SOURCE, "water_person").lognormal(0, 0.3, n)
    flow = WATER_PROFILE[None, :] * person[:, None] * d.rng.gamma(4, 0.25, (n, 24))
    flow *= 1.25 if d.heat else 1.0
    idle = WATER_ZERO_HOURS[None, :] & (d.rng.random((n, 24)) < 0.6)
    flow = np.where(WATER_ZERO_HOURS[None, :], flow, np.maximum(flow, 0.5))
    flow = np.where(idle, 0.0, flow)
    plan = incidents.plan(d.config)
    if plan.meter_device and plan.meter_start and plan.meter_end:
        row = d.reg.ids.index(plan.meter_device) - d.reg.slices["water_meter"].start
        midnight = datetime.combine(d.plan.day, datetime.min.time())
        hours = [midnight + timedelta(hours=h) for h in range(24)]
        silent = np.array([plan.meter_start <= h < plan.meter_end for h in hours])
        if silent.any():
            flow[row, silent] = 0.0
            key = f"zero_hours_{d.plan.day.isoformat()}"
            d.details[incidents.WATER_METER] = {key: int(silent.sum())}
    d.arrays["water_meter", "water_flow_l"] = np.round(flow, 1)
    if d.heat:
        d.details[incidents.HEAT_WAVE] = {"water_flow_factor": 1.25}


def _gas(d: _Day) -> None:
    """Home gas detectors: a trace of gas (0–2 %LEL); a leak reaches 25–60 %LEL in its hour.

    The detector's first alarm level is at most 25 %LEL (GB 15322 practice 🟡).
    """
    n = d.count("gas_detector")
    lel = np.minimum(d.rng.gamma(0.6, 0.4, (n, 24)), 2.0)
    devices, times = d.plan.events["gas_alarm"]
    rows = devices - d.reg.slices["gas_detector"].start
    hours = (times - _midnight(d.plan.day)) // HOUR
    lel[rows, hours] = d.rng.uniform(25, 60, len(rows))
    d.arrays["gas_detector", "gas_lel_pct"] = np.round(lel, 1)


def _air(d: _Day) -> None:
    """Air stations (HJ 633-2012 pollutants): traffic-driven NO2/CO, afternoon ozone."""
    n = d.count("air_station")
    rng, winter = d.rng, d.winter
    traffic = _traffic(d.plan.day)[::12]
    rain = d.weather.precipitation.max(axis=0)
    washout = np.where(np.cumsum(rain) > 2, 0.6, 1.0)
    station = rng.lognormal(0, 0.1, (n, 1))
    base = (22 + 33 * winter) * rng.lognormal(0, 0.25)
    pm25 = base * washout * (0.85 + 0.3 * traffic) * station * rng.lognormal(0, 0.08, (n, 24))
    sun = np.clip(np.sin(np.pi * (np.arange(24) - 9) / 12), 0, None)
    o3 = (30 + 140 * sun * (1 - 0.6 * winter)) * np.where(rain > 0.05, 0.6, 1.0)
    plan = incidents.plan(d.config)
    midnight = datetime.combine(d.plan.day, datetime.min.time())
    episode = np.array([plan.is_polluted(midnight + timedelta(hours=h)) for h in range(24)])
    if episode.any():
        # A pollution episode: 190–240 µg/m³ everywhere (重度污染), whatever the weather.
        pm25[:, episode] = rng.uniform(190, 240, (n, int(episode.sum()))) * station
        d.details[incidents.POLLUTION] = {
            f"pm25_max_{d.plan.day.isoformat()}": float(np.round(pm25[:, episode].max(), 1))
        }
    d.arrays["air_station", "pm25"] = np.round(pm25, 1)
    d.arrays["air_station", "pm10"] = np.round(pm25 * rng.uniform(1.5, 1.9, (n, 24)) + 5, 1)
    d.arrays["air_station", "so2"] = np.round(6 + 3 * winter + rng.gamma(2, 0.6, (n, 24)), 1)
    d.arrays["air_station", "no2"] = np.round(18 + 22 * traffic + rng.normal(0, 3, (n, 24)), 1)
    co = 0.45 + 0.35 * traffic + 0.3 * winter + rng.normal(0, 0.04, (n, 24))
    d.arrays["air_station", "co"] = np.round(co, 2)
    d.arrays["air_station", "o3"] = np.round(o3 * station * rng.lognormal(0, 0.08, (n, 24)), 1)


def _rain(d: _Day) -> None:
    """Rain gauges: the nearest station's hourly rain, spread over 5-minute intervals."""
    part = d.reg.slices["rain_gauge"]
    n = d.count("rain_gauge")
    in_storm = d.in_storm_streets("rain_gauge")
    hourly = d.station_rain("rain_gauge") * d.rng.lognormal(0, 0.25, (n, 1))
    peak = slice(incidents.RAIN_PEAK_HOUR * 12, incidents.RAIN_PEAK_HOUR * 12 + 12)
    if d.storm:
        # The storm cell sits over the four northern streets; elsewhere it rains far less.
        hourly[~in_storm, incidents.RAIN_START_HOUR : incidents.RAIN_START_HOUR + 4] *= 0.35
    rainfall = _rain_series(d.rng, hourly, n)
    if d.storm and in_storm.any():
        rainfall[in_storm, peak] = _downpour(d.rng, int(in_storm.sum()))
        ids = [d.reg.ids[part.start + k] for k in np.flatnonzero(in_storm)]
        totals = rainfall[in_storm, peak].round(1).sum(axis=1)
        d.details[incidents.RAINSTORM] = {
            "peak_hour": f"{incidents.RAIN_PEAK_HOUR:02d}:00",
            "gauge_peak_hour_mm": {
                x: float(np.round(v, 1)) for x, v in zip(ids, totals, strict=True)
            },
        }
    d.arrays["rain_gauge", "rainfall_mm"] = np.round(rainfall, 1)


def _ponding(d: _Day) -> None:
    """Ponding in underpasses: rain beyond the drains' capacity fills them, pumps empty them.

    A leaky bucket per sensor: each 5 minutes keeps 93 % of the water and adds 0.9 cm per mm
    of rain above 2.5 mm (≈ 30 mm/h of drainage); storm peaks are then scaled to 30–45 cm.
    """
    part = d.reg.slices["ponding_sensor"]
    n = d.count("ponding_sensor")
    hit = d.in_storm_streets("ponding_sensor") & d.storm
    local = np.repeat(d.station_rain("ponding_sensor") / 12, 12, axis=1)
    peak = slice(incidents.RAIN_PEAK_HOUR * 12, incidents.RAIN_PEAK_HOUR * 12 + 12)
    if hit.any():
        local[hit, peak] = _downpour(d.rng, int(hit.sum()))
    depth = np.zeros((n, 288))
    level = np.zeros(n)
    for k in range(288):
        level = level * 0.93 + 0.9 * np.maximum(local[:, k] - 2.5, 0)
        depth[:, k] = level
    if hit.any():
        target = d.rng.uniform(32, 44, int(hit.sum()))
        depth[hit] *= (target / np.maximum(depth[hit].max(axis=1), 1e-9))[:, None]
    depth[~hit] = np.minimum(depth[~hit], 8.0)
    depth = np.where(depth < 0.3, 0.0, depth)
    d.arrays["ponding_sensor", "ponding_depth_cm"] = np.round(depth, 1)
    if hit.any():
        ids = [d.reg.ids[part.start + k] for k in np.flatnonzero(hit)]
        peaks = np.round(depth[hit].max(axis=1), 1)
        d.details.setdefault(incidents.RAINSTORM, {})["ponding_peak_cm"] = {
            x: float(v) for x, v in zip(ids, peaks, strict=True)
        }


def _roads(d: _Day) -> None:
    """Road segments: speed dips and flow peaks in the rush hours; the storm slows the north."""
    n = d.count("road_segment")
    segment = np_rng(d.config.seed, SOURCE, "road_segment")
    free_speed = segment.uniform(38, 58, n)
    capacity = segment.uniform(60, 160, n)
    demand = _traffic(d.plan.day)[None, :] * d.rng.lognormal(0, 0.08, (n, 288))
    congestion = np.clip((demand - 0.55) / 0.5, 0, 1)
    speed = free_speed[:, None] * (1 - 0.6 * congestion) + d.rng.normal(0, 1.5, (n, 288))
    if d.storm:
        window = slice(incidents.RAIN_START_HOUR * 12, (incidents.RAIN_START_HOUR + 4) * 12)
        speed[d.in_storm_streets("road_segment"), window] *= 0.6
    plan = incidents.plan(d.config)
    if d.plan.day == plan.congestion_day:
        first, last = incidents.CONGESTION_HOURS
        street = (
            np.array(d.reg.street_codes[d.reg.slices["road_segment"]]) == plan.congestion_street
        )
        speed[street, first * 12 : last * 12] *= incidents.CONGESTION_SPEED
        d.details[incidents.CONGESTION] = {"segments": int(street.sum())}
    flow = capacity[:, None] * demand * (1 - 0.3 * congestion)
    d.arrays["road_segment", "speed_kmh"] = np.round(np.clip(speed, 3, 90), 1)
    d.arrays["road_segment", "flow_veh"] = np.round(np.clip(flow, 0, 1999))


def _elevators(d: _Day) -> None:
    """Elevators: household rhythm, or the office day in the CBD streets."""
    part = d.reg.slices["elevator"]
    n = d.count("elevator")
    lift = np_rng(d.config.seed, SOURCE, "elevator")
    office = np.isin(np.array(d.reg.street_codes[part]), OFFICE_STREETS) & (lift.random(n) < 0.6)
    busy = lift.lognormal(0, 0.35, n)
    office_day = OFFICE_RUNS if is_workday(d.plan.day) else OFFICE_RUNS * 0.25
    mean = np.where(office[:, None], office_day[None, :], RESIDENTIAL_RUNS[None, :])
    d.arrays["elevator", "run_count"] = d.rng.poisson(mean * busy[:, None]).astype(float)


def _values(config: Config, plan: DayPlan, reg: Registry) -> _Day:
    """Every reading value of the day, per device type and metric, plus incident details."""
    day = plan.day
    d = _Day(
        config=config,
        plan=plan,
        reg=reg,
        rng=np_rng(config.seed, SOURCE, "values", day),
        weather=day_weather(config, day),
        storm=day == incidents.plan(config).rain_day,
        heat=incidents.plan(config).is_heat(day),
        winter=(1 + math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365)) / 2,
    )
    # The order matters: every model draws from the same day stream.
    for model in (_smoke, _chargers, _water, _air, _rain, _ponding, _roads, _elevators, _gas):
        model(d)
    return d


def day_batches(config: Config, day: date) -> tuple[list[Batch], dict[str, dict[str, object]]]:
    """The readings of ``day`` as 24 hourly batches (before faults), plus incident details."""
    reg = registry(config.seed, config.scale, config.start)
    plan = day_plan(config, day)
    built = _values(config, plan, reg)
    parts: list[Batch] = []
    for device_type, (step, metrics) in CADENCE.items():
        for metric in metrics:
            values = np.clip(built.arrays[device_type, metric], LOW[M[metric]], HIGH[M[metric]])
            parts.append(_grid_rows(reg, plan, device_type, metric, values + 0.0, step))
    # The alarms' flags at 1, then their ends at 0, after every other row of their hours.
    for flags, value in ((plan.events, 1.0), (plan.alarm_ends, 0.0)):
        for metric, (devices, times) in flags.items():
            parts.append(
                Batch(
                    device=devices.astype(np.int64),
                    metric=np.full(len(devices), M[metric], dtype=np.int16),
                    time=times.astype(np.int64),
                    value=np.full(len(devices), value),
                    incident=np.zeros(len(devices), dtype=bool),
                )
            )
    readings = Batch.concat(parts)
    readings.incident = np.isin(readings.device, plan.incident_index)
    assert len(readings) == plan.count(reg), "the day plan must predict the readings exactly"
    hour = (readings.time - _midnight(day)) // HOUR
    order = np.argsort(hour, kind="stable")
    bounds = np.searchsorted(hour[order], np.arange(25))
    batches = [readings.take(order[bounds[h] : bounds[h + 1]]) for h in range(24)]
    return batches, built.details


def _eligible(batch: Batch, used: np.ndarray) -> np.ndarray:
    """Rows that may carry a fault: measured values (not alarm flags), not incidents."""
    return np.flatnonzero(~FLAGS[batch.metric] & ~batch.incident & ~used)


def _late_rows(config: Config, day: date, last: Batch) -> Batch:
    """Readings of the previous day's 23:00 batch (``last``) delivered in ``day``'s 01 batch.

    Both neighbouring days compute the same selection from the same base batch: the previous
    day leaves these rows out of its 23 batch, this day delivers them late.
    """
    reg = registry(config.seed, config.scale, config.start)
    k = fault_count(config.fault_rate, day_plan(config, day).count(reg))
    candidates = _eligible(last, np.zeros(len(last), dtype=bool))
    rng = np_rng(config.seed, SOURCE, "late", day)
    chosen = np.sort(rng.choice(candidates, size=min(k, len(candidates)), replace=False))
    return last.take(chosen)


def _wrong(values: np.ndarray, metric: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible but wrong value (in range, different), later corrected by a re-send."""
    bumped = np.round(values * rng.uniform(1.15, 1.6, len(values)) + 1.0, 1)
    bumped = np.clip(bumped, LOW[metric], HIGH[metric])
    same = bumped == values  # only possible at the top of the range
    return np.where(same, values - 1.0, bumped) + 0.0


def _out_of_range(metric: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Values outside the metric's contract range: 99999, or 5 below the minimum."""
    return np.where(rng.random(len(metric)) < 0.5, 99999.0, LOW[metric] - 5.0)


def _csv(batch: Batch, reg_ids: pa.Array, extra_lines: list[str]) -> tuple[bytes, int]:
    """Gzip CSV bytes of a batch (header from the contract) and its number of records."""
    unique_times, inverse = np.unique(batch.time, return_inverse=True)
    stamps = pa.array(
        [(EPOCH + timedelta(seconds=int(s))).strftime("%Y-%m-%d %H:%M:%S") for s in unique_times]
    )
    names = headers(READINGS)
    table = pa.table(
        {
            names[0]: pc.take(reg_ids, pa.array(batch.device)),
            names[1]: pc.take(pa.array(METRIC_NAMES), pa.array(batch.metric.astype(np.int32))),
            names[2]: pc.cast(pa.array(batch.value + 0.0), pa.string()),
            names[3]: pc.take(stamps, pa.array(inverse.astype(np.int32))),
        }
    )
    sink = pa.BufferOutputStream()
    options = pa_csv.WriteOptions(quoting_style="none", quoting_header="none")
    pa_csv.write_csv(table, sink, options)
    data = sink.getvalue().to_pybytes()
    if extra_lines:
        data += ("\n".join(extra_lines) + "\n").encode("utf-8")
    return gzip_bytes(data), len(batch) + len(extra_lines)


def _malformed_lines(batch: Batch, reg: Registry, rng: np.random.Generator) -> list[str]:
    """CSV lines with one field too few (no reading_time) or one too many."""
    lines = []
    for k in range(len(batch)):
        stamp = (EPOCH + timedelta(seconds=int(batch.time[k]))).strftime("%Y-%m-%d %H:%M:%S")
        fields = [
            reg.ids[batch.device[k]],
            METRIC_NAMES[batch.metric[k]],
            format(float(batch.value[k]), "g"),
            stamp,
        ]
        if rng.random() < 0.5:
            fields = fields[:3]
        else:
            fields.append("1")
        lines.append(",".join(fields))
    return lines


def _place_faults(
    batches: list[Batch], n: int, rng: np.random.Generator
) -> dict[int, dict[str, np.ndarray]]:
    """Choose ``n`` rows per fault kind: hour → kind → row positions in that hour's batch.

    Each kind goes into its own hour batch (spilling into the next if one is too small), so
    every manifest entry names one concrete file; no row gets two faults.
    """
    kinds = (MALFORMED_RECORD, EXACT_DUPLICATE, OUT_OF_RANGE, UNKNOWN_CODE, SUPERSEDED_VERSION)
    order = [int(h) for h in rng.permutation(np.arange(2, 23))] + [0, 23, 1]
    used = [np.zeros(len(b), dtype=bool) for b in batches]
    chosen: dict[int, dict[str, np.ndarray]] = {h: {} for h in range(24)}
    for position, kind in enumerate(kinds if n else ()):
        remaining = n
        for h in order[position:] + order[:position]:
            if remaining == 0:
                break
            candidates = _eligible(batches[h], used[h])
            if len(candidates) == 0:
                continue
            size = min(remaining, len(candidates))
            pick = np.sort(rng.choice(candidates, size=size, replace=False))
            used[h][pick] = True
            chosen[h][kind] = pick
            remaining -= len(pick)
    return chosen


@dataclass
class Delivery:
    """One readings file of an hour and when it lands.

    ``lines`` are raw lines written after the rows (malformed records); the file lands a delay
    drawn from ``delay`` (seconds) after ``due`` (Beijing time).
    """

    name: str
    rows: Batch
    lines: list[str]
    due: datetime
    delay: tuple[int, int]


def _clock(seconds: int) -> datetime:
    """The Beijing time ``seconds`` after EPOCH."""
    return EPOCH + timedelta(seconds=int(seconds))


def batch_name(day: date, hour: int, minute: int, minutes: int) -> str:
    """The file of the batch starting at ``hour:minute``: ``readings_YYYYMMDDHHMM.csv.gz``.

    Hourly batches (``minutes`` = 60) keep the name they always had, ``readings_YYYYMMDDHH.csv.gz``.
    """
    stamp = f"{day:%Y%m%d}{hour:02d}"
    return f"readings_{stamp}.csv.gz" if minutes == 60 else f"readings_{stamp}{minute:02d}.csv.gz"


def resend_name(day: date, hour: int) -> str:
    """``readings_YYYYMMDDHH_r1.csv.gz``, the re-send of an hour's corrected readings.

    ``_`` sorts after the digits, so the name sorts after every batch and alarm file of its
    hour, and the ingestion, which keeps the version of the last file by name, keeps it.
    """
    return f"readings_{day:%Y%m%d}{hour:02d}_r1.csv.gz"


def _slots(times: np.ndarray, day: date, hour: int, minutes: int) -> np.ndarray:
    """The batch of each reading time within ``hour`` (0 = the hour's first batch)."""
    return (times - _midnight(day) - hour * HOUR) // (minutes * 60)


def hour_deliveries(
    written: Batch,
    malformed: list[tuple[int, str]],
    late: Batch | None,
    day: date,
    hour: int,
    minutes: int,
    ids: Sequence[str],
) -> list[Delivery]:
    """Cut one hour's written readings into batch files of ``minutes`` minutes by reading time.

    Rows keep their order, so an exact duplicate stays beside its original. A malformed line
    (``(time of the reading it was drawn from, line)``) goes with that reading's batch, and
    ``late`` rows (the previous day's) head the hour's first batch. Under 60 minutes every
    alarm and every alarm's end (the flag readings of one device at one time) leaves the
    batches for a file of its own, ``readings_YYYYMMDDHHMMSS_alarm_<device id>.csv.gz``, due
    at that time.
    """
    slot = _slots(written.time, day, hour, minutes)
    drawn = _slots(np.array([t for t, _ in malformed], dtype=np.int64), day, hour, minutes)
    alarm = FLAGS[written.metric] if minutes < 60 else np.zeros(len(written), dtype=bool)
    start = _clock(_midnight(day) + hour * HOUR)
    deliveries = []
    for s in range(60 // minutes):
        rows = written.take(np.flatnonzero((slot == s) & ~alarm))
        if s == 0 and late is not None:
            rows = Batch.concat([late, rows])
        lines = [line for (_, line), k in zip(malformed, drawn, strict=True) if k == s]
        name = batch_name(day, hour, s * minutes, minutes)
        due = start + timedelta(minutes=(s + 1) * minutes)
        deliveries.append(Delivery(name, rows, lines, due, BATCH_DELAY))
    times, devices = written.time[alarm].tolist(), written.device[alarm].tolist()
    for at, device in sorted(set(zip(times, devices, strict=True))):
        rows = written.take(
            np.flatnonzero(alarm & (written.time == at) & (written.device == device))
        )
        name = f"readings_{_clock(at):%Y%m%d%H%M%S}_alarm_{ids[device]}.csv.gz"
        deliveries.append(Delivery(name, rows, [], _clock(at), ALARM_DELAY))
    return deliveries


def generate_day(config: Config, day: date) -> dict[str, object]:
    """Write the registry snapshot and the readings files of one day.

    Faults are placed per hour; each hour is then delivered in batches of
    ``config.batch_minutes`` minutes (:func:`hour_deliveries`), its corrected re-send in one
    file after them.
    """
    reg = registry(config.seed, config.scale, config.start)
    plan = day_plan(config, day)
    files, faults = [], []

    # Registry: a full snapshot, with today's status of every device.
    offline = set(plan.offline_today.tolist())
    lines = [",".join(headers(DEVICES))]
    for k, (before, after) in enumerate(reg.line_parts):
        status = "offline" if k in offline else reg.rows[k]["status"]
        lines.append(f"{before}{status}{after}")
    data = ("\n".join(lines) + "\n").encode("utf-8")
    name = f"devices_{day:%Y%m%d}.csv"
    files.append(
        write_delivery(config, SOURCE, day, name, data, len(reg.rows), landed_at=next_day(day))
    )

    batches, details = day_batches(config, day)
    count = plan.count(reg)
    late_in = None
    if config.fault_rate > 0:
        late_in = _late_rows(config, day, day_batches(config, day - timedelta(days=1))[0][23])
        if day < config.end:
            held = _late_rows(config, day + timedelta(days=1), batches[23])
            keep = ~np.isin(np.arange(len(batches[23])), _match(batches[23], held))
            batches[23] = batches[23].take(np.flatnonzero(keep))
    rng = np_rng(config.seed, SOURCE, "faults", day)
    chosen = _place_faults(batches, fault_count(config.fault_rate, count), rng)

    reg_ids = pa.array(reg.ids)
    minutes = config.batch_minutes
    for h in range(24):
        batch = batches[h]
        picks = chosen[h]
        value = batch.value.copy()
        metric = batch.metric.copy()
        if OUT_OF_RANGE in picks:
            rows = picks[OUT_OF_RANGE]
            value[rows] = _out_of_range(metric[rows], rng)
        if UNKNOWN_CODE in picks:
            metric[picks[UNKNOWN_CODE]] = M[UNKNOWN_METRIC]
        corrected = None
        if SUPERSEDED_VERSION in picks:
            rows = picks[SUPERSEDED_VERSION]
            corrected = batch.take(rows)
            value[rows] = _wrong(value[rows], metric[rows], rng)
        written = Batch(batch.device, metric, batch.time, value, batch.incident)
        keep = np.ones(len(batch), dtype=bool)
        malformed: list[tuple[int, str]] = []
        if MALFORMED_RECORD in picks:
            rows = picks[MALFORMED_RECORD]
            keep[rows] = False
            broken = _malformed_lines(written.take(rows), reg, rng)
            malformed = list(zip(batch.time[rows].tolist(), broken, strict=True))
        index = np.flatnonzero(keep)
        if EXACT_DUPLICATE in picks:
            # The duplicate follows its original, as a retransmitted packet would.
            index = np.sort(np.concatenate([index, picks[EXACT_DUPLICATE]]), kind="stable")
        late = late_in if h == 1 else None
        deliveries = hour_deliveries(written.take(index), malformed, late, day, h, minutes, reg.ids)
        for delivery in deliveries:
            data, records = _csv(delivery.rows, reg_ids, delivery.lines)
            landed = landed_at(
                config.seed, rel(SOURCE, day, delivery.name), delivery.due, delivery.delay
            )
            files.append(
                write_delivery(config, SOURCE, day, delivery.name, data, records, landed_at=landed)
            )
        for kind, rows in picks.items():
            if kind == SUPERSEDED_VERSION:
                continue
            slots, counts = np.unique(_slots(batch.time[rows], day, h, minutes), return_counts=True)
            for s, n in zip(slots.tolist(), counts.tolist(), strict=True):
                path = rel(SOURCE, day, batch_name(day, h, s * minutes, minutes))
                faults.append(fault_entry(READINGS.table, day, kind, n, path))
        if late is not None:
            path = rel(SOURCE, day, deliveries[0].name)
            faults.append(fault_entry(READINGS.table, day, LATE_RECORD, len(late), path))
        if corrected is not None:
            resend = resend_name(day, h)
            path = rel(SOURCE, day, resend)
            data, records = _csv(corrected, reg_ids, [])
            end = _clock(_midnight(day) + (h + 1) * HOUR)
            landed = landed_at(config.seed, path, end, RESEND_DELAY)
            files.append(
                write_delivery(config, SOURCE, day, resend, data, records, landed_at=landed)
            )
            faults.append(fault_entry(READINGS.table, day, SUPERSEDED_VERSION, records, path))
    return {"files": files, "faults": faults, "details": details, "readings": count}


def _match(batch: Batch, rows: Batch | None) -> np.ndarray:
    """Positions in ``batch`` of the rows of ``rows`` (same device, metric and time)."""
    if rows is None or len(rows) == 0:
        return np.array([], dtype=np.int64)
    key = batch.device * 10**12 + batch.metric.astype(np.int64) * 10**10 + batch.time
    wanted = rows.device * 10**12 + rows.metric.astype(np.int64) * 10**10 + rows.time
    return np.flatnonzero(np.isin(key, wanted))
