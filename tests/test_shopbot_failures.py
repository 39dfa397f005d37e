"""The Shopbot app (`spaces/shopbot/app.py`) while its parts fail, through `gradio_client`: its own llama.cpp server
killed with SIGKILL (the page and `/backend` say it is restarting, then answering again; a question meanwhile gets
the computed answer with a notice naming the embedded model), and its Chroma server (`LLMFT_CHROMA_HOST`) stopped
and started again (a clear message, then answers with no restart of the app). One app for the module, in server
mode, with a 4 s restart backoff so that the restart can be seen and asked through."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from gradio_client import Client

from tests.support.apps import (
    RunningApp,
    chromium_available,
    guarded_env,
    log_on_failure,
    running_app,
)
from tests.support.chroma_server import ChromaServer
from tests.support.llm_server import require_local_model
from tests.support.require import require
from tests.support.screenshots import watched_page

APP = Path(__file__).resolve().parent.parent / "spaces" / "shopbot" / "app.py"
LABEL = "local llama.cpp · SmolLM2-135M-Instruct (offline)"


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningApp, ChromaServer]]:
    require_local_model()
    root = tmp_path_factory.mktemp("shopbot-failures")
    with ChromaServer(root / "chroma") as chroma:
        env = dict(guarded_env(), LLMFT_SHOPBOT_STORE="env", LLMFT_CHROMA_HOST=chroma.host,
                   LLMFT_CHROMA_PORT=str(chroma.port), LLMFT_CHROMA_TIMEOUT="3", LLMFT_CHAT_MAX_TOKENS="16",
                   LLMFT_LOCAL_LLM_BACKOFF_S="4", LLMFT_STORE_PATH=str(root / "unused"))
        subprocess.run([sys.executable, "-m", "llmft.store", "ingest", "--demo", "--no-progress", "--host",
                        chroma.host, "--port", str(chroma.port)], env=env, check=True, capture_output=True, timeout=300)
        with running_app(APP, env, timeout=180, log_path=root / "app.log") as app:
            yield app, chroma


@pytest.fixture()
def client(parts, request) -> Iterator[Client]:
    yield from log_on_failure(request, parts[0])


@pytest.fixture(scope="module")
def api(parts) -> Client:
    return Client(parts[0].url, verbose=False)


def _llama(app: RunningApp) -> psutil.Process:
    [server] = [p for p in psutil.Process(app.process.pid).children(recursive=True)
                if "llmft.chat.local_server" in p.cmdline()]
    return server


def _poll(api: Client, want: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        said = api.predict(api_name="/backend")
        if want in said or time.monotonic() > deadline:
            return said
        time.sleep(0.1)


def test_a_killed_model_server_is_reported_and_restarted(parts, api: Client, client) -> None:
    app, _ = parts
    assert api.predict(api_name="/backend") == LABEL
    old = _llama(app)
    old.kill()  # SIGKILL, as an out-of-memory kill would
    said = _poll(api, "restarting since", 5)
    assert said.startswith(f"{LABEL} · restarting since ") and "its process was killed (SIGKILL" in said, said
    meanwhile = api.predict("What is the cheapest phone?", [], api_name="/answer")
    assert meanwhile["status"] == "retrieval-only" and "Nimbus A5, at $199.00" in meanwhile["answer"], meanwhile
    [notice] = [n for n in meanwhile["notices"] if "language model" in n]
    assert "the embedded model SmolLM2-135M-Instruct is restarting: at " in notice and "SIGKILL" in notice, notice
    assert "OPENAI" not in notice
    assert _poll(api, "answering", 20) == LABEL  # back, with the plain label
    assert _llama(app).pid != old.pid
    reply = api.predict("What is the cheapest phone?", [], api_name="/answer")
    assert reply["status"] in ("grounded", "replaced"), reply  # the model answers again


def test_a_stopped_chroma_server_is_a_message_and_the_app_reconnects(parts, api: Client, client) -> None:
    _, chroma = parts
    chroma.stop()
    try:
        with pytest.raises(Exception, match=rf"Chroma server 127\.0\.0\.1:{chroma.port} does not answer") as failed:
            api.predict("cheapest phone", api_name="/sources")
        assert "Unexpected error" not in str(failed.value) and "Traceback" not in str(failed.value)
    finally:
        chroma.start()  # the same port and data
    [first, *_] = api.predict("cheapest phone", api_name="/sources")
    assert first["id"] == "SP-101"


def test_the_page_says_when_the_model_restarts(parts, api: Client, client) -> None:
    """The model line at the top of the page follows the server's state (refreshed every 5 s) without a reload."""
    require(chromium_available(), "Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import expect

    app, _ = parts
    _poll(api, "answering", 20)
    with watched_page(app.url, 1200, 800) as watched:
        box = watched.page.locator("#shop-backend")
        expect(box).to_have_text(f"Model answering: {LABEL}", timeout=30_000)
        _llama(app).kill()
        expect(box).to_contain_text(f"{LABEL} · restarting since ", timeout=12_000)
        expect(box).to_contain_text("its process was killed (SIGKILL")
        expect(box).to_have_text(f"Model answering: {LABEL}", timeout=30_000)
        assert watched.errors == []
