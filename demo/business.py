"""经济运行: the enterprise registry XLSX, business-district footfall and wet-market prices.

企业登记: the first delivery holds the full registry of the district, later ones the day's new
registrations and changes (市场监管 exports). 统一社会信用代码 follow GB 32100-2015: 登记管理部门
代码 9 (市场监管) + 机构类别 (1 企业, 2 个体工商户) + 310106 + a 9-character GB 11714 code
+ the check character computed with python-stdnum.
"""

from __future__ import annotations

import io
import itertools
import random
import re
import zipfile
from datetime import date, datetime, timedelta

import numpy as np
from openpyxl import Workbook
from stdnum.cn import uscc

from demo import incidents, people
from demo.common import (
    Config,
    csv_line,
    csv_text,
    fault_entry,
    headers,
    np_rng,
    py_rng,
    rel,
    write_delivery,
)
from demo.faults import (
    USCC_ALPHABET,
    fault_count,
    malformed_csv,
    wrong_check_character,
)
from demo.landing_times import OFFICE_OPENS, next_day
from demo.weather import NORTH_STATION, day_weather
from demo.workdays import is_workday
from demo.world import geo
from ingestion import reference
from ingestion.business.contract import (
    DISTRICT_FLOWS,
    ENTERPRISES,
    LICENCES,
    MARKET_PRICES,
)
from ingestion.contract import INVALID_FORMAT, MALFORMED_RECORD, OUT_OF_RANGE, UNKNOWN_CODE

SOURCE = "business"
REGISTRY_SIZE, LICENCE_COUNT = 3000, 1500  # at scale 1.0
AUTHORITY = "上海市静安区市场监督管理局"
# 股份公司 and foreign-invested firms register with the city.
CITY_AUTHORITY = "上海市市场监督管理局"
# fmt: off
ENTERPRISE_TYPES = {"有限责任公司": 0.62, "个体工商户": 0.18, "外商投资企业": 0.06,
                    "个人独资企业": 0.05, "合伙企业": 0.05, "股份有限公司": 0.04}
# Jing'an is a services economy: leasing/business services, trade, IT and science lead.
SECTIONS = {"L": 0.22, "F": 0.20, "I": 0.12, "M": 0.12, "H": 0.08, "K": 0.06, "J": 0.05,
            "R": 0.04, "E": 0.03, "C": 0.02, "G": 0.02, "O": 0.02, "P": 0.015, "Q": 0.01,
            "N": 0.01, "D": 0.005, "S": 0.005}
TRADE_WORDS = {"L": "商务咨询", "F": "贸易", "I": "信息科技", "M": "科技发展",
               "H": "餐饮管理", "K": "置业", "J": "投资管理", "R": "文化传播",
               "E": "建筑工程", "C": "实业", "G": "物流", "O": "家政服务", "P": "教育科技",
               "Q": "健康管理", "N": "环境科技", "D": "能源科技", "S": "社会服务"}
SHOP_WORDS = {"F": ("便利店", "水果店", "五金店", "服装店", "烟杂店"),
              "H": ("小吃店", "面馆", "饮品店"),
              "O": ("理发店", "洗衣店", "家电维修部")}
BRAND_WORDS = ("鸿泰", "锦程", "华信", "恒通", "嘉禾", "瑞丰", "盛达", "汇金", "聚贤", "博雅",
               "德润", "金桥", "凯旋", "隆昌", "明辉", "新源", "永乐", "正元", "志诚", "中瑞",
               "安泰", "宝丰", "诚信", "大洋", "东方", "丰华", "光明", "海纳", "浩然", "弘毅",
               "佳禾", "建业", "静远", "乐活", "立信", "龙腾", "美嘉", "南华", "启航", "千禧",
               "群英", "荣盛", "尚品", "天元", "万象", "文华", "祥和", "星辰", "耀华", "怡和")
