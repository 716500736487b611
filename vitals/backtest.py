"""Backtest the vital-sign warnings against the incidents the generator planted.

The demo generator lists every planted incident in ``landing/_manifest.json`` with its
kind, areas, start and end, and what it must raise (``expect``: indicator, area level,
areas, minimum level and ``by``, the start of the first period whose data shows it at that
level). :func:`score` compares that ground truth with the warnings of a built serving
snapshot (``vitals.fct_warning_events`` and ``fct_warning_escalations``):

- **recall**: an expectation is met when every one of its areas reached the minimum level
  within the incident (from the start of the period holding its start to a day after its
  end, or the incident's own ``aftermath_hours``); an incident is recalled when all its
  expectations are met;
- **delay**: the first warning of the expected indicator in an expected area, at the time
  the data showed it (``known_at``: the alarm or report that tipped a count, else the end
  of the period that raised it), minus the incident's start, in hours of data time; an
  expectation is **on time** when every area reached its level no later than the period
  starting at ``by``;
- **precision**: the share of 橙/红 warnings that overlap an incident, in time (the warning
  open at any moment of the incident's window) and in place (a district-wide warning, or
  one in the incident's streets or grids);
- **noise**: 橙/红 warnings per week and notifications per day that overlap no incident. A
  notification is a warning opened or escalated at or above ``min_level`` of the
  notification settings (``notify.yml``), one per step, as ``cityops notify`` sends them;
- **monotone levels**: outside incidents, warnings peaking at 红 are no more than those
  peaking at 橙, and those no more than at 黄.

Everything here reads; nothing is written. Times are data time (Beijing, naive).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from vitals.warnings import LEVEL_NAMES, jsonable
from vitals.warnings import LEVEL_NUMBERS as LEVELS

# Reports, footfall and follow-on effects trail an incident: a warning up to a day after its
# end still belongs to it, unless the incident says otherwise (``aftermath_hours``: a single
# fire or entrapment has none).
AFTERMATH_HOURS = 24

# What the warnings must achieve over 90 days at scale 1.0, for any seed (docs/domain.md §3.4).
TARGETS = {
    "recall": 1.0,
    "on_time": 1.0,
    "precision_orange_red": 0.9,
    "orange_red_per_week_outside": 1.0,
    "notifications_per_day_outside": 5.0,
}
MONOTONE = "levels_monotone_outside"


@dataclass(frozen=True)
class Incident:
    """One planted incident of the manifest."""

    kind: str
    name_zh: str
    start: dt.datetime
    end: dt.datetime
    streets: frozenset[str]
    grids: frozenset[str]
    expect: tuple[dict[str, Any], ...]
    aftermath_hours: float = AFTERMATH_HOURS

    @property
    def window_end(self) -> dt.datetime:
        """The end of the window in which warnings belong to this incident."""
        return self.end + dt.timedelta(hours=self.aftermath_hours)


@dataclass
class AreaResult:
    """What one expected area raised."""

    area_code: str
    first_warning_at: dt.datetime | None  # when the data showed the first warning (any level)
    reached_at: dt.datetime | None  # start of the first period at the expected level or above
    peak_level: str | None


@dataclass
class ExpectationResult:
    """One expectation of one incident, scored."""

    kind: str
    incident_start: dt.datetime
    indicator: str
    area_level: str
    min_level: str
    by: dt.datetime
    areas: list[AreaResult]

    @property
    def met(self) -> bool:
        """Every area reached the expected level."""
        return all(area.reached_at is not None for area in self.areas)

    @property
    def on_time(self) -> bool:
        """Every area reached the expected level no later than the period starting at ``by``."""
        return self.met and all(
            area.reached_at is not None and area.reached_at <= self.by for area in self.areas
        )

    @property
    def delay_hours(self) -> float | None:
        """The first warning in any expected area, minus the incident's start, in hours."""
        times = [a.first_warning_at for a in self.areas if a.first_warning_at is not None]
        if not times:
            return None
        return round((min(times) - self.incident_start).total_seconds() / 3600, 2)


