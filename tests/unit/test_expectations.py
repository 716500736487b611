"""The Great Expectations suites: each fault that can reach a typed table trips a named check.

Tiny frames, one planted fault each, validated with an ephemeral GX context (nothing
written). The file-level faults (encoding, truncation, malformed lines) never reach a typed
table; ``test_faults.py`` covers the check that judges them.
"""

import pandas as pd
import pytest
from stdnum.cn import uscc

from ingestion.sources import BY_TABLE
from quality.expectations.marts import MART_SUITES
from quality.expectations.raw import RAW_SUITES
from quality.expectations.runner import validate
from quality.expectations.suite import ERROR, WARN, Suite, tag


def _readings() -> pd.DataFrame:
    # Three good readings of one air station: two metrics at 10:00, one at 11:00.
    return pd.DataFrame(
        {
            "device_id": ["AQ000001", "AQ000001", "AQ000001"],
            "metric": ["pm25", "no2", "pm25"],
            "value": [35.0, 40.0, 38.0],
            "reading_at": pd.to_datetime(
                ["2024-07-05 10:00", "2024-07-05 10:00", "2024-07-05 11:00"]
            ),
            "_source_file": ["iot/2024-07-05/readings_2024070510.csv.gz"] * 3,
            "_source_record": [1, 2, 3],
        }
    )


def _enterprises() -> pd.DataFrame:
    code = "91310106MA1FL0XX0"
    return pd.DataFrame(
        {
            "uscc": [code + uscc.calc_check_digit(code)],
            "enterprise_name": ["上海静安示例科技有限公司"],
            "enterprise_type": ["有限责任公司"],
            "industry_section": ["I"],
            "registered_capital_10k_yuan": [100.0],
            "established_date": pd.to_datetime(["2020-01-02"]),
            "registration_status": ["存续"],
            "address": ["静安区示例路1号"],
            "street_name": ["江宁路街道"],
            "legal_representative": ["张三"],
            "registration_authority": ["静安区市场监督管理局"],
            "approved_date": pd.to_datetime(["2024-07-01"]),
            "_source_file": ["business/2024-07-05/enterprises.xlsx"],
            "_source_record": [1],
        }
    )


def _failed(outcome, severity=ERROR) -> list[str]:
    return outcome.failed_checks(severity)


def test_clean_frames_pass():
    assert validate(RAW_SUITES["iot_readings"], _readings(), batch="t").failed_checks() == []
    assert validate(RAW_SUITES["enterprises"], _enterprises(), batch="t").failed_checks() == []


def test_an_empty_partition_passes_its_error_checks():
    # A silent feed publishes an empty partition; the volume check judges that, not the suite.
    # Frames come through Arrow (quality.expectations.data), so empty text columns are `str`.
    empty = _readings().iloc[0:0].astype({"device_id": "str", "metric": "str"})
    assert validate(RAW_SUITES["iot_readings"], empty, batch="t").failed_checks(ERROR) == []


@pytest.mark.parametrize(
    ("fault", "change", "check"),
    [
        # generator `unknown_code` in readings: metric pm1 is not in the contract's list
        ("unknown_code", {"metric": "pm1"}, "allowed.metric"),
        # generator `out_of_range` in readings: 99999 for pm25 (plausible 0 … 1000)
        ("out_of_range", {"value": 99999.0}, "range.value_for_metric"),
        # a device id outside the id pattern
        ("invalid_format", {"device_id": "XX12"}, "format.device_id"),
        # a required field left empty
        ("missing_required", {"reading_at": pd.NaT}, "not_null.reading_at"),
    ],
)
def test_a_bad_reading_fails_its_named_check(fault, change, check):
    frame = _readings()
    for column, value in change.items():
        frame.loc[0, column] = value
    outcome = validate(RAW_SUITES["iot_readings"], frame, batch=fault)
    assert _failed(outcome) == [check]
    assert outcome.severity == ERROR
    (finding,) = [f for f in outcome.findings if f.severity == ERROR]
    assert finding.unexpected_count == 1