STATUSES = {"存续": 0.62, "在业": 0.20, "迁入": 0.05, "注销": 0.06, "迁出": 0.04, "吊销": 0.03}
LICENCE_TYPES = {"食品经营许可证": 0.55, "公共场所卫生许可证": 0.20,
                 "酒类商品零售许可证": 0.12, "药品经营许可证": 0.08, "特种行业许可证": 0.05}
# Validity in years (食品经营许可证 5 years; the others are assumptions); None: no expiry.
LICENCE_YEARS = {"食品经营许可证": 5, "公共场所卫生许可证": 4, "酒类商品零售许可证": 3,
                 "药品经营许可证": 5, "特种行业许可证": None}
LICENCE_AUTHORITY = {"公共场所卫生许可证": "上海市静安区卫生健康委员会",
                     "特种行业许可证": "上海市公安局静安分局"}
# Footfall share of the base hour, by hour: lunch and evening peaks, shops open 10–22.
FOOTFALL_SHAPE = np.array([0.05, 0.03, 0.02, 0.02, 0.02, 0.04, 0.10, 0.25, 0.40, 0.55, 0.70, 0.90,
                           1.20, 1.10, 0.85, 0.80, 0.85, 1.00, 1.25, 1.35, 1.20, 0.90, 0.50, 0.22])
# fmt: on
FIXED_XLSX_TIME = (1980, 1, 1, 0, 0, 0)
LEAFY = ("C01", "C02", "C04", "C05", "C06", "C07")  # vegetables whose price jumps after weather
UNKNOWN_COMMODITY = "C99"


def _org_code(rng: random.Random) -> str:
    """A 9-character GB 11714 organisation code with its own MOD 11 check character."""
    if rng.random() < 0.6:  # post-2015 codes issued with the USCC start with MA
        body = "MA1" + "".join(rng.choice(USCC_ALPHABET[:-1]) for _ in range(5))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in body]
    check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def new_uscc(rng: random.Random, individual: bool) -> str:
    """A 统一社会信用代码 registered in Jing'an, with a valid GB 32100 check character."""
    body = ("92" if individual else "91") + "310106" + _org_code(rng)
    return body + uscc.calc_check_digit(body)


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _enterprise(rng: random.Random, start: date, founded: date | None) -> dict[str, object]:
    kind = _pick(rng, ENTERPRISE_TYPES)
    # 个体工商户 are shops, eateries and household services (批发零售, 住宿餐饮, 居民服务).
    section = rng.choice("FFHHO") if kind == "个体工商户" else _pick(rng, SECTIONS)
    brand = rng.choice(BRAND_WORDS)
    trade = TRADE_WORDS[section]
    name = {
        "有限责任公司": f"上海{brand}{trade}有限公司",
        "股份有限公司": f"上海{brand}{trade}股份有限公司",
        "外商投资企业": f"{brand}{trade}（上海）有限公司",
        "个人独资企业": f"上海{brand}{trade}中心",
        "合伙企业": f"上海{brand}{trade}合伙企业（有限合伙）",
        "个体工商户": f"静安区{brand}{rng.choice(SHOP_WORDS.get(section, ('商行',)))}",
    }[kind]
    median = {"股份有限公司": 5000, "外商投资企业": 2000, "合伙企业": 500}.get(kind, 100)
    capital = (
        None
        if kind == "个体工商户"
        else round(min(rng.lognormvariate(0, 1.1) * median, 9_000_000), 2)
    )
    if founded is None:
        # More firms are young than old: a triangular draw skewed towards recent years.
        span = (start - date(1993, 1, 1)).days
        founded = date(1993, 1, 1) + timedelta(days=int(rng.triangular(0, span - 1, span - 1)))
    street = rng.choice(geo().streets)["street_code"]
    road = rng.choice(geo().roads_by_street[street])
    city = kind in ("股份有限公司", "外商投资企业")
    return {
        "uscc": new_uscc(rng, kind == "个体工商户"),
        "enterprise_name": name,
        "enterprise_type": kind,
        "industry_section": section,
        "registered_capital_10k_yuan": capital,
        "established_date": founded,
        "registration_status": "存续",
        "address": f"上海市静安区{people.house_address(rng, road, room=rng.random() < 0.5)}",
        "street_name": geo().street_by_code[street]["street_name"],
        "legal_representative": people.full_name(rng),
        "registration_authority": CITY_AUTHORITY if city else AUTHORITY,
        "approved_date": founded,
    }


