"""SilentServer: a loopback server that accepts connections, reads what it is sent, and never answers.

It stands for a Hub that is up at the TCP level and hung above it (the case that made `/compare` wait
20 minutes): a client without a read timeout waits forever on it. It stops by itself after `lifetime`
seconds even if a test forgets to stop it, so it can never keep a test run alive.

    with SilentServer() as url:   # "http://127.0.0.1:PORT"
        ...
"""

from __future__ import annotations

import socket
import threading
import time


class SilentServer:
    def __init__(self, lifetime: float = 120.0) -> None:
        self.lifetime = lifetime
        self.connections = 0  # accepted so far: lets a test check that the client did try
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)  # the accept loop checks for stop() ten times a second
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._clients: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, name="SilentServer", daemon=True)

    def _serve(self) -> None:
        deadline = time.monotonic() + self.lifetime
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                client, _ = self._sock.accept()
            except TimeoutError:
                pass
            else:
                self.connections += 1
                client.setblocking(False)
                self._clients.append(client)  # kept open, never answered
            for client in list(self._clients):
                try:
                    client.recv(65536)  # drain the request so the client's write never blocks
                except (BlockingIOError, OSError):
                    pass
        for client in self._clients:
            client.close()
        self._sock.close()

    def start(self) -> str:
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
