"""Total deadlines for the notifier's requests: httpx bounds each read, not a whole answer.

httpx's timeouts apply to each connect, each read and each write. A server that answers
"200" and then sends one header line every 3 s resets the read timeout with every line, and
keeps a request (and the pipeline step that sent it) waiting forever. ``post_within`` runs
the request in a daemon thread and waits at most the time left; when that is up it shuts the
connection's socket down, so the request ends at once instead of lingering, and raises
``DeadlineExceeded``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import httpx

# After the socket is shut down the request thread ends within milliseconds; this only
# bounds the wait for it (a request still resolving a host name cannot be interrupted).
_GRACE_SECONDS = 1.0


class DeadlineExceeded(Exception):
    """The answer was not complete when the deadline came."""


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock, and its name for messages ("the notice deadline (30 s)")."""

    at: float
    label: str

    @classmethod
    def after(cls, seconds: float, label: str) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(time.monotonic() + seconds, f"{label} ({seconds:g} s)")

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - time.monotonic())

    def earliest(self, other: Deadline) -> Deadline:
        """Whichever of the two comes first."""
        return self if self.at <= other.at else other


def post_within(
    http: httpx.Client,
    url: httpx.URL,
    *,
    content: bytes,
    headers: Mapping[str, str],
    timeout: float,
    seconds: float,
) -> httpx.Response:
    """POST and read the whole answer within ``seconds``, or raise ``DeadlineExceeded``.

    ``timeout`` still bounds each connect, read and write (httpx's own timeout). Errors of the
    request (timeouts, refused connections) are raised as httpx raises them.
    """
    streams: list[Any] = []
    done: dict[str, Any] = {}

    def trace(event: str, info: Mapping[str, Any]) -> None:
        # httpcore reports each new connection (TCP, then TLS over it) with its network
        # stream as the return value: the handle to shut the socket down with.
        stream = info.get("return_value")
        if event.endswith(".complete") and hasattr(stream, "get_extra_info"):
            streams.append(stream)

    def request() -> None:
        try:
            done["response"] = http.post(
                url, content=content, headers=headers, timeout=timeout, extensions={"trace": trace}
            )
        except Exception as error:  # handed to the caller's thread below
            done["error"] = error

    worker = threading.Thread(target=request, name="cityops-notify-request", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        for stream in streams:
            _shut_down(stream)
        worker.join(_GRACE_SECONDS)
        raise DeadlineExceeded
    if "error" in done:
        raise done["error"]
    return done["response"]


def _shut_down(stream: Any) -> None:
    """Shut a connection's socket down: a read blocked on it in another thread returns at once.

    ``close()`` from another thread does not wake a blocked read on Linux; ``shutdown`` does.
    The plain socket's ``shutdown`` is called even on a TLS socket, whose own ``shutdown``
    would first tear down its TLS state under the reading thread.
    """
    sock = stream.get_extra_info("socket")
    if isinstance(sock, socket.socket):
        with suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
