"""``notify.yml``: channels, level thresholds, retries, deadlines and the circuit breaker.

The file names environment variables, never values: robot URLs carry their access token, and
加签 secrets sign requests, so both come from the environment when ``load_config`` is called
(never at import time). A channel whose URL variable is unset or empty is "not configured":
it is listed in reports and skipped, which is not an error.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from ingestion.config import Location, NullMeansDefault, Strict, dotted, problems
from vitals.notify.notice import LEVELS

KINDS: tuple[str, ...] = ("webhook", "dingtalk", "wecom", "feishu")
# Only 钉钉 and 飞书 custom robots support 加签; 企业微信 robots and plain webhooks do not.
SIGNED_KINDS: frozenset[str] = frozenset({"dingtalk", "feishu"})

CONFIG_ENV = "CITYOPS_NOTIFY_CONFIG"
CONFIG_FILE = "notify.yml"


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


class _Section(Strict):
    """Strict mode and no unknown keys, for every part of the file."""


def _positive_integer(value: int) -> int:
    if value < 1:
        raise ValueError("must be a positive integer")
    return value


def _positive_number(value: float) -> float:
    if value <= 0:
        raise ValueError("must be a positive number")
    return float(value)


def _env_name(value: str) -> str:
    name = value.strip()
    if not name:
        raise ValueError("must name an environment variable")
    if not (name.replace("_", "").isalnum() and name.isascii() and not name[0].isdigit()):
        raise ValueError(f"is {name!r}, not an environment variable name")
    return name


PositiveInteger = Annotated[int, AfterValidator(_positive_integer)]
PositiveNumber = Annotated[float, AfterValidator(_positive_number)]
EnvName = Annotated[str, AfterValidator(_env_name)]
Level = Literal[LEVELS]  # type: ignore[valid-type]


class _Retry(_Section):
    attempts: PositiveInteger = RetryPolicy.attempts
    backoff_seconds: PositiveNumber = RetryPolicy.backoff_seconds
    max_backoff_seconds: PositiveNumber = RetryPolicy.max_backoff_seconds
    timeout_seconds: PositiveNumber = RetryPolicy.timeout_seconds

    @model_validator(mode="after")
    def _cap_above_backoff(self) -> _Retry:
        if self.max_backoff_seconds < self.backoff_seconds:
            raise ValueError("field 'max_backoff_seconds' must not be below 'backoff_seconds'")
        return self


class _Deadline(_Section):
    notice_seconds: PositiveNumber = DeadlinePolicy.notice_seconds
    run_seconds: PositiveNumber = DeadlinePolicy.run_seconds

    @model_validator(mode="after")
    def _notice_within_run(self) -> _Deadline:
        if self.notice_seconds > self.run_seconds:
            raise ValueError("field 'notice_seconds' must not exceed 'run_seconds'")
        return self


class _Breaker(_Section):
    failures: PositiveInteger = BreakerPolicy.failures
    cooldown_seconds: PositiveNumber = BreakerPolicy.cooldown_seconds


class _Channel(_Section):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    kind: Literal[KINDS]  # type: ignore[valid-type]
    url_env: EnvName
    secret_env: EnvName | None = None
    min_level: Level | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _signed_kinds_only(self) -> _Channel:
        if self.secret_env is not None and self.kind not in SIGNED_KINDS:
            raise ValueError(
                f"field 'secret_env' is not supported by kind '{self.kind}'"
                f" (only {' and '.join(sorted(SIGNED_KINDS))} robots sign requests)"
            )
        return self


class _Document(NullMeansDefault):
    # `retry:` or `channels:` with nothing after it (YAML null) keeps the defaults.
    retry: _Retry = Field(default_factory=_Retry)
    deadline: _Deadline = Field(default_factory=_Deadline)
    circuit_breaker: _Breaker = Field(default_factory=_Breaker)
    min_level: Level = LEVELS[0]
    channels: list[_Channel] = Field(default_factory=list)


def parse_config(
    document: object, environ: Mapping[str, str], *, source: Path | None = None
) -> NotifyConfig:
    """Validate an already-parsed ``notify.yml`` document (see ``load_config``)."""
    where = f"{source}: " if source else ""
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise NotifyConfigError(f"{where}the top level must be a mapping")
    try:
        parsed = _Document.model_validate(document)
    except ValidationError as error:
        raw_channels = document.get("channels")
        found = [_describe(location, text, raw_channels) for location, text in problems(error)]
        raise NotifyConfigError("\n".join(f"{where}{problem}" for problem in found)) from None
    names = Counter(channel.name for channel in parsed.channels)
    for name, count in names.items():
        if count > 1:
            raise NotifyConfigError(f"{where}channel '{name}', field 'name': is duplicated")
    return NotifyConfig(
        retry=RetryPolicy(**parsed.retry.model_dump()),
        min_level=parsed.min_level,
        channels=tuple(
            _channel(channel, parsed.min_level, environ, where) for channel in parsed.channels
        ),
        source=source,
        deadline=DeadlinePolicy(**parsed.deadline.model_dump()),
        breaker=BreakerPolicy(**parsed.circuit_breaker.model_dump()),
    )


def _describe(location: Location, text: str, raw_channels: object) -> str:
    """The problem with the channel (by name, else ``#n``) or top-level key it concerns."""
    key = location[0]
    if key == "channels" and len(location) > 1:
        position = int(location[1])
        raw = raw_channels[position] if isinstance(raw_channels, list) else None
        name = raw.get("name") if isinstance(raw, dict) else None
        what = f"channel '{name.strip()}'" if isinstance(name, str) and name.strip() else None
        what = what or f"channel #{position + 1}"
        if len(location) == 2:
            return f"{what}: {text}"
        return f"{what}, field '{dotted(location[2:])}': {text}"
    if len(location) == 1:
        if text.startswith("field "):  # a check across the fields of a section
            return f"top-level key '{key}': {text}"
        return f"top level, field '{key}': {text}"
    return f"top-level key '{key}', field '{dotted(location[1:])}': {text}"


def _channel(
    channel: _Channel, default_level: str, environ: Mapping[str, str], where: str
) -> ChannelConfig:
    """A validated channel, with its URL and secret read from the environment."""
    url = environ.get(channel.url_env, "").strip() or None
    if url is not None and not url.lower().startswith(("http://", "https://")):
        # Name the variable, never echo its value: it holds a token.
        raise NotifyConfigError(
            f"{where}channel '{channel.name}': field 'url_env' ({channel.url_env}) does not "
            "hold an http(s) URL"
        )
    secret_env = channel.secret_env
    return ChannelConfig(
        name=channel.name,
        kind=channel.kind,
        url_env=channel.url_env,
        secret_env=secret_env,
        min_level=channel.min_level or default_level,
        enabled=channel.enabled,
        url=url,
        secret=(environ.get(secret_env, "").strip() or None) if secret_env else None,
    )
