"""12345 热线工单: a simulated work-order lifecycle written as a daily GB18030 change feed.

Lifecycle (domain.md §4.2): 受理 → (直接答复 | 并单 | 派单 → 签收 → [退单 → 改派 → 签收] →
先行联系 → 办结 → 回访 → 归档). Orders go to the matter's unit (派单目录, hotline_matters.csv)
except the ones later returned: those were first dispatched to a wrong unit, and 改派 brings
them to the matter's. Time limits are the matter's working days (1/5/15) from the (re)dispatch;
units sign and reply in office hours unless the matter is urgent (1 working day: water, power,
gas, flooding, lifts, fire risks …).
"""

from __future__ import annotations

import csv
import random
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

from demo import incidents, people
from demo.common import Config, csv_line, fmt_ts, headers, py_rng
from demo.faults import malformed_csv
from demo.feed import Entity, FeedFormat, Record, write_feed
from demo.workdays import (
    HOLIDAY,
    MAKEUP_WORKDAY,
    WEEKEND,
    WORKDAY,
    add_workdays,
    day_kind,
    daytime,
    office_time,
)
from demo.world import STORM_STREETS, geo
from ingestion import reference
from ingestion.hotline.contract import CONTRACT

SOURCE = "hotline"
DAILY_ORDERS = 1000  # new orders per workday at scale 1.0
DAY_FACTOR = {WORKDAY: 1.0, MAKEUP_WORKDAY: 0.95, WEEKEND: 0.72, HOLIDAY: 0.6}
# Calls by hour of day: quiet at night, peaks mid-morning and early afternoon.
# fmt: off
INTAKE_BY_HOUR = (0.6, 0.4, 0.3, 0.25, 0.3, 0.6, 1.5, 3.5, 6.5, 8.5, 8.8, 7.5,
                  5.5, 6.0, 7.5, 7.8, 7.2, 6.0, 4.5, 4.2, 3.8, 3.0, 2.0, 1.2)
# fmt: on
CHANNELS = {"电话": 0.60, "随申办": 0.17, "微信": 0.11, "网站": 0.08, "短信": 0.04}
REQUEST_TYPES = {"投诉": 0.36, "求助": 0.24, "咨询": 0.22, "建议": 0.08, "举报": 0.06, "表扬": 0.04}
# Share of each request type answered at intake from the 知识库 (直接答复, no dispatch).
ANSWERED_AT_INTAKE = {
    "咨询": 0.85,
    "表扬": 0.5,
    "建议": 0.1,
    "求助": 0.08,
    "投诉": 0.0,
    "举报": 0.0,
}
OPENERS = {
    "电话": "市民来电反映：",
    "随申办": "市民通过随申办反映：",
    "网站": "市民通过网站留言：",
    "微信": "市民通过微信公众号反映：",
    "短信": "市民发送短信反映：",
}
CLOSINGS = ("，要求相关部门尽快处理。", "，希望尽快解决。", "，请相关部门核实处理。", "。")
WHEN = ("近一周", "最近几天", "今天上午", "昨天晚上", "近一个月来", "每天晚上", "这两天", "周末")
RETURN_REASONS = ("属地不符", "职能不符", "权属不清")
# Matters about public space get a 路段/门牌 address, the rest a home address.
PUBLIC_MATTERS = {"020101", "020201", "030101", "030102", "030103", "050101", "110101"}
REPEAT_SHARE = 0.08  # same phone calling again within 30 days
MERGE_SHARE = 0.03  # 并单 into an open order of the same address and matter
RETURN_SHARE = 0.06  # first dispatched to a wrong unit: 退单, then 改派 to the right one
OVERDUE_SHARE = 0.06  # a little above 5 %: some overdue replies fall after the window
RESOLVED_SHARE = 0.85
# Units keep weekend and evening duty (值班) for part of their non-urgent work (assumption).
ON_DUTY_SHARE = 0.45
SAME_DAY_ARCHIVE = 0.7
CALLBACK_SHARE = 0.88
# Callback results given whether the unit solved the problem; overall ≈ 75/15/10.
CALLBACK_IF_SOLVED = {"满意": 0.85, "基本满意": 0.12, "不满意": 0.03}
CALLBACK_IF_NOT = {"满意": 0.10, "基本满意": 0.30, "不满意": 0.60}
STORM_ORDERS, POWER_ORDERS, HEATSTROKE_ORDERS = 120, 40, 12  # extra orders at scale 1.0


