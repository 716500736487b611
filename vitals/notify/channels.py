r"""Message formats, 加签 signatures and response rules of the four channel kinds.

One ``build_request`` turns a notice into the URL and JSON body of one channel; one
``read_response`` decides whether the answer is a success, a failure worth retrying (server
errors and rate limits) or a failure to record at once. Neither does any I/O.

References (the robots' own guides):
- 钉钉 自定义机器人: markdown ``{"msgtype", "markdown": {"title", "text"}}``; 加签 appends
  ``timestamp`` (ms) and ``sign`` = urlencode(base64(HmacSHA256(secret, f"{timestamp}\n{secret}")))
  to the URL; rate limit 20 messages a minute, errcode 130101 "send too fast".
- 企业微信 群机器人: markdown ``{"msgtype", "markdown": {"content"}}``, content at most 4096 bytes
  of UTF-8 (errcode 40058 beyond); colours ``info`` / ``comment`` / ``warning`` only; rate
  limit 20 messages a minute, errcode 45009 "api freq out of limit".
- 飞书 自定义机器人: ``{"msg_type": "post", "content": {"post": {"zh_cn": …}}}``, body at most
  20 KB; 签名校验 adds ``timestamp`` (s, string) and ``sign`` = base64(HmacSHA256(key=
  f"{timestamp}\n{secret}", msg="")) to the body; success ``code == 0`` (older answers:
  ``StatusCode == 0``); rate limit 100 a minute / 5 a second, code 11232 (custom robots) or
  99991400 (open-platform frequency control, with HTTP 429 or 400). Code 9499 is "Bad Request"
  (malformed body), which a retry cannot fix.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import httpx

from vitals.notify.config import ChannelConfig
from vitals.notify.notice import Notice

SHANGHAI = ZoneInfo("Asia/Shanghai")

# 企业微信 markdown.content limit (bytes of UTF-8).
WECOM_MARKDOWN_BYTES = 4096
# 飞书 limits the whole request body to 20 KB; the lines get this much, leaving room for the
# title, JSON quoting and the signature.
FEISHU_LINES_BYTES = 16 * 1024
TRUNCATED = "…（内容过长，已截断）"

# Robot error codes that mean "too fast": worth retrying after a back-off.
RATE_LIMIT_CODES: Mapping[str, frozenset[int]] = {
    "webhook": frozenset(),
    "dingtalk": frozenset({130101}),
    "wecom": frozenset({45009}),
    "feishu": frozenset({11232, 99991400}),
}

# Colours by level. 钉钉 takes any hex colour (unquoted, or phones ignore it); 企业微信 has only
# three: warning (orange-red), info (green), comment (grey), so 蓝 is shown as info.
_DINGTALK_COLOURS = {"红": "#E02020", "橙": "#FF7A00", "黄": "#D4A500", "蓝": "#1E6FD9"}
_WECOM_COLOURS = {"红": "warning", "橙": "warning", "黄": "warning", "蓝": "info"}


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended: ``ok``, or an error and whether a retry may succeed.

    ``deadline_exceeded``: the attempt was cut off (or not made) because the notice's or the
    run's deadline came first.
    """

    ok: bool
    retryable: bool = False
    status_code: int | None = None
    error: str | None = None
    deadline_exceeded: bool = False


def build_request(
    channel: ChannelConfig, notice: Notice, sent_at: datetime
) -> tuple[httpx.URL, dict[str, Any]]:
    """The URL (with 钉钉 signature parameters) and JSON body of one notice for one channel.

    ``sent_at`` is the signing time: both robots reject signatures older than an hour.
    """
    if not channel.url:
        raise ValueError(f"channel '{channel.name}' has no URL ({channel.url_env} unset)")
    url = httpx.URL(channel.url)
    if channel.kind == "webhook":
        return url, webhook_body(notice)
    if channel.kind == "dingtalk":
        if channel.secret:
            timestamp, sign = dingtalk_signature(channel.secret, sent_at)
            # httpx percent-encodes the parameter once: that is the urlencode of the guide.
            url = url.copy_merge_params({"timestamp": timestamp, "sign": sign})
        return url, dingtalk_body(notice)
    if channel.kind == "wecom":
        return url, wecom_body(notice)
    if channel.kind == "feishu":
        body = feishu_body(notice)
        if channel.secret:
            timestamp, sign = feishu_signature(channel.secret, sent_at)
            body = {"timestamp": timestamp, "sign": sign, **body}
        return url, body
    raise ValueError(f"channel '{channel.name}': unknown kind {channel.kind!r}")


