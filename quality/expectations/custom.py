"""Expectations GX does not ship: GB 32100 check characters, and ranges keyed by another column.

Registered with GX on import (a ``ColumnMapMetricProvider`` plus its expectation class), so
the pandas engine evaluates them like the built-in ones. The check itself is python-stdnum's
``cn.uscc``, the same function the ingestion contract uses.
"""

from __future__ import annotations

from typing import Any, ClassVar

from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    MulticolumnMapExpectation,
)
from great_expectations.expectations.metrics import (
    ColumnMapMetricProvider,
    column_condition_partial,
)
from great_expectations.expectations.metrics.map_metric_provider import (
    MulticolumnMapMetricProvider,
)
from great_expectations.expectations.metrics.map_metric_provider.multicolumn_condition_partial import (  # noqa: E501
    multicolumn_condition_partial,
)
from stdnum.cn import uscc


class ColumnValuesAreValidUscc(ColumnMapMetricProvider):
    """True where the value is a valid 统一社会信用代码, check character included."""

    condition_metric_name = "column_values.valid_uscc"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: Any, **kwargs: Any) -> Any:
        return column.map(lambda value: bool(uscc.is_valid(str(value))))


class ExpectColumnValuesToBeValidUscc(ColumnMapExpectation):
    """Expect each value to be a 统一社会信用代码 (GB 32100-2015) with a correct check character."""

    map_metric = "column_values.valid_uscc"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)


class MulticolumnValuesWithinKeyedRange(MulticolumnMapMetricProvider):
    """True where ``value`` lies in the range its key (e.g. its IoT metric) allows."""

    condition_metric_name = "multicolumn_values.within_keyed_range"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_list",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )
    condition_value_keys = ("ranges",)

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list: Any, ranges: dict[str, list[float]], **kwargs: Any) -> Any:
        """Map each key to its bounds and compare, vectorised."""
        key, value = column_list.columns
        # As floats: mapping an empty string column keeps its string type otherwise.
        low = column_list[key].map({k: r[0] for k, r in ranges.items()}).astype("float64")
        high = column_list[key].map({k: r[1] for k, r in ranges.items()}).astype("float64")
        # A key without a range is not this expectation's business (codes are checked elsewhere).
        return low.isna() | ((column_list[value] >= low) & (column_list[value] <= high))


class ExpectValuesWithinRangeOfTheirKey(MulticolumnMapExpectation):
    """Expect ``column_list = [key, value]``: each value within ``ranges[key] = [low, high]``."""

    ranges: dict[str, list[float]]
    map_metric = "multicolumn_values.within_keyed_range"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "ranges")
