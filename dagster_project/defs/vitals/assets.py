"""Vital-sign warning notifications, after the serving snapshot is published.

The warnings themselves are dbt models (``vitals`` schema). This asset reads the steps
(opened, escalated) of the data's last ``NOTIFY_WINDOW_HOURS`` hours from the serving
snapshot — only published, checked data is announced — and sends them through the notifier
(``vitals.notify``): each step once per channel, whatever the number of runs.
"""

import dagster as dg

from dagster_project.defs.ingestion.resources import CityopsHome
from dagster_project.defs.serving.assets import SNAPSHOT_KEY
from serving import serving_path
from vitals.dispatch import send_orders
from vitals.notify import load_config, notify
from vitals.warnings import connect, recent_notices

# A backfill rebuilds months of warnings; only the newest steps are news worth a message.
NOTIFY_WINDOW_HOURS = 48


@dg.asset(
    key=["vitals", "warning_notifications"],
    deps=[SNAPSHOT_KEY],
    group_name="vitals",
    kinds={"python"},
    description=(
        "预警通知: warnings opened or escalated in the data's last 48 hours, posted to the "
        "channels of notify.yml (webhook, 钉钉, 企业微信, 飞书); every attempt is logged in "
        "$CITYOPS_HOME/notify/deliveries.jsonl."
    ),
)
def warning_notifications(
    context: dg.AssetExecutionContext, cityops: CityopsHome
) -> dg.MaterializeResult:
    """Send the newest warning steps; delivery failures are reported, not raised."""
    home = cityops.paths()
    with connect(serving_path(home)) as con:
        notices = recent_notices(con, hours=NOTIFY_WINDOW_HOURS)
    config = load_config()
    report = notify(notices, config, home.notifications)
    summary = report.summary()
    if report.ok:
        context.log.info(summary)
    else:
        context.log.warning(summary)
    return dg.MaterializeResult(
        metadata={
            "notices": len(notices),
            "sent": report.total("sent"),
            "duplicates_skipped": report.total("skipped_duplicate"),
            "failed": report.total("failed"),
            "not_attempted": report.total("not_attempted"),
            "channels": config.describe(),
        }
    )


@dg.asset(
    key=["vitals", "whistle_dispatch"],
    deps=[SNAPSHOT_KEY],
    group_name="vitals",
    kinds={"python"},
    description=(
        "吹哨派单: every 数字吹哨 order of the published snapshot not yet sent is written to the "
        "disposal system's outbox ($CITYOPS_HOME/dispatch/outbox, one JSON file per order, "
        "never rewritten); the system acknowledges each in dispatch/acks."
    ),
)
def whistle_dispatch(
    context: dg.AssetExecutionContext, cityops: CityopsHome
) -> dg.MaterializeResult:
    """Send the new 吹哨 orders to the disposal system's outbox."""
    home = cityops.paths()
    report = send_orders(home, serving_path(home))
    context.log.info(report.summary())
    return dg.MaterializeResult(
        metadata={
            "new": report.new,
            "sent": report.sent,
            "acknowledged": report.acknowledged,
            "waiting": report.waiting,
        }
    )


defs = dg.Definitions(assets=[warning_notifications, whistle_dispatch])
