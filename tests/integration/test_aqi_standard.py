"""Which AQI standard grades a period: HJ 633-2026 only from the date its variable names.

The dbt macro ``aqi_standard`` (dbt/macros/aqi.sql) run by ``dbt show`` in DuckDB for the
last hour before and the first hour of the configured date; the tables of both standards
are checked at every breakpoint by the unit tests of _air_quality__unit_tests.yml.
"""

import json

import pytest

from tests.integration.dbt_runner import run_dbt

pytestmark = pytest.mark.integration

VARIABLE = "CITYOPS_AQI_HJ633_2026_FROM"
# The last hour of 07-01 and the first of 07-02 (Beijing time).
QUERY = (
    "select {{ aqi_standard(\"timestamp '2024-07-01 23:00'\") }} as before_date, "
    "{{ aqi_standard(\"timestamp '2024-07-02 00:00'\") }} as on_date"
)


def _show(tmp_path, value):
    environment = {VARIABLE: value} if value is not None else {}
    (tmp_path / "warehouse").mkdir(exist_ok=True)
    return run_dbt(
        tmp_path,
        tmp_path / "target",
        "show",
        "--inline",
        QUERY,
        "--output",
        "json",
        "--log-format",
        "json",
        env=environment,
    )


def _rows(result):
    """The rows `dbt show --output json` printed (its JSON log line carries the preview)."""
    for line in result.stdout.splitlines():
        event = json.loads(line)
        if "preview" in event.get("data", {}):
            return json.loads(event["data"]["preview"])
    raise AssertionError(result.stdout[-3000:])


# Unset, every period is graded by HJ 633-2012: the small warehouse's AQI marts show it
# (tests/integration/test_dbt_build.py).
def test_hj_633_2026_grades_periods_from_the_configured_date(tmp_path, monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)
    result = _show(tmp_path, "2024-07-02")
    assert result.returncode == 0, result.stdout[-3000:]
    assert _rows(result) == [{"before_date": "HJ 633-2012", "on_date": "HJ 633-2026"}]


def test_a_date_in_another_form_stops_the_build_with_the_variable_named(tmp_path, monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)
    result = _show(tmp_path, "2024/07/02")
    assert result.returncode != 0
    assert f"{VARIABLE}=2024/07/02 is not a date" in result.stdout