@dataclass
class IndicatorRow:
    """Per-indicator figures of a backtest."""

    indicator: str
    expectations: int = 0
    met: int = 0
    on_time: int = 0
    warnings: int = 0
    orange_red: int = 0
    orange_red_in_incidents: int = 0
    orange_red_outside: int = 0
    notifications_outside: int = 0
    delays_hours: list[float] = field(default_factory=list)


@dataclass
class Report:
    """A backtest's figures; :meth:`as_dict` is the JSON of ``cityops backtest --json``."""

    first_period: dt.datetime
    as_of: dt.datetime
    notify_min_level: str
    incidents: list[dict[str, Any]]
    expectations: list[ExpectationResult]
    indicators: list[IndicatorRow]
    warnings_by_level: dict[str, int]
    warnings_by_level_outside: dict[str, int]
    orange_red: int
    orange_red_in_incidents: int
    notifications: int
    notifications_outside: int

    @property
    def days(self) -> float:
        """The span of data scored, in days."""
        return (self.as_of - self.first_period).total_seconds() / 86400

    @property
    def recall(self) -> float | None:
        """Incidents whose every expectation was met, over incidents with expectations."""
        scored = [i for i in self.incidents if i["expectations"]]
        if not scored:
            return None
        return sum(1 for i in scored if i["recalled"]) / len(scored)

    @property
    def on_time(self) -> float | None:
        """Expectations met on time, over expectations."""
        if not self.expectations:
            return None
        return sum(1 for e in self.expectations if e.on_time) / len(self.expectations)

    @property
    def precision(self) -> float | None:
        """橙/红 warnings overlapping an incident, over 橙/红 warnings."""
        if not self.orange_red:
            return None
        return self.orange_red_in_incidents / self.orange_red

    @property
    def orange_red_per_week_outside(self) -> float:
        """橙/红 warnings overlapping no incident, per week of data."""
        return (self.orange_red - self.orange_red_in_incidents) / (self.days / 7)

    @property
    def notifications_per_day_outside(self) -> float:
        """Notifications of warnings overlapping no incident, per day of data."""
        return self.notifications_outside / self.days

    def targets(self) -> dict[str, dict[str, Any]]:
        """Each target with the measured figure and whether it holds."""
        figures = {
            "recall": self.recall,
            "on_time": self.on_time,
            "precision_orange_red": self.precision,
            "orange_red_per_week_outside": self.orange_red_per_week_outside,
            "notifications_per_day_outside": self.notifications_per_day_outside,
        }
        result = {}
        for name, target in TARGETS.items():
            value = figures[name]
            at_most = name.endswith("_outside")
            if value is None:
                holds = name == "precision_orange_red"  # no 橙/红 warning at all is not imprecise
            else:
                holds = value <= target if at_most else value >= target
            result[name] = {
                "value": None if value is None else round(value, 4),
                "target": f"≤ {target:g}" if at_most else f"≥ {target:g}",
                "holds": holds,
            }
        outside = self.warnings_by_level_outside
        result[MONOTONE] = {
            "value": f"红 {outside['红']} · 橙 {outside['橙']} · 黄 {outside['黄']}",
            "target": "红 ≤ 橙 ≤ 黄",
            "holds": outside["红"] <= outside["橙"] <= outside["黄"],
        }
        return result

    @property
    def targets_hold(self) -> bool:
        """True when every target holds."""
        return all(t["holds"] for t in self.targets().values())

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return jsonable(
            {
                "first_period": self.first_period,
                "as_of": self.as_of,
                "days": round(self.days, 2),
                "notify_min_level": self.notify_min_level,
                "targets": self.targets(),
                "warnings_by_level": self.warnings_by_level,
                "warnings_by_level_outside": self.warnings_by_level_outside,
                "orange_red": self.orange_red,
                "orange_red_in_incidents": self.orange_red_in_incidents,
                "notifications": self.notifications,
                "notifications_outside": self.notifications_outside,
                "incidents": self.incidents,
                "expectations": [
                    {
                        **{k: v for k, v in asdict(e).items() if k != "areas"},
                        "met": e.met,
                        "on_time": e.on_time,
                        "delay_hours": e.delay_hours,
                        "areas": [asdict(a) for a in e.areas],
                    }
                    for e in self.expectations
                ],
                "indicators": [
                    {
                        **{k: v for k, v in asdict(row).items() if k != "delays_hours"},
                        "max_delay_hours": max(row.delays_hours) if row.delays_hours else None,
                    }
                    for row in self.indicators
                ],
            }
        )


