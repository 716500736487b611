"""Grid-management cases (网格化管理 / 数字城管案件).

Delivered as a daily JSON Lines dump of the grid platform's case API: every case found or
changed that day in its current state, with the 发现→立案→派遣→处置→核查→结案 timestamps
(docs/domain.md#43-grid-case-lifecycle). Classification follows 部件/事件 大类/小类 codes.
"""

from ingestion import reference
from ingestion.contract import DAY_FEED, OUT_OF_RANGE, UNKNOWN_CODE, Contract, Field, Rule

CASE_ID_PATTERN = r"WG\d{14}"  # WG + YYYYMMDD + 6-digit sequence (assumption: demo format)
STATUSES = ("已发现", "已立案", "已派遣", "处置中", "已处置", "已核查", "已结案", "已注销")
DISCOVERY_METHODS = ("巡查", "视频AI", "物联感知", "市民随手拍", "12345转办")
CLASSIFICATIONS = tuple(
    f"{row['case_type']}-{row['subcategory_code']}" for row in reference.load("grid_categories")
)

CONTRACT = Contract(
    source="grid",
    table="grid_cases",
    title="网格化管理案件",
    format="jsonl",
    file_glob="cases_*.jsonl",
    key=("case_id",),
    delivery=DAY_FEED,
    version_by="updated_at",
    event_time="updated_at",
    code_sets=(("classification", CLASSIFICATIONS),),
    fields=(
        Field("case_id", "caseId", nullable=False, pattern=CASE_ID_PATTERN, description="案件编号"),
        Field(
            "grid_code",
            "gridCode",
            nullable=False,
            allowed=reference.grid_codes(),
            description="所属网格编码",
        ),
        Field(
            "street_code",
            "streetCode",
            nullable=False,
            allowed=reference.street_codes(),
            description="所属街镇代码",
        ),
        Field(
            "case_type",
            "caseType",
            nullable=False,
            allowed=("部件", "事件"),
            description="案件类型（部件/事件）",
        ),
        Field(
            "category_code",
            "categoryCode",
            nullable=False,
            pattern=r"\d{2}",
            description="大类代码",
        ),
        Field("category_name", "categoryName", description="大类名称"),
        Field(
            "subcategory_code",
            "subcategoryCode",
            nullable=False,
            pattern=r"\d{4}",
            description="小类代码",
        ),
        Field("subcategory_name", "subcategoryName", description="小类名称"),
        Field(
            "discovery_method",
            "discoverySource",
            nullable=False,
            allowed=DISCOVERY_METHODS,
            description="发现方式",
        ),
        Field("description", "description", description="案件描述"),
        Field("address", "address", pii=True, description="案件地址"),
        Field(
            "longitude", "lng", "float", minimum=121.38, maximum=121.52, description="经度（WGS84）"
        ),
        Field(
            "latitude", "lat", "float", minimum=31.19, maximum=31.34, description="纬度（WGS84）"
        ),
        Field("discovered_at", "discoveredAt", "timestamp", nullable=False, description="发现时间"),
        Field("registered_at", "registeredAt", "timestamp", description="立案时间"),
        Field("dispatched_at", "dispatchedAt", "timestamp", description="派遣时间"),
        Field("disposed_at", "disposedAt", "timestamp", description="处置完成时间"),
        Field("verified_at", "verifiedAt", "timestamp", description="核查时间"),
        Field("closed_at", "closedAt", "timestamp", description="结案时间"),
        Field("deadline_at", "deadlineAt", "timestamp", description="处置时限"),
        Field("status", "status", nullable=False, allowed=STATUSES, description="案件状态"),
        Field("is_cancelled", "cancelled", "bool", description="核实后注销"),
        Field("rework_count", "reworkCount", "int", minimum=0, maximum=10, description="返工次数"),
        Field("department_code", "departmentCode", description="处置责任部门代码"),
        Field("reporter_id", "reporterId", description="网格监督员编号"),
        Field(
            "updated_at",
            "updatedAt",
            "timestamp",
            nullable=False,
            description="案件最近一次变更时间",
        ),
    ),
    rules=(
        Rule(
            UNKNOWN_CODE,
            "case_type || '-' || subcategory_code not in (select value from _code_sets where set_name = 'classification')",
            "部件/事件小类代码不在分类表中",
        ),
        Rule(OUT_OF_RANGE, "registered_at < discovered_at", "立案时间早于发现时间"),
        Rule(OUT_OF_RANGE, "closed_at < discovered_at", "结案时间早于发现时间"),
    ),
)