@pytest.mark.parametrize("kind", ["exact_duplicate", "superseded_version"])
def test_a_key_delivered_twice_fails_unique_key(kind):
    frame = _readings()
    again = frame.iloc[[0]].copy()
    if kind == "superseded_version":
        again["value"] = again["value"] * 1.3  # the generator's wrong first version
    outcome = validate(RAW_SUITES["iot_readings"], pd.concat([frame, again]), batch=kind)
    assert _failed(outcome) == ["unique_key"]


def test_a_wrong_check_character_fails_the_gb32100_check():
    frame = _enterprises()
    good = frame.loc[0, "uscc"]
    frame.loc[0, "uscc"] = good[:17] + ("0" if good[17] != "0" else "1")
    outcome = validate(RAW_SUITES["enterprises"], frame, batch="uscc")
    assert _failed(outcome) == ["check.uscc"]


def test_a_missing_column_fails_the_schema_check():
    outcome = validate(RAW_SUITES["iot_readings"], _readings().drop(columns=["value"]), batch="s")
    assert "schema" in _failed(outcome)


def test_an_unknown_grid_code_fails_referential_coverage():
    # The grid suite names its code checks for what they are: coverage of the reference.
    checks = RAW_SUITES["grid_cases"].checks
    assert checks["known_grid_code"] == ERROR
    assert checks["known_street_code"] == ERROR
    suite = Suite(
        name="t.grid",
        expectations=tuple(
            e for e in RAW_SUITES["grid_cases"].expectations if e.meta["check"] == "known_grid_code"
        ),
    )
    frame = pd.DataFrame({"grid_code": ["JA006-01", "JA999-99"]})  # the generator's bad code
    assert _failed(validate(suite, frame, batch="g")) == ["known_grid_code"]


def test_distribution_expectations_warn_and_do_not_block():
    # A day of readings where every device appears once looks like truncated batches.
    frame = _readings().assign(device_id=["AQ000001", "AQ000002", "AQ000003"])
    outcome = validate(RAW_SUITES["iot_readings"], frame, batch="w")
    assert _failed(outcome, ERROR) == []
    assert _failed(outcome, WARN) == ["distribution.devices_report_repeatedly"]
    assert outcome.severity == WARN


def test_every_lake_table_and_key_mart_has_a_suite():
    assert set(RAW_SUITES) == set(BY_TABLE)
    assert ("vitals", "fct_indicator_values") in MART_SUITES
    assert ("events", "fct_hotline_orders") in MART_SUITES
    for suite in [*RAW_SUITES.values(), *MART_SUITES.values()]:
        assert "unique_key" in suite.checks, suite.name


def test_personal_fields_only_get_null_checks():
    # Failing expectations print example values; personal fields must never be examples.
    for table, contract in BY_TABLE.items():
        personal = {f.name for f in contract.fields if f.pii}
        for expectation in RAW_SUITES[table].expectations:
            column = getattr(expectation, "column", None)
            if column in personal:
                assert expectation.meta["check"] == f"not_null.{column}", (table, column)


def test_suites_reject_untagged_and_duplicate_checks():
    import great_expectations.expectations as gxe

    with pytest.raises(ValueError, match="untagged"):
        Suite(name="t", expectations=(gxe.ExpectColumnValuesToNotBeNull(column="a"),))
    twice = tag(gxe.ExpectColumnValuesToNotBeNull(column="a"), "a")
    again = tag(gxe.ExpectColumnValuesToNotBeNull(column="b"), "a")
    with pytest.raises(ValueError, match="used twice"):
        Suite(name="t", expectations=(twice, again))
    with pytest.raises(ValueError, match="severity"):
        tag(gxe.ExpectColumnValuesToNotBeNull(column="a"), "a", "FATAL")


def test_a_suite_names_the_columns_its_expectations_read():
    import great_expectations.expectations as gxe

    suite = Suite(
        name="t.columns",
        expectations=(
            tag(gxe.ExpectCompoundColumnsToBeUnique(column_list=["a", "b"]), "unique_key"),
            tag(gxe.ExpectColumnValuesToNotBeNull(column="c"), "not_null.c"),
            tag(gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="d", column_B="a"), "order"),
        ),
    )
    assert suite.columns == ("a", "b", "c", "d")  # first use, each once
    # The mart suites read only these columns (quality.expectations.data.read_table).
    assert MART_SUITES[("vitals", "fct_street_health_daily")].columns == (
        "street_code",
        "dimension",
        "stat_date",
        "health_score",
    )
