"""The planted incidents: when and where they happen, and what downstream should see.

Ten kinds are planted on purpose (storm, heat, festival, charger cluster, silent meter,
power outage, food-safety complaint spike, road congestion, pollution episode, price spike);
every fire, elevator entrapment and gas leak the IoT source draws is listed too. Days are
placed at fixed fractions of the window (``floor(f × days)``) so that every incident fits in
a window of three days and moves predictably with longer ones. Each source module
asks this plan whether a day or device is affected and reports back what it actually wrote
(peak values, record counts), which ends up under ``details`` in the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from demo.common import Config, fmt_ts, py_rng
from demo.workdays import is_workday
from demo.world import STORM_STREETS, ebike_incident_grid, geo, registry
from ingestion import reference

RAINSTORM = "rainstorm"
HEAT_WAVE = "heat_wave"
FESTIVAL = "festival_footfall"
EBIKE = "ebike_charging_alarm"
WATER_METER = "water_meter_silent"
FIRE = "fire"
ENTRAPMENT = "elevator_entrapment"
GAS_LEAK = "gas_leak"
OUTAGE = "power_outage"
TOPIC_SPIKE = "complaint_topic_spike"
CONGESTION = "road_congestion"
POLLUTION = "pollution_episode"
PRICE_SPIKE = "price_spike"

NAMES_ZH = {
    RAINSTORM: "暴雨",
    HEAT_WAVE: "高温",
    FESTIVAL: "商圈节庆客流高峰",
    EBIKE: "电瓶车充电过流告警聚集",
    WATER_METER: "独居老人水表静默",
    FIRE: "火警",
    ENTRAPMENT: "电梯困人",
    GAS_LEAK: "燃气泄漏",
    OUTAGE: "片区停电",
    TOPIC_SPIKE: "食品安全诉求激增",
    CONGESTION: "道路拥堵",
    POLLUTION: "大气污染过程",
    PRICE_SPIKE: "菜价异常上涨",
}
# Critical single events: the indicator each must raise in its grid, at what level.
CRITICAL = {
    FIRE: ("SAF_FIRE_CONFIRMED", "红"),
    ENTRAPMENT: ("SAF_ELEVATOR_TRAPPED", "橙"),
    GAS_LEAK: ("SAF_GAS_ALARM", "红"),
}

RAIN_START_HOUR = 15  # heavy rain 15:00–18:59, the downpour in the 16:00 hour
RAIN_PEAK_HOUR = 16
RAIN_HOURS = 4
FESTIVAL_DISTRICTS = ("BD01", "BD02")  # 南京西路, 静安寺
FESTIVAL_HOURS = range(17, 23)  # the evening: 17:00–22:59
FESTIVAL_FOOTFALL = 2.5
FESTIVAL_SALES = 2.0
EBIKE_NIGHT = (1, 5)  # 01:00–04:59
METER_SILENT_HOURS = 36
METER_SILENT_FROM = 9  # 09:00 on the start day
DISTRICT_CODE = "310106"  # 静安区, the area code of district-wide indicators
FESTIVAL_STREETS = ("310106012000", "310106013000")  # the streets of BD01 and BD02
OUTAGE_HOURS = (10, 14)  # the outage's reports come in 10:00–13:59
OUTAGE_ORDERS = 30  # extra 停电 orders at scale 1.0 (a street's usual day: one or two)
TOPIC_MATTER, TOPIC_CODE = "070103", "T18"  # 食品安全: a canteen's food poisoning
TOPIC_ORDERS = 45  # extra orders at scale 1.0 (the topic's usual day: about 23)
TOPIC_HOURS = (9, 21)
CONGESTION_HOURS = (17, 20)  # a crash on the evening rush: 17:00–19:59
CONGESTION_SPEED = 0.25  # the street's segments crawl at a quarter of their speed
POLLUTION_HOURS = 36  # from 06:00: PM2.5 of 190–240 µg/m³ at every station (demo.iot)
PRICE_DAYS = 3
PRICE_FACTOR = 1.8  # one commodity at one market, 80 % above its usual price
PRICE_COMMODITY = "C01"  # 青菜


@dataclass(frozen=True)
class Plan:
    """Where and when every incident of a run happens."""

    rain_day: date
    heat_days: tuple[date, ...]
    festival_day: date
    ebike_day: date
    ebike_grid: str
    ebike_devices: tuple[str, ...]
    meter_device: str | None
    meter_start: datetime | None
    outage_day: date
    outage_street: str
    topic_day: date
    congestion_day: date
    congestion_street: str
    pollution_start: datetime
    price_days: tuple[date, ...]
    price_market: str
    price_street: str

    @property
    def rain_start(self) -> datetime:
        """Start of the heavy rain."""
        return datetime.combine(self.rain_day, time(RAIN_START_HOUR))

    @property
    def rain_end(self) -> datetime:
        """End of the heavy rain."""
        return self.rain_start + timedelta(hours=RAIN_HOURS)

    @property
    def meter_end(self) -> datetime | None:
        """End (exclusive) of the silent water meter's zero readings."""
        if self.meter_start is None:
            return None
        return self.meter_start + timedelta(hours=METER_SILENT_HOURS)

    def is_heat(self, day: date) -> bool:
        """True on a heat-wave day."""
        return day in self.heat_days

    @property
    def pollution_end(self) -> datetime:
        """End (exclusive) of the pollution episode."""
        return self.pollution_start + timedelta(hours=POLLUTION_HOURS)

    def is_polluted(self, moment: datetime) -> bool:
        """True in an hour of the pollution episode."""
        return self.pollution_start <= moment < self.pollution_end

    def storm_devices(self, config: Config) -> list[str]:
        """Rain gauges and ponding sensors in the storm streets."""
        reg = registry(config.seed, config.scale, config.start)
        return [
            reg.ids[i]
            for t in ("rain_gauge", "ponding_sensor")
            for i in reg.of_type(t)
            if reg.street_codes[i] in STORM_STREETS
        ]

    def incident_devices(self, config: Config, day: date) -> set[str]:
        """Devices whose readings on ``day`` belong to an incident (never faulted)."""
        devices: set[str] = set()
        if day == self.rain_day:
            devices.update(self.storm_devices(config))
        if day == self.ebike_day:
            devices.update(self.ebike_devices)
        first, last = self.meter_start, self.meter_end
        if self.meter_device and first and last and first.date() <= day <= last.date():
            devices.add(self.meter_device)
        reg = registry(config.seed, config.scale, config.start)
        if day == self.congestion_day:
            devices.update(
                reg.ids[i]
                for i in reg.of_type("road_segment")
                if reg.street_codes[i] == self.congestion_street
            )
        if self.pollution_start.date() <= day <= self.pollution_end.date():
            devices.update(reg.ids[i] for i in reg.of_type("air_station"))
        return devices


