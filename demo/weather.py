"""气象小时观测: the two district stations, one JSON document per hour (or per day).

The weather of a day is also the driver of other sources (rain gauges, ponding, footfall,
water use), so :func:`day_weather` is a pure function of (seed, day) that any worker can call.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

import numpy as np

from demo import incidents
from demo.common import (
    Config,
    fault_entry,
    fmt_ts,
    np_rng,
    rel,
    write_delivery,
)
from demo.landing_times import WEATHER_DELAY, landed_at, next_day
from ingestion.contract import OUT_OF_RANGE
from ingestion.weather.contract import CONTRACT, STATIONS

SOURCE = "weather"
STATION_IDS = tuple(STATIONS)  # A3601 静安公园 (south), A3602 大宁灵石公园 (north)
NORTH_STATION = 1
STATION_FIELDS = ("station_id", "station_name")  # carried by the station object, not the hour

# Rough Shanghai monthly normals (ASSUMPTION: rounded from memory of 1991–2020 climate
# tables, not checked against 上海市气象局 data). July: max ≈ 33 °C, humid, SE monsoon.
NORMAL_MAX = (8.5, 10.5, 14.5, 20.5, 25.5, 28.5, 33.0, 32.5, 28.5, 23.5, 17.5, 11.0)
NORMAL_MIN = (2.0, 3.5, 7.0, 12.0, 17.5, 21.5, 26.5, 26.5, 22.0, 16.5, 10.5, 4.5)
NORMAL_RH = (74, 73, 72, 71, 71, 79, 78, 77, 75, 72, 73, 71)
NORMAL_HPA = (1026, 1023, 1019, 1014, 1009, 1005, 1003, 1004, 1011, 1018, 1022, 1026)
RAIN_CHANCE = (0.30, 0.35, 0.40, 0.38, 0.38, 0.50, 0.40, 0.38, 0.33, 0.25, 0.28, 0.27)
PREVAILING_WIND = (315, 315, 120, 135, 135, 135, 140, 135, 60, 45, 330, 315)

# The storm, mm per hour from 15:00: north station (in the storm cell) and south station.
STORM_NORTH = ((14, 20), (60, 90), (20, 30), (4, 8))
STORM_SOUTH = ((5, 8), (15, 30), (6, 10), (1, 3))
OUT_OF_RANGE_TEMPERATURE = 85.0  # the contract allows -15..45 °C


@dataclass(frozen=True)
class DayWeather:
    """Hourly observations of both stations for one day (arrays of shape (2, 24))."""

    temperature: np.ndarray
    humidity: np.ndarray
    precipitation: np.ndarray
    wind_speed: np.ndarray
    wind_direction: np.ndarray
    pressure: np.ndarray
    visibility: np.ndarray

    @property
    def daily_max(self) -> np.ndarray:
        """Daily maximum temperature per station."""
        return self.temperature.max(axis=1)


def normal(table: tuple[float, ...], day: date) -> float:
    """A monthly normal interpolated to ``day`` (months centred on the 15th)."""
    position = day.month - 1 + (day.day - 15) / 30.4
    low = math.floor(position)
    share = position - low
    return table[low % 12] * (1 - share) + table[(low + 1) % 12] * share


def _diurnal_shape() -> np.ndarray:
    """0 at 05:00 (coolest) rising to 1 at 14:00 (warmest), then falling again."""
    shape = np.empty(24)
    for h in range(24):
        if 5 <= h <= 14:
            shape[h] = (1 - math.cos(math.pi * (h - 5) / 9)) / 2
        else:
            since = (h - 14) % 24
            shape[h] = (1 + math.cos(math.pi * since / 15)) / 2
    return shape


DIURNAL = _diurnal_shape()


@cache
def day_weather(config: Config, day: date) -> DayWeather:
    """The weather of one day: seasonal normals, random showers and the planted incidents."""
    rng = np_rng(config.seed, SOURCE, day)
    plan = incidents.plan(config)
    heat = plan.is_heat(day)
    t_max = normal(NORMAL_MAX, day) + float(np.clip(rng.normal(0, 1.1), -2.5, 2.5))
    t_min = normal(NORMAL_MIN, day) + float(np.clip(rng.normal(0, 0.8), -2, 2))
    if heat:
        # 3–5 days at 37–39.5 °C with the peak (≥ 38 °C) in the middle (高温橙色: ≥ 37 °C,
        # domain.md §3.3). The north park station reads ~0.3 °C cooler.
        k = plan.heat_days.index(day)
        middle = (len(plan.heat_days) - 1) // 2
        t_max = 38.4 + rng.uniform(0, 1.0) if k == middle else 37.5 + rng.uniform(0, 0.9)
        t_min = 28.5 + rng.uniform(0, 1.5)
    t_min = min(t_min, t_max - 4.5)

    precipitation = np.zeros((2, 24))
    if not heat and rng.random() < RAIN_CHANCE[day.month - 1]:
        for _ in range(int(rng.integers(1, 3))):
            # Summer showers are mostly convective afternoon cells.
            summer = day.month in (6, 7, 8, 9)
            first = (
                int(rng.integers(13, 20))
                if summer and rng.random() < 0.6
                else int(rng.integers(0, 24))
            )
            hours = [h for h in range(first, first + int(rng.integers(1, 4))) if h < 24]
            for h in hours:
                amount = float(rng.lognormal(0.6, 0.8))
                precipitation[:, h] += amount * rng.uniform(0.6, 1.4, size=2)
    storm = day == plan.rain_day
    if storm:
        for k, h in enumerate(range(incidents.RAIN_START_HOUR, incidents.RAIN_START_HOUR + 4)):
            precipitation[NORTH_STATION, h] = rng.uniform(*STORM_NORTH[k])
            precipitation[1 - NORTH_STATION, h] = rng.uniform(*STORM_SOUTH[k])
    precipitation = np.minimum(np.round(precipitation, 1), 250.0)
    wet = precipitation > 0.05

    temperature = t_min + (t_max - t_min) * DIURNAL + rng.normal(0, 0.2, size=(2, 24))
    temperature[:, 14] = t_max  # the daily maximum is observed, not smoothed away
    temperature[1] -= 0.3
    temperature -= np.where(wet, 1.5, 0.0)
    if storm:
        cooled = np.arange(24) >= incidents.RAIN_START_HOUR
        temperature[:, cooled] -= rng.uniform(4.5, 6.5)
    temperature = np.round(np.minimum(temperature, 39.5), 1)

    humidity = normal(NORMAL_RH, day) + 12 * (1 - DIURNAL) - 6 + rng.normal(0, 2, size=(2, 24))
    humidity = np.where(wet, rng.uniform(90, 98, size=(2, 24)), humidity - (6 if heat else 0))
    humidity = np.round(np.clip(humidity, 35, 99))

    wind_speed = 1.6 + 1.4 * DIURNAL + rng.gamma(2.0, 0.35, size=(2, 24))
    direction = PREVAILING_WIND[day.month - 1] + rng.normal(0, 25, size=(2, 24))
    pressure = (
        normal(NORMAL_HPA, day)
        + rng.normal(0, 2.5)
        + 0.8 * np.cos(np.arange(24) * math.pi / 6)
        + rng.normal(0, 0.2, size=(2, 24))
    )
    visibility = rng.uniform(12, 25, size=(2, 24)) - np.where(humidity > 90, 6, 0)
    if storm:
        rain_hours = slice(incidents.RAIN_START_HOUR, incidents.RAIN_START_HOUR + 4)
        wind_speed[:, rain_hours] += rng.uniform(5, 9, size=(2, 4))
        direction[:, rain_hours] = 320 + rng.normal(0, 15, size=(2, 4))
        pressure[:, rain_hours] -= 2.0
    visibility = np.where(precipitation > 20, rng.uniform(1, 3, size=(2, 24)), visibility)
    visibility = np.where(
        (precipitation > 0.05) & (precipitation <= 20), rng.uniform(3, 8, size=(2, 24)), visibility
    )
    return DayWeather(
        temperature=temperature + 0.0,
        humidity=humidity + 0.0,
        precipitation=precipitation + 0.0,
        wind_speed=np.round(wind_speed, 1) + 0.0,
        wind_direction=np.round(direction % 360) + 0.0,
        pressure=np.round(pressure, 1) + 0.0,
        visibility=np.round(np.clip(visibility, 0.5, 30), 1) + 0.0,
    )


def _number(value: float) -> float | int:
    """Whole numbers as JSON integers (``78``), the rest as decimals (``27.3``)."""
    return int(value) if float(value).is_integer() else float(value)


def _deliveries(config: Config, day: date) -> list[tuple[str, range, datetime]]:
    """(file name, hours it holds, when it lands) of one day's weather files.

    A file per hour as the observations come in when ``batch_minutes`` is under 60, else one
    file for the day.
    """
    stamp = f"{day:%Y%m%d}"
    if config.batch_minutes == 60:
        return [(f"weather_{stamp}.json", range(24), next_day(day))]
    deliveries = []
    for h in range(24):
        name = f"weather_{stamp}{h:02d}.json"
        end = datetime.combine(day, time(h)) + timedelta(hours=1)
        landed = landed_at(config.seed, rel(SOURCE, day, name), end, WEATHER_DELAY)
        deliveries.append((name, range(h, h + 1), landed))
    return deliveries


def generate_weather(config: Config) -> dict[str, object]:
    """Write every day's weather files (:func:`_deliveries`); return files, faults, details."""
    sources = {f.name: f.source for f in CONTRACT.fields}
    measured = [f.name for f in CONTRACT.fields if f.name not in (*STATION_FIELDS, "observed_at")]
    plan = incidents.plan(config)
    files, faults = [], []
    details: dict[str, dict[str, object]] = {incidents.HEAT_WAVE: {}, incidents.RAINSTORM: {}}
    for day in config.window:
        w = day_weather(config, day)
        arrays = {
            "temperature_c": w.temperature,
            "humidity_pct": w.humidity,
            "precipitation_mm": w.precipitation,
            "wind_speed_ms": w.wind_speed,
            "wind_direction_deg": w.wind_direction,
            "pressure_hpa": w.pressure,
            "visibility_km": w.visibility,
        }
        # Faults: a temperature of 85 °C at a night hour (never a heat-wave or storm hour).
        broken: list[tuple[int, int]] = []
        if config.fault_rate > 0:
            count = max(1, round(config.fault_rate * 48))
            slots = [(s, h) for s in range(2) for h in range(0, 7)]
            rng = np_rng(config.seed, SOURCE, "faults", day)
            picks = rng.choice(len(slots), size=min(count, len(slots)), replace=False)
            broken = [slots[int(k)] for k in sorted(picks)]
        hourly: list[list[dict[str, object]]] = [[] for _ in STATION_IDS]
        for s in range(len(STATION_IDS)):
            for h in range(24):
                moment = datetime.combine(day, time(h))
                record: dict[str, object] = {sources["observed_at"]: fmt_ts(moment)}
                for field in measured:
                    record[sources[field]] = _number(arrays[field][s, h])
                if (s, h) in broken:
                    record[sources["temperature_c"]] = OUT_OF_RANGE_TEMPERATURE
                hourly[s].append(record)
        for name, hours, landed in _deliveries(config, day):
            stations = [
                {
                    sources["station_id"]: station_id,
                    sources["station_name"]: STATIONS[station_id],
                    "hourly": [hourly[s][h] for h in hours],
                }
                for s, station_id in enumerate(STATION_IDS)
            ]
            document = {"timezone": "Asia/Shanghai", "stations": stations}
            data = (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
            records = len(STATION_IDS) * len(hours)
            files.append(write_delivery(config, SOURCE, day, name, data, records, landed_at=landed))
            planted = sum(h in hours for _, h in broken)
            if planted:
                path = rel(SOURCE, day, name)
                faults.append(fault_entry(CONTRACT.table, day, OUT_OF_RANGE, planted, path))
        if plan.is_heat(day):
            details[incidents.HEAT_WAVE][f"station_max_c_{day.isoformat()}"] = {
                sid: float(w.daily_max[s]) for s, sid in enumerate(STATION_IDS)
            }
        if day == plan.rain_day:
            details[incidents.RAINSTORM]["station_precipitation_mm_h"] = {
                sid: {
                    f"{h:02d}:00": float(w.precipitation[s, h])
                    for h in range(incidents.RAIN_START_HOUR, incidents.RAIN_START_HOUR + 4)
                }
                for s, sid in enumerate(STATION_IDS)
            }
    return {"files": files, "faults": faults, "details": details}
