"""notify.yml loading and validation: tiny YAML files, environments as dicts, no sockets."""

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from vitals.notify import (
    KINDS,
    BreakerPolicy,
    DeadlinePolicy,
    Notice,
    NotifyConfigError,
    RetryPolicy,
    default_config_path,
    load_config,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok-9f8e7d6c5b4a"  # stands for the access_token inside a robot URL


def _load(tmp_path, text, environ=None):
    path = tmp_path / "notify.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_config(path, environ or {})


def _error(tmp_path, text, environ=None):
    with pytest.raises(NotifyConfigError) as caught:
        _load(tmp_path, text, environ)
    return str(caught.value)


# The shipped file -------------------------------------------------------------------------


def test_shipped_notify_yml_has_one_channel_per_kind_reading_the_documented_variables():
    config = load_config(REPO_ROOT / "notify.yml", environ={})
    by_kind = {channel.kind: channel for channel in config.channels}
    assert sorted(by_kind) == sorted(KINDS)
    assert by_kind["webhook"].url_env == "CITYOPS_WEBHOOK_URL"
    assert (by_kind["dingtalk"].url_env, by_kind["dingtalk"].secret_env) == (
        "CITYOPS_DINGTALK_WEBHOOK",
        "CITYOPS_DINGTALK_SECRET",
    )
    assert by_kind["wecom"].url_env == "CITYOPS_WECOM_WEBHOOK"
    assert by_kind["wecom"].secret_env is None
    assert (by_kind["feishu"].url_env, by_kind["feishu"].secret_env) == (
        "CITYOPS_FEISHU_WEBHOOK",
        "CITYOPS_FEISHU_SECRET",
    )
    assert config.retry == RetryPolicy(attempts=4, backoff_seconds=1, max_backoff_seconds=30)
    assert config.deadline == DeadlinePolicy(notice_seconds=30, run_seconds=120)
    assert config.breaker == BreakerPolicy(failures=3, cooldown_seconds=600)


def test_shipped_notify_yml_with_no_variables_set_has_no_active_channel():
    config = load_config(REPO_ROOT / "notify.yml", environ={})
    assert config.active_channels == ()
    assert all(channel.status.startswith("not configured") for channel in config.channels)


def test_every_variable_of_notify_yml_is_documented_in_env_example():
    example = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    config = load_config(REPO_ROOT / "notify.yml", environ={})
    names = {c.url_env for c in config.channels} | {c.secret_env for c in config.channels}
    for name in [*sorted(names - {None}), "CITYOPS_NOTIFY_CONFIG"]:
        assert f"{name}=" in example, name


def test_default_path_is_the_repository_root_whatever_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert default_config_path({}) == REPO_ROOT / "notify.yml"
    assert load_config(environ={}).source == REPO_ROOT / "notify.yml"


def test_cityops_notify_config_overrides_the_default_path(tmp_path):
    path = tmp_path / "other.yml"
    path.write_text("channels: []\n", encoding="utf-8")
    environ = {"CITYOPS_NOTIFY_CONFIG": str(path)}
    assert default_config_path(environ) == path
    assert load_config(environ=environ).channels == ()


# Defaults and the environment --------------------------------------------------------------


def test_retry_and_min_level_have_defaults_when_omitted(tmp_path):
    config = _load(tmp_path, "channels: []\n")
    assert config.retry == RetryPolicy(
        attempts=4, backoff_seconds=1.0, max_backoff_seconds=30.0, timeout_seconds=10.0
    )
    assert config.min_level == "蓝"


def test_deadlines_and_circuit_breaker_have_defaults_and_can_be_overridden(tmp_path):
    defaults = _load(tmp_path, "channels: []\n")
    assert defaults.deadline == DeadlinePolicy(notice_seconds=30.0, run_seconds=120.0)
    assert defaults.breaker == BreakerPolicy(failures=3, cooldown_seconds=600.0)
    config = _load(
        tmp_path,
        """
        deadline: {notice_seconds: 5, run_seconds: 40.5}
        circuit_breaker: {failures: 1, cooldown_seconds: 60}
        """,
    )
    assert config.deadline == DeadlinePolicy(notice_seconds=5.0, run_seconds=40.5)
    assert config.breaker == BreakerPolicy(failures=1, cooldown_seconds=60.0)


def test_an_empty_file_is_a_config_without_channels(tmp_path):
    assert _load(tmp_path, "").channels == ()


def test_channel_min_level_defaults_to_the_top_level_one_and_can_override_it(tmp_path):
    config = _load(
        tmp_path,
        """
        min_level: 黄
        channels:
          - {name: a, kind: webhook, url_env: A_URL}
          - {name: b, kind: webhook, url_env: B_URL, min_level: 红}
          - {name: c, kind: webhook, url_env: C_URL, min_level: 蓝}
        """,
    )
    assert [channel.min_level for channel in config.channels] == ["黄", "红", "蓝"]


def test_url_and_secret_come_from_the_environment(tmp_path):
    environ = {
        "DT_URL": f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}",
        "DT_SEC": "S",
    }
    config = _load(
        tmp_path,
        "channels: [{name: dt, kind: dingtalk, url_env: DT_URL, secret_env: DT_SEC}]",
        environ,
    )
    (channel,) = config.channels
    assert channel.url == environ["DT_URL"]
    assert channel.secret == "S"
    assert channel.active and channel.signed
    assert channel.status == "active, signed"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_unset_or_empty_url_variable_means_not_configured(tmp_path, value):
    environ = {} if value is None else {"HOOK_URL": value}
    config = _load(tmp_path, "channels: [{name: hook, kind: webhook, url_env: HOOK_URL}]", environ)
    (channel,) = config.channels
    assert not channel.configured
    assert not channel.active
    assert channel.status == "not configured (HOOK_URL unset)"
    assert config.active_channels == ()


