"""``notify.yml``: channels, level thresholds, retries, deadlines and the circuit breaker.

The file names environment variables, never values: robot URLs carry their access token, and
加签 secrets sign requests, so both come from the environment when ``load_config`` is called
(never at import time). A channel whose URL variable is unset or empty is "not configured":
it is listed in reports and skipped, which is not an error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vitals.notify.notice import LEVEL_RANK, LEVELS

KINDS: tuple[str, ...] = ("webhook", "dingtalk", "wecom", "feishu")
# Only 钉钉 and 飞书 custom robots support 加签; 企业微信 robots and plain webhooks do not.
SIGNED_KINDS: frozenset[str] = frozenset({"dingtalk", "feishu"})

CONFIG_ENV = "CITYOPS_NOTIFY_CONFIG"
CONFIG_FILE = "notify.yml"

_TOP_KEYS = frozenset({"retry", "deadline", "circuit_breaker", "min_level", "channels"})
_RETRY_KEYS = frozenset({"attempts", "backoff_seconds", "max_backoff_seconds", "timeout_seconds"})
_DEADLINE_KEYS = frozenset({"notice_seconds", "run_seconds"})
_BREAKER_KEYS = frozenset({"failures", "cooldown_seconds"})
_CHANNEL_KEYS = frozenset({"name", "kind", "url_env", "secret_env", "min_level", "enabled"})


class NotifyConfigError(ValueError):
    """``notify.yml`` is invalid; the message names the channel (or top-level key) and field."""


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per notice and channel, with exponential back-off between them.

    The waits are ``backoff_seconds × 2^(n-1)`` after failed attempt n (1, 2, 4 … s by
    default), each capped at ``max_backoff_seconds``.
    """

    attempts: int = 4
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class DeadlinePolicy:
    """Total time bounds, whatever the answers: httpx's timeouts bound one read, not a request.

    ``notice_seconds`` bounds one notice on one channel: every attempt, every back-off wait,
    and an answer that trickles in. ``run_seconds`` bounds one ``notify()`` call, all channels
    together. What is not delivered in time is logged and sent again by the next call.
    """

    notice_seconds: float = 30.0
    run_seconds: float = 120.0


@dataclass(frozen=True)
class BreakerPolicy:
    """Per-channel circuit breaker: skip a channel after ``failures`` consecutive failed notices.

    While open, the channel's notices are logged as not attempted; ``cooldown_seconds`` after
    the last failure one notice is sent as a probe (half-open): delivered closes the breaker,
    failed opens it again for another cool-down.
    """

    failures: int = 3
    cooldown_seconds: float = 600.0


@dataclass(frozen=True)
class ChannelConfig:
    """One channel of ``notify.yml``, with its URL and secret resolved from the environment.

    ``url`` and ``secret`` are secrets: they are left out of ``repr`` and never logged.
    """

    name: str
    kind: str
    url_env: str
    min_level: str
    secret_env: str | None = None
    enabled: bool = True
    url: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)

    @property
    def configured(self) -> bool:
        """Whether the URL variable is set (a channel without a URL is skipped, not an error)."""
        return bool(self.url)

    @property
    def active(self) -> bool:
        """Whether notices are delivered to this channel: enabled and configured."""
        return self.enabled and self.configured

    @property
    def signed(self) -> bool:
        """Whether requests carry a 加签 signature (a secret variable is set)."""
        return bool(self.secret)

    @property
    def status(self) -> str:
        """A short state for reports: active, disabled, or not configured (and why)."""
        if not self.enabled:
            return "disabled"
        if not self.configured:
            return f"not configured ({self.url_env} unset)"
        return "active, signed" if self.signed else "active"


