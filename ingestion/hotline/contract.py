"""12345 citizen-hotline work orders (12345 热线工单).

Delivered as a daily change feed: one GB18030 CSV with Chinese headers holding every order
accepted or changed that day, in its state at export time (docs/domain.md#42-12345-work-order-lifecycle).
A later file of the same day (``…_补传.csv``) re-sends corrected orders; the newest
``更新时间`` wins.
"""

from ingestion import reference
from ingestion.contract import DAY_FEED, OUT_OF_RANGE, Contract, Field, Rule

ORDER_ID_PATTERN = r"JA\d{14}"  # JA + YYYYMMDD + 6-digit sequence (assumption: demo format)
STATUSES = (
    "已受理",
    "直接答复",
    "已派单",
    "已签收",
    "已退单",
    "已改派",
    "已办结",
    "已回访",
    "已归档",
    "已并单",
)

CONTRACT = Contract(
    source="hotline",
    table="hotline_orders",
    title="12345热线工单",
    format="csv",
    encoding="gb18030",
    file_glob="12345工单_*.csv",
    key=("order_id",),
    delivery=DAY_FEED,
    version_by="updated_at",
    event_time="updated_at",
    fields=(
        Field(
            "order_id", "工单编号", nullable=False, pattern=ORDER_ID_PATTERN, description="工单编号"
        ),
        Field(
            "accepted_at",
            "受理时间",
            "timestamp",
            nullable=False,
            description="受理时间（北京时间）",
        ),
        Field(
            "channel",
            "渠道",
            nullable=False,
            allowed=("电话", "网站", "随申办", "微信", "短信"),
            description="受理渠道",
        ),
        Field(
            "request_type",
            "诉求类型",
            nullable=False,
            allowed=("咨询", "求助", "投诉", "举报", "建议", "表扬"),
            description="诉求类型",
        ),
        Field(
            "matter_code",
            "分类编码",
            nullable=False,
            allowed=reference.column("hotline_matters", "matter_code"),
            description="诉求分类编码",
        ),
        Field("matter_name", "诉求分类", description="诉求分类（大类/小类）"),
        Field(
            "content",
            "诉求内容",
            nullable=False,
            pii=True,
            description="诉求内容，自由文本，可能夹带电话和身份证号",
        ),
        Field("caller_name", "来电人", pii=True, description="来电人姓名或称呼"),
        Field("caller_phone", "来电号码", pii=True, description="来电号码"),
        Field("address", "地址", nullable=False, pii=True, description="诉求地址，含门牌号"),
        Field(
            "street_name",
            "所属街镇",
            nullable=False,
            allowed=reference.street_names(),
            description="所属街镇",
        ),
        Field(
            "status", "工单状态", nullable=False, allowed=STATUSES, description="导出时的工单状态"
        ),
        Field("dispatched_at", "派单时间", "timestamp", description="派单时间"),
        Field("handling_unit", "承办单位", description="承办单位（主办）"),
        Field("signed_at", "签收时间", "timestamp", description="承办单位签收时间"),
        Field(
            "first_contact_at", "先行联系时间", "timestamp", description="承办单位首次联系市民时间"
        ),
        Field("return_count", "退单次数", "int", minimum=0, maximum=10, description="退单次数"),
        Field("returned_at", "退单时间", "timestamp", description="最近一次退单时间"),
        Field("return_reason", "退单原因", description="退单原因"),
        Field("redispatched_at", "改派时间", "timestamp", description="最近一次改派时间"),
        Field("deadline_at", "办理时限", "timestamp", description="按派单目录计算的办结时限"),
        Field("replied_at", "办结时间", "timestamp", description="承办单位办结反馈时间"),
        Field("is_resolved", "是否解决", "bool", description="承办单位自报是否解决"),
        Field("callback_at", "回访时间", "timestamp", description="12345回访时间"),
        Field(
            "callback_result",
            "回访结果",
            allowed=("满意", "基本满意", "不满意"),
            description="回访满意度",
        ),
        Field("callback_resolved", "回访实际解决", "bool", description="回访确认的实际解决情况"),
        Field(
            "merged_into_order_id",
            "并单主工单",
            pattern=ORDER_ID_PATTERN,
            description="并单时的主工单编号",
        ),
        Field(
            "updated_at",
            "更新时间",
            "timestamp",
            nullable=False,
            description="工单最近一次变更时间",
        ),
    ),
    rules=(
        Rule(OUT_OF_RANGE, "dispatched_at < accepted_at", "派单时间早于受理时间"),
        Rule(OUT_OF_RANGE, "replied_at < accepted_at", "办结时间早于受理时间"),
        Rule(OUT_OF_RANGE, "updated_at < accepted_at", "更新时间早于受理时间"),
    ),
)
