"""The Shopbot while its parts fail: a steady load of questions while the bench kills the embedded model server,
stops and restarts the Chroma server, and freezes the model past its timeout.

    .venv/bin/python bench/chaos.py                      # about 6 minutes; prints a table and one last line
    .venv/bin/python bench/chaos.py --interval 6 --max-queue 6

The app is `spaces/shopbot/app.py` as a child process on 127.0.0.1 (its own supervised llama.cpp SmolLM2 server,
`--chat-max-tokens` per answer) over a `chroma run` server on 127.0.0.1 holding the demo shop (server mode:
LLMFT_SHOPBOT_STORE=env, LLMFT_CHROMA_HOST/PORT). One `/answer` question is sent every `--interval` seconds from
start to end (gradio_client, a few sessions). The faults, one after the other, with a quiet spell between:

- **model killed**: SIGKILL to the llama.cpp server (as an out-of-memory kill); back when a new server answers
  `/health` on its port (the app's supervisor restarts it); recovered when the app's `/backend` says answering.
- **chroma stopped**: the Chroma server stopped for `--chroma-down` seconds, then started on its port and data;
  back when its heartbeat answers; recovered at the first `/sources` search through the app that succeeds.
- **model slow**: SIGSTOP to the llama.cpp server for `--chat-timeout` + 10 s (past LLMFT_CHAT_TIMEOUT), then
  SIGCONT; recovered when the model next finishes an answer (the queue's wait included).

Then a burst of `--max-queue` + 6 questions at once shows the queue: the ones beyond it are refused with "Queue is
full", and every one gets an answer, a message or a refusal (none lost).

Each request is one of: answered (status grounded/replaced: the model answered), answered with a message (the
store's answer with a notice: retrieval-only / no-model), a clear error message (gr.Error from the package's
own error, e.g. the store unreachable), refused (Queue is full), unhandled (an "Unexpected error" message or any
other exception), lost (nothing within `--request-timeout`). Targets: 0 unhandled, 0 lost, every recovery <= 10 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import psutil  # noqa: E402
from gradio_client import Client  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402
from gradio_client.utils import QueueError  # noqa: E402

from tests.support.apps import RunningApp, launch_app, wait_until_ready  # noqa: E402 - plain modules, no pytest
from tests.support.chroma_server import ChromaServer  # noqa: E402

APP = REPO_ROOT / "spaces" / "shopbot" / "app.py"
QUESTIONS = ["What is the cheapest phone?", "How many days do I have to return an item?", "Headphones under $100?",
             "How much is express shipping?", "Do you sell bicycles?"]
RECOVERY_TARGET_S = 10.0
MODEL_ANSWERED = ("grounded", "replaced")


@dataclass
class Request:
    sent: float
    ended: float | None = None
    kind: str = "lost"  # answered | with-message | error-message | refused | unhandled | lost
    detail: str = ""
    burst: bool = False


@dataclass
class Fault:
    name: str
    down_at: float
    back_at: float = float("nan")
    recovered_at: float = float("nan")
    notes: list[str] = field(default_factory=list)

    @property
    def recovery(self) -> float:
        return self.recovered_at - self.back_at


def classify(request: Request, job: Future[Any], timeout: float) -> None:
    try:
        reply = job.result(timeout=timeout)
    except QueueError as err:
        request.kind, request.detail = "refused", str(err)[:120]
    except AppError as err:
        text = str(err)
        request.kind = "unhandled" if text.startswith("Unexpected error") else "error-message"
        request.detail = text[:240]
    except TimeoutError:
        job.cancel()
        request.kind = "lost"
    except Exception as err:  # noqa: BLE001 - anything else is a failure the app did not handle
        request.kind, request.detail = "unhandled", f"{type(err).__name__}: {str(err)[:160]}"
    else:
        status = reply.get("status") if isinstance(reply, dict) else None
        request.kind = "answered" if status in MODEL_ANSWERED else "with-message" if status else "unhandled"
        request.detail = " ".join(reply.get("notices") or [])[:200] if isinstance(reply, dict) else repr(reply)[:160]
    request.ended = time.monotonic()


class Load:
    """One `/answer` every `interval` seconds on a few sessions, each waited for on its own thread."""

    def __init__(self, url: str, interval: float, timeout: float, sessions: int = 4):
        self.clients = [Client(url, verbose=False, download_files=False) for _ in range(sessions)]
        self.interval, self.timeout = interval, timeout
        self.requests: list[Request] = []
        self.pool = ThreadPoolExecutor(64)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def send(self, burst: bool = False) -> Request:
        index = len(self.requests)
        request = Request(time.monotonic(), burst=burst)
        self.requests.append(request)
        job = self.clients[index % len(self.clients)].submit(QUESTIONS[index % len(QUESTIONS)], [],
                                                             api_name="/answer")
        self.pool.submit(classify, request, job, self.timeout)
        return request

    def _run(self) -> None:
        while not self._stop.is_set():
            self.send()
            self._stop.wait(self.interval)

    def start(self) -> Load:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def finish(self) -> None:
        self.pool.shutdown(wait=True)
        for client in self.clients:
            client.close()


def until(condition: Any, timeout: float, step: float = 0.25) -> float:
    """When `condition()` first held (monotonic), or nan when it did not within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return time.monotonic()
        except Exception:  # noqa: BLE001, S110 - a probe that fails is a probe that says "not yet"
            pass
        time.sleep(step)
    return float("nan")


