"""A local HTTP server that plays the 钉钉, 企业微信, 飞书 and webhook robots (test helper).

It records every request (path, query, headers, JSON body) and answers from a script per
path; a script's last answer repeats. The ``robot`` fixture (tests/integration/conftest.py)
runs one on 127.0.0.1 for a test.

A dripping answer sends its status line at once, then one header line every ``drip``
seconds: each line resets an HTTP client's read timeout, so only a total deadline ends the
request. It stops dripping after ``DRIP_LIMIT_SECONDS`` (then answers in full), or when the
client hangs up or the server stops, so a broken notifier fails a test instead of hanging it.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN = "tok-5d41402abc4b2a76b9719d911017c592"  # the access_token part of each robot URL
OK = {"errcode": 0, "errmsg": "ok", "code": 0, "msg": "success"}
DRIP_LIMIT_SECONDS = 60.0


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    raw_query: str
    headers: dict[str, str]
    body: dict


@dataclass
class Answer:
    status: int = 200
    body: object = field(default_factory=lambda: dict(OK))
    delay: float = 0.0
    drip: float = 0.0  # > 0: status line, then one header line every `drip` seconds


class RobotServer:
    """Records requests; answers each path from its script (the last answer repeats)."""

    def __init__(self, server: ThreadingHTTPServer):
        self.server = server
        self.requests: list[Received] = []
        self.scripts: dict[str, list[Answer]] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()  # ends every drip at once (fixture teardown)
        self.hung_up = 0  # drips ended by the client closing the connection

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str, token: str = TOKEN) -> str:
        """A robot URL carrying a token in its query, as 钉钉 and 企业微信 ones do."""
        return f"{self.base}{path}?access_token={token}"

    def script(self, path: str, *answers: Answer) -> None:
        with self.lock:
            self.scripts[path] = list(answers)

    def at(self, path: str) -> list[Received]:
        return [request for request in self.requests if request.path == path]

    def answer(self, path: str) -> Answer:
        with self.lock:
            script = self.scripts.get(path)
            if not script:
                return Answer()
            return script.pop(0) if len(script) > 1 else script[0]


def _handler(robot: RobotServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length).decode("utf-8"))
            robot.requests.append(
                Received(
                    split.path,
                    parse_qs(split.query),
                    split.query,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
            )
            answer = robot.answer(split.path)
            if answer.delay:
                time.sleep(answer.delay)
            payload = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body)
            payload = payload.encode() if isinstance(payload, str) else payload
            try:
                if answer.drip:
                    self._drip(answer)
                else:
                    self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def _drip(self, answer: Answer) -> None:
            """The status line, then a header line every `answer.drip` s, for a minute at most."""
            self.wfile.write(f"{self.protocol_version} {answer.status} OK\r\n".encode())
            ends = time.monotonic() + DRIP_LIMIT_SECONDS
            line = 0
            while time.monotonic() < ends and not robot.stopping.wait(answer.drip):
                line += 1
                try:
                    self.wfile.write(f"X-Drip-{line}: {'.' * 16}\r\n".encode())
                except (BrokenPipeError, ConnectionResetError):
                    robot.hung_up += 1
                    raise

        def log_message(self, *args):
            pass

    return Handler


def serve() -> tuple[RobotServer, threading.Thread]:
    """Start a robot server on a free port of 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    robot = RobotServer(server)
    server.RequestHandlerClass = _handler(robot)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    return robot, thread
