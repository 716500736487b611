"""The indicator registry: the shipped file is valid and complete; each mistake is named."""

from collections import Counter
from pathlib import Path

import pytest
import yaml

from vitals.registry import DIMENSIONS, RegistryError, load_registry, registry_table

KNOWN = {
    "known_models": {"int_vital_signs__weather"},
    "known_departments": {"D15"},
    "known_matters": {"030102"},
}
# A valid indicator; each test breaks one field of it.
VALID = {
    "code": "WEA_RAIN_1H",
    "name_zh": "1小时降雨量",
    "name_en": "Rainfall over 1 hour",
    "dimension": "weather",
    "unit": "mm",
    "grain": "hour",
    "area_levels": ["district", "street"],
    "model": "int_vital_signs__weather",
    "direction": "higher_is_worse",
    "owner": "D15",
    "thresholds": {"kind": "fixed", "蓝": 35, "黄": 50, "橙": 80},
    "whistle": "030102",
    "basis": "test",
}


def _load(tmp_path: Path, *indicators: dict) -> object:
    path = tmp_path / "indicators.yml"
    path.write_text(
        yaml.safe_dump({"version": 1, "indicators": list(indicators)}, allow_unicode=True),
        encoding="utf-8",
    )
    return load_registry(path, **KNOWN)


def test_the_shipped_registry_has_at_least_32_indicators_and_3_per_dimension():
    registry = load_registry()
    per_dimension = Counter(indicator.dimension for indicator in registry.indicators)
    assert len(registry.indicators) >= 32
    assert set(per_dimension) == set(DIMENSIONS)
    assert min(per_dimension.values()) >= 3


def test_the_shipped_registry_holds_the_indicators_the_district_plan_names():
    codes = set(load_registry().by_code())
    assert {
        "ENV_AQI_HOURLY",
        "ENV_AQI_DAILY",
        "WEA_RAIN_1H",
        "WEA_RAIN_3H",
        "WEA_RAIN_6H",
        "WEA_TEMP_MAX",
        "UTI_PONDING_DEPTH",
        "TRA_ROAD_SPEED",
        "SAF_EBIKE_ALARMS",
        "SAF_SMOKE_ALARMS",
        "SAF_ELEVATOR_ENTRAPMENTS",
        "OPI_HOTLINE_VOLUME",
        "OPI_TOPIC_SPIKE",
        "LIV_REPEAT_COMPLAINTS",
        "LIV_ONTIME_RATE",
        "LIV_SATISFACTION_RATE",
        "LIV_ELDERLY_WATER_SILENCE",
        "ECO_FOOTFALL",
        "ECO_ENTERPRISE_REGISTRATIONS",
        "ECO_MARKET_PRICE_DEVIATION",
        "UTI_WATER_OUTAGE_REPORTS",
        "UTI_POWER_OUTAGE_REPORTS",
    } <= codes


def test_the_registry_flattens_to_one_row_per_indicator_with_named_thresholds(tmp_path):
    table = registry_table(_load(tmp_path, VALID))
    row = table.to_pylist()[0]
    assert table.num_rows == 1
    # 蓝 35, 黄 50, 橙 80 as given; no 红 (the Shanghai criteria have none for 1 h).
    assert (row["threshold_blue"], row["threshold_orange"], row["threshold_red"]) == (35, 80, None)
    assert row["finest_area_level"] == "street"
    assert row["dimension_name"] == "气象"


def test_an_indicator_s_own_baseline_replaces_the_default_it_sets(tmp_path):
    own = {
        **VALID,
        "code": "WEA_RAIN_2H",
        "thresholds": {"kind": "baseline_ratio", "蓝": 1.5, "min_change": 10},
        "baseline": {"min_peers": 5},
    }
    rows = {
        row["indicator_code"]: row
        for row in registry_table(_load(tmp_path, VALID, own)).to_pylist()
    }
    # Defaults: 5 weeks, 8 peers; WEA_RAIN_2H sets its peers only.
    assert (rows["WEA_RAIN_1H"]["baseline_weeks"], rows["WEA_RAIN_1H"]["baseline_min_peers"]) == (
        5,
        8,
    )
    assert (rows["WEA_RAIN_2H"]["baseline_weeks"], rows["WEA_RAIN_2H"]["baseline_min_peers"]) == (
        5,
        5,
    )
    assert rows["WEA_RAIN_2H"]["min_change"] == 10


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dimension": "mood"}, "indicator WEA_RAIN_1H, field dimension: 'mood' is not one of"),
        ({"unit": "furlong"}, "indicator WEA_RAIN_1H, field unit: 'furlong' is not one of 'mm'"),
        ({"model": "int_nowhere"}, "indicator WEA_RAIN_1H, field model: no dbt model named"),
        ({"grain": "week"}, "indicator WEA_RAIN_1H, field grain: 'week' is not one of 'hour'"),
        ({"owner": "D99"}, "indicator WEA_RAIN_1H, field owner: 'D99' is not a department"),
        ({"whistle": "999999"}, "indicator WEA_RAIN_1H, field whistle: matter 999999 is not"),
        ({"area_levels": ["city"]}, "indicator WEA_RAIN_1H, field area_levels:"),
        ({"colour": "red"}, "indicator WEA_RAIN_1H, field colour: unknown field"),
        ({"code": "rain"}, "indicator #1, field code: 'rain' must look like"),
        (
            {"thresholds": {"kind": "fixed", "蓝": 50, "黄": 35}},
            "indicator WEA_RAIN_1H, field thresholds: 黄 (35) must be above 蓝 (50)",
        ),
        (
            {
                "direction": "lower_is_worse",
                "thresholds": {"kind": "fixed", "蓝": 20, "黄": 25},
            },
            "indicator WEA_RAIN_1H, field thresholds: 黄 (25) must be below 蓝 (20)",
        ),
        (
            {
                "direction": "lower_is_worse",
                "thresholds": {"kind": "baseline_sigma", "蓝": 3, "黄": 2},
            },
            "field thresholds: 黄 (2) must be above 蓝 (3) (the σ multiple)",
        ),
        ({"thresholds": {"kind": "fixed"}}, "field thresholds: set at least one of"),
        ({"thresholds": {"kind": "guess", "蓝": 1}}, "field thresholds.kind: 'guess' is not one"),
        ({"thresholds": {"kind": "fixed", "蓝": "high"}}, "field thresholds.蓝: 'high' is not"),
        ({"hysteresis": {"deadband": 1.5}}, "field hysteresis.deadband: must be a fraction"),
        (
            {"thresholds": {"kind": "fixed", "蓝": 1, "min_change": 5}},
            "field thresholds: only baseline thresholds take a min_change",
        ),
        ({"baseline": {"min_peers": 0}}, "field baseline.min_peers: must be a positive integer"),
        (
            {"grain": "day", "live": True},
            "indicator WEA_RAIN_1H, field live: only an hourly indicator can be evaluated",
        ),
    ],
)
def test_each_mistake_is_named_by_indicator_and_field(tmp_path, change, message):
    with pytest.raises(RegistryError) as raised:
        _load(tmp_path, {**VALID, **change})
    assert message in str(raised.value)


def test_every_problem_is_reported_at_once(tmp_path):
    second = {**VALID, "unit": "furlong"}
    with pytest.raises(RegistryError) as raised:
        _load(tmp_path, {**VALID, "dimension": "mood"}, second)
    text = str(raised.value)
    # The bad dimension, the bad unit and the duplicated code: three problems.
    assert text.startswith("3 problems in")
    assert "field code: duplicate code" in text
