"""``cityops backtest`` on the session's built home: the small version of the 90-day backtest.

The built home is three days at scale 0.02 (seed 3, no faults), so it reuses that home and
its build rather than building one of its own. Three days are too short for a baseline or a
price history: the festival's footfall (against five earlier rest days), the outage and the
topic spike (against eight earlier workdays) and the price spike (against its 28-day mean)
cannot be judged, and the backtest must say so rather than pass.
"""

import json

import pytest

from tests.cli_runner import cityops
from tests.conftest import BUILT_GENERATE

pytestmark = pytest.mark.integration


def _options() -> list[str]:
    generated = dict(zip(BUILT_GENERATE[1::2], BUILT_GENERATE[2::2], strict=False))
    return [
        *("--start", generated["--start"], "--days", generated["--days"]),
        *("--seed", generated["--seed"], "--scale", generated["--scale"], "--fault-rate", "0"),
    ]


def test_the_backtest_reuses_a_built_home_and_scores_each_planted_incident(built_home):
    result = cityops(
        "backtest", *_options(), "--home", str(built_home.home), "--json", home=built_home.home
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Reusing the built home" in result.stderr
    report = json.loads(result.stdout)
    expectations = {(e["kind"], e["indicator"]): e for e in report["expectations"]}
    # The sensors' incidents are raised at their level in every expected area, on time.
    for key in (
        ("rainstorm", "WEA_RAIN_1H"),
        ("rainstorm", "UTI_PONDING_DEPTH"),
        ("heat_wave", "WEA_TEMP_MAX"),
        ("ebike_charging_alarm", "SAF_EBIKE_ALARMS"),
        ("water_meter_silent", "LIV_ELDERLY_WATER_SILENCE"),
        ("road_congestion", "TRA_ROAD_SPEED"),
        ("pollution_episode", "ENV_AQI_HOURLY"),
    ):
        assert expectations[key]["met"] and expectations[key]["on_time"], key
    # The water meter: 黄 after 10 silent hours (known at the end of the 10th), 红 by the 24th.
    assert expectations["water_meter_silent", "LIV_ELDERLY_WATER_SILENCE"]["delay_hours"] == 10
    # No baseline or price history in three days: four incidents are missed, and recall
    # says so (6 of 10).
    for key in (
        ("festival_footfall", "ECO_FOOTFALL"),
        ("power_outage", "UTI_POWER_OUTAGE_REPORTS"),
        ("complaint_topic_spike", "OPI_TOPIC_SPIKE"),
        ("price_spike", "ECO_MARKET_PRICE_DEVIATION"),
    ):
        assert not expectations[key]["met"] and expectations[key]["delay_hours"] is None, key
    assert report["targets"]["recall"] == {"value": 0.6, "target": "≥ 1", "holds": False}
    # Everything 橙/红 in three days belongs to an incident.
    assert report["targets"]["precision_orange_red"]["value"] == 1.0
    assert report["orange_red"] > 0


def test_check_exits_1_when_a_target_does_not_hold(built_home):
    result = cityops(
        "backtest", *_options(), "--home", str(built_home.home), "--check", home=built_home.home
    )
    assert result.returncode == 1
    assert "Planted incidents" in result.stdout and "festival_footfall" in result.stdout