def test_unset_secret_variable_sends_unsigned(tmp_path):
    config = _load(
        tmp_path,
        "channels: [{name: fs, kind: feishu, url_env: FS_URL, secret_env: FS_SECRET}]",
        {"FS_URL": "https://open.feishu.cn/open-apis/bot/v2/hook/abc"},
    )
    (channel,) = config.channels
    assert channel.active and not channel.signed


def test_disabled_channel_is_not_active_even_with_a_url(tmp_path):
    config = _load(
        tmp_path,
        "channels: [{name: hook, kind: webhook, url_env: HOOK_URL, enabled: false}]",
        {"HOOK_URL": "https://example.org/hook"},
    )
    assert config.active_channels == ()
    assert config.channels[0].status == "disabled"


def test_urls_and_secrets_stay_out_of_repr_and_describe(tmp_path):
    environ = {
        "DT_URL": f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}",
        "DT_SEC": "S3",
    }
    config = _load(
        tmp_path,
        "channels: [{name: dt, kind: dingtalk, url_env: DT_URL, secret_env: DT_SEC}]",
        environ,
    )
    for text in (repr(config), str(config), config.describe()):
        assert TOKEN not in text
        assert "S3" not in text
    assert "dt" in config.describe()


# Validation: every message names the channel (or top-level key) and the field ------------

CHANNEL_ERRORS = {
    "unknown_kind": (
        "channels: [{name: ops, kind: slack, url_env: X}]",
        ["channel 'ops'", "'kind'", "slack"],
    ),
    "duplicate_name": (
        """
        channels:
          - {name: ops, kind: webhook, url_env: A}
          - {name: ops, kind: wecom, url_env: B}
        """,
        ["channel 'ops'", "'name'", "duplicated"],
    ),
    "missing_url_env": (
        "channels: [{name: ops, kind: webhook}]",
        ["channel 'ops'", "'url_env'", "missing"],
    ),
    "empty_url_env": (
        "channels: [{name: ops, kind: webhook, url_env: ''}]",
        ["channel 'ops'", "'url_env'"],
    ),
    "url_env_not_a_variable_name": (
        "channels: [{name: ops, kind: webhook, url_env: 'https://example.org/hook'}]",
        ["channel 'ops'", "'url_env'", "not an environment variable name"],
    ),
    "unknown_channel_level": (
        "channels: [{name: ops, kind: webhook, url_env: A, min_level: 紫}]",
        ["channel 'ops'", "'min_level'", "紫"],
    ),
    "secret_env_on_wecom": (
        "channels: [{name: wx, kind: wecom, url_env: A, secret_env: S}]",
        ["channel 'wx'", "'secret_env'", "wecom"],
    ),
    "secret_env_on_webhook": (
        "channels: [{name: hook, kind: webhook, url_env: A, secret_env: S}]",
        ["channel 'hook'", "'secret_env'", "webhook"],
    ),
    "unknown_channel_key": (
        "channels: [{name: ops, kind: webhook, url_env: A, url: 'https://x'}]",
        ["channel 'ops'", "unknown field", "'url'"],
    ),
    "enabled_not_boolean": (
        "channels: [{name: ops, kind: webhook, url_env: A, enabled: 'yes please'}]",
        ["channel 'ops'", "'enabled'"],
    ),
    "missing_name": (
        "channels: [{kind: webhook, url_env: A}]",
        ["channel #1", "'name'"],
    ),
    "channel_not_a_mapping": (
        "channels: [ops]",
        ["channel #1", "mapping"],
    ),
}