def encode_body(body: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON with Chinese kept as is; values JSON cannot hold (dates, decimals) as text."""
    return json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")


# Signatures ---------------------------------------------------------------------------------


def dingtalk_signature(secret: str, sent_at: datetime) -> tuple[str, str]:
    r"""钉钉 加签: (timestamp in ms, base64 HmacSHA256 of "timestamp\nsecret" keyed by secret).

    The signature is returned before URL encoding; ``build_request`` encodes it once.
    """
    timestamp = str(int(sent_at.timestamp() * 1000))
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return timestamp, base64.b64encode(digest).decode("ascii")


def feishu_signature(secret: str, sent_at: datetime) -> tuple[str, str]:
    r"""飞书 签名校验: (timestamp in s, base64 HmacSHA256 keyed by "timestamp\nsecret" of b"")."""
    timestamp = str(int(sent_at.timestamp()))
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return timestamp, base64.b64encode(digest).decode("ascii")


# Bodies -------------------------------------------------------------------------------------


def webhook_body(notice: Notice) -> dict[str, Any]:
    """The generic JSON webhook body: the notice itself, ``occurred_at`` in ISO 8601."""
    return {
        "event": notice.event,
        "key": notice.key,
        "level": notice.level,
        "title": notice.title,
        "lines": list(notice.lines),
        "occurred_at": notice.occurred_at.isoformat(),
        "fields": dict(notice.fields),
    }


def _footer(notice: Notice) -> str:
    local = notice.occurred_at.astimezone(SHANGHAI)
    return f"{notice.event_label} · {local:%Y-%m-%d %H:%M}"


def dingtalk_body(notice: Notice) -> dict[str, Any]:
    """钉钉 markdown: coloured title, one list item per line, a footer with time and event."""
    title = notice.title
    if notice.level is not None:
        title = f"<font color={_DINGTALK_COLOURS[notice.level]}>{title}</font>"
    parts = [f"#### {title}"]
    parts.extend(f"- {line}" for line in notice.lines)
    parts.append(f"###### {_footer(notice)}")
    # 钉钉 markdown needs a blank line between blocks to break lines.
    return {"msgtype": "markdown", "markdown": {"title": notice.title, "text": "\n\n".join(parts)}}


def wecom_body(notice: Notice) -> dict[str, Any]:
    """企业微信 markdown: coloured title, quoted lines, cut to 4096 bytes on a line boundary."""
    title = notice.title
    if notice.level is not None:
        title = f'<font color="{_WECOM_COLOURS[notice.level]}">{title}</font>'
    lines = [f"### {title}"]
    lines.extend(f"> {line}" for line in notice.lines)
    # A blank line ends the quote; without it the footer joins the last quoted line.
    lines.extend(["", f'<font color="comment">{_footer(notice)}</font>'])
    content = truncate_lines(lines, WECOM_MARKDOWN_BYTES)
    return {"msgtype": "markdown", "markdown": {"content": content}}


def feishu_body(notice: Notice) -> dict[str, Any]:
    """飞书 rich text (post): the title, one paragraph per line, then the footer."""
    lines = truncate_lines([*notice.lines, _footer(notice)], FEISHU_LINES_BYTES).split("\n")
    return {
        "msg_type": "post",
        "content": {
            "post": {
                "zh_cn": {
                    "title": notice.title,
                    "content": [[{"tag": "text", "text": line}] for line in lines],
                }
            }
        },
    }


def truncate_lines(lines: list[str], limit: int) -> str:
    """Join lines with newlines in at most ``limit`` UTF-8 bytes, dropping whole lines first.

    Never splits a character, and never leaves a ``<font>`` tag open: a robot shows a broken
    tag as raw text or rejects the message.
    """
    text = "\n".join(lines)
    if _size(text) <= limit:
        return text
    marker = "\n" + TRUNCATED
    kept: list[str] = []
    for line in lines:
        if _size("\n".join([*kept, line]) + marker) > limit:
            break
        kept.append(line)
    if kept:
        return "\n".join(kept) + marker
    # Even the first line is too long: cut it by bytes on a character boundary.
    room = limit - _size(marker)
    head = lines[0].encode("utf-8")[: max(room, 0)].decode("utf-8", errors="ignore")
    if head.count("<font") > head.count("</font>"):
        head = head[: head.rfind("<font")]
    return head + marker


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


# Responses ----------------------------------------------------------------------------------


def read_response(kind: str, response: httpx.Response) -> Outcome:
    """Success, retryable failure (5xx, 429, rate-limit codes) or final failure of an answer."""
    status = response.status_code
    if kind == "webhook":
        if response.is_success:
            return Outcome(ok=True, status_code=status)
        return Outcome(
            ok=False,
            retryable=_retryable_status(status),
            status_code=status,
            error=f"HTTP {status}{_snippet(response)}",
        )

    payload = _json_object(response)
    code, message = _robot_code(kind, payload)
    if status == 200 and code == 0:
        return Outcome(ok=True, status_code=status)
    if code is not None and code in RATE_LIMIT_CODES[kind]:
        return Outcome(
            ok=False,
            retryable=True,
            status_code=status,
            error=f"HTTP {status}, rate limited: code {code} {message}".rstrip(),
        )
    if status != 200 or payload is None:
        detail = f", code {code} {message}".rstrip() if code is not None else _snippet(response)
        return Outcome(
            ok=False,
            retryable=_retryable_status(status),
            status_code=status,
            error=f"HTTP {status}{detail}",
        )
    if code is None:
        return Outcome(
            ok=False, status_code=status, error=f"HTTP {status}, no result code{_snippet(response)}"
        )
    return Outcome(ok=False, status_code=status, error=f"code {code} {message}".rstrip())


def _retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _robot_code(kind: str, payload: dict[str, Any] | None) -> tuple[int | None, str]:
    """The robot's result code and message: errcode/errmsg, or 飞书 code/msg (StatusCode)."""
    if payload is None:
        return None, ""
    if kind == "feishu":
        raw = payload.get("code", payload.get("StatusCode"))
        message = payload.get("msg", payload.get("StatusMessage", ""))
    else:
        raw = payload.get("errcode")
        message = payload.get("errmsg", "")
    code = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    return code, str(message)


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    text = response.text.strip().replace("\n", " ")
    return f": {text[:limit]}" if text else ""


# Redaction ----------------------------------------------------------------------------------


def secret_parts(channel: ChannelConfig) -> tuple[str, ...]:
    """Strings that must never reach a log: the URL, its token parts, and the secret."""
    parts: list[str] = []
    if channel.url:
        parts.append(channel.url)
        split = urlsplit(channel.url)
        parts.extend(value for _, value in parse_qsl(split.query) if value)
        # 飞书 and many gateways put the token in the path (…/hook/<token>).
        parts.extend(segment for segment in split.path.split("/") if len(segment) >= 8)
    if channel.secret:
        parts.append(channel.secret)
    # Longest first, so a URL is replaced whole before its token inside it.
    return tuple(sorted(set(parts), key=len, reverse=True))


def redact(text: str, parts: tuple[str, ...]) -> str:
    """``text`` with every secret part replaced by ``***``."""
    for part in parts:
        text = text.replace(part, "***")
    return text