def _index(days: int, fraction: float) -> int:
    return min(days - 1, int(fraction * days))


@cache
def plan(config: Config) -> Plan:
    """Place the five incidents inside the window of ``config``."""
    window = config.window
    n = config.days
    rain_day = window[_index(n, 0.3)]
    heat_len = min(n, 3 if n < 12 else 4)
    heat_first = min(_index(n, 0.55), n - heat_len)
    heat_days = tuple(window[heat_first : heat_first + heat_len])

    # A Saturday, away from the storm and the heat if the window allows, near 70 % in.
    target = _index(n, 0.7)
    choices = [
        [d for d in window if d.weekday() == 5 and d != rain_day and d not in heat_days],
        [d for d in window if d.weekday() == 5 and d != rain_day],
        [d for d in window if d != rain_day],
        window,
    ]
    pool = next(c for c in choices if c)
    festival_day = min(pool, key=lambda d: (abs((d - window[target]).days), d))

    reg = registry(config.seed, config.scale, config.start)
    grid = ebike_incident_grid(config.seed)
    chargers = tuple(i for i in reg.ids if i.startswith("EB") and reg.row(i)["grid_code"] == grid)
    ebike_devices = chargers[: max(8, len(chargers) // 2)]

    meter_device = meter_start = None
    if n >= 2:
        rng = py_rng(config.seed, "incident", "water_meter")
        meters = [reg.ids[i] for i in reg.of_type("water_meter") if reg.base_online[i]]
        if meters:
            meter_device = rng.choice(meters)
            start_day = window[min(_index(n, 0.6), n - 2)]
            meter_start = datetime.combine(start_day, time(METER_SILENT_FROM))
    rng = py_rng(config.seed, "incident", "places")
    quiet = [s["street_code"] for s in geo().streets if s["street_code"] not in STORM_STREETS]
    busy = {rain_day, *heat_days}
    # Workdays, so that a baseline of eight workday peers exists from day 0.4 of 30 on.
    workdays = [d for d in window if is_workday(d) and d not in busy] or list(window)

    def workday_near(fraction: float) -> date:
        return min(workdays, key=lambda d: (abs((d - window[_index(n, fraction)]).days), d))

    # Drawn in this order: the outage street, the congested street, the market.
    outage_street = rng.choice(quiet)
    # A street with road segments (a small scale has a few only).
    roads = sorted({reg.street_codes[i] for i in reg.of_type("road_segment")} & set(quiet))
    congestion_street = rng.choice(roads or quiet)
    market = rng.choice(reference.load("wet_markets"))
    price_first = min(_index(n, 0.78), n - min(n, PRICE_DAYS))
    return Plan(
        rain_day=rain_day,
        heat_days=heat_days,
        festival_day=festival_day,
        ebike_day=window[_index(n, 0.2)],
        ebike_grid=grid,
        ebike_devices=ebike_devices,
        meter_device=meter_device,
        meter_start=meter_start,
        outage_day=workday_near(0.5),
        outage_street=outage_street,
        topic_day=workday_near(0.45),
        congestion_day=workday_near(0.35),
        congestion_street=congestion_street,
        pollution_start=datetime.combine(
            _away_from(window, min(_index(n, 0.85), max(n - 2, 0)), busy), time(6)
        ),
        price_days=tuple(window[price_first : price_first + PRICE_DAYS]),
        price_market=str(market["market_code"]),
        price_street=str(market["street_code"]),
    )


def _away_from(window: list[date], index: int, busy: set[date]) -> date:
    """The day at ``index``, or the nearest after (then before) it that is not ``busy``."""
    order = list(range(index, len(window))) + list(range(index - 1, -1, -1))
    return next((window[i] for i in order if window[i] not in busy), window[index])


def manifest(config: Config, details: dict[str, dict[str, object]]) -> list[dict[str, object]]:
    """The ``incidents`` section of the manifest, with what the sources reported."""
    p = plan(config)
    g = geo()
    storm_grids = [x["grid_code"] for s in STORM_STREETS for x in g.grids_by_street[s]]
    ebike_street = g.grid_by_code[p.ebike_grid]["street_code"]
    entries: list[dict[str, object]] = [
        {
            "kind": RAINSTORM,
            "start": fmt_ts(p.rain_start),
            "end": fmt_ts(p.rain_end),
            "streets": list(STORM_STREETS),
            "grids": storm_grids,
            "devices": p.storm_devices(config),
        },
        {
            "kind": HEAT_WAVE,
            "start": fmt_ts(datetime.combine(p.heat_days[0], time())),
            "end": fmt_ts(datetime.combine(p.heat_days[-1] + timedelta(days=1), time())),
            "streets": [s["street_code"] for s in g.streets],
            "grids": [],
            "devices": [],
        },
        {
            "kind": FESTIVAL,
            "start": fmt_ts(datetime.combine(p.festival_day, time(FESTIVAL_HOURS[0]))),
            "end": fmt_ts(datetime.combine(p.festival_day, time(FESTIVAL_HOURS[-1] + 1))),
            "streets": list(FESTIVAL_STREETS),
            "grids": [],
            "devices": [],
        },
        {
            "kind": EBIKE,
            "start": fmt_ts(datetime.combine(p.ebike_day, time(EBIKE_NIGHT[0]))),
            "end": fmt_ts(datetime.combine(p.ebike_day, time(EBIKE_NIGHT[1]))),
            "streets": [ebike_street],
            "grids": [p.ebike_grid],
            "devices": list(p.ebike_devices),
        },
    ]
    if p.meter_device and p.meter_start:
        meter = registry(config.seed, config.scale, config.start).row(p.meter_device)
        entries.append(
            {
                "kind": WATER_METER,
                "start": fmt_ts(p.meter_start),
                "end": fmt_ts(p.meter_end),
                "streets": [meter["street_code"]],
                "grids": [meter["grid_code"]],
                "devices": [p.meter_device],
            }
        )
    entries += _planted_late(config, p)
    entries += critical_events(config)
    expected = expectations(config)
    for entry in entries:
        kind = str(entry["kind"])
        entry["name_zh"] = NAMES_ZH[kind]
        entry["details"] = dict(sorted(details.get(kind, {}).items()))
        entry.setdefault("expect", expected.get(kind, []))
    return entries


def _planted_late(config: Config, p: Plan) -> list[dict[str, object]]:
    """The outage, the topic spike, the congestion, the pollution episode and the price spike."""
    all_streets = [s["street_code"] for s in geo().streets]

    def at(day: date, hour: int) -> str | None:
        return fmt_ts(datetime.combine(day, time(hour)))

    return [
        {
            "kind": OUTAGE,
            "start": at(p.outage_day, OUTAGE_HOURS[0]),
            "end": at(p.outage_day, OUTAGE_HOURS[1]),
            "streets": [p.outage_street],
            "grids": [],
            "devices": [],
        },
        {
            "kind": TOPIC_SPIKE,
            "start": at(p.topic_day, TOPIC_HOURS[0]),
            "end": at(p.topic_day, TOPIC_HOURS[1]),
            "streets": all_streets,
            "grids": [],
            "devices": [],
            "topic": TOPIC_CODE,
        },
        {
            "kind": CONGESTION,
            "start": at(p.congestion_day, CONGESTION_HOURS[0]),
            "end": at(p.congestion_day, CONGESTION_HOURS[1]),
            "streets": [p.congestion_street],
            "grids": [],
            "devices": [],
        },
        {
            "kind": POLLUTION,
            "start": fmt_ts(p.pollution_start),
            "end": fmt_ts(p.pollution_end),
            "streets": all_streets,
            "grids": [],
            "devices": [],
        },
        {
            "kind": PRICE_SPIKE,
            "start": at(p.price_days[0], 0),
            "end": fmt_ts(datetime.combine(p.price_days[-1] + timedelta(days=1), time())),
            "streets": [p.price_street],
            "grids": [],
            "devices": [],
            "market": p.price_market,
            "commodity": PRICE_COMMODITY,
        },
    ]


def critical_events(config: Config) -> list[dict[str, object]]:
    """Every fire, elevator entrapment and gas leak of the window, one incident each.

    They are the generator's background events (``demo.iot`` draws them day by day), not
    planted on purpose, but each is ground truth: it must raise its critical indicator in
    its grid within the hour of the alarm.
    """
    from demo.iot import EPOCH, day_plan  # iot imports this module

    reg = registry(config.seed, config.scale, config.start)
    entries: list[dict[str, object]] = []
    for day in config.window:
        for kind, device, at in day_plan(config, day).critical_events(reg):
            moment = EPOCH + timedelta(seconds=at)
            row = reg.row(device)
            hour = moment.replace(minute=0, second=0, microsecond=0)
            indicator, level = CRITICAL[kind]
            grid = str(row["grid_code"])
            entries.append(
                {
                    "kind": kind,
                    "start": fmt_ts(moment),
                    "end": fmt_ts(hour + timedelta(hours=1)),
                    "streets": [str(row["street_code"])],
                    "grids": [grid],
                    "devices": [device],
                    # No aftermath: what follows in the street is not this event's doing.
                    "aftermath_hours": 0,
                    "expect": [_expect(indicator, "grid", [grid], level, hour)],
                }
            )
    return entries


def _expect(
    indicator: str,
    area_level: str,
    areas: list[str],
    level: str,
    by: datetime,
    subject: str | None = None,
) -> dict[str, object]:
    expect: dict[str, object] = {
        "indicator": indicator,
        "area_level": area_level,
        "areas": sorted(areas),
        "min_level": level,
        "by": fmt_ts(by),
    }
    if subject:
        expect["subject"] = subject
    return expect


def expectations(config: Config) -> dict[str, list[dict[str, object]]]:
    """What each incident must raise, the backtest's ground truth (``vitals.backtest``).

    Each expectation names an indicator, its areas (every one must warn), the minimum level
    and ``by``, the start of the first period whose data shows the incident at that level.
    They follow from the incident's design, not from what the pipeline produced: the
    downpour gives every gauge of the storm streets ≥ 96 mm in the peak hour (暴雨橙色
    > 80 mm), the underpasses there fill to 32–44 cm (红 ≥ 30 cm), a heat-wave day reaches
    37.5 °C (高温橙色 ≥ 37 °C), festival footfall is 2.5× its usual evening (橙 ≥ 2.2×), the
    charger cluster alarms within 01:00–02:59, and the water meter is silent for 36 hours
    from 09:00 (红 ≥ 24 h).
    """
    p = plan(config)
    reg = registry(config.seed, config.scale, config.start)
    peak = datetime.combine(p.rain_day, time(RAIN_PEAK_HOUR))
    underpass_grids = {
        str(reg.rows[i]["grid_code"])
        for i in reg.of_type("ponding_sensor")
        if reg.street_codes[i] in STORM_STREETS and reg.reporting[i]
    }
    # A storm street without a reporting gauge (a small scale) has no rainfall value.
    gauge_streets = {
        reg.street_codes[i]
        for i in reg.of_type("rain_gauge")
        if reg.street_codes[i] in STORM_STREETS and reg.reporting[i]
    }
    rain = [_expect("WEA_RAIN_1H", "street", sorted(gauge_streets), "橙", peak)]
    if underpass_grids:
        rain.append(_expect("UTI_PONDING_DEPTH", "grid", sorted(underpass_grids), "红", peak))
    first_heat = datetime.combine(p.heat_days[0], time())
    festival = datetime.combine(p.festival_day, time(FESTIVAL_HOURS[0]))
    ebike_at = datetime.combine(p.ebike_day, time(EBIKE_NIGHT[0] + 1))
    expected: dict[str, list[dict[str, object]]] = {
        RAINSTORM: rain,
        HEAT_WAVE: [_expect("WEA_TEMP_MAX", "district", [DISTRICT_CODE], "橙", first_heat)],
        FESTIVAL: [_expect("ECO_FOOTFALL", "street", list(FESTIVAL_STREETS), "橙", festival)],
        # At least 8 chargers alarm within 01:00–02:59, so one of those hours holds at least
        # 4 of them: 橙 (3 chargers) by design, 红 (6) when the onsets bunch, as they usually do.
        EBIKE: [_expect("SAF_EBIKE_ALARMS", "grid", [p.ebike_grid], "橙", ebike_at)],
        WATER_METER: [],
        # 30 extra 停电 reports against a usual one or two: 橙 is the usual + 4 × 1.5.
        OUTAGE: [
            _expect(
                "UTI_POWER_OUTAGE_REPORTS",
                "street",
                [p.outage_street],
                "橙",
                datetime.combine(p.outage_day, time()),
            )
        ],
        # 45 extra 食品安全 orders on a usual 23 (Poisson spread ≈ 4.8): 橙 at 6 spreads.
        TOPIC_SPIKE: [
            _expect(
                "OPI_TOPIC_SPIKE",
                "district",
                [DISTRICT_CODE],
                "橙",
                datetime.combine(p.topic_day, time()),
                subject=TOPIC_CODE,
            )
        ],
        # The street's segments at a quarter of their rush-hour speed: below 10 km/h.
        CONGESTION: [
            _expect(
                "TRA_ROAD_SPEED",
                "street",
                [p.congestion_street],
                "橙",
                datetime.combine(p.congestion_day, time(CONGESTION_HOURS[0])),
            )
        ],
        # PM2.5 of 190–240 µg/m³ at every station: IAQI 200–300 (重度污染).
        POLLUTION: [
            _expect("ENV_AQI_HOURLY", "district", [DISTRICT_CODE], "橙", p.pollution_start)
        ],
        # 80 % above the commodity's 28-day mean: ECO_MARKET_PRICE_DEVIATION 橙 at 60 %.
        PRICE_SPIKE: [
            _expect(
                "ECO_MARKET_PRICE_DEVIATION",
                "street",
                [p.price_street],
                "橙",
                datetime.combine(p.price_days[0], time()),
            )
        ],
    }
    if p.meter_device and p.meter_start:
        grid = str(reg.row(p.meter_device)["grid_code"])
        red_at = p.meter_start + timedelta(hours=23)  # the hour that completes 24 silent hours
        expected[WATER_METER] = [_expect("LIV_ELDERLY_WATER_SILENCE", "grid", [grid], "红", red_at)]
    return expected