@dataclass
class Order:
    """What later orders need to know about an earlier one (repeats, 并单)."""

    entity: Entity
    accepted_at: datetime
    caller_name: str | None
    caller_phone: str | None
    address: str
    street: str
    matter: dict[str, str]
    open_until: datetime | None  # replied or closed; None when never dispatched


@cache
def templates() -> dict[str, list[str]]:
    """Complaint texts per matter code (``data/hotline_templates.csv``)."""
    out: dict[str, list[str]] = {}
    path = Path(__file__).parent / "data" / "hotline_templates.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            out.setdefault(row["matter_code"], []).append(row["template"])
    return out


def _choice(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _unit(code: str, street: str) -> str:
    """承办单位: the matter's department, or the street office for S00 (属地)."""
    if code == "S00":
        return geo().street_by_code[street]["street_name"]
    return next(
        d["department_name"] for d in reference.load("departments") if d["department_code"] == code
    )


def _address(rng: random.Random, street: str, matter: str) -> str:
    roads = geo().roads_by_street[street]
    road = rng.choice(roads)
    if matter in PUBLIC_MATTERS:
        if rng.random() < 0.25 and len(roads) > 1:
            other = rng.choice([r for r in roads if r != road])
            return f"{road}{other}路口附近"
        return f"{road}{rng.randrange(1, 1500)}号附近"
    return people.house_address(rng, road, room=rng.random() < 0.6)


def _content(
    rng: random.Random, channel: str, request: str, matter: dict[str, str], address: str
) -> str:
    """诉求内容: channel opener, a matter template, and sometimes a phone or ID number."""
    sub = matter["subcategory"]
    if request == "咨询" and rng.random() < 0.6:
        body = f"家住{address}，咨询{sub}问题应向哪个部门反映、如何办理"
    elif request == "表扬":
        body = f"{address}的{sub}问题已由工作人员及时处理，对处理结果非常满意，特来表扬"
    elif request == "建议" and rng.random() < 0.5:
        body = f"建议相关部门加强{address}周边{sub}方面的管理"
    else:
        text = rng.choice(templates()[matter["matter_code"]])
        body = text.format(addr=address, when=rng.choice(WHEN))
    closing = "。" if request in ("咨询", "表扬", "建议") else rng.choice(CLOSINGS)
    text = OPENERS[channel] + body + closing
    # PII inside free text (domain.md §2.4): the scrubbing tests downstream depend on these.
    if rng.random() < 0.01:
        female = rng.random() < 0.5
        number = people.resident_id(rng, date(1940, 1, 1), date(2000, 12, 31), female)
        text += f"来电人身份证号{number}。"
    if rng.random() < 0.05:
        text += f"联系电话：{people.mobile(rng)}。"
    return text


def _caller(rng: random.Random) -> tuple[str | None, str | None]:
    style = rng.random()
    if style < 0.45:
        name = people.polite_name(rng)
    elif style < 0.80:
        name = people.full_name(rng)
    else:
        name = None  # anonymous
    kind = rng.random()
    if kind < 0.82:
        phone = people.mobile(rng)
    elif kind < 0.95:
        phone = people.landline(rng)
    else:
        phone = None
    return name, phone


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=rng.uniform(low, high))


def _unit_time(rng: random.Random, moment: datetime, urgent: bool) -> datetime:
    """When a 承办单位 acts: at once for urgent matters, else on duty or in office hours."""
    if urgent:
        return moment
    if rng.random() < ON_DUTY_SHARE:
        return daytime(moment, 9, 18, rng.uniform(0, 60))
    return office_time(moment, rng.uniform(0, 60))


