"""The three apps under load: concurrent `gradio_client` requests to each app's main endpoint, in rounds.

    .venv/bin/python bench/load.py                               # 50 concurrent requests x 2 rounds, each app
    .venv/bin/python bench/load.py --apps prompting summarizer --requests 20 --rounds 3
    .venv/bin/python bench/load.py --shopbot-backend stub        # the Shopbot on a local OpenAI-compatible stub

Each app (`spaces/*/app.py`) runs as a child process on a free 127.0.0.1 port, on the embedded demo model
(`python -m llmft.demo build DIR`, reused when built) and its own settings, the queue included (`LLMFT_MAX_QUEUE`,
default 20; `--max-queue` sets it). The Shopbot answers with the local SmolLM2 on llama.cpp that it starts itself
(`--chat-max-tokens` per answer), or, with `--shopbot-backend stub`, with a small streaming OpenAI-compatible
server in this process (a fixed answer after `--stub-delay` seconds), or with any server by URL.

Endpoints: Prompting `/compare` (columns 0-shot, 1-shot, 2-shot similar), Summarizer `/summarize` (every variant),
Shopbot `/chat` (the streaming chat). Requests cycle through the demo test dialogues / the Shopbot's example
questions. Each app gets one warm-up request, then per round `--requests` requests from as many new clients
(one session each, created before the clock starts) submitted at once. Per app and round: answered, queue-full
refusals (gradio_client's `QueueError`, counted apart from errors, with its text), errors (any other exception,
with its text), lost (no answer within `--timeout`, or an answer with nothing in it), p50 / p95 latency of the
answered requests (submit to result), and the resident memory (RSS) of the app's process tree (the app and its
children, e.g. the llama.cpp server) after the round, with the round's peak. Targets: 0 errors, 0 lost, memory
after the last round within 10% of the first. The last line sums them up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # gradio_client reads it; its own flag alone does not stop it

import httpx  # noqa: E402
import psutil  # noqa: E402
from gradio_client import Client  # noqa: E402
from gradio_client.utils import QueueError  # noqa: E402

from llmft.data import load_dialogues  # noqa: E402
from tests.support.apps import RunningApp, launch_app, wait_until_ready  # noqa: E402 - plain module, no pytest

APP_PATHS = {name: REPO_ROOT / "spaces" / name / "app.py" for name in ("prompting", "summarizer", "shopbot")}
QUESTIONS = ["What is the cheapest phone?", "Headphones under $100?", "How many days do I have to return an item?",
             "How much is express shipping?", "Do you sell bicycles?"]
MEMORY_TOLERANCE = 0.10
STUB_ANSWER = "Here is what the store's own data says; the sources are listed below."


# --- what each app is asked, and what counts as an answer ------------------------------------------------

def compare(client: Client, example: Any) -> Any:
    return client.submit(dialogue=example.dialogue, reference=example.summary or "", api_name="/compare")


def compare_answered(result: Any) -> bool:
    columns = (result or [{}])[0].get("columns") or []
    return len(columns) == 3 and all(isinstance(c.get("summary"), str) for c in columns)


def summarize(client: Client, example: Any) -> Any:
    return client.submit(dialogue=example.dialogue, reference=example.summary or "", api_name="/summarize")


def summarize_answered(result: Any) -> bool:
    rows = (result or [{}])[0].get("results") or []
    return bool(rows) and all(isinstance(row.get("summary"), str) for row in rows)


def chat(client: Client, question: str) -> Any:
    return client.submit(message=question, api_name="/chat")


def chat_answered(result: Any) -> bool:
    answer = result[0] if isinstance(result, (list, tuple)) and result else result
    return isinstance(answer, str) and bool(answer.strip())


@dataclass
class AppLoad:
    name: str
    endpoint: str
    send: Callable[[Client, Any], Any]
    answered: Callable[[Any], bool]
    inputs: list[Any]


# --- a streaming OpenAI-compatible stub, for the Shopbot without a model ---------------------------------

class _StubHandler(BaseHTTPRequestHandler):
    delay = 0.5

    def log_message(self, *args: Any) -> None:  # quiet: 50 requests a round would flood the output
        pass

    def _json(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self._json({"object": "list", "data": [{"id": "stub", "object": "model", "owned_by": "bench"}]})

    def do_POST(self) -> None:  # noqa: N802
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        time.sleep(self.delay)
        if not request.get("stream"):
            self._json({"id": "stub", "object": "chat.completion", "created": 0, "model": "stub",
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": STUB_ANSWER}}]})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for index, word in enumerate(STUB_ANSWER.split(" ")):
            delta = {"role": "assistant", "content": ("" if index == 0 else " ") + word}
            chunk = {"id": "stub", "object": "chat.completion.chunk", "created": 0, "model": "stub",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


def start_stub(delay: float) -> ThreadingHTTPServer:
    handler = type("StubHandler", (_StubHandler,), {"delay": delay})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, name="openai-stub", daemon=True).start()
    return server


# --- measuring --------------------------------------------------------------------------------------------

def tree_rss(pid: int) -> int:
    """Resident bytes of the process and all its descendants (a child that just ended counts 0)."""
    total = 0
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


@dataclass
class RoundResult:
    sent: int = 0
    answered: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    rss: int = 0
    peak_rss: int = 0

    def quantile(self, q: int) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1]


def connect(url: str, tries: int = 3) -> Client:
    """A new client (a new session); a busy server may miss gradio_client's 20 s timeout for its config."""
    for attempt in range(tries):
        try:
            return Client(url, verbose=False, download_files=False)
        except httpx.TimeoutException:
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")


