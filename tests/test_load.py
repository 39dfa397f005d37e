"""What `bench/load.py` (the apps under 50 concurrent requests) led to, pinned over HTTP with `gradio_client`:

- the Shopbot's queue is bounded by `LLMFT_MAX_QUEUE` like the other Spaces' (Gradio's own default is unbounded:
  the 50th shopper waited for 49 answers), and a request past it gets gradio_client's `QueueError` with a plain
  "Queue is full! Please try again.", not an error;
- every Space keeps at most `LLMFT_MAX_SESSIONS` visitors' sessions in memory (Gradio's default keeps 10,000, each
  with a copy of the page's components and their last values, so memory grew with every visitor). The Shopbot
  shows it: its chat history lives in the session, so a session dropped past the limit asks its follow-up afresh.

One Shopbot app whose model is a silent server: each answer waits `LLMFT_CHAT_TIMEOUT` (1 s), then comes from
retrieval alone, so the answers and their sources are the store's, computed by hand from
llmft/store/demo/catalogue.csv: the cheapest tent is TN-701 (Fjell Solo Tarp Tent, $159), the cheapest product
DL-903 (Brightline Clamp Lamp, $25). The Prompting and Summarizer Spaces pass the same setting to Gradio in the
same line of their app.py (the Prompting Space's queue bound: tests/test_prompting_app.py).
"""

from __future__ import annotations

import ast
import subprocess
import uuid
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.utils import QueueError

from tests.support.apps import guarded_env, launch_app, log_on_failure, wait_until_ready
from tests.support.silent_server import SilentServer

APP = Path(__file__).resolve().parent.parent / "spaces" / "shopbot" / "app.py"
MAX_SESSIONS = 2


@pytest.fixture(scope="module")
def shopbot(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("shopbot-load")
    with SilentServer(lifetime=600) as model_url:
        env = dict(guarded_env(), LLMFT_STORE_PATH=str(root / "store"), OPENAI_BASE_URL=f"{model_url}/v1",
                   LLMFT_CHAT_TIMEOUT="1", LLMFT_CHAT_REWRITE="store", LLMFT_MAX_QUEUE="1",
                   LLMFT_MAX_SESSIONS=str(MAX_SESSIONS))
        app = launch_app(APP, env, log_path=root / "app.log")
        try:
            yield wait_until_ready(app, timeout=180)
        finally:
            app.stop()


@pytest.fixture()
def app(shopbot, request):
    """The module's app, its log printed under a failing test."""
    for _ in log_on_failure(request, shopbot):
        yield shopbot


def test_the_shopbot_queue_is_bounded_and_a_full_queue_says_so(app) -> None:
    """Four shoppers at once, LLMFT_MAX_QUEUE=1: one is answered, one waits and is answered, the rest are told."""
    clients = [Client(app.url, verbose=False, download_files=False) for _ in range(4)]
    jobs = [c.submit("What is the cheapest phone?", [], api_name="/answer") for c in clients]
    answered, refused = [], []
    for job in jobs:
        try:
            answered.append(job.result(timeout=60))
        except QueueError as err:
            refused.append(str(err))
    for client in clients:
        client.close()
    assert len(refused) >= 2 and set(refused) == {"Queue is full! Please try again."}
    assert answered and all(reply["answer"].strip() and reply["status"] == "retrieval-only" for reply in answered)
    assert "Nimbus A5" in answered[0]["answer"]  # the cheapest phone, $199 (SP-101)


def _chat(client: Client, message: str) -> str:
    """The sources HTML of the chat's final answer."""
    _answer, sources = client.predict(message, api_name="/chat")
    return sources


def _visit(url: str) -> None:
    """A new visitor: one request in a session of its own."""
    client = Client(url, verbose=False, download_files=False)
    client.session_hash = str(uuid.uuid4())
    client.predict(api_name="/backend")  # any request makes a session
    client.close()


def test_sessions_past_the_limit_are_dropped(app) -> None:
    kept = Client(app.url, verbose=False, download_files=False)
    assert 'data-id="TN-701"' in _chat(kept, "show me your tents")
    # The follow-up is read against the session's history: the cheapest tent, not the cheapest product.
    follow_up = _chat(kept, "which one is the cheapest?")
    assert 'data-id="TN-701"' in follow_up and 'data-id="DL-903"' not in follow_up

    dropped = Client(app.url, verbose=False, download_files=False)
    _chat(dropped, "show me your tents")
    for _ in range(MAX_SESSIONS):  # newer sessions push it out (least recently used first)
        _visit(app.url)
    follow_up = _chat(dropped, "which one is the cheapest?")
    assert 'data-id="DL-903"' in follow_up and 'data-id="TN-701"' not in follow_up  # asked afresh
    kept.close()
    dropped.close()


ARENAS_CHILD = """
import ctypes, sys, threading
if sys.argv[1] == "limit":
    from llmft.apps.memory import limit_malloc_arenas
    assert limit_malloc_arenas() == 2
kept, start, done = [], threading.Barrier(6), threading.Barrier(6)
def serve():  # six threads alive at once, each allocating, as Gradio's workers do under load
    start.wait()
    kept.append([bytearray(200) for _ in range(2000)])
    done.wait()
threads = [threading.Thread(target=serve) for _ in range(6)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
ctypes.CDLL(None).malloc_stats()  # one "Arena N:" block per arena, on stderr
"""


def test_the_apps_limit_malloc_arenas(subprocess_env, python) -> None:
    """glibc gives each allocating thread its own arena (up to 8 per CPU); the apps cap them at 2 before any thread
    starts: first thing in `main()`, before the services and Gradio's workers (importing app.py starts no thread:
    tests/test_space_imports.py). bench/load.py: the Prompting Space's memory crept up 15% over 5 rounds with the
    default, 2% with 2."""
    env = {key: value for key, value in subprocess_env.items() if key != "MALLOC_ARENA_MAX"}
    arenas = {}
    for mode in ("default", "limit"):
        run = subprocess.run([python, "-c", ARENAS_CHILD, mode], env=env, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        arenas[mode] = sum(line.startswith("Arena ") for line in run.stderr.splitlines())
    assert arenas == {"default": 7, "limit": 2}  # the main thread's and one per thread; then at most 2
    for app in ("prompting", "summarizer", "shopbot"):  # the first statement of main()
        tree = ast.parse((APP.parent.parent / app / "app.py").read_text())
        main = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main")
        assert ast.unparse(main.body[0]) == "limit_malloc_arenas()", app