def _licence(rng: random.Random, holder: dict[str, object], issued: date, seq: int) -> dict:
    kind = _pick(rng, LICENCE_TYPES)
    number = {
        "食品经营许可证": f"JY{rng.choice('123')}310106{seq:06d}{rng.randrange(10)}",
        "公共场所卫生许可证": f"沪静卫公字[{issued.year}]第{seq:06d}号",
        "酒类商品零售许可证": f"沪酒零静{issued.year}{seq:05d}",
        "药品经营许可证": f"沪CB{seq:07d}",
        "特种行业许可证": f"沪公特静字{issued.year}第{seq:05d}号",
    }[kind]
    years = LICENCE_YEARS[kind]
    valid_until = None
    if years is not None:
        valid_until = date(issued.year + years, issued.month, min(issued.day, 28)) - timedelta(
            days=1
        )
    return {
        "licence_number": number,
        "uscc": holder["uscc"],
        "licence_type": kind,
        "issued_date": issued,
        "valid_until": valid_until,
        "issuing_authority": LICENCE_AUTHORITY.get(kind, AUTHORITY),
    }


def _xlsx(sheets: list[tuple[str, list[str], list[list[object]]]], stamp: datetime) -> bytes:
    """An XLSX whose bytes depend only on its content.

    openpyxl stamps ``modified`` with now() and zip entries with the wall clock, so the core
    properties are rewritten and every entry gets a fixed 1980-01-01 timestamp.
    """
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(cell.value, str) and re.fullmatch(r"9[12]310106\w{10}", cell.value):
                    cell.number_format = "@"  # 统一社会信用代码 as text
    workbook.properties.creator = "cityops generator"
    workbook.properties.created = stamp
    raw = io.BytesIO()
    workbook.save(raw)
    fixed = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + fixed.encode(), data
                )
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_XLSX_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, data)
    return out.getvalue()


def _registry_rows(records: list[dict[str, object]], contract) -> list[list[object]]:
    return [[r.get(f.name) for f in contract.fields] for r in records]


