"""Warning notifier: deliver notices to a JSON webhook, 钉钉, 企业微信 and 飞书 robots.

Plain Python (no Dagster): Dagster sensors and the ``cityops`` CLI call it.

    from vitals.notify import Notice, load_config, notify

    config = load_config()                      # notify.yml + URLs/secrets from the environment
    report = notify(notices, config, log_path)  # never raises on delivery failures
    print(report.summary())

Channels, level thresholds, retries, deadlines and the circuit breaker live in ``notify.yml``
at the repository root (override with ``$CITYOPS_NOTIFY_CONFIG``); see
``vitals/notify/README.md``.
"""

from vitals.notify.config import (
    KINDS,
    BreakerPolicy,
    ChannelConfig,
    DeadlinePolicy,
    NotifyConfig,
    NotifyConfigError,
    RetryPolicy,
    default_config_path,
    load_config,
)
from vitals.notify.deliver import (
    OUTCOMES,
    ChannelReport,
    DeliveryReport,
    Failure,
    notify,
    read_delivered,
    read_log,
)
from vitals.notify.notice import EVENT_LABELS, LEVELS, Notice

__all__ = [
    "EVENT_LABELS",
    "KINDS",
    "LEVELS",
    "OUTCOMES",
    "BreakerPolicy",
    "ChannelConfig",
    "ChannelReport",
    "DeadlinePolicy",
    "DeliveryReport",
    "Failure",
    "Notice",
    "NotifyConfig",
    "NotifyConfigError",
    "RetryPolicy",
    "default_config_path",
    "load_config",
    "notify",
    "read_delivered",
    "read_log",
]