TOP_LEVEL_ERRORS = {
    "unknown_top_level_level": ("min_level: orange\n", ["top level", "'min_level'", "orange"]),
    "zero_attempts": ("retry: {attempts: 0}\n", ["'retry'", "'attempts'", "positive"]),
    "negative_attempts": ("retry: {attempts: -2}\n", ["'retry'", "'attempts'"]),
    "fractional_attempts": ("retry: {attempts: 2.5}\n", ["'retry'", "'attempts'"]),
    "zero_timeout": ("retry: {timeout_seconds: 0}\n", ["'retry'", "'timeout_seconds'"]),
    "cap_below_backoff": (
        "retry: {backoff_seconds: 5, max_backoff_seconds: 2}\n",
        ["'retry'", "'max_backoff_seconds'"],
    ),
    "unknown_retry_key": ("retry: {attempt: 3}\n", ["'retry'", "unknown field", "'attempt'"]),
    "zero_notice_deadline": (
        "deadline: {notice_seconds: 0}\n",
        ["'deadline'", "'notice_seconds'", "positive"],
    ),
    "notice_deadline_over_run_deadline": (
        "deadline: {notice_seconds: 60, run_seconds: 30}\n",
        ["'deadline'", "'notice_seconds'", "must not exceed 'run_seconds'"],
    ),
    "unknown_deadline_key": (
        "deadline: {total_seconds: 60}\n",
        ["'deadline'", "unknown field", "'total_seconds'"],
    ),
    "deadline_not_a_mapping": ("deadline: 60\n", ["'deadline'", "mapping"]),
    "zero_breaker_failures": (
        "circuit_breaker: {failures: 0}\n",
        ["'circuit_breaker'", "'failures'", "positive integer"],
    ),
    "fractional_breaker_failures": (
        "circuit_breaker: {failures: 1.5}\n",
        ["'circuit_breaker'", "'failures'"],
    ),
    "negative_cooldown": (
        "circuit_breaker: {cooldown_seconds: -1}\n",
        ["'circuit_breaker'", "'cooldown_seconds'", "positive"],
    ),
    "unknown_top_level_key": ("chanels: []\n", ["top level", "unknown field", "'chanels'"]),
    "channels_not_a_list": ("channels: {name: ops}\n", ["'channels'", "list"]),
    "top_level_not_a_mapping": ("- a\n- b\n", ["top level", "mapping"]),
}


@pytest.mark.parametrize(
    ("text", "fragments"), list(CHANNEL_ERRORS.values()), ids=list(CHANNEL_ERRORS)
)
def test_channel_error_names_the_channel_and_the_field(tmp_path, text, fragments):
    message = _error(tmp_path, text)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert str(tmp_path / "notify.yml") in message  # and the file


@pytest.mark.parametrize(
    ("text", "fragments"), list(TOP_LEVEL_ERRORS.values()), ids=list(TOP_LEVEL_ERRORS)
)
def test_top_level_error_names_the_key_and_the_field(tmp_path, text, fragments):
    message = _error(tmp_path, text)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_a_url_variable_without_an_http_url_is_an_error_that_does_not_echo_the_value(tmp_path):
    message = _error(
        tmp_path,
        "channels: [{name: wx, kind: wecom, url_env: WX_URL}]",
        {"WX_URL": f"qyapi.weixin.qq.com/cgi-bin/webhook/send?key={TOKEN}"},
    )
    assert "channel 'wx'" in message and "WX_URL" in message
    assert TOKEN not in message


def test_invalid_yaml_and_missing_file_are_config_errors(tmp_path):
    assert "not valid YAML" in _error(tmp_path, "channels: [\n")
    with pytest.raises(NotifyConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yml", {})


# Notices ------------------------------------------------------------------------------------

AT = dt.datetime(2024, 7, 15, 14, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_notice_keeps_its_lines_as_a_tuple():
    notice = Notice("w1|橙", "opened", "橙", "【橙色预警】", ["一", "二"], AT)
    assert notice.lines == ("一", "二")
    assert notice.event_label == "新发布"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"level": "orange"}, "level"),
        ({"occurred_at": AT.replace(tzinfo=None)}, "time-zone aware"),
        ({"key": ""}, "key"),
        ({"lines": "一行"}, "lines"),
    ],
)
def test_notice_rejects_programming_errors(changes, fragment):
    arguments = {
        "key": "w1|橙",
        "event": "opened",
        "level": "橙",
        "title": "t",
        "lines": (),
        "occurred_at": AT,
    }
    with pytest.raises(ValueError, match=fragment):
        Notice(**{**arguments, **changes})
