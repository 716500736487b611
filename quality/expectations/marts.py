"""Suites for the key marts: the facts leaders, street teams and the 吹哨 orders act on.

They run on the working warehouse after dbt has built it and before the serving snapshot is
published, so an ERROR here keeps the last good snapshot in place. dbt's own tests cover
keys and relationships model by model; these suites add what a reader of the mart relies on
as a whole: codes that join the reference tables, levels and scores in range, time order,
and a few distributions (WARN). Clear-text PII in free text is dbt's ``no_clear_pii`` test,
not an expectation here: a failing GX expectation prints example values into Data Docs, and
those examples would be the very phone and ID numbers the test looks for.
"""

from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.expectations import Expectation

from ingestion import reference
from ingestion.grid.contract import STATUSES as GRID_STATUSES
from ingestion.hotline.contract import STATUSES as HOTLINE_STATUSES
from quality.expectations.suite import WARN, Suite, tag
from vitals.registry import AREA_LEVELS, DIMENSIONS


def _unique(*columns: str) -> Expectation:
    if len(columns) == 1:
        return tag(gxe.ExpectColumnValuesToBeUnique(column=columns[0]), "unique_key")
    return tag(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns)), "unique_key")


def _not_null(column: str) -> Expectation:
    return tag(gxe.ExpectColumnValuesToNotBeNull(column=column), f"not_null.{column}")


def _known(column: str, values: tuple[str, ...], check: str) -> Expectation:
    return tag(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values)), check)


def _between(column: str, low: float | None, high: float | None) -> Expectation:
    return tag(
        gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high),
        f"range.{column}",
    )


def _not_before(later: str, earlier: str, check: str) -> Expectation:
    return tag(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=later, column_B=earlier, or_equal=True, ignore_row_if="either_value_is_missing"
        ),
        check,
    )


STREETS = reference.street_codes()
GRIDS = reference.grid_codes()


def _suite(schema: str, table: str, description: str, *expectations: Expectation) -> Suite:
    return Suite(name=f"{schema}.{table}", expectations=expectations, description=description)


MART_SUITES: dict[tuple[str, str], Suite] = {
    (suite.name.split(".")[0], suite.name.split(".")[1]): suite
    for suite in (
        _suite(
            "events",
            "fct_hotline_orders",
            "12345热线工单事实表",
            _unique("order_id"),
            _not_null("accepted_at"),
            _not_null("street_code"),
            _known("street_code", STREETS, "known_street_code"),
            _known("grid_code", GRIDS, "known_grid_code"),
            _known("order_status", HOTLINE_STATUSES, "allowed.order_status"),
            _between("time_limit_workdays", 0, 60),
            _between("return_count", 0, 10),
            _not_before("dispatched_at", "accepted_at", "order.dispatched_after_accepted"),
            _not_before("closed_at", "accepted_at", "order.closed_after_accepted"),
            tag(
                gxe.ExpectColumnMeanToBeBetween(column="is_overdue", min_value=0, max_value=0.3),
                "distribution.overdue_share",
                WARN,
            ),
        ),
        _suite(
            "events",
            "fct_grid_cases",
            "网格案件事实表",
            _unique("case_id"),
            _not_null("discovered_at"),
            _known("street_code", STREETS, "known_street_code"),
            _known("grid_code", GRIDS, "known_grid_code"),
            _known("case_status", GRID_STATUSES, "allowed.case_status"),
            _between("longitude", 121.38, 121.52),
            _between("latitude", 31.19, 31.34),
            _between("disposal_hours", 0, None),
            _not_before("closed_at", "discovered_at", "case.closed_after_discovered"),
        ),
        _suite(
            "vitals",
            "fct_indicator_values",
            "城市生命体征指标值",
            _unique("indicator_code", "area_level", "area_code", "subject_code", "period_start"),
            _known("dimension", tuple(DIMENSIONS), "allowed.dimension"),
            _known("area_level", AREA_LEVELS, "allowed.area_level"),
            _between("level", 0, 4),
            _not_before("period_end", "period_start", "period.ends_after_start"),
            tag(
                gxe.ExpectColumnProportionOfNonNullValuesToBeBetween(
                    column="value", min_value=0.99
                ),
                "distribution.values_present",
                WARN,
            ),
        ),
        _suite(
            "vitals",
            "fct_warning_events",
            "预警事件",
            _unique("warning_id"),
            _between("opened_level", 1, 4),
            _between("peak_level", 1, 4),
            tag(
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="peak_level", column_B="opened_level", or_equal=True
                ),
                "warning.peak_at_least_opening",
            ),
            _not_before("closed_at", "opened_at", "warning.closed_after_opened"),
        ),
        _suite(
            "vitals",
            "fct_whistle_orders",
            "数字吹哨工单",
            _unique("whistle_order_id"),
            tag(gxe.ExpectColumnValuesToBeUnique(column="warning_id"), "one_order_per_warning"),
            _not_null("responsible_unit_code"),
            _between("opened_level", 3, 4),
            _not_before("due_at", "opened_at", "order.due_after_opened"),
        ),
        _suite(
            "vitals",
            "fct_street_health_daily",
            "街镇城市体征健康度（日）",
            _unique("street_code", "dimension", "stat_date"),
            _known("street_code", STREETS, "known_street_code"),
            _between("health_score", 0, 100),
            tag(
                gxe.ExpectColumnDistinctValuesToContainSet(
                    column="street_code", value_set=list(STREETS)
                ),
                "coverage.every_street",
            ),
        ),
        _suite(
            "situations",
            "fct_air_quality_hourly",
            "空气质量小时AQI（HJ 633-2012）",
            _unique("area_level", "area_code", "hour_at"),
            _between("aqi", 0, 500),
            tag(
                gxe.ExpectColumnMeanToBeBetween(column="aqi", min_value=0, max_value=200),
                "distribution.aqi_mean",
                WARN,
            ),
        ),
    )
}
