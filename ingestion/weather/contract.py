"""Hourly weather observations (气象小时观测), a JSON document per hour as they come in.

Each hour's observations arrive in ``weather_YYYYMMDDHH.json``; a feed that delivers daily
sends the whole day in ``weather_YYYYMMDD.json``. Shape: ``{"timezone": "Asia/Shanghai",
"stations": [{"stationId", "stationName", "hourly": [{"time", "temperature", …}]}]}``; one
record per station and hour. Station ids are synthetic district automatic stations
(assumption).
"""

from ingestion.contract import DAY_FEED, Contract, Field

STATIONS = {"A3601": "静安区气象站（静安公园）", "A3602": "静安区气象站（大宁灵石公园）"}

CONTRACT = Contract(
    source="weather",
    table="weather_hourly",
    title="气象小时观测",
    format="json",
    file_glob="weather_*.json",
    records_path=("stations", "hourly"),
    key=("station_id", "observed_at"),
    delivery=DAY_FEED,
    event_time="observed_at",
    fields=(
        Field(
            "station_id",
            "stationId",
            nullable=False,
            allowed=tuple(STATIONS),
            description="气象站编号",
        ),
        Field("station_name", "stationName", description="气象站名称"),
        Field(
            "observed_at",
            "time",
            "timestamp",
            nullable=False,
            description="观测时间（北京时间，整点）",
        ),
        Field(
            "temperature_c",
            "temperature",
            "float",
            minimum=-15,
            maximum=45,
            description="气温（°C）",
        ),
        Field(
            "humidity_pct", "humidity", "float", minimum=0, maximum=100, description="相对湿度（%）"
        ),
        Field(
            "precipitation_mm",
            "precipitation",
            "float",
            minimum=0,
            maximum=300,
            description="小时降水量（mm）",
        ),
        Field(
            "wind_speed_ms",
            "windSpeed",
            "float",
            minimum=0,
            maximum=60,
            description="平均风速（m/s）",
        ),
        Field(
            "wind_direction_deg",
            "windDirection",
            "float",
            minimum=0,
            maximum=360,
            description="风向（度）",
        ),
        Field(
            "pressure_hpa",
            "pressure",
            "float",
            minimum=900,
            maximum=1100,
            description="气压（hPa）",
        ),
        Field(
            "visibility_km",
            "visibility",
            "float",
            minimum=0,
            maximum=50,
            description="能见度（km）",
        ),
    ),
)
