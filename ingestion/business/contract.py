"""Business and enterprise data (经济运行): registry, licences, business districts, wet markets.

- 企业登记 and 许可证 arrive as one XLSX per day from the market-supervision system: the full
  registry on the first delivery, then the day's new registrations and changes.
- 商圈客流: hourly footfall and sales of the four business districts, CSV (UTF-8).
- 菜价: daily retail prices at the district's wet markets (菜场), CSV (UTF-8).
"""

from ingestion import reference
from ingestion.contract import DAY_FEED, Contract, Field

ENTERPRISE_TYPES = (
    "有限责任公司",
    "股份有限公司",
    "个人独资企业",
    "合伙企业",
    "外商投资企业",
    "个体工商户",
)
ENTERPRISE_STATUSES = ("存续", "在业", "迁入", "迁出", "注销", "吊销")
# GB/T 4754-2017 门类 letters A–T.
INDUSTRY_SECTIONS = tuple("ABCDEFGHIJKLMNOPQRST")
LICENCE_TYPES = (
    "食品经营许可证",
    "公共场所卫生许可证",
    "特种行业许可证",
    "酒类商品零售许可证",
    "药品经营许可证",
)

ENTERPRISES = Contract(
    source="business",
    table="enterprises",
    title="企业登记信息",
    format="xlsx",
    sheet="企业登记",
    file_glob="企业登记_*.xlsx",
    key=("uscc",),
    delivery=DAY_FEED,
    version_by="approved_date",
    event_time="approved_date",
    counts_late=False,
    max_lead_hours=24,
    fields=(
        Field(
            "uscc",
            "统一社会信用代码",
            nullable=False,
            check="uscc",
            description="统一社会信用代码（GB 32100）",
        ),
        Field("enterprise_name", "企业名称", nullable=False, description="企业名称"),
        Field(
            "enterprise_type",
            "企业类型",
            nullable=False,
            allowed=ENTERPRISE_TYPES,
            description="企业类型",
        ),
        Field(
            "industry_section",
            "行业门类",
            nullable=False,
            allowed=INDUSTRY_SECTIONS,
            description="国民经济行业门类（GB/T 4754）",
        ),
        Field(
            "registered_capital_10k_yuan",
            "注册资本(万元)",
            "float",
            minimum=0,
            maximum=10_000_000,
            description="注册资本（万元）",
        ),
        Field("established_date", "成立日期", "date", nullable=False, description="成立日期"),
        Field(
            "registration_status",
            "登记状态",
            nullable=False,
            allowed=ENTERPRISE_STATUSES,
            description="登记状态",
        ),
        Field("address", "注册地址", pii=True, description="注册地址"),
        Field(
            "street_name",
            "所属街镇",
            nullable=False,
            allowed=reference.street_names(),
            description="所属街镇",
        ),
        Field("legal_representative", "法定代表人", pii=True, description="法定代表人姓名"),
        Field("registration_authority", "登记机关", description="登记机关"),
        Field(
            "approved_date", "核准日期", "date", nullable=False, description="最近核准（变更）日期"
        ),
    ),
)

LICENCES = Contract(
    source="business",
    table="enterprise_licences",
    title="企业许可证信息",
    format="xlsx",
    sheet="许可证",
    file_glob="企业登记_*.xlsx",
    key=("licence_number",),
    delivery=DAY_FEED,
    event_time="issued_date",
    counts_late=False,
    max_lead_hours=24,
    fields=(
        Field("licence_number", "许可证编号", nullable=False, description="许可证编号"),
        Field(
            "uscc",
            "统一社会信用代码",
            nullable=False,
            check="uscc",
            description="持证企业统一社会信用代码",
        ),
        Field(
            "licence_type",
            "许可类型",
            nullable=False,
            allowed=LICENCE_TYPES,
            description="许可类型",
        ),
        Field("issued_date", "发证日期", "date", nullable=False, description="发证日期"),
        Field("valid_until", "有效期至", "date", description="有效期截止日期"),
        Field("issuing_authority", "发证机关", description="发证机关"),
    ),
)

DISTRICT_FLOWS = Contract(
    source="business",
    table="business_district_flows",
    title="商圈客流与销售",
    format="csv",
    file_glob="商圈客流_*.csv",
    key=("district_code", "hour_at"),
    delivery=DAY_FEED,
    event_time="hour_at",
    fields=(
        Field(
            "district_code",
            "商圈编码",
            nullable=False,
            allowed=reference.column("business_districts", "district_code"),
            description="商圈编码",
        ),
        Field("district_name", "商圈名称", description="商圈名称"),
        Field(
            "hour_at",
            "统计时段",
            "timestamp",
            nullable=False,
            description="统计时段起点（整点，北京时间）",
        ),
        Field(
            "footfall",
            "客流人次",
            "int",
            nullable=False,
            minimum=0,
            maximum=2_000_000,
            description="小时客流（人次）",
        ),
        Field(
            "sales_yuan",
            "销售额(元)",
            "float",
            minimum=0,
            maximum=1_000_000_000,
            description="小时销售额（元）",
        ),
        Field(
            "transactions",
            "交易笔数",
            "int",
            minimum=0,
            maximum=10_000_000,
            description="小时交易笔数",
        ),
    ),
)

MARKET_PRICES = Contract(
    source="business",
    table="market_prices",
    title="菜场零售价格",
    format="csv",
    file_glob="菜价_*.csv",
    key=("market_code", "commodity_code", "price_date"),
    delivery=DAY_FEED,
    event_time="price_date",
    max_lead_hours=24,
    fields=(
        Field(
            "market_code",
            "菜场编码",
            nullable=False,
            allowed=reference.column("wet_markets", "market_code"),
            description="菜场编码",
        ),
        Field("market_name", "菜场名称", description="菜场名称"),
        Field(
            "commodity_code",
            "品种编码",
            nullable=False,
            allowed=reference.column("commodities", "commodity_code"),
            description="品种编码",
        ),
        Field("commodity_name", "品种名称", description="品种名称"),
        Field("unit", "计价单位", description="计价单位"),
        Field(
            "price_yuan",
            "零售价(元)",
            "float",
            nullable=False,
            minimum=0.01,
            maximum=500,
            description="零售价（元）",
        ),
        Field("price_date", "采价日期", "date", nullable=False, description="采价日期"),
    ),
)