def _registry_day(
    config: Config,
    day: date,
    first: bool,
    state: dict[str, dict[str, object]],
    broken: set[str],
    counter: list[int],
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The enterprises and licences delivered on ``day`` (state carries the registry on)."""
    rng = py_rng(config.seed, SOURCE, "registry", day)
    if first:
        firms = [_enterprise(rng, day, None) for _ in range(config.scaled(REGISTRY_SIZE))]
        for firm in firms:
            firm["registration_status"] = _pick(rng, STATUSES)
            founded = firm["established_date"]
            assert isinstance(founded, date)
            if rng.random() < 0.35:  # changed since founding (地址/资本/法定代表人 …)
                firm["approved_date"] = founded + timedelta(
                    days=rng.randrange(max(1, (day - founded).days))
                )
        changed = firms
        licence_count = config.scaled(LICENCE_COUNT)
        earliest = day - timedelta(days=365 * 5)
    else:
        workday = is_workday(day)
        n = (
            round(rng.randint(10, 20) * config.scale)
            if workday
            else round(rng.randint(0, 3) * config.scale)
        )
        n = max(1, n)
        changed = []
        active = [
            u
            for u, f in state.items()
            if f["registration_status"] in ("存续", "在业", "迁入") and u not in broken
        ]
        for _ in range(n):
            if rng.random() < 0.7 or not active:
                firm = _enterprise(rng, day, day)
            else:
                firm = dict(state[rng.choice(active)])
                change = rng.choices(
                    ("注销", "迁出", "地址", "增资", "法定代表人"), (0.25, 0.10, 0.25, 0.25, 0.15)
                )[0]
                if change in ("注销", "迁出"):
                    firm["registration_status"] = change
                elif change == "地址":
                    street = rng.choice(geo().streets)["street_code"]
                    road = rng.choice(geo().roads_by_street[street])
                    firm["address"] = f"上海市静安区{people.house_address(rng, road)}"
                    firm["street_name"] = geo().street_by_code[street]["street_name"]
                elif change == "增资" and firm["registered_capital_10k_yuan"] is not None:
                    firm["registered_capital_10k_yuan"] = round(
                        float(firm["registered_capital_10k_yuan"]) * rng.uniform(1.2, 3), 2
                    )
                else:
                    firm["legal_representative"] = people.full_name(rng)
                firm["approved_date"] = day
            changed.append(firm)
        licence_count = round(rng.randint(3, 8) * config.scale) if workday else 0
        earliest = day
    changed.sort(key=lambda f: (f["approved_date"], f["uscc"]))
    for firm in changed:
        state[str(firm["uscc"])] = firm
    holders = [
        f
        for u, f in state.items()
        if f["registration_status"] in ("存续", "在业", "迁入") and u not in broken
    ]
    licences = []
    for _ in range(licence_count if holders else 0):
        holder = rng.choice(holders)
        founded = holder["established_date"]
        assert isinstance(founded, date)
        low = max(founded, earliest)
        issued = low + timedelta(days=rng.randrange(max(1, (day - low).days + (0 if first else 1))))
        counter[0] += 1
        licences.append(_licence(rng, holder, issued, counter[0]))
    licences.sort(key=lambda x: (x["issued_date"], x["licence_number"]))
    return changed, licences


def _flows(config: Config, day: date) -> tuple[list[list[object]], dict[str, int]]:
    """Hourly footfall, sales and transactions of the four business districts."""
    rng = np_rng(config.seed, SOURCE, "flows", day)
    plan = incidents.plan(config)
    weather = day_weather(config, day)
    leisure = not is_workday(day)
    festival = day == plan.festival_day
    rows, evening = [], {}
    for district in reference.load("business_districts"):
        code = district["district_code"]
        base = float(district["base_hourly_footfall"])
        spend = float(district["base_hourly_sales_yuan"]) / base
        shape = FOOTFALL_SHAPE.copy()
        if leisure:  # weekends: later start, busier afternoons (no commuter lunch crowd)
            shape = shape * np.where(np.arange(24) >= 11, 1.35, 0.8)
        north = district["street_code"] in ("310106019000",)
        rain = weather.precipitation[NORTH_STATION if north else 1 - NORTH_STATION]
        shape = shape * np.where(rain > 2, 0.75, 1.0) * np.where(rain > 30, 0.55, 1.0)
        if plan.is_heat(day):
            shape = shape * np.where((np.arange(24) >= 12) & (np.arange(24) < 17), 0.9, 1.0)
        footfall = base * shape * rng.lognormal(0, 0.05, 24)
        sales = footfall * spend * (0.9 + 0.2 * (np.arange(24) >= 17)) * rng.lognormal(0, 0.06, 24)
        if festival and code in incidents.FESTIVAL_DISTRICTS:
            hours = np.isin(np.arange(24), list(incidents.FESTIVAL_HOURS))
            footfall = footfall * np.where(hours, incidents.FESTIVAL_FOOTFALL, 1.0)
            sales = sales * np.where(hours, incidents.FESTIVAL_SALES, 1.0)
            evening[code] = int(np.round(footfall[hours]).sum())
        transactions = footfall * rng.uniform(0.16, 0.24, 24)
        for h in range(24):
            rows.append(
                [
                    code,
                    district["district_name"],
                    f"{day.isoformat()} {h:02d}:00:00",
                    round(float(footfall[h])),
                    f"{sales[h]:.2f}",
                    round(float(transactions[h])),
                ]
            )
    return rows, evening


def _prices(config: Config, day: date) -> list[list[object]]:
    """Daily retail prices at every wet market for every commodity."""
    rng = np_rng(config.seed, SOURCE, "prices", day)
    phase = np_rng(config.seed, SOURCE, "price_phase").uniform(0, 2 * np.pi, 100)
    market_factor = np_rng(config.seed, SOURCE, "market_factor").uniform(0.92, 1.12, 100)
    plan = incidents.plan(config)
    shock = plan.is_heat(day) or 0 <= (day - plan.rain_day).days <= 2
    rows = []
    for m, market in enumerate(reference.load("wet_markets")):
        for c, item in enumerate(reference.load("commodities")):
            code = item["commodity_code"]
            drift = 1 + 0.04 * np.sin(2 * np.pi * day.toordinal() / 45 + phase[c])
            season = 1.0
            if code == "C19":  # watermelon is cheap in high summer
                season = _watermelon_season(day)
            elif code in LEAFY and day.month in (7, 8):
                season = 1.12
            price = float(item["base_price_yuan"]) * market_factor[m] * drift * season
            price *= rng.lognormal(0, 0.02) * (1.2 if shock and code in LEAFY else 1.0)
            if _is_price_spike(plan, day, market["market_code"], code):
                price *= incidents.PRICE_FACTOR
            rows.append(
                [
                    market["market_code"],
                    market["market_name"],
                    code,
                    item["commodity_name"],
                    item["unit"],
                    f"{round(price, 1):.2f}",
                    day.isoformat(),
                ]
            )
    return rows


def _watermelon_season(day: date) -> float:
    """Watermelon's price factor: 0.75 in July and August, 1.4 from mid-October to April.

    It glides between them (May–June down, September to mid-October up), as a market's
    price does, so the seasonal change never looks like a price spike.
    """
    cheap, dear = 0.75, 1.4
    points = [
        (date(day.year, 5, 1), dear),
        (date(day.year, 7, 1), cheap),
        (date(day.year, 9, 1), cheap),
        (date(day.year, 10, 15), dear),
    ]
    if day < points[0][0] or day >= points[-1][0]:
        return dear
    for (start, low), (end, high) in itertools.pairwise(points):
        if start <= day < end:
            return low + (high - low) * (day - start).days / (end - start).days
    return dear


def _is_price_spike(plan: incidents.Plan, day: date, market: str, commodity: str) -> bool:
    """The planted price spike: one commodity at one market for a few days."""
    return (
        day in plan.price_days
        and market == plan.price_market
        and commodity == incidents.PRICE_COMMODITY
    )


def generate_business(config: Config) -> dict[str, object]:
    """Write every business file of the window; return files, faults and details."""
    files: list[dict[str, object]] = []
    faults: list[dict[str, object]] = []
    records = {t.table: 0 for t in (ENTERPRISES, LICENCES, DISTRICT_FLOWS, MARKET_PRICES)}
    details: dict[str, dict[str, object]] = {}
    state: dict[str, dict[str, object]] = {}
    broken: set[str] = set()
    counter = [0]
    rate = config.fault_rate
    for position, day in enumerate(config.window):
        stamp = f"{day:%Y%m%d}"
        rng = py_rng(config.seed, SOURCE, "faults", day)
        firms, licences = _registry_day(config, day, position == 0, state, broken, counter)
        # invalid_format: a wrong check character, never on a firm that holds a licence.
        licensed = {x["uscc"] for x in licences}
        candidates = [i for i, f in enumerate(firms) if f["uscc"] not in licensed]
        k = min(fault_count(rate, len(firms)), len(candidates))
        bad = set(rng.sample(candidates, k))
        rows = _registry_rows(firms, ENTERPRISES)
        key = [f.name for f in ENTERPRISES.fields].index("uscc")
        for i in sorted(bad):
            broken.add(str(rows[i][key]))
            rows[i][key] = wrong_check_character(str(rows[i][key]))
        name = f"企业登记_{stamp}.xlsx"
        data = _xlsx(
            [
                (ENTERPRISES.sheet, headers(ENTERPRISES), rows),
                (LICENCES.sheet, headers(LICENCES), _registry_rows(licences, LICENCES)),
            ],
            datetime(day.year, day.month, day.day),
        )
        files.append(
            write_delivery(
                config,
                SOURCE,
                day,
                name,
                data,
                len(rows) + len(licences),
                landed_at=next_day(day, OFFICE_OPENS),
            )
        )
        records[ENTERPRISES.table] += len(rows)
        records[LICENCES.table] += len(licences)
        if k:
            faults.append(
                fault_entry(ENTERPRISES.table, day, INVALID_FORMAT, k, rel(SOURCE, day, name))
            )

        # 商圈客流: out_of_range footfall (-3) outside the festival rows.
        flows, evening = _flows(config, day)
        if evening:
            details[incidents.FESTIVAL] = {
                "districts": list(incidents.FESTIVAL_DISTRICTS),
                "footfall_factor": incidents.FESTIVAL_FOOTFALL,
                "sales_factor": incidents.FESTIVAL_SALES,
                "evening_footfall": evening,
            }
        name = f"商圈客流_{stamp}.csv"
        festival = [
            i
            for i, r in enumerate(flows)
            if evening
            and r[0] in incidents.FESTIVAL_DISTRICTS
            and int(str(r[2])[11:13]) in incidents.FESTIVAL_HOURS
        ]
        candidates = [i for i in range(len(flows)) if i not in festival]
        k = min(fault_count(rate, len(flows)), len(candidates))
        for i in rng.sample(candidates, k):
            flows[i][3] = -3
        data = csv_text(headers(DISTRICT_FLOWS), flows).encode("utf-8")
        files.append(
            write_delivery(
                config, SOURCE, day, name, data, len(flows), landed_at=next_day(day, OFFICE_OPENS)
            )
        )
        records[DISTRICT_FLOWS.table] += len(flows)
        if k:
            faults.append(
                fault_entry(DISTRICT_FLOWS.table, day, OUT_OF_RANGE, k, rel(SOURCE, day, name))
            )

        # 菜价: malformed lines, a price of 0 and an unknown 品种编码, on distinct rows.
        prices = _prices(config, day)
        name = f"菜价_{stamp}.csv"
        k = fault_count(rate, len(prices))
        plan = incidents.plan(config)
        # The planted spike's row is never faulted: the backtest expects it.
        eligible = [i for i, r in enumerate(prices) if not _is_price_spike(plan, day, r[0], r[2])]
        picks = rng.sample(eligible, min(3 * k, len(eligible)))
        malformed, zero, unknown = picks[:k], picks[k : 2 * k], picks[2 * k : 3 * k]
        for i in zero:
            prices[i][5] = "0.00"
        for i in unknown:
            prices[i][2] = UNKNOWN_COMMODITY
        lines = [csv_line(headers(MARKET_PRICES))]
        for i, row in enumerate(prices):
            cells = [str(v) for v in row]
            lines.append(csv_line(malformed_csv(cells, rng) if i in malformed else cells))
        data = ("\n".join(lines) + "\n").encode("utf-8")
        files.append(
            write_delivery(
                config, SOURCE, day, name, data, len(prices), landed_at=next_day(day, OFFICE_OPENS)
            )
        )
        records[MARKET_PRICES.table] += len(prices)
        path = rel(SOURCE, day, name)
        for kind, rows_ in (
            (MALFORMED_RECORD, malformed),
            (OUT_OF_RANGE, zero),
            (UNKNOWN_CODE, unknown),
        ):
            if rows_:
                faults.append(fault_entry(MARKET_PRICES.table, day, kind, len(rows_), path))
    return {"files": files, "faults": faults, "details": details, "records": records}
