"""Volume checks on every lake table's partition (``quality.volume``), as blocking checks.

A missing or empty partition fails with severity ERROR and stops everything downstream
(the dbt build and the publish); a count outside its baseline band is a WARN.
"""

import datetime as dt

import dagster as dg

from dagster_project.defs.ingestion.assets import raw_asset_key
from dagster_project.defs.ingestion.resources import CityopsHome
from dagster_project.tags import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG
from ingestion.contract import Contract
from ingestion.sources import CONTRACTS
from quality.volume import ERROR, check_volume


def run_days(context: dg.AssetCheckExecutionContext) -> list[dt.date]:
    """The partition days of the run (one partition, or a range)."""
    tags = context.run.tags
    if PARTITION_TAG in tags:
        return [dt.date.fromisoformat(tags[PARTITION_TAG])]
    first = tags.get(RANGE_START_TAG)
    last = tags.get(RANGE_END_TAG)
    if not first or not last:
        return []
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def build_volume_check(contract: Contract) -> dg.AssetChecksDefinition:
    """The volume check of one lake table."""

    @dg.asset_check(
        asset=raw_asset_key(contract),
        name="volume_within_baseline",
        blocking=True,
        description=(
            "Rows written against the same weekday and day type of the previous four weeks "
            "(holiday-aware). Missing or empty partition: ERROR (blocks downstream); outside "
            "±50 % of the baseline: WARN."
        ),
    )
    def _volume(
        context: dg.AssetCheckExecutionContext, cityops: CityopsHome
    ) -> dg.AssetCheckResult:
        results = [check_volume(cityops.paths(), contract.table, day) for day in run_days(context)]
        failed = [result for result in results if not result.passed]
        worst = next((r for r in failed if r.severity == ERROR), failed[0] if failed else None)
        return dg.AssetCheckResult(
            passed=not failed,
            description="; ".join(f"{r.day}: {r.reason}" for r in failed) or "within baseline",
            severity=dg.AssetCheckSeverity.ERROR
            if worst and worst.severity == ERROR
            else dg.AssetCheckSeverity.WARN,
            metadata={
                "days": [result.day.isoformat() for result in results],
                "rows": [result.rows for result in results],
                "baseline_mean": [result.baseline_mean for result in results],
                "reasons": [result.reason for result in results],
            },
        )

    return _volume


VOLUME_CHECKS = [build_volume_check(contract) for contract in CONTRACTS]

defs = dg.Definitions(asset_checks=VOLUME_CHECKS)
