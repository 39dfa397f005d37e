"""A Chroma server (`chroma run`, shipped in the chromadb package) on 127.0.0.1 for tests.

    with ChromaServer(tmp_path / "chroma") as server:
        KnowledgeBase.open(host=server.host, port=server.port)

or, in a test module, the module-scoped fixture (import it into the module: `from tests.support.chroma_server
import chroma_server  # noqa: F401`), which yields a running `ChromaServer`.

It listens on a free loopback port, keeps its data in the given folder, and is ready when `/api/v2/heartbeat`
answers; it is stopped (SIGTERM, then SIGKILL) on exit, and its log is kept for a failing test's message.
The server is Rust, so the Python network guard does not see inside it: it is started with telemetry off.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

HOST = "127.0.0.1"
_START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class ChromaServer:
    def __init__(self, data_dir: Path, port: int | None = None):
        self.data_dir = Path(data_dir)
        self.host = HOST
        self.port = port or free_port()
        self.log_path = self.data_dir.parent / f"chroma-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else "(no log)"

    def start(self) -> ChromaServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        chroma = Path(sys.executable).with_name("chroma")
        command = [str(chroma)] if chroma.exists() else [sys.executable, "-c", "from chromadb.cli.cli import app;app()"]
        env = dict(os.environ, ANONYMIZED_TELEMETRY="False", CHROMA_ANONYMIZED_TELEMETRY="False")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [*command, "run", "--host", self.host, "--port", str(self.port), "--path", str(self.data_dir)],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"chroma run did not answer on {self.url} in {_START_TIMEOUT_S:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __enter__(self) -> ChromaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A `chroma run` server on 127.0.0.1 for the test module, its data in a temporary folder."""
    with ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data") as server:
        yield server