def _lifecycle(rng: random.Random, order: Order, request: str, merge_into: Order | None) -> None:
    """Add every event after 受理 to the order (times strictly consistent)."""
    e = order.entity
    accepted = order.accepted_at
    if merge_into is not None:
        e.add(
            accepted + _minutes(rng, 5, 45),
            status="已并单",
            merged_into_order_id=merge_into.entity.key,
        )
        return
    if rng.random() < ANSWERED_AT_INTAKE[request]:
        e.add(accepted + _minutes(rng, 3, 20), status="直接答复", is_resolved=True)
        return
    matter = order.matter
    limit = int(matter["time_limit_workdays"])
    urgent = limit == 1
    unit_code = matter["primary_department_code"]
    if urgent:
        dispatched = accepted + _minutes(rng, 5, 40)
    else:
        dispatched = daytime(accepted + _minutes(rng, 10, 90), 8, 20, rng.uniform(0, 90))
    deadline = add_workdays(dispatched, limit)
    e.add(
        dispatched,
        status="已派单",
        dispatched_at=dispatched,
        deadline_at=deadline,
        handling_unit=_unit(unit_code, order.street),
    )
    first_dispatch = e.events[-1][1]

    def sign_after(moment: datetime) -> datetime:
        if urgent:
            return moment + _minutes(rng, 3, 30)
        return _unit_time(rng, moment + _minutes(rng, 5, 120), urgent)

    signed = sign_after(dispatched)
    e.add(signed, status="已签收", signed_at=signed)
    if rng.random() < RETURN_SHARE:
        returned = _unit_time(rng, signed + _minutes(rng, 20, 360), urgent)
        if unit_code == "S00" and rng.random() < 0.5:
            reason = "属地不符"
            others = [s for s in geo().streets if s["street_code"] != order.street]
            new_unit = rng.choice(others)["street_name"]
        else:
            reason = rng.choice(RETURN_REASONS[1:]) if unit_code != "S00" else "职能不符"
            if unit_code != "S00" and rng.random() < 0.6:
                new_unit = _unit("S00", order.street)
            else:
                options = [
                    d
                    for d in reference.load("departments")
                    if d["department_code"] not in ("S00", unit_code)
                ]
                new_unit = rng.choice(options)["department_name"]
        # The 退单 answers a wrong first dispatch: the order went to `new_unit` first (another
        # street: 属地不符; another office: 职能不符, 权属不清) and 改派 brings it to the
        # 派单目录's unit. Set after the draws that pick the unit, so no random number moves.
        first_dispatch["handling_unit"] = new_unit
        e.add(returned, status="已退单", returned_at=returned, return_reason=reason, return_count=1)
        redispatched = daytime(returned + _minutes(rng, 30, 240), 8, 20, rng.uniform(0, 60))
        deadline = add_workdays(redispatched, limit)
        e.add(
            redispatched,
            status="已改派",
            redispatched_at=redispatched,
            handling_unit=_unit(unit_code, order.street),
            deadline_at=deadline,
        )
        signed = sign_after(redispatched)
        e.add(signed, status="已签收", signed_at=signed)

    if rng.random() < OVERDUE_SHARE:
        replied = _unit_time(rng, deadline + timedelta(hours=rng.uniform(2, 96)), urgent)
    else:
        span = (deadline - signed).total_seconds()
        replied = signed + timedelta(seconds=span * rng.betavariate(1.6, 3.0))
        replied = _unit_time(rng, replied, urgent)
        if replied > deadline:
            replied = max(signed + timedelta(minutes=40), deadline - _minutes(rng, 10, 120))
    replied = max(replied, signed + timedelta(minutes=20))
    contact = _unit_time(rng, signed + _minutes(rng, 10, 360), urgent)
    first_contact = min(contact, signed + (replied - signed) / 2)
    e.add(first_contact, first_contact_at=first_contact)
    solved = rng.random() < RESOLVED_SHARE
    e.add(replied, status="已办结", replied_at=replied, is_resolved=solved)
    order.open_until = replied
    if rng.random() < CALLBACK_SHARE:
        called = daytime(
            replied + timedelta(days=rng.choice((1, 1, 2)), minutes=rng.uniform(0, 240)),
            9,
            20,
            rng.uniform(0, 120),
        )
        result = _choice(rng, CALLBACK_IF_SOLVED if solved else CALLBACK_IF_NOT)
        really = solved and (result != "不满意" or rng.random() < 0.3)
        e.add(
            called,
            status="已回访",
            callback_at=called,
            callback_result=result,
            callback_resolved=really,
        )
        archived = called + _minutes(rng, 10, 120)
        if rng.random() > SAME_DAY_ARCHIVE or archived.date() != called.date():
            archived = daytime(
                called + timedelta(days=rng.randint(1, 3)), 9, 20, rng.uniform(0, 120)
            )
    else:
        archived = daytime(replied + timedelta(days=3), 9, 20, rng.uniform(0, 120))
    e.add(archived, status="已归档")