def load_incidents(manifest_path: Path) -> list[Incident]:
    """The planted incidents of a generated home's ``landing/_manifest.json``."""
    return incidents_of(json.loads(manifest_path.read_text(encoding="utf-8")))


def incidents_of(manifest: dict[str, Any]) -> list[Incident]:
    """The planted incidents of a generator manifest."""
    incidents = []
    for entry in manifest.get("incidents", []):
        incidents.append(
            Incident(
                kind=entry["kind"],
                name_zh=entry.get("name_zh", entry["kind"]),
                start=dt.datetime.fromisoformat(entry["start"]),
                end=dt.datetime.fromisoformat(entry["end"]),
                streets=frozenset(entry.get("streets", [])),
                grids=frozenset(entry.get("grids", [])),
                expect=tuple(entry.get("expect", [])),
                aftermath_hours=entry.get("aftermath_hours", AFTERMATH_HOURS),
            )
        )
    return incidents


ESCALATIONS = """
select indicator_code, area_level, area_code, subject_code, level, reached_at, known_at, grain
from vitals.fct_warning_escalations as escalations
inner join vitals.dim_indicators using (indicator_code)
"""

WARNINGS = """
select
    events.warning_id,
    events.indicator_code,
    events.area_level,
    events.street_code,
    events.grid_code,
    events.opened_at,
    coalesce(events.closed_at, events.as_of_at) as ended_at,
    events.peak_level,
    dim_indicators.grain
from vitals.fct_warning_events as events
inner join vitals.dim_indicators using (indicator_code)
"""

NOTIFICATIONS = """
select warning_id, indicator_code, level
from vitals.fct_warning_escalations
where level >= $min_level
"""


