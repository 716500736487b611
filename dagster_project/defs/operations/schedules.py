"""The daily schedule: yesterday's partition, every morning (Asia/Shanghai)."""

import dagster as dg

from dagster_project.defs.operations.jobs import DAILY_PIPELINE

# Sources deliver the previous day overnight; 06:30 leaves room for late files and finishes
# before the 08:30 office day (assumption: the delivery times are the district's to confirm).
DAILY_SCHEDULE = dg.build_schedule_from_partitioned_job(
    DAILY_PIPELINE,
    hour_of_day=6,
    minute_of_hour=30,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    name="daily_pipeline_schedule",
)

defs = dg.Definitions(schedules=[DAILY_SCHEDULE])