class _History:
    """Earlier orders, for repeat callers (30 days) and 并单 (open orders, last 7 days)."""

    def __init__(self) -> None:
        self.orders: list[Order] = []
        self.times: list[datetime] = []

    def add(self, order: Order) -> None:
        self.orders.append(order)
        self.times.append(order.accepted_at)

    def since(self, moment: datetime) -> int:
        return bisect_left(self.times, moment)

    def repeat_source(self, rng: random.Random, now: datetime) -> Order | None:
        low = self.since(now - timedelta(days=30))
        for _ in range(10):
            if low >= len(self.orders):
                return None
            candidate = self.orders[rng.randrange(low, len(self.orders))]
            if candidate.caller_phone and candidate.accepted_at < now:
                return candidate
        return None

    def open_master(self, rng: random.Random, now: datetime) -> Order | None:
        low = self.since(now - timedelta(days=7))
        for _ in range(20):
            if low >= len(self.orders):
                return None
            candidate = self.orders[rng.randrange(low, len(self.orders))]
            if (
                candidate.open_until is not None
                and candidate.accepted_at < now
                and candidate.open_until > now + timedelta(hours=1)
            ):
                return candidate
        return None


def _day_orders(
    config: Config, day: date, history: _History | None, counters: dict[str, int]
) -> list[Order]:
    """Simulate the orders accepted on ``day`` (``history`` None: no repeats or 并单)."""
    rng = py_rng(config.seed, SOURCE, day)
    plan = incidents.plan(config)
    matters = reference.load("hotline_matters")
    by_code = {m["matter_code"]: m for m in matters}
    weights = [float(m["weight"]) for m in matters]
    streets = [s["street_code"] for s in geo().streets]
    street_weights = [float(s["grid_count"]) for s in geo().streets]
    midnight = datetime(day.year, day.month, day.day)

    n = max(1, round(DAILY_ORDERS * config.scale * DAY_FACTOR[day_kind(day)] * rng.gauss(1, 0.05)))
    # (seconds after midnight, forced matter, forced streets, incident)
    plans: list[tuple[float, str | None, tuple[str, ...] | None, str | None]] = []
    for _ in range(n):
        hour = rng.choices(range(24), INTAKE_BY_HOUR)[0]
        plans.append((hour * 3600 + rng.uniform(0, 3600), None, None, None))
    in_window = config.start <= day <= config.end
    if in_window and day == plan.rain_day:
        # The storm: flooding and blocked drains reported from the four northern streets.
        for _ in range(max(5, round(STORM_ORDERS * config.scale))):
            seconds = (incidents.RAIN_START_HOUR + 1) * 3600 + rng.expovariate(1 / 5400)
            matter = "030102" if rng.random() < 0.6 else "030103"
            plans.append((min(seconds, 86399), matter, STORM_STREETS, incidents.RAINSTORM))
    if in_window and plan.is_heat(day):
        for matter, base in (("060102", POWER_ORDERS), ("100101", HEATSTROKE_ORDERS)):
            for _ in range(max(2, round(base * config.scale))):
                seconds = rng.uniform(11, 23) * 3600
                plans.append((seconds, matter, None, incidents.HEAT_WAVE))
    if in_window and day == plan.outage_day:
        # A cable fault: one street's residents call about the power cut.
        for _ in range(max(6, round(incidents.OUTAGE_ORDERS * config.scale))):
            seconds = rng.uniform(*incidents.OUTAGE_HOURS) * 3600
            plans.append((seconds, "060102", (plan.outage_street,), incidents.OUTAGE))
    if in_window and day == plan.topic_day:
        # A chain's bad batch: food-safety complaints from all over the district.
        for _ in range(max(6, round(incidents.TOPIC_ORDERS * config.scale))):
            seconds = rng.uniform(*incidents.TOPIC_HOURS) * 3600
            plans.append((seconds, incidents.TOPIC_MATTER, None, incidents.TOPIC_SPIKE))
    plans.sort(key=lambda p: p[0])

    orders: list[Order] = []
    for seq, (seconds, forced, forced_streets, incident) in enumerate(plans, start=1):
        accepted = midnight + timedelta(seconds=int(seconds))
        key = f"JA{day:%Y%m%d}{seq:06d}"
        channel = "电话" if incident else _choice(rng, CHANNELS)
        request = "求助" if incident else _choice(rng, REQUEST_TYPES)
        matter = by_code[forced] if forced else rng.choices(matters, weights)[0]
        if forced_streets:
            street = rng.choice(forced_streets)
        else:
            street = rng.choices(streets, street_weights)[0]
        address = _address(rng, street, matter["matter_code"])
        name, phone = _caller(rng)
        merge_into = None
        repeated = False
        if history is not None and incident is None:
            draw = rng.random()
            if draw < MERGE_SHARE:
                merge_into = history.open_master(rng, accepted)
                if merge_into is not None:
                    matter, street, address = (
                        merge_into.matter,
                        merge_into.street,
                        merge_into.address,
                    )
            elif draw < MERGE_SHARE + REPEAT_SHARE:
                earlier = history.repeat_source(rng, accepted)
                if earlier is not None:
                    name, phone = earlier.caller_name, earlier.caller_phone
                    street, address = earlier.street, earlier.address
                    closed = earlier.open_until is None or earlier.open_until < accepted
                    if closed and rng.random() < 0.6:
                        matter, repeated = earlier.matter, True
        content = _content(rng, channel, request, matter, address)
        if repeated:
            content = content.replace("：", "：此前已反映过，问题仍未解决。", 1)
        entity = Entity(key=key, incident=incident)
        entity.add(
            accepted,
            order_id=key,
            accepted_at=accepted,
            channel=channel,
            request_type=request,
            matter_code=matter["matter_code"],
            matter_name=f"{matter['category']}/{matter['subcategory']}",
            content=content,
            caller_name=name,
            caller_phone=phone,
            address=address,
            street_name=geo().street_by_code[street]["street_name"],
            status="已受理",
            return_count=0,
        )
        order = Order(entity, accepted, name, phone, address, street, matter, None)
        _lifecycle(rng, order, request, merge_into)
        orders.append(order)
        if history is not None:
            history.add(order)
        counters[incident or "regular"] = counters.get(incident or "regular", 0) + 1
    return orders


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return str(fmt_ts(value))
    return str(value)