def score(
    con: duckdb.DuckDBPyConnection, incidents: list[Incident], notify_min_level: str
) -> Report:
    """Score the warnings of the serving snapshot ``con`` against ``incidents``."""
    window = con.execute(
        "select min(period_start), max(period_end) from vitals.fct_indicator_values"
    ).fetchone()
    if window is None or window[0] is None:
        raise ValueError("The snapshot has no indicator values; build it first.")
    first_period, as_of = window
    escalations = _rows(con, ESCALATIONS)
    by_series: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in escalations:
        by_series[row["indicator_code"], row["area_level"], row["area_code"]].append(row)

    rows: dict[str, IndicatorRow] = {}

    def indicator(code: str) -> IndicatorRow:
        return rows.setdefault(code, IndicatorRow(code))

    results: list[ExpectationResult] = []
    incident_rows = []
    for incident in incidents:
        scored = [_expectation(incident, e, by_series) for e in incident.expect]
        for result in scored:
            row = indicator(result.indicator)
            row.expectations += 1
            row.met += result.met
            row.on_time += result.on_time
            if result.delay_hours is not None:
                row.delays_hours.append(result.delay_hours)
        results += scored
        incident_rows.append(
            {
                "kind": incident.kind,
                "name_zh": incident.name_zh,
                "start": incident.start,
                "end": incident.end,
                "expectations": len(scored),
                "recalled": bool(scored) and all(r.met for r in scored),
                "on_time": bool(scored) and all(r.on_time for r in scored),
            }
        )

    warnings = _rows(con, WARNINGS)
    related: dict[str, bool] = {}
    by_level = {name: 0 for name in LEVELS}
    by_level_outside = {name: 0 for name in LEVELS}
    for warning in warnings:
        is_related = any(_overlaps(warning, incident) for incident in incidents)
        related[warning["warning_id"]] = is_related
        by_level[LEVEL_NAMES[warning["peak_level"]]] += 1
        if not is_related:
            by_level_outside[LEVEL_NAMES[warning["peak_level"]]] += 1
        row = indicator(warning["indicator_code"])
        row.warnings += 1
        if warning["peak_level"] >= LEVELS["橙"]:
            row.orange_red += 1
            row.orange_red_in_incidents += is_related
            row.orange_red_outside += not is_related
    notifications = _rows(con, NOTIFICATIONS, {"min_level": LEVELS[notify_min_level]})
    outside = [n for n in notifications if not related.get(n["warning_id"], False)]
    for notification in outside:
        indicator(notification["indicator_code"]).notifications_outside += 1
    orange_red = [w for w in warnings if w["peak_level"] >= LEVELS["橙"]]
    return Report(
        first_period=first_period,
        as_of=as_of,
        notify_min_level=notify_min_level,
        incidents=incident_rows,
        expectations=results,
        indicators=sorted(rows.values(), key=lambda r: r.indicator),
        warnings_by_level=by_level,
        warnings_by_level_outside=by_level_outside,
        orange_red=len(orange_red),
        orange_red_in_incidents=sum(related[w["warning_id"]] for w in orange_red),
        notifications=len(notifications),
        notifications_outside=len(outside),
    )


def _expectation(
    incident: Incident,
    expect: dict[str, Any],
    by_series: dict[tuple[str, str, str], list[dict[str, Any]]],
) -> ExpectationResult:
    min_level = LEVELS[expect["min_level"]]
    areas = []
    for area_code in expect["areas"]:
        steps = [
            step
            for step in by_series.get((expect["indicator"], expect["area_level"], area_code), [])
            if _floor(incident.start, step["grain"]) <= step["reached_at"] < incident.window_end
            and expect.get("subject") in (None, step["subject_code"])
        ]
        first = min(steps, key=lambda s: s["reached_at"], default=None)
        at_level = [s["reached_at"] for s in steps if s["level"] >= min_level]
        areas.append(
            AreaResult(
                area_code=area_code,
                first_warning_at=first["known_at"] if first else None,
                reached_at=min(at_level, default=None),
                peak_level=LEVEL_NAMES[max(s["level"] for s in steps)] if steps else None,
            )
        )
    return ExpectationResult(
        kind=incident.kind,
        incident_start=incident.start,
        indicator=expect["indicator"],
        area_level=expect["area_level"],
        min_level=expect["min_level"],
        by=dt.datetime.fromisoformat(expect["by"]),
        areas=areas,
    )


def _overlaps(warning: dict[str, Any], incident: Incident) -> bool:
    """The warning was open during the incident's window, in one of its places."""
    starts = _floor(incident.start, warning["grain"])
    if not (warning["opened_at"] < incident.window_end and warning["ended_at"] > starts):
        return False
    if warning["area_level"] == "district":
        return True
    if warning["grid_code"] is not None and warning["grid_code"] in incident.grids:
        return True
    return warning["street_code"] in incident.streets


def _floor(moment: dt.datetime, grain: str) -> dt.datetime:
    """The start of the period of ``grain`` holding ``moment``."""
    if grain == "day":
        return dt.datetime.combine(moment.date(), dt.time())
    return moment.replace(minute=0, second=0, microsecond=0)


def _rows(
    con: duckdb.DuckDBPyConnection, sql: str, parameters: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    cursor = con.execute(sql, parameters or {})
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
