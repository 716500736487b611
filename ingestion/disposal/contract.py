"""数字吹哨处置反馈: the dispatch system's feedback on the 吹哨 orders the platform sent it.

The platform writes every order it opens to the dispatch outbox (``vitals/dispatch.py``); the
district's disposal system (the 城运 dispatch platform the units work in) reports each step
of an order back as an event: 签收 (a unit received it), 处置中, 反馈 (the unit reports it
handled, with a note), 退单 (returned, with a reason; the system re-dispatches it), 核查通过 /
核查不通过 (the 城运中心's verification). Delivered as a daily export of the day's events, one
UTF-8 CSV ``feedback_YYYYMMDD.csv``; a day without events sends no file (``quiet_days``). A
re-sent day replaces the day. The format is this project's (assumption: the real system's
export was not available); the demo's disposal system is ``demo/disposal.py``.
"""

from ingestion import reference
from ingestion.contract import DAY_FEED, Contract, Field

# The 吹哨 order numbers fct_whistle_orders gives: CS + opening hour + a hash of the warning.
WHISTLE_ORDER_ID_PATTERN = r"CS\d{10}-[0-9a-f]{8}"
RECEIVED, HANDLING, HANDLED, RETURNED = "签收", "处置中", "反馈", "退单"
VERIFIED, VERIFICATION_FAILED = "核查通过", "核查不通过"
EVENT_TYPES = (RECEIVED, HANDLING, HANDLED, RETURNED, VERIFIED, VERIFICATION_FAILED)
# A handling unit: a district department (D01 …) or a street office (S + 街镇代码).
UNIT_CODES = (
    *reference.column("departments", "department_code"),
    *(f"S{code}" for code in reference.street_codes()),
)

CONTRACT = Contract(
    source="disposal",
    table="whistle_feedback",
    title="数字吹哨处置反馈",
    format="csv",
    file_glob="feedback_*.csv",
    key=("feedback_id",),
    delivery=DAY_FEED,
    event_time="event_at",
    quiet_days=True,
    description="处置系统按日回传的吹哨工单处置事件：签收、处置中、反馈、退单、核查通过/不通过。",
    fields=(
        Field("feedback_id", "事件编号", nullable=False, description="处置事件编号"),
        Field(
            "whistle_order_id",
            "吹哨工单编号",
            nullable=False,
            pattern=WHISTLE_ORDER_ID_PATTERN,
            description="吹哨工单编号（平台派发时的编号）",
        ),
        Field(
            "event_type",
            "事件类型",
            nullable=False,
            allowed=EVENT_TYPES,
            description="事件类型：签收、处置中、反馈、退单、核查通过、核查不通过",
        ),
        Field(
            "event_at",
            "发生时间",
            "timestamp",
            nullable=False,
            description="事件发生时间（北京时间）",
        ),
        Field(
            "unit_code",
            "处置单位编码",
            allowed=UNIT_CODES,
            description="处置单位编码（区级部门 D.. 或街镇 S+街镇代码）；核查事件为核查单位",
        ),
        Field("unit_name", "处置单位", description="处置单位名称"),
        Field("note", "处置说明", description="处置说明或核查意见"),
        Field("return_reason", "退单原因", description="退单原因（仅退单事件）"),
    ),
)