def _fields(record: Record) -> list[str]:
    return [_cell(record.get(f.name)) for f in CONTRACT.fields]


def _perturb(record: Record, rng: random.Random) -> Record | None:
    """The first export typed the address without its 室: the 补传 carries the full one."""
    address = str(record["address"])
    coarse = people.coarse_address(address)
    return None if coarse == address else {**record, "address": coarse}


FORMAT = FeedFormat(
    table=CONTRACT.table,
    source=SOURCE,
    encoding=CONTRACT.encoding,
    header=csv_line(headers(CONTRACT)),
    main_name=lambda day: f"12345工单_{day:%Y%m%d}.csv",
    resend_name=lambda day: f"12345工单_{day:%Y%m%d}_补传.csv",
    serialize=lambda record: csv_line(_fields(record)),
    malformed=lambda record, rng: csv_line(malformed_csv(_fields(record), rng)),
    unknown_code=lambda record: {**record, "matter_code": "999999"},
    perturb=_perturb,
)


def generate_hotline(config: Config, encoding_day: date | None) -> dict[str, object]:
    """Simulate every order of the window and write the daily change feed."""
    history = _History()
    counters: dict[str, int] = {}
    entities: list[Entity] = []
    for day in config.window:
        entities.extend(o.entity for o in _day_orders(config, day, history, counters))
    eve = [o.entity for o in _day_orders(config, config.start - timedelta(days=1), None, {})]
    result = write_feed(config, FORMAT, entities, eve, encoding_day, None)
    plan = incidents.plan(config)
    result["details"] = {
        incidents.RAINSTORM: {
            "hotline_surge_orders": counters.get(incidents.RAINSTORM, 0),
            "hotline_matters": ["030102", "030103"],
        },
        incidents.HEAT_WAVE: {
            "hotline_extra_orders": counters.get(incidents.HEAT_WAVE, 0),
            "hotline_matters": ["060102", "100101"],
            "days": [d.isoformat() for d in plan.heat_days],
        },
        incidents.OUTAGE: {
            "hotline_extra_orders": counters.get(incidents.OUTAGE, 0),
            "hotline_matters": ["060102"],
        },
        incidents.TOPIC_SPIKE: {
            "hotline_extra_orders": counters.get(incidents.TOPIC_SPIKE, 0),
            "hotline_matters": [incidents.TOPIC_MATTER],
        },
    }
    return result
