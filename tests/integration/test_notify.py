"""The notifier against a real local HTTP server that plays the four kinds of robot.

The server records every request (path, query, headers, JSON body) and answers from a script
per path; a script's last answer repeats. Back-off waits go through an injected ``sleep`` that
only records them, so nothing here waits for real except the timeout test (0.1 s per attempt).
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import shutil
import socket
import textwrap
import time

import dagster as dg
import httpx
import pytest
import yaml

from tests.integration.robots import TOKEN, Answer
from vitals.notify import Notice, load_config, notify

pytestmark = pytest.mark.integration

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
AT = dt.datetime(2024, 7, 15, 14, 5, tzinfo=SHANGHAI)
SECRET = "SECb1946ac92492d2347c6235b4d2611184"
LOG_FIELDS = {
    "at",
    "channel",
    "kind",
    "key",
    "event",
    "level",
    "attempt",
    "ok",
    "outcome",
    "status_code",
    "error",
    "elapsed_ms",
}


# Helpers ------------------------------------------------------------------------------------


def _config(tmp_path, channels, environ, **top):
    path = tmp_path / "notify.yml"
    path.write_text(
        yaml.safe_dump({**top, "channels": channels}, allow_unicode=True), encoding="utf-8"
    )
    return load_config(path, environ)


def _notice(key="w-0715-001|橙", level="橙", event="opened", **changes):
    values = {
        "key": key,
        "event": event,
        "level": level,
        "title": "【橙色预警】静安寺街道 1小时降雨量 58.2 mm",
        "lines": ("站点：静安寺站（JA-RAIN-003）", "1小时降雨量 58.2 mm，超过 50 mm 阈值"),
        "occurred_at": AT,
        "fields": {"warning_id": "w-0715-001", "street": "静安寺街道", "value_mm": 58.2},
    }
    return Notice(**{**values, **changes})


def _log(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _send(tmp_path, notices, config, **kwargs):
    sleeps: list[float] = []
    report = notify(
        notices, config, tmp_path / "logs" / "notify.jsonl", sleep=sleeps.append, **kwargs
    )
    return report, sleeps


# Formats as received ------------------------------------------------------------------------


def test_webhook_receives_the_notice_as_json(tmp_path, robot):
    config = _config(
        tmp_path,
        [{"name": "hook", "kind": "webhook", "url_env": "HOOK"}],
        {"HOOK": robot.url("/hook")},
    )
    notice = _notice(fields={"warning_id": "w-0715-001", "observed_date": dt.date(2024, 7, 15)})
    report, _ = _send(tmp_path, [notice], config)

    (request,) = robot.at("/hook")
    assert request.body == {
        "event": "opened",
        "key": "w-0715-001|橙",
        "level": "橙",
        "title": "【橙色预警】静安寺街道 1小时降雨量 58.2 mm",
        "lines": ["站点：静安寺站（JA-RAIN-003）", "1小时降雨量 58.2 mm，超过 50 mm 阈值"],
        "occurred_at": "2024-07-15T14:05:00+08:00",
        "fields": {"warning_id": "w-0715-001", "observed_date": "2024-07-15"},  # dates as text
    }
    assert request.headers["content-type"].startswith("application/json")
    assert request.query["access_token"] == [TOKEN]  # the URL's own query is kept
    assert report.channels["hook"].sent == 1 and report.ok


def test_dingtalk_receives_markdown_signed_with_timestamp_and_sign(tmp_path, robot):
    config = _config(
        tmp_path,
        [{"name": "dt", "kind": "dingtalk", "url_env": "DT", "secret_env": "DT_SECRET"}],
        {"DT": robot.url("/dingtalk"), "DT_SECRET": SECRET},
    )
    _send(tmp_path, [_notice()], config)

    (request,) = robot.at("/dingtalk")
    assert request.body["msgtype"] == "markdown"
    assert request.body["markdown"]["title"] == "【橙色预警】静安寺街道 1小时降雨量 58.2 mm"
    text = request.body["markdown"]["text"]
    assert "<font color=#FF7A00>【橙色预警】静安寺街道" in text  # unquoted: phones need that
    assert "- 站点：静安寺站（JA-RAIN-003）" in text
    assert "新发布 · 2024-07-15 14:05" in text

    assert request.query["access_token"] == [TOKEN]
    (timestamp,) = request.query["timestamp"]
    assert abs(int(timestamp) - time.time() * 1000) < 60_000  # milliseconds, now
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert request.query["sign"] == [expected]
    # urlencoded once: base64's + / = arrive percent-encoded, never as a raw "+" (a space).
    raw_sign = dict(part.split("=", 1) for part in request.raw_query.split("&"))["sign"]
    assert "+" not in raw_sign and "/" not in raw_sign and "=" not in raw_sign


def test_dingtalk_without_a_secret_sends_no_signature(tmp_path, robot):
    config = _config(
        tmp_path,
        [{"name": "dt", "kind": "dingtalk", "url_env": "DT", "secret_env": "DT_SECRET"}],
        {"DT": robot.url("/dingtalk")},
    )
    _send(tmp_path, [_notice()], config)
    (request,) = robot.at("/dingtalk")
    assert set(request.query) == {"access_token"}


def test_wecom_receives_markdown_with_the_level_colour(tmp_path, robot):
    config = _config(
        tmp_path, [{"name": "wx", "kind": "wecom", "url_env": "WX"}], {"WX": robot.url("/wecom")}
    )
    _send(
        tmp_path,
        [_notice(), _notice(key="w2|蓝", level="蓝", title="【蓝色预警】彭浦镇 高温")],
        config,
    )

    orange, blue = robot.at("/wecom")
    assert orange.body["msgtype"] == "markdown"
    assert set(orange.body["markdown"]) == {"content"}
    content = orange.body["markdown"]["content"]
    assert content.startswith('### <font color="warning">【橙色预警】静安寺街道')
    assert "> 1小时降雨量 58.2 mm，超过 50 mm 阈值" in content
    assert blue.body["markdown"]["content"].startswith('### <font color="info">【蓝色预警】')


def test_wecom_markdown_over_4096_bytes_is_cut_on_a_line_boundary(tmp_path, robot):
    config = _config(
        tmp_path, [{"name": "wx", "kind": "wecom", "url_env": "WX"}], {"WX": robot.url("/wecom")}
    )
    # 300 lines of 11 Chinese characters: about 10 KB of UTF-8 (3 bytes a character).
    lines = tuple(f"第{n:03d}号网格积水点位已出警" for n in range(300))
    report, _ = _send(tmp_path, [_notice(lines=lines)], config)

    (request,) = robot.at("/wecom")
    content = request.body["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096
    assert content.endswith("…（内容过长，已截断）")
    kept = [line for line in content.split("\n") if line.startswith("> ")]
    assert 0 < len(kept) < 300
    assert all(line[2:] in lines for line in kept)  # whole lines only
    assert report.ok


def test_feishu_receives_a_post_signed_in_the_body(tmp_path, robot):
    config = _config(
        tmp_path,
        [{"name": "fs", "kind": "feishu", "url_env": "FS", "secret_env": "FS_SECRET"}],
        {"FS": f"{robot.base}/open-apis/bot/v2/hook/{TOKEN}", "FS_SECRET": SECRET},
    )
    report, _ = _send(tmp_path, [_notice()], config)

    (request,) = robot.at(f"/open-apis/bot/v2/hook/{TOKEN}")
    body = request.body
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    assert post["title"] == "【橙色预警】静安寺街道 1小时降雨量 58.2 mm"
    assert post["content"][0] == [{"tag": "text", "text": "站点：静安寺站（JA-RAIN-003）"}]

    timestamp = body["timestamp"]
    assert isinstance(timestamp, str) and abs(int(timestamp) - time.time()) < 60  # seconds
    expected = base64.b64encode(
        hmac.new(f"{timestamp}\n{SECRET}".encode(), b"", hashlib.sha256).digest()
    ).decode()
    assert body["sign"] == expected
    assert report.ok


def test_feishu_older_statuscode_answer_counts_as_success(tmp_path, robot):
    robot.script("/feishu", Answer(body={"StatusCode": 0, "StatusMessage": "success"}))
    config = _config(
        tmp_path, [{"name": "fs", "kind": "feishu", "url_env": "FS"}], {"FS": robot.url("/feishu")}
    )
    report, _ = _send(tmp_path, [_notice()], config)
    assert report.channels["fs"].sent == 1
    assert "sign" not in robot.at("/feishu")[0].body  # no secret, no signature


# Retries ------------------------------------------------------------------------------------


def test_channel_that_fails_twice_then_recovers_is_sent_on_the_third_attempt(tmp_path, robot):
    robot.script("/flaky", Answer(500), Answer(500), Answer(200, {"errcode": 0}))
    config = _config(
        tmp_path, [{"name": "dt", "kind": "dingtalk", "url_env": "DT"}], {"DT": robot.url("/flaky")}
    )
    report, sleeps = _send(tmp_path, [_notice()], config)

    assert len(robot.at("/flaky")) == 3
    attempts = _log(tmp_path / "logs" / "notify.jsonl")
    assert [(a["attempt"], a["ok"], a["status_code"], a["outcome"]) for a in attempts] == [
        (1, False, 500, "retrying"),
        (2, False, 500, "retrying"),
        (3, True, 200, "delivered"),
    ]
    assert sleeps == [1, 2]  # exponential back-off, through the injected sleep
    assert report.channels["dt"].sent == 1 and report.ok


def test_channel_that_is_down_does_not_stop_the_others(tmp_path, robot):
    robot.script("/down", Answer(503, b"<html>upstream unavailable</html>"))
    config = _config(
        tmp_path,
        [
            {"name": "down", "kind": "wecom", "url_env": "DOWN"},
            {"name": "up", "kind": "webhook", "url_env": "UP"},
        ],
        {"DOWN": robot.url("/down"), "UP": robot.url("/up")},
    )
    notices = [_notice(), _notice(key="w-0715-002|红", level="红")]
    report, sleeps = _send(tmp_path, notices, config)

    assert len(robot.at("/up")) == 2
    assert len(robot.at("/down")) == 2 * 4  # two notices, four attempts each
    assert report.channels["up"].sent == 2
    assert report.channels["down"].failed == 2
    assert [(f.channel, f.key, f.attempts) for f in report.failures] == [
        ("down", "w-0715-001|橙", 4),
        ("down", "w-0715-002|红", 4),
    ]
    assert "HTTP 503" in report.failures[0].error
    assert sleeps == [1, 2, 4, 1, 2, 4]
    down_lines = [a for a in _log(tmp_path / "logs" / "notify.jsonl") if a["channel"] == "down"]
    assert [a["attempt"] for a in down_lines] == [1, 2, 3, 4, 1, 2, 3, 4]
    assert [a["outcome"] for a in down_lines] == 2 * ["retrying", "retrying", "retrying", "failed"]
    assert not any(a["ok"] for a in down_lines)
    assert not report.ok
    assert "FAILED down w-0715-001|橙 after 4 attempt(s): HTTP 503" in report.summary()


@pytest.mark.parametrize(
    ("kind", "answer", "fragment"),
    [
        ("dingtalk", Answer(200, {"errcode": 310000, "errmsg": "sign not match"}), "310000"),
        ("wecom", Answer(200, {"errcode": 93000, "errmsg": "invalid webhook url"}), "93000"),
        ("feishu", Answer(400, {"code": 9499, "msg": "Bad Request", "data": {}}), "9499"),
        ("feishu", Answer(200, {"code": 19021, "msg": "sign match fail"}), "19021"),
        ("webhook", Answer(404, b"not found"), "HTTP 404"),
    ],
    ids=["dingtalk-sign", "wecom-url", "feishu-bad-request", "feishu-sign", "webhook-404"],
)
def test_non_retryable_error_is_recorded_after_one_attempt(tmp_path, robot, kind, answer, fragment):
    robot.script("/badtoken", answer)
    config = _config(
        tmp_path, [{"name": "bot", "kind": kind, "url_env": "BOT"}], {"BOT": robot.url("/badtoken")}
    )
    report, sleeps = _send(tmp_path, [_notice()], config)

    assert len(robot.at("/badtoken")) == 1
    assert sleeps == []
    (failure,) = report.failures
    assert failure.attempts == 1 and fragment in failure.error
    (line,) = _log(tmp_path / "logs" / "notify.jsonl")
    assert line["ok"] is False and fragment in line["error"]


@pytest.mark.parametrize(
    ("kind", "answer"),
    [
        ("dingtalk", Answer(200, {"errcode": 130101, "errmsg": "send too fast"})),
        ("wecom", Answer(200, {"errcode": 45009, "errmsg": "api freq out of limit"})),
        ("feishu", Answer(200, {"code": 11232, "msg": "frequency limited"})),
        ("feishu", Answer(429, {"code": 99991400, "msg": "request trigger frequency limit"})),
        ("webhook", Answer(429, b"slow down")),
    ],
    ids=["dingtalk-130101", "wecom-45009", "feishu-11232", "feishu-429", "webhook-429"],
)
def test_rate_limit_answers_are_retried(tmp_path, robot, kind, answer):
    robot.script("/busy", answer, Answer())
    config = _config(
        tmp_path, [{"name": "bot", "kind": kind, "url_env": "BOT"}], {"BOT": robot.url("/busy")}
    )
    report, sleeps = _send(tmp_path, [_notice()], config)
    assert len(robot.at("/busy")) == 2
    assert sleeps == [1]
    assert report.channels["bot"].sent == 1


def test_backoff_is_capped_by_max_backoff_seconds(tmp_path, robot):
    robot.script("/down", Answer(502))
    config = _config(
        tmp_path,
        [{"name": "hook", "kind": "webhook", "url_env": "HOOK"}],
        {"HOOK": robot.url("/down")},
        retry={"attempts": 6, "backoff_seconds": 0.5, "max_backoff_seconds": 3},
    )
    _, sleeps = _send(tmp_path, [_notice()], config)
    assert sleeps == [0.5, 1, 2, 3, 3]


def test_timeout_is_retried(tmp_path, robot):
    robot.script("/slow", Answer(delay=0.5), Answer())
    config = _config(
        tmp_path,
        [{"name": "hook", "kind": "webhook", "url_env": "HOOK"}],
        {"HOOK": robot.url("/slow")},
        retry={"timeout_seconds": 0.1},
    )
    report, sleeps = _send(tmp_path, [_notice()], config)
    first, second = _log(tmp_path / "logs" / "notify.jsonl")
    assert first["ok"] is False and first["error"].startswith("timeout")
    assert first["status_code"] is None
    assert second["ok"] is True
    assert sleeps == [1] and report.ok


def test_refused_connection_is_retried_then_reported(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = _config(
        tmp_path,
        [{"name": "hook", "kind": "webhook", "url_env": "HOOK"}],
        {"HOOK": f"http://127.0.0.1:{port}/hook?token={TOKEN}"},
        retry={"attempts": 2},
    )
    report, sleeps = _send(tmp_path, [_notice()], config)
    (failure,) = report.failures
    assert failure.attempts == 2 and "ConnectError" in failure.error
    assert sleeps == [1]


# De-duplication -----------------------------------------------------------------------------


def test_notice_sent_once_is_not_sent_again_by_the_next_call(tmp_path, robot):
    config = _config(
        tmp_path,
        [{"name": "hook", "kind": "webhook", "url_env": "HOOK"}],
        {"HOOK": robot.url("/hook")},
    )
    first, _ = _send(tmp_path, [_notice()], config)
    second, _ = _send(tmp_path, [_notice(), _notice(key="w-0715-001|红", level="红")], config)

    assert [r.body["key"] for r in robot.at("/hook")] == ["w-0715-001|橙", "w-0715-001|红"]
    assert first.channels["hook"].sent == 1
    assert (second.channels["hook"].sent, second.channels["hook"].skipped_duplicate) == (1, 1)


def test_duplicate_keys_within_a_batch_are_sent_once(tmp_path, robot):
    config = _config(
        tmp_path,
        [{"name": "hook", "kind": "webhook", "url_env": "HOOK"}],
        {"HOOK": robot.url("/hook")},
    )
    report, _ = _send(tmp_path, [_notice(), _notice(), _notice(event="escalated")], config)
    assert len(robot.at("/hook")) == 1
    assert report.channels["hook"].sent == 1
    assert report.channels["hook"].skipped_duplicate == 2


def test_failed_notice_is_resent_by_the_next_call_only_where_it_failed(tmp_path, robot):
    robot.script("/wecom", Answer(503))
    config = _config(
        tmp_path,
        [
            {"name": "wx", "kind": "wecom", "url_env": "WX"},
            {"name": "dt", "kind": "dingtalk", "url_env": "DT"},
        ],
        {"WX": robot.url("/wecom"), "DT": robot.url("/dingtalk")},
        retry={"attempts": 1},
    )
    first, _ = _send(tmp_path, [_notice()], config)
    assert first.channels["wx"].failed == 1 and first.channels["dt"].sent == 1

    robot.script("/wecom", Answer())  # the robot is back
    second, _ = _send(tmp_path, [_notice()], config)
    assert second.channels["wx"].sent == 1
    assert second.channels["dt"].skipped_duplicate == 1
    assert len(robot.at("/wecom")) == 2 and len(robot.at("/dingtalk")) == 1


def test_a_corrupt_log_line_does_not_stop_de_duplication(tmp_path, robot):
    config = _config(
        tmp_path,
        [{"name": "hook", "kind": "webhook", "url_env": "HOOK"}],
        {"HOOK": robot.url("/hook")},
    )
    _send(tmp_path, [_notice()], config)
    log = tmp_path / "logs" / "notify.jsonl"
    log.write_text('{"at": "2024-07-15T14:0\n' + log.read_text(encoding="utf-8"), encoding="utf-8")
    report, _ = _send(tmp_path, [_notice()], config)
    assert report.channels["hook"].skipped_duplicate == 1
    assert len(robot.at("/hook")) == 1


# Deadlines and the circuit breaker ------------------------------------------------------------

# A header line every 0.1 s: each one beats the 0.8 s read timeout of QUICK by far, so only a
# total deadline (1 s a notice in QUICK) ends the request. The robot stops dripping after 60 s.
DRIP = Answer(drip=0.1)
QUICK = {"retry": {"timeout_seconds": 0.8}, "deadline": {"notice_seconds": 1, "run_seconds": 10}}
# One attempt a notice; two failed notices in a row open a channel for 10 minutes.
BREAKER = {"retry": {"attempts": 1}, "circuit_breaker": {"failures": 2, "cooldown_seconds": 600}}


def _hook_config(tmp_path, url, **top):
    """One webhook channel, ``hook``, at ``url``."""
    return _config(
        tmp_path, [{"name": "hook", "kind": "webhook", "url_env": "HOOK"}], {"HOOK": url}, **top
    )


def _wait_for(condition, seconds=10.0):
    """Poll until ``condition()`` holds; fail after ``seconds`` (a bound, not a measurement)."""
    ends = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < ends, "condition not reached"
        time.sleep(0.05)


def _outcomes(tmp_path, channel=None):
    """(key, attempt, outcome) of each log line, in order."""
    return [
        (line["key"], line["attempt"], line["outcome"])
        for line in _log(tmp_path / "logs" / "notify.jsonl")
        if channel is None or line["channel"] == channel
    ]


def test_an_answer_that_drips_is_cut_off_at_the_notice_deadline(tmp_path, robot):
    robot.script("/drip", DRIP)
    config = _hook_config(tmp_path, robot.url("/drip"), **QUICK)
    report, sleeps = _send(tmp_path, [_notice()], config)

    (line,) = _log(tmp_path / "logs" / "notify.jsonl")
    assert (line["attempt"], line["ok"], line["outcome"]) == (1, False, "deadline_exceeded")
    assert "no complete answer within the notice deadline (1 s)" in line["error"]
    (failure,) = report.failures
    assert (failure.outcome, failure.attempts) == ("deadline_exceeded", 1)
    # The deadline left no time for the 3 retries of the policy.
    assert len(robot.at("/drip")) == 1 and sleeps == []


def test_a_request_cut_off_at_the_deadline_does_not_linger(tmp_path, robot):
    robot.script("/drip", DRIP)
    config = _hook_config(tmp_path, robot.url("/drip"), **QUICK)
    # A caller's client stays open after the call: only shutting the cut-off request's
    # connection down ends the robot's drip (it would go on for a minute otherwise).
    with httpx.Client() as client:
        report, _ = _send(tmp_path, [_notice()], config, client=client)
        assert report.failures[0].outcome == "deadline_exceeded"
        _wait_for(lambda: robot.hung_up == 1)


def test_a_notice_cut_off_by_its_deadline_is_sent_by_the_next_run_and_only_once(tmp_path, robot):
    robot.script("/hook", DRIP)
    config = _hook_config(tmp_path, robot.url("/hook"), **QUICK)
    first, _ = _send(tmp_path, [_notice()], config)
    robot.script("/hook", Answer())  # the robot answers properly again
    second, _ = _send(tmp_path, [_notice()], config)
    third, _ = _send(tmp_path, [_notice()], config)

    assert first.channels["hook"].failed == 1
    assert second.channels["hook"].sent == 1
    assert third.channels["hook"].skipped_duplicate == 1
    assert len(robot.at("/hook")) == 2
    assert _outcomes(tmp_path) == [
        ("w-0715-001|橙", 1, "deadline_exceeded"),
        ("w-0715-001|橙", 1, "delivered"),
    ]


def test_a_retry_wait_that_would_end_past_the_deadline_is_not_waited(tmp_path, robot):
    robot.script("/down", Answer(503, b"upstream busy"))
    config = _hook_config(
        tmp_path,
        robot.url("/down"),
        retry={"backoff_seconds": 5, "max_backoff_seconds": 5},
        deadline={"notice_seconds": 1, "run_seconds": 10},
    )
    report, sleeps = _send(tmp_path, [_notice()], config)

    assert sleeps == []  # a 5 s wait would end after the 1 s deadline
    (line,) = _log(tmp_path / "logs" / "notify.jsonl")
    assert line["outcome"] == "deadline_exceeded"
    assert line["error"] == (
        "HTTP 503: upstream busy; not retried: the next attempt would start after "
        "the notice deadline (1 s)"
    )
    assert report.failures[0].outcome == "deadline_exceeded"


def test_the_run_deadline_ends_the_call_and_logs_the_notices_not_attempted(tmp_path, robot):
    robot.script("/drip", DRIP)
    config = _hook_config(
        tmp_path,
        robot.url("/drip"),
        retry={"timeout_seconds": 0.8},
        deadline={"notice_seconds": 1, "run_seconds": 1.5},
        circuit_breaker={"failures": 10},  # the run deadline, not the breaker, ends this call
    )
    notices = [_notice(key=f"w-{n}|橙") for n in range(5)]
    report, _ = _send(tmp_path, notices, config)

    lines = _outcomes(tmp_path)
    assert [key for key, _, _ in lines] == [notice.key for notice in notices]  # one line each
    assert {outcome for _, _, outcome in lines} == {"deadline_exceeded"}
    assert lines[0][1] == 1  # the first notice was sent and cut off …
    assert lines[-1][1] == 0  # … the last was not attempted at all
    last = _log(tmp_path / "logs" / "notify.jsonl")[-1]
    assert last["error"] == "not attempted: the run deadline (1.5 s) had passed"
    counts = report.channels["hook"]
    assert counts.failed + counts.not_attempted == 5 and counts.not_attempted >= 1
    assert "NOT ATTEMPTED hook:" in report.summary()


def test_a_stuck_channel_does_not_delay_the_others(tmp_path, robot):
    robot.script("/drip", DRIP)
    config = _config(
        tmp_path,
        [
            {"name": "stuck", "kind": "webhook", "url_env": "STUCK"},
            {"name": "up", "kind": "webhook", "url_env": "UP"},
        ],
        {"STUCK": robot.url("/drip"), "UP": robot.url("/up")},
        retry={"timeout_seconds": 0.8},
        deadline={"notice_seconds": 1, "run_seconds": 1.5},
        circuit_breaker={"failures": 10},
    )
    notices = [_notice(key=f"w-{n}|橙") for n in range(5)]
    report, _ = _send(tmp_path, notices, config)

    # Channels are served side by side: the stuck one uses up the run, the other is not held.
    assert report.channels["up"].sent == 5
    assert report.channels["stuck"].sent == 0


def test_a_channel_failing_notices_in_a_row_is_skipped_as_circuit_open(tmp_path, robot):
    robot.script("/down", Answer(503))
    config = _config(
        tmp_path,
        [
            {"name": "down", "kind": "webhook", "url_env": "DOWN"},
            {"name": "up", "kind": "webhook", "url_env": "UP"},
        ],
        {"DOWN": robot.url("/down"), "UP": robot.url("/up")},
        **BREAKER,
    )
    notices = [_notice(key=f"w-{n}|橙") for n in range(4)]
    report, _ = _send(tmp_path, notices, config, now=lambda: AT)

    # Two failed notices open the breaker: the other two are logged, not sent.
    assert len(robot.at("/down")) == 2
    assert _outcomes(tmp_path, "down") == [
        ("w-0|橙", 1, "failed"),
        ("w-1|橙", 1, "failed"),
        ("w-2|橙", 0, "circuit_open"),
        ("w-3|橙", 0, "circuit_open"),
    ]
    down = report.channels["down"]
    assert (down.failed, down.not_attempted) == (2, 2)
    assert down.circuit == "open until 2024-07-15 14:15:00 (2 failed notices in a row)"
    assert "NOT ATTEMPTED down: 2 notice(s), not attempted: circuit open" in report.summary()
    assert report.channels["up"].sent == 4  # the breaker is per channel

    # The next run, inside the cool-down, reads the open breaker back from the log.
    again, _ = _send(tmp_path, notices, config, now=lambda: AT + dt.timedelta(minutes=5))
    assert len(robot.at("/down")) == 2
    assert again.channels["down"].not_attempted == 4
    assert again.channels["up"].skipped_duplicate == 4


def test_after_the_cool_down_one_probe_goes_out_and_closes_or_reopens_the_breaker(tmp_path, robot):
    robot.script("/hook", Answer(503))
    config = _hook_config(tmp_path, robot.url("/hook"), **BREAKER)
    notices = [_notice(key=f"w-{n}|橙") for n in range(3)]
    _send(tmp_path, notices, config, now=lambda: AT)  # two failures open it at 14:05
    assert len(robot.at("/hook")) == 2

    after_cooldown = AT + dt.timedelta(minutes=10, seconds=1)
    probed, _ = _send(tmp_path, notices, config, now=lambda: after_cooldown)
    assert len(robot.at("/hook")) == 3  # one probe, which failed: open again
    assert (probed.channels["hook"].failed, probed.channels["hook"].not_attempted) == (1, 2)

    robot.script("/hook", Answer())  # the robot is back …
    later = after_cooldown + dt.timedelta(minutes=5)
    waiting, _ = _send(tmp_path, notices, config, now=lambda: later)
    assert len(robot.at("/hook")) == 3  # … but the failed probe started a new cool-down

    recovered, _ = _send(
        tmp_path, notices, config, now=lambda: after_cooldown + dt.timedelta(minutes=10, seconds=1)
    )
    assert recovered.channels["hook"].sent == 3  # the probe closed it; the rest followed
    assert recovered.channels["hook"].circuit == "closed"
    assert len(robot.at("/hook")) == 6
    assert waiting.channels["hook"].not_attempted == 3


# Levels and channel states ------------------------------------------------------------------


def test_notices_below_a_channel_min_level_are_not_sent(tmp_path, robot):
    config = _config(
        tmp_path,
        [
            {"name": "duty", "kind": "webhook", "url_env": "DUTY", "min_level": "橙"},
            {"name": "all", "kind": "webhook", "url_env": "ALL"},  # inherits 黄
        ],
        {"DUTY": robot.url("/duty"), "ALL": robot.url("/all")},
        min_level="黄",
    )
    notices = [
        _notice(key="a|蓝", level="蓝"),
        _notice(key="a|黄", level="黄"),
        _notice(key="a|橙", level="橙"),
        _notice(key="a|红", level="红"),
        _notice(key="run-42", level=None, event="run_failed", title="【运行失败】ingest_sources"),
    ]
    report, _ = _send(tmp_path, notices, config)

    assert [r.body["key"] for r in robot.at("/duty")] == ["a|橙", "a|红", "run-42"]
    assert [r.body["key"] for r in robot.at("/all")] == ["a|黄", "a|橙", "a|红", "run-42"]
    assert report.channels["duty"].filtered_by_level == 2
    assert report.channels["all"].filtered_by_level == 1


def test_unset_env_var_disables_a_channel_without_an_error(tmp_path, robot):
    config = _config(
        tmp_path,
        [
            {"name": "dt", "kind": "dingtalk", "url_env": "DT", "secret_env": "DT_SECRET"},
            {"name": "wx", "kind": "wecom", "url_env": "WX"},
            {"name": "off", "kind": "webhook", "url_env": "OFF", "enabled": False},
        ],
        {"DT_SECRET": SECRET, "WX": "", "OFF": robot.url("/off")},
    )
    report, _ = _send(tmp_path, [_notice()], config)

    assert robot.requests == []
    assert report.ok and report.total("sent") == 0
    assert report.channels["dt"].status == "not configured (DT unset)"
    assert report.channels["off"].status == "disabled"
    assert "not configured (WX unset)" in report.summary()
    assert not (tmp_path / "logs" / "notify.jsonl").exists()  # nothing attempted


# Secrets ------------------------------------------------------------------------------------


def test_log_and_report_never_contain_urls_or_secrets(tmp_path, robot):
    # A robot that echoes the token back in its error, as some do ("token invalid: <token>").
    robot.script("/echo", Answer(400, {"errcode": 300005, "errmsg": f"token {TOKEN} is not exist"}))
    robot.script("/flaky", Answer(500, f"bad gateway for {TOKEN}"), Answer())
    feishu_token = "0f6e5d4c-3b2a-4190-8877-665544332211"
    environ = {
        "HOOK": robot.url("/flaky"),
        "DT": robot.url("/echo"),
        "DT_SECRET": SECRET,
        "WX": robot.url("/wecom"),
        "FS": f"{robot.base}/open-apis/bot/v2/hook/{feishu_token}",
        "FS_SECRET": SECRET,
    }
    config = _config(
        tmp_path,
        [
            {"name": "hook", "kind": "webhook", "url_env": "HOOK"},
            {"name": "dt", "kind": "dingtalk", "url_env": "DT", "secret_env": "DT_SECRET"},
            {"name": "wx", "kind": "wecom", "url_env": "WX"},
            {"name": "fs", "kind": "feishu", "url_env": "FS", "secret_env": "FS_SECRET"},
        ],
        environ,
    )
    report, _ = _send(tmp_path, [_notice()], config)

    log_text = (tmp_path / "logs" / "notify.jsonl").read_text(encoding="utf-8")
    assert len(log_text.splitlines()) == 5  # hook twice, the others once
    assert "300005" in log_text  # the error is kept, only the token is masked
    for text in (log_text, report.summary(), repr(report)):
        for secret in (TOKEN, SECRET, feishu_token, robot.base, "access_token"):
            assert secret not in text


def test_log_lines_have_the_documented_fields(tmp_path, robot):
    config = _config(
        tmp_path,
        [{"name": "hook", "kind": "webhook", "url_env": "HOOK"}],
        {"HOOK": robot.url("/hook")},
    )
    fixed = dt.datetime(2024, 7, 15, 14, 6, 30, tzinfo=SHANGHAI)
    _send(tmp_path, [_notice()], config, now=lambda: fixed)
    (line,) = _log(tmp_path / "logs" / "notify.jsonl")
    assert set(line) == LOG_FIELDS
    assert line["at"] == "2024-07-15T14:06:30.000+08:00"
    assert (line["channel"], line["kind"], line["key"], line["event"], line["level"]) == (
        "hook",
        "webhook",
        "w-0715-001|橙",
        "opened",
        "橙",
    )
    assert (line["attempt"], line["ok"], line["outcome"]) == (1, True, "delivered")
    assert (line["status_code"], line["error"]) == (200, None)
    assert isinstance(line["elapsed_ms"], int)


def test_summary_reads_as_a_short_table(tmp_path, robot):
    text = textwrap.dedent(
        """\
        notify: 1 sent, 0 duplicate, 0 below level, 0 failed
          hook  webhook   sent 1, duplicate 0, below level 0, failed 0
          dt    dingtalk  not configured (DT unset)"""
    )
    config = _config(
        tmp_path,
        [
            {"name": "hook", "kind": "webhook", "url_env": "HOOK"},
            {"name": "dt", "kind": "dingtalk", "url_env": "DT"},
        ],
        {"HOOK": robot.url("/hook")},
    )
    report, _ = _send(tmp_path, [_notice()], config)
    assert str(report) == text


# The Dagster step ---------------------------------------------------------------------------


def test_the_notification_step_of_build_warehouse_finishes_when_a_channel_drips(
    small_warehouse, robot, tmp_path, monkeypatch
):
    from dagster_project.definitions import defs

    built, _ = small_warehouse
    home = tmp_path / "home"  # the published snapshot only: this test writes its own log
    shutil.copytree(built / "serving", home / "serving", symlinks=True)
    robot.script("/drip", DRIP)
    config = tmp_path / "notify.yml"
    config.write_text(
        yaml.safe_dump(
            {
                **QUICK,
                "circuit_breaker": {"failures": 2},
                "channels": [
                    {"name": "stuck", "kind": "webhook", "url_env": "STUCK_URL"},
                    {"name": "up", "kind": "webhook", "url_env": "UP_URL"},
                ],
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("CITYOPS_NOTIFY_CONFIG", str(config))
    monkeypatch.setenv("STUCK_URL", robot.url("/drip"))
    monkeypatch.setenv("UP_URL", robot.url("/up"))

    result = defs.resolve_job_def("build_warehouse").execute_in_process(
        asset_selection=[dg.AssetKey(["vitals", "warning_notifications"])],
        instance=dg.DagsterInstance.ephemeral(),
        run_config={"resources": {"cityops": {"config": {"home": str(home)}}}},
        raise_on_error=False,
    )

    assert result.success  # delivery failures are logged, not raised
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    notices = metadata["notices"].value
    assert notices > 2
    assert metadata["sent"].value == notices  # every notice reached the healthy channel
    assert metadata["failed"].value == 2  # two cut off at the deadline open the breaker …
    assert metadata["not_attempted"].value == notices - 2  # … which skips the rest
    stuck = _log(home / "notify" / "deliveries.jsonl")
    outcomes = [line["outcome"] for line in stuck if line["channel"] == "stuck"]
    assert outcomes == 2 * ["deadline_exceeded"] + (notices - 2) * ["circuit_open"]
    assert len(robot.at("/drip")) == 2
