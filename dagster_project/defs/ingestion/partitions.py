"""Daily partitions in Beijing time: one partition per delivery day of every source."""

import dagster as dg

# The lake starts with the oldest delivery any deployment is expected to backfill.
FIRST_DAY = "2024-01-01"

DAILY = dg.DailyPartitionsDefinition(start_date=FIRST_DAY, timezone="Asia/Shanghai")