def llama_server(app: RunningApp) -> tuple[psutil.Process, int]:
    """The app's llama.cpp server process and its port (from its command line)."""
    for child in psutil.Process(app.process.pid).children(recursive=True):
        command = child.cmdline()
        if "llmft.chat.local_server" in command:
            return child, int(command[command.index("--port") + 1])
    raise RuntimeError("the app runs no llama.cpp server")


def health(port: int, old_pid: int | None = None, app: RunningApp | None = None) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:  # noqa: S310 - loopback
        if response.status != 200:
            return False
    return old_pid is None or app is None or llama_server(app)[0].pid != old_pid


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interval", type=float, default=8.0, help="seconds between questions")
    parser.add_argument("--quiet", type=float, default=25.0, help="seconds of plain load before and between faults")
    parser.add_argument("--chroma-down", type=float, default=10.0, help="seconds the Chroma server stays stopped")
    parser.add_argument("--chat-timeout", type=float, default=20.0, help="LLMFT_CHAT_TIMEOUT for the app")
    parser.add_argument("--chat-max-tokens", type=int, default=32)
    parser.add_argument("--max-queue", type=int, default=8, help="LLMFT_MAX_QUEUE for the app")
    parser.add_argument("--request-timeout", type=float, default=300.0, help="a request with no result by then is lost")
    return parser.parse_args()


def run(args: argparse.Namespace, work: Path) -> tuple[list[Request], list[Fault]]:
    chroma = ChromaServer(work / "chroma").start()
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.update(HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO_ROOT), LLMFT_SHOPBOT_STORE="env",
               LLMFT_CHROMA_HOST=chroma.host, LLMFT_CHROMA_PORT=str(chroma.port), LLMFT_CHROMA_TIMEOUT="5",
               LLMFT_CHAT_TIMEOUT=f"{args.chat_timeout:g}", LLMFT_CHAT_MAX_TOKENS=str(args.chat_max_tokens),
               LLMFT_MAX_QUEUE=str(args.max_queue), LLMFT_STORE_PATH=str(work / "unused-store"))
    subprocess.run([sys.executable, "-m", "llmft.store", "ingest", "--demo", "--no-progress", "--host", chroma.host,
                    "--port", str(chroma.port)], env=env, check=True, stdout=subprocess.DEVNULL, cwd=work)
    app = wait_until_ready(launch_app(APP, env, log_path=work / "app.log"), timeout=600)
    faults: list[Fault] = []
    load: Load | None = None
    try:
        probe = Client(app.url, verbose=False, download_files=False)
        label = probe.predict(api_name="/backend")
        print(f"app up: {label}; chroma {chroma.url}", flush=True)
        load = Load(app.url, args.interval, args.request_timeout).start()
        time.sleep(args.quiet)

        server, port = llama_server(app)  # 1. the model server killed
        fault = Fault("model killed", time.monotonic())
        server.send_signal(signal.SIGKILL)
        seen: list[str] = []
        until(lambda: seen.append(probe.predict(api_name="/backend")) or seen[-1] != label, 10, step=0.1)
        fault.notes.append(f"/backend meanwhile: {seen[-1] if seen else '(no answer)'}")
        fault.back_at = until(lambda: health(port, server.pid, app), 60)
        fault.recovered_at = until(lambda: probe.predict(api_name="/backend") == label, 60)
        faults.append(fault)
        time.sleep(args.quiet)

        fault = Fault("chroma stopped", time.monotonic())  # 2. the store's server stopped, then back
        chroma.stop()
        time.sleep(args.chroma_down)
        chroma.start()
        fault.back_at = time.monotonic()
        fault.recovered_at = until(lambda: probe.predict("cheapest phone", api_name="/sources") is not None, 60)
        faults.append(fault)
        time.sleep(args.quiet)

        server, port = llama_server(app)  # 3. the model frozen past the chat timeout
        fault = Fault("model slow", time.monotonic())
        server.send_signal(signal.SIGSTOP)
        time.sleep(args.chat_timeout + 10)
        server.send_signal(signal.SIGCONT)
        fault.back_at = time.monotonic()
        fault.recovered_at = until(lambda: any(r.kind == "answered" and r.ended and r.ended >= fault.back_at
                                               for r in load.requests), 180)
        faults.append(fault)
        time.sleep(args.quiet)
        load.stop()

        for _ in range(args.max_queue + 6):  # 4. the queue: a burst beyond its size
            load.send(burst=True)
    finally:
        if load is not None:
            load.stop()
            load.finish()
        app.stop()
        chroma.stop()
    return load.requests if load else [], faults