@dataclass(frozen=True)
class NotifyConfig:
    """The validated ``notify.yml``: policies, default level threshold and channels."""

    retry: RetryPolicy
    min_level: str
    channels: tuple[ChannelConfig, ...]
    source: Path | None = None
    deadline: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)

    @property
    def active_channels(self) -> tuple[ChannelConfig, ...]:
        """Channels that are enabled and have a URL."""
        return tuple(channel for channel in self.channels if channel.active)

    def describe(self) -> str:
        """One line per channel (name, kind, threshold, state), for a CLI; no URLs."""
        width = max((len(channel.name) for channel in self.channels), default=0)
        lines = [f"notify config: {self.source or '(in memory)'}"]
        for channel in self.channels:
            lines.append(
                f"  {channel.name:<{width}}  {channel.kind:<8}  "
                f"min_level {channel.min_level}  {channel.status}"
            )
        if not self.channels:
            lines.append("  (no channels)")
        return "\n".join(lines)


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$CITYOPS_NOTIFY_CONFIG`` if set, else ``notify.yml`` at the repository root."""
    environ = os.environ if environ is None else environ
    override = environ.get(CONFIG_ENV, "").strip()
    if override:
        return Path(override)
    # vitals/notify/config.py → the repository root, whatever the working directory.
    return Path(__file__).resolve().parents[2] / CONFIG_FILE


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> NotifyConfig:
    """Read and validate ``notify.yml``, resolving channel URLs and secrets from ``environ``.

    ``path`` defaults to ``default_config_path()``; ``environ`` to ``os.environ``.
    Raises ``NotifyConfigError`` naming the channel (or top-level key) and the field.
    """
    environ = os.environ if environ is None else environ
    path = default_config_path(environ) if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise NotifyConfigError(f"{path}: cannot read ({error.strerror or error})") from error
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise NotifyConfigError(f"{path}: not valid YAML ({error})") from error
    return parse_config(document, environ, source=path)


def parse_config(
    document: object, environ: Mapping[str, str], *, source: Path | None = None
) -> NotifyConfig:
    """Validate an already-parsed ``notify.yml`` document (see ``load_config``)."""
    where = f"{source}: " if source else ""
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise NotifyConfigError(f"{where}the top level must be a mapping")
    _no_unknown_keys(document, _TOP_KEYS, f"{where}top level")

    retry = _parse_retry(document.get("retry"), where)
    deadline = _parse_deadline(document.get("deadline"), where)
    breaker = _parse_breaker(document.get("circuit_breaker"), where)
    min_level = _parse_level(document.get("min_level", LEVELS[0]), f"{where}top level")

    raw_channels = document.get("channels")
    if raw_channels is None:
        raw_channels = []
    if not isinstance(raw_channels, list):
        raise NotifyConfigError(f"{where}top-level key 'channels' must be a list")
    channels: list[ChannelConfig] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_channels):
        channel = _parse_channel(raw, index, min_level, environ, where)
        if channel.name in seen:
            raise NotifyConfigError(f"{where}channel '{channel.name}': field 'name' is duplicated")
        seen.add(channel.name)
        channels.append(channel)
    return NotifyConfig(
        retry=retry,
        min_level=min_level,
        channels=tuple(channels),
        source=source,
        deadline=deadline,
        breaker=breaker,
    )


def _no_unknown_keys(mapping: dict[Any, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(str(key) for key in mapping if key not in allowed)
    if unknown:
        raise NotifyConfigError(
            f"{what}: unknown field(s) {', '.join(repr(k) for k in unknown)}"
            f" (allowed: {', '.join(sorted(allowed))})"
        )


def _parse_level(value: object, what: str) -> str:
    if value not in LEVEL_RANK:
        raise NotifyConfigError(
            f"{what}: field 'min_level' is {value!r}, not one of {', '.join(LEVELS)}"
        )
    return str(value)


def _section(
    raw: object, key: str, allowed: frozenset[str], where: str
) -> tuple[dict[Any, Any], str]:
    """A top-level mapping of ``notify.yml`` (empty when absent), its keys checked.

    Returns the mapping and its name for error messages.
    """
    what = f"{where}top-level key '{key}'"
    if raw is None:
        return {}, what
    if not isinstance(raw, dict):
        raise NotifyConfigError(f"{what} must be a mapping")
    _no_unknown_keys(raw, allowed, what)
    return raw, what


def _parse_retry(raw: object, where: str) -> RetryPolicy:
    section, what = _section(raw, "retry", _RETRY_KEYS, where)
    defaults = RetryPolicy()
    attempts = _positive_integer(section, "attempts", defaults.attempts, what)
    numbers = _positive_numbers(
        section, ("backoff_seconds", "max_backoff_seconds", "timeout_seconds"), defaults, what
    )
    if numbers["max_backoff_seconds"] < numbers["backoff_seconds"]:
        raise NotifyConfigError(
            f"{what}: field 'max_backoff_seconds' must not be below 'backoff_seconds'"
        )
    return RetryPolicy(attempts=attempts, **numbers)


def _parse_deadline(raw: object, where: str) -> DeadlinePolicy:
    section, what = _section(raw, "deadline", _DEADLINE_KEYS, where)
    numbers = _positive_numbers(section, ("notice_seconds", "run_seconds"), DeadlinePolicy(), what)
    if numbers["notice_seconds"] > numbers["run_seconds"]:
        raise NotifyConfigError(f"{what}: field 'notice_seconds' must not exceed 'run_seconds'")
    return DeadlinePolicy(**numbers)


def _parse_breaker(raw: object, where: str) -> BreakerPolicy:
    section, what = _section(raw, "circuit_breaker", _BREAKER_KEYS, where)
    defaults = BreakerPolicy()
    return BreakerPolicy(
        failures=_positive_integer(section, "failures", defaults.failures, what),
        **_positive_numbers(section, ("cooldown_seconds",), defaults, what),
    )


def _positive_integer(raw: dict[Any, Any], name: str, default: int, what: str) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise NotifyConfigError(f"{what}: field '{name}' must be a positive integer")
    return value


def _positive_numbers(
    raw: dict[Any, Any], names: tuple[str, ...], defaults: object, what: str
) -> dict[str, float]:
    numbers = {}
    for name in names:
        value = raw.get(name, getattr(defaults, name))
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise NotifyConfigError(f"{what}: field '{name}' must be a positive number")
        numbers[name] = float(value)
    return numbers


def _env_name(value: object, what: str, field_name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise NotifyConfigError(f"{what}: field '{field_name}' must name an environment variable")
    name = value.strip()
    if not (name.replace("_", "").isalnum() and name.isascii() and not name[0].isdigit()):
        raise NotifyConfigError(
            f"{what}: field '{field_name}' is {name!r}, not an environment variable name"
        )
    return name


def _parse_channel(
    raw: object, index: int, default_level: str, environ: Mapping[str, str], where: str
) -> ChannelConfig:
    if not isinstance(raw, dict):
        raise NotifyConfigError(f"{where}channel #{index + 1}: must be a mapping")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise NotifyConfigError(f"{where}channel #{index + 1}: field 'name' is missing or empty")
    name = name.strip()
    what = f"{where}channel '{name}'"
    _no_unknown_keys(raw, _CHANNEL_KEYS, what)

    kind = raw.get("kind")
    if kind not in KINDS:
        raise NotifyConfigError(f"{what}: field 'kind' is {kind!r}, not one of {', '.join(KINDS)}")
    if "url_env" not in raw:
        raise NotifyConfigError(f"{what}: field 'url_env' is missing")
    url_env = _env_name(raw["url_env"], what, "url_env")

    secret_env = raw.get("secret_env")
    if secret_env is not None:
        if kind not in SIGNED_KINDS:
            raise NotifyConfigError(
                f"{what}: field 'secret_env' is not supported by kind '{kind}'"
                f" (only {' and '.join(sorted(SIGNED_KINDS))} robots sign requests)"
            )
        secret_env = _env_name(secret_env, what, "secret_env")

    min_level = _parse_level(raw.get("min_level", default_level), what)
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise NotifyConfigError(f"{what}: field 'enabled' must be true or false")

    url = environ.get(url_env, "").strip() or None
    if url is not None and not url.lower().startswith(("http://", "https://")):
        # Name the variable, never echo its value: it holds a token.
        raise NotifyConfigError(f"{what}: field 'url_env' ({url_env}) does not hold an http(s) URL")
    secret = (environ.get(secret_env, "").strip() or None) if secret_env else None
    return ChannelConfig(
        name=name,
        kind=str(kind),
        url_env=url_env,
        secret_env=secret_env,
        min_level=min_level,
        enabled=enabled,
        url=url,
        secret=secret,
    )
