"""Freshness checks: each lake table's newest due partition must be materialized by its SLA.

The SLA table is ``quality.freshness.SLAS`` ("partition D in the lake by D+1 HH:MM, Beijing
time"). Each table gets a ``build_time_partition_freshness_checks`` check named
``freshness_check``. At run time it takes the latest tick of ``deadline_cron`` (Asia/Shanghai)
at or before the wall clock, the daily partition last completed at that tick (D for the tick
at D+1 HH:MM), and passes if the instance holds a materialization (or observation) of exactly
that partition. It looks at no other partition: gaps further back are the volume check's
business.

One factory call per table, not one per (deadline, severity) group: a call builds one
multi-asset check op that depends on all its assets, and when one of them fails in a run (a
missing delivery) Dagster does not run the op at all, so a stopped sensor feed would also
hide the weather feed's freshness. Nine small ops cost a few milliseconds per run.

Why the check factory and not ``FreshnessPolicy``: Dagster marks the factory
``@superseded`` in favour of policies that the daemon evaluates. Policies only exist while a
daemon runs, and they report a freshness state rather than a check result. The checks are
ordinary asset-check results: they show on the asset next to the volume check, they run
inside the jobs that select the raw assets (``ingest_sources``, ``daily_pipeline``) after each
materialization, and a test can execute them in process against a real instance.
``freshness_checks_sensor`` (off until switched on, like ``landing_sensor``) evaluates them
when a running daemon has no materialization to trigger them: a source that stops delivering
produces no successful run at all. The factories' SupersessionWarning would print on every
load of the definitions (each ``cityops`` command, ``dagster dev``), so it is silenced here,
for these calls only.

The checks never block (a missing partition already blocks the build through
``volume_within_baseline``); the severity comes from the SLA.
"""

import warnings

import dagster as dg

from dagster_project.defs.ingestion.assets import raw_asset_key
from ingestion.sources import BY_TABLE
from quality.freshness import SLAS, TIMEZONE


def build_freshness_checks() -> list[dg.AssetChecksDefinition]:
    """One freshness check per lake table, with its SLA's deadline and severity."""
    checks: list[dg.AssetChecksDefinition] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        for sla in SLAS:
            checks += dg.build_time_partition_freshness_checks(
                assets=[raw_asset_key(BY_TABLE[sla.table])],
                deadline_cron=sla.cron,
                timezone=TIMEZONE,
                severity=dg.AssetCheckSeverity(sla.severity),
                blocking=False,
            )
    return checks


FRESHNESS_CHECKS = build_freshness_checks()

with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.SupersessionWarning)
    FRESHNESS_SENSOR = dg.build_sensor_for_freshness_checks(
        freshness_checks=FRESHNESS_CHECKS,
        # A passed deadline is noticed within 10 minutes; the sensor requests only checks whose
        # result can have changed (passed before and now past their next deadline).
        minimum_interval_seconds=600,
        name="freshness_checks_sensor",
        default_status=dg.DefaultSensorStatus.STOPPED,
    )

defs = dg.Definitions(asset_checks=FRESHNESS_CHECKS, sensors=[FRESHNESS_SENSOR])
