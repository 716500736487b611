"""Dagster's system run tags that cityops reads or sets, spelled out.

Dagster sets these on a run (``dagster/partition`` for one partition, the range tags for a
partition range) and reads them back (the range tags select the partitions of a run that
``execute_in_process`` starts; ``dagster/failure_reason`` decides whether a failed run is
retried and is shown in the UI). Dagster's public API exports no constants for them, so they
are literals here, one place for the whole project.
"""

PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
FAILURE_REASON_TAG = "dagster/failure_reason"