def report(requests: list[Request], faults: list[Fault], args: argparse.Namespace, load_before: float) -> int:
    def during(fault: Fault, request: Request) -> bool:
        return fault.down_at <= request.sent <= fault.recovered_at or (
            request.ended is not None and fault.down_at <= request.ended <= fault.recovered_at)

    print(f"\n{'fault':15s} {'back after s':>12s} {'recovery s':>10s} {'sent/ended while down':>22s}  outcomes")
    for fault in faults:
        touched = [r for r in requests if during(fault, r)]
        kinds = Counter(r.kind for r in touched)
        print(f"{fault.name:15s} {fault.back_at - fault.down_at:12.1f} {fault.recovery:10.1f} {len(touched):22d}  "
              f"{dict(kinds)}")
        for note in fault.notes:
            print(f"  {note}")
    steady, burst = [r for r in requests if not r.burst], [r for r in requests if r.burst]
    for name, group in (("steady load", steady), ("burst", burst)):
        kinds = Counter(r.kind for r in group)
        print(f"{name}: {len(group)} sent: {dict(kinds)}")
    details = Counter(f"{r.kind}: {r.detail}" for r in requests if r.kind != "answered" and r.detail)
    for text, count in details.most_common(12):
        print(f"  {count:3d} x {text}")
    unhandled = sum(r.kind == "unhandled" for r in requests)
    lost = sum(r.kind == "lost" for r in requests)
    with_message = sum(r.kind in ("with-message", "error-message") for f in faults for r in requests if during(f, r))
    refused = sum(r.kind == "refused" for r in requests)
    recoveries = {f.name: f.recovery for f in faults}
    met = unhandled == 0 and lost == 0 and all(v <= RECOVERY_TARGET_S for v in recoveries.values())
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; load average (1 min) "
          f"before {load_before:.1f}, after {os.getloadavg()[0]:.1f}; one question every {args.interval:g} s, "
          f"LLMFT_MAX_QUEUE {args.max_queue}, LLMFT_CHAT_TIMEOUT {args.chat_timeout:g} s, "
          f"{args.chat_max_tokens} tokens per answer")
    recovery_text = ", ".join(f"{name} {value:.1f} s" for name, value in recoveries.items())
    print(f"summary: targets (0 unhandled, 0 lost, recovery <= {RECOVERY_TARGET_S:g} s) {'met' if met else 'NOT met'}: "
          f"{len(requests)} requests, {unhandled} unhandled, {lost} lost, {with_message} answered with a message "
          f"while a part was down, {refused} refused (Queue is full); recovery: {recovery_text}")
    return 0 if met else 1


def main() -> int:
    args = parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="llmft-chaos-") as tmp:
        requests, faults = run(args, Path(tmp))
    return report(requests, faults, args, load_before)


if __name__ == "__main__":
    raise SystemExit(main())
