"""FakeModelServer: an OpenAI-compatible chat endpoint on a fixed loopback port whose failure a test chooses.

    server = FakeModelServer().start()          # server.url -> "http://127.0.0.1:PORT/v1" (OPENAI_BASE_URL)
    server.mode = "silent"                       # accepts the request and never answers (a hung server)
    server.mode = "refuse-key"                   # 401 with OpenAI's body for a request without a valid key
    server.mode = "down"                         # the port is closed: connection refused
    server.stop()

It stands for the model servers a deployed Shopbot meets, so one app started on `url` can meet each failure in
turn. A silent request is held for `hang_seconds` at most, so a test run never waits on it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("down", "silent", "refuse-key")
# What api.openai.com answers without a valid key (the openai client raises AuthenticationError on it).
REFUSED_KEY = {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                         "param": None, "code": "invalid_api_key"}}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.owner.requests += 1
        if self.server.owner.mode == "silent":
            time.sleep(self.server.owner.hang_seconds)  # then the connection closes without an answer
            return
        body = json.dumps(REFUSED_KEY).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: the test's output stays readable
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # "down" then up again on the same port
    owner: FakeModelServer


class FakeModelServer:
    def __init__(self, hang_seconds: float = 15.0) -> None:
        with socket.socket() as probe:  # a port of our own, kept across "down" and back
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.hang_seconds = hang_seconds
        self.requests = 0
        self._mode = "down"
        self._server: _Server | None = None

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {MODES}")
        self._mode = mode
        if mode == "down":
            self._close()
        elif self._server is None:
            self._server = _Server(("127.0.0.1", self.port), _Handler)
            self._server.owner = self
            threading.Thread(target=self._server.serve_forever, name="FakeModelServer", daemon=True).start()

    def start(self, mode: str = "refuse-key") -> FakeModelServer:
        self.mode = mode
        return self

    def _close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def stop(self) -> None:
        self._mode = "down"
        self._close()
