"""Every source contract, in the order sources are ingested."""

from ingestion.business.contract import DISTRICT_FLOWS, ENTERPRISES, LICENCES, MARKET_PRICES
from ingestion.contract import Contract
from ingestion.disposal.contract import CONTRACT as WHISTLE_FEEDBACK
from ingestion.grid.contract import CONTRACT as GRID_CASES
from ingestion.hotline.contract import CONTRACT as HOTLINE_ORDERS
from ingestion.iot.contract import DEVICES as IOT_DEVICES
from ingestion.iot.contract import READINGS as IOT_READINGS
from ingestion.weather.contract import CONTRACT as WEATHER_HOURLY

CONTRACTS: tuple[Contract, ...] = (
    HOTLINE_ORDERS,
    GRID_CASES,
    IOT_DEVICES,
    IOT_READINGS,
    ENTERPRISES,
    LICENCES,
    DISTRICT_FLOWS,
    MARKET_PRICES,
    WEATHER_HOURLY,
    WHISTLE_FEEDBACK,
)
BY_TABLE: dict[str, Contract] = {contract.table: contract for contract in CONTRACTS}
