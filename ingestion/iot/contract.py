"""IoT platform (城运物联感知平台): the device registry and batches of readings as they come in.

The registry is a daily full snapshot (CSV, UTF-8). Readings arrive as gzip CSV batches in
long form (device, metric, value, time), one every few minutes (``readings_YYYYMMDDHHMM``;
``readings_YYYYMMDDHH`` from a platform that batches hourly); each device alarm comes at once
in a file of its own (``readings_YYYYMMDDHHMMSS_alarm_<device>``), in the same format. An
hour's readings may be re-sent with corrected values (``readings_YYYYMMDDHH_r1``): the file
whose name sorts last wins, so a re-send's name sorts after the batches it corrects.
"""

from ingestion import reference
from ingestion.contract import DAY_FEED, OUT_OF_RANGE, REGISTRY_SNAPSHOT, Contract, Field, Rule

DEVICE_ID_PATTERN = r"(SD|EB|WM|AQ|RG|PD|RS|EL|CM|GD)\d{6}"
DEVICE_TYPES = {
    # device_type: (id prefix, 中文名)
    "smoke_detector": ("SD", "独立式烟感"),
    "ebike_charger": ("EB", "电瓶车充电桩"),
    "water_meter": ("WM", "独居老人智能水表"),
    "air_station": ("AQ", "空气质量监测站"),
    "rain_gauge": ("RG", "雨量计"),
    "ponding_sensor": ("PD", "下立交积水监测"),
    "road_segment": ("RS", "路段车检器"),
    "elevator": ("EL", "电梯物联网关"),
    "camera": ("CM", "AI视频探头"),
    "gas_detector": ("GD", "家用燃气报警器"),
}
DEVICE_STATUSES = ("online", "offline", "fault", "retired")

# metric: (device type, unit, plausible minimum, plausible maximum). Values outside the
# range are quarantined as out_of_range. Pollutant units follow HJ 633-2012 (µg/m³; CO mg/m³).
METRICS: dict[str, tuple[str, str, float, float]] = {
    "smoke_obscuration_pct": ("smoke_detector", "%/m", 0, 100),
    "temperature_c": ("smoke_detector", "°C", -20, 120),
    "smoke_alarm": ("smoke_detector", "flag", 0, 1),
    "charging_current_a": ("ebike_charger", "A", 0, 40),
    "overcurrent_alarm": ("ebike_charger", "flag", 0, 1),
    "water_flow_l": ("water_meter", "L/h", 0, 5000),
    "pm25": ("air_station", "µg/m³", 0, 1000),
    "pm10": ("air_station", "µg/m³", 0, 1000),
    "so2": ("air_station", "µg/m³", 0, 3000),
    "no2": ("air_station", "µg/m³", 0, 4000),
    "co": ("air_station", "mg/m³", 0, 150),
    "o3": ("air_station", "µg/m³", 0, 1500),
    "rainfall_mm": ("rain_gauge", "mm/5min", 0, 200),
    "ponding_depth_cm": ("ponding_sensor", "cm", 0, 300),
    "speed_kmh": ("road_segment", "km/h", 0, 150),
    "flow_veh": ("road_segment", "veh/5min", 0, 2000),
    "run_count": ("elevator", "runs/h", 0, 500),
    "elevator_fault": ("elevator", "flag", 0, 1),
    "elevator_entrapment": ("elevator", "flag", 0, 1),
    "gas_lel_pct": ("gas_detector", "%LEL", 0, 100),
    "gas_alarm": ("gas_detector", "flag", 0, 1),
}


def _metric_range_sql() -> str:
    """A CASE expression true when ``value`` is outside its metric's plausible range."""
    arms = " ".join(
        f"when '{metric}' then value not between {low} and {high}"
        for metric, (_, _, low, high) in METRICS.items()
    )
    return f"case metric {arms} else false end"


DEVICES = Contract(
    source="iot",
    table="iot_devices",
    title="物联感知设备台账",
    format="csv",
    file_glob="devices_*.csv",
    key=("device_id",),
    delivery=REGISTRY_SNAPSHOT,
    fields=(
        Field(
            "device_id",
            "device_id",
            nullable=False,
            pattern=DEVICE_ID_PATTERN,
            description="设备编号",
        ),
        Field(
            "device_type",
            "device_type",
            nullable=False,
            allowed=tuple(DEVICE_TYPES),
            description="设备类型",
        ),
        Field("device_name", "device_name", description="设备名称"),
        Field(
            "grid_code",
            "grid_code",
            nullable=False,
            allowed=reference.grid_codes(),
            description="所属网格编码",
        ),
        Field(
            "street_code",
            "street_code",
            nullable=False,
            allowed=reference.street_codes(),
            description="所属街镇代码",
        ),
        Field(
            "longitude", "lng", "float", minimum=121.38, maximum=121.52, description="经度（WGS84）"
        ),
        Field(
            "latitude", "lat", "float", minimum=31.19, maximum=31.34, description="纬度（WGS84）"
        ),
        Field("install_date", "install_date", "date", description="安装日期"),
        Field("status", "status", nullable=False, allowed=DEVICE_STATUSES, description="设备状态"),
        Field("vendor", "vendor", description="厂商"),
        Field("address", "address", pii=True, description="安装地址（含门牌号）"),
        Field("resident_name", "resident_name", pii=True, description="关爱对象姓名（仅智能水表）"),
        Field(
            "resident_phone",
            "resident_phone",
            pii=True,
            description="关爱对象联系电话（仅智能水表）",
        ),
        Field(
            "resident_id_number",
            "resident_id_number",
            pii=True,
            description="关爱对象身份证号（仅智能水表）",
        ),
        Field("road_name", "road_name", description="所在道路（路段车检器）"),
        Field(
            "underpass_code",
            "underpass_code",
            allowed=reference.column("underpasses", "underpass_code"),
            description="下立交编码（积水监测）",
        ),
        Field("tags", "tags", description="设备标签，竖线分隔（AI视频探头的识别场景）"),
    ),
)

READINGS = Contract(
    source="iot",
    table="iot_readings",
    title="物联感知读数",
    format="csv",
    file_glob="readings_*.csv.gz",
    key=("device_id", "metric", "reading_at"),
    delivery=DAY_FEED,
    event_time="reading_at",
    fields=(
        Field(
            "device_id",
            "device_id",
            nullable=False,
            pattern=DEVICE_ID_PATTERN,
            description="设备编号",
        ),
        Field("metric", "metric", nullable=False, allowed=tuple(METRICS), description="指标"),
        Field("value", "value", "float", nullable=False, description="读数（单位随指标）"),
        Field(
            "reading_at",
            "reading_time",
            "timestamp",
            nullable=False,
            description="采集时间（北京时间）",
        ),
    ),
    rules=(Rule(OUT_OF_RANGE, _metric_range_sql(), "读数超出该指标的合理范围"),),
)