def run_round(app: RunningApp, load: AppLoad, requests: int, timeout: float) -> RoundResult:
    """`requests` new clients, one request each, all submitted at once; then wait for every answer."""
    with ThreadPoolExecutor(8) as pool:  # clients connect before the clock starts (two HTTP calls each)
        clients = list(pool.map(lambda _: connect(app.url), range(requests)))
    result, ends = RoundResult(sent=requests), [0.0] * requests
    peak, sampling = [0], threading.Event()

    def sample() -> None:
        while not sampling.wait(0.25):
            peak[0] = max(peak[0], tree_rss(app.process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    jobs = []
    for index, client in enumerate(clients):
        job = load.send(client, load.inputs[index % len(load.inputs)])
        job.add_done_callback(lambda _job, i=index: ends.__setitem__(i, time.perf_counter()))
        jobs.append(job)
    deadline = started + timeout
    for index, job in enumerate(jobs):
        try:
            answer = job.result(timeout=max(deadline - time.perf_counter(), 0.1))
        except QueueError as err:
            result.refused[str(err)] += 1
            continue
        except TimeoutError:
            job.cancel()
            result.lost += 1
            continue
        except Exception as err:  # noqa: BLE001 - every other failure is counted with its text
            result.errors[f"{type(err).__name__}: {str(err).strip()[:160]}"] += 1
            continue
        if load.answered(answer):
            result.answered += 1
            result.latencies.append(ends[index] - started)
        else:
            result.lost += 1
    result.wall = time.perf_counter() - started
    sampling.set()
    sampler.join()
    for client in clients:
        client.close()
    time.sleep(2.0)  # let the server finish its bookkeeping for the round before its memory is read
    result.rss = tree_rss(app.process.pid)
    result.peak_rss = max(peak[0], result.rss)
    return result


# --- the run ----------------------------------------------------------------------------------------------

def demo_settings(out_dir: Path) -> dict[str, str]:
    """Build (or reuse) the embedded demo and return its `export` lines as a dict."""
    out = subprocess.run([sys.executable, "-m", "llmft.demo", "build", str(out_dir)], check=True, text=True,
                         stdout=subprocess.PIPE, cwd=REPO_ROOT)
    settings = {}
    for line in out.stdout.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            settings[key] = shlex.split(value)[0] if value else ""
    return settings


def app_env(demo: dict[str, str], args: argparse.Namespace, work: Path, stub_url: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.update(demo, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", LLMFT_STORE_PATH=str(work / "store"),
               LLMFT_CHAT_MAX_TOKENS=str(args.chat_max_tokens), PYTHONPATH=str(REPO_ROOT))
    if args.max_queue:
        env["LLMFT_MAX_QUEUE"] = str(args.max_queue)
    if stub_url:
        env["OPENAI_BASE_URL"] = stub_url
    return env


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", nargs="+", choices=list(APP_PATHS), default=list(APP_PATHS))
    parser.add_argument("--requests", type=int, default=50, help="concurrent requests per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds a round may take; later is lost")
    parser.add_argument("--max-queue", type=int, default=0, help="LLMFT_MAX_QUEUE for the apps (0: their default)")
    parser.add_argument("--demo-dir", type=Path, default=REPO_ROOT / "outputs" / "demo")
    parser.add_argument("--shopbot-backend", default="local",
                        help="local (SmolLM2 on llama.cpp), stub (in this process), or an OpenAI-compatible URL")
    parser.add_argument("--chat-max-tokens", type=int, default=64, help="LLMFT_CHAT_MAX_TOKENS for the Shopbot")
    parser.add_argument("--stub-delay", type=float, default=0.5, help="seconds the stub waits before answering")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    demo = demo_settings(args.demo_dir)
    examples = load_dialogues(demo["LLMFT_DATASET"], "test")
    loads = {"prompting": AppLoad("prompting", "/compare", compare, compare_answered, examples),
             "summarizer": AppLoad("summarizer", "/summarize", summarize, summarize_answered, examples),
             "shopbot": AppLoad("shopbot", "/chat", chat, chat_answered, QUESTIONS)}
    stub = start_stub(args.stub_delay) if args.shopbot_backend == "stub" else None
    stub_url = f"http://127.0.0.1:{stub.server_address[1]}/v1" if stub else None
    if args.shopbot_backend not in ("local", "stub"):
        stub_url = args.shopbot_backend
    rows, verdicts = [], []
    cpus, load_before = os.cpu_count(), os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="llmft-load-") as tmp:
        for name in args.apps:
            load, work = loads[name], Path(tmp) / name
            env = app_env(demo, args, work, stub_url if name == "shopbot" else None)
            begin = time.perf_counter()
            app = wait_until_ready(launch_app(APP_PATHS[name], env, log_path=work / "app.log"), timeout=600)
            try:
                warm_client = connect(app.url)
                warm_ok = load.answered(load.send(warm_client, load.inputs[0]).result(timeout=600))
                warm_client.close()
                print(f"{name}: started and warmed up in {time.perf_counter() - begin:.0f} s "
                      f"(warm-up answered: {warm_ok}), RSS {tree_rss(app.process.pid) / 2**20:.0f} MiB", flush=True)
                results = []
                for number in range(1, args.rounds + 1):
                    results.append(run_round(app, load, args.requests, args.timeout))
                    r = results[-1]
                    print(f"  round {number}: {r.answered} answered, {sum(r.refused.values())} refused, "
                          f"{sum(r.errors.values())} errors, {r.lost} lost in {r.wall:.0f} s", flush=True)
            finally:
                if not app.alive():
                    print(f"{name} exited:\n{app.log_tail()}")
                app.stop()
            rows.append((load, results))
    if stub:
        stub.shutdown()
    print_table(rows)
    for load, results in rows:
        errors, lost = sum(sum(r.errors.values()) for r in results), sum(r.lost for r in results)
        growth = results[-1].rss / results[0].rss - 1 if results[0].rss else float("nan")
        met = errors == 0 and lost == 0 and growth <= MEMORY_TOLERANCE
        verdicts.append((met, f"{load.name} {'met' if met else 'NOT met'} ({errors} errors, {lost} lost, "
                              f"memory {growth:+.1%})"))
    machine = f"{platform.processor() or platform.machine()}, {cpus} CPUs"
    print(f"machine: {machine}; load average (1 min) before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}; "
          f"LLMFT_MAX_QUEUE {args.max_queue or 'default (20)'}; shopbot backend: {args.shopbot_backend} "
          f"({args.chat_max_tokens} tokens max); {args.requests} concurrent requests x {args.rounds} rounds each")
    overall = "met" if all(met for met, _ in verdicts) else "NOT met"
    print(f"summary: targets (0 errors, 0 lost, memory last round within {MEMORY_TOLERANCE:.0%} of the first) "
          f"{overall}: {'; '.join(text for _, text in verdicts)}")
    return 0 if overall == "met" else 1


def print_table(rows: list[tuple[AppLoad, list[RoundResult]]]) -> None:
    print(f"\n{'app':11s} {'endpoint':10s} {'round':>5s} {'sent':>4s} {'answered':>8s} {'refused':>7s} "
          f"{'errors':>6s} {'lost':>4s} {'p50 s':>6s} {'p95 s':>6s} {'wall s':>6s} {'RSS MiB':>7s} {'peak':>6s}")
    texts: Counter[str] = Counter()
    for load, results in rows:
        for number, r in enumerate(results, 1):
            print(f"{load.name:11s} {load.endpoint:10s} {number:5d} {r.sent:4d} {r.answered:8d} "
                  f"{sum(r.refused.values()):7d} {sum(r.errors.values()):6d} {r.lost:4d} {r.quantile(50):6.2f} "
                  f"{r.quantile(95):6.2f} {r.wall:6.0f} {r.rss / 2**20:7.0f} {r.peak_rss / 2**20:6.0f}")
            texts.update({f"{load.name} refused: {text}": n for text, n in r.refused.items()})
            texts.update({f"{load.name} error: {text}": n for text, n in r.errors.items()})
    for text, count in texts.most_common():
        print(f"  {count:3d} x {text}")


if __name__ == "__main__":
    raise SystemExit(main())
