"""The embedded llama.cpp server under supervision, for real: its process is killed with SIGKILL (as an
out-of-memory kill would) or frozen with SIGSTOP, and the supervisor restarts it on the same port with the same
key, with backoff, until the minute's restarts are used up and it is marked down. Each test runs its own server
(about a second to start), never the session's shared one. Also: `model_failure`'s words for each failure, from
the `openai` client's real exception types."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator

import httpx
import openai
import pytest

from llmft.chat.backends import Backend
from llmft.chat.failures import model_failure
from llmft.chat.local_server import MODEL_NAME, LocalServer, Supervisor, SupervisorSettings
from tests.support.llm_server import require_local_model

FAST = SupervisorSettings(max_restarts=2, backoff_s=0.2, check_every_s=0.2, hang_s=2.0, start_timeout_s=30.0)
KEY = "sk-supervised-test-key-0123456789"


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"{what} within {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - started


def _kill(server: LocalServer, sig: int = signal.SIGKILL) -> None:
    assert server.process is not None
    os.kill(server.process.pid, sig)


@pytest.fixture()
def backend() -> Iterator[Backend]:
    require_local_model()
    server = LocalServer(api_key=KEY).start(timeout=60)
    supervised = Backend("local", MODEL_NAME, server.base_url, KEY, 30.0, server,
                         supervisor=Supervisor(server, FAST).start())
    yield supervised
    supervised.stop()


def _asks(backend: Backend) -> str:
    client = openai.OpenAI(base_url=backend.base_url, api_key=KEY, max_retries=0, timeout=30)
    reply = client.chat.completions.create(model="local", messages=[{"role": "user", "content": "Hi"}], max_tokens=4)
    return reply.choices[0].message.content or ""


def test_a_killed_server_is_restarted_on_the_same_address(backend: Backend) -> None:
    first_pid = backend.server.process.pid
    _kill(backend.server)
    _wait(lambda: backend.state().state == "restarting", 5, "the crash is seen")
    assert backend.unavailable().startswith(f"the embedded model {MODEL_NAME} is restarting: at ")
    assert "its process was killed (SIGKILL" in backend.unavailable()
    took = _wait(lambda: backend.state().state == "answering", 20, "the server answers again")
    assert backend.state().restarts == 1 and backend.unavailable() is None and took < 10
    assert backend.server.process.pid != first_pid
    assert isinstance(_asks(backend), str)  # the same URL and key work: ChatOpenAI clients built before still do


def test_restarts_back_off_and_then_the_server_is_marked_down(backend: Backend) -> None:
    seen: list[str] = []
    for restart in (1, 2):
        _kill(backend.server)
        planned = f"restart {restart} of at most 2"
        _wait(lambda planned=planned: planned in backend.state().why, 5, f"{planned} is planned")
        seen.append(backend.state().why)
        _wait(lambda: backend.state().state == "answering", 20, f"restart {restart} answers")
    assert seen[0].endswith("in 0.2 s") and seen[1].endswith("in 0.4 s")  # the wait doubles
    _kill(backend.server)  # a third crash within the minute: no third restart
    _wait(lambda: backend.state().state == "down", 5, "the server is marked down")
    time.sleep(1.0)  # and it stays down: nothing restarts it behind the page's back
    state = backend.state()
    assert state.state == "down" and state.restarts == 2 and backend.server.process.poll() is not None
    assert "after 2 restarts within a minute" in state.why and state.describe().startswith("down since ")
    why = model_failure(openai.APIConnectionError(request=httpx.Request("POST", backend.base_url)), backend)
    assert why.startswith(f"the embedded model {MODEL_NAME} is down since ") and "killed (SIGKILL" in why
    assert "OPENAI_BASE_URL" not in why and KEY not in why


def test_a_frozen_server_is_killed_and_restarted(backend: Backend) -> None:
    frozen = backend.server.process
    _kill(backend.server, signal.SIGSTOP)  # alive but silent: only the health check can tell
    _wait(lambda: backend.state().state == "restarting", 10, "the hang is noticed after hang_s")
    assert "failed every health check for 2 s" in backend.state().why and frozen.poll() == -signal.SIGKILL
    _wait(lambda: backend.state().state == "answering", 20, "the server answers again")


def test_stopping_stops_the_supervisor_and_leaves_no_process(backend: Backend) -> None:
    process, thread = backend.server.process, backend.supervisor._thread
    backend.stop()
    assert process.poll() is not None and not thread.is_alive()
    assert backend.state().state == "stopped" and backend.server.process is None
    time.sleep(FAST.check_every_s * 3)
    assert backend.server.process is None  # nothing was restarted after the stop


# --- the words, without a server --------------------------------------------------------------------------

REQUEST = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def _status(cls: type[openai.APIStatusError], code: int, message: str) -> openai.APIStatusError:
    body = {"error": {"message": message}}
    return cls(message, response=httpx.Response(code, request=REQUEST, json=body), body=body)


def test_a_remote_servers_failures_name_its_setting() -> None:
    remote = Backend("compatible", "m", "http://127.0.0.1:9/v1", "sk-remote-secret-key-0123456789")
    cases = {
        openai.APIConnectionError(request=REQUEST): "could not be reached (is it running? check OPENAI_BASE_URL)",
        openai.APITimeoutError(request=REQUEST): "did not answer in time (LLMFT_CHAT_TIMEOUT)",
        httpx.ReadTimeout("read timed out"): "did not answer in time (LLMFT_CHAT_TIMEOUT)",  # mid-stream
        httpx.RemoteProtocolError("peer closed"): "could not be reached",
        _status(openai.AuthenticationError, 401, "bad key sk-remote-secret-key-0123456789"): "refused the API key",
        _status(openai.RateLimitError, 429, "slow down"): "is limiting requests (HTTP 429: slow down)",
        _status(openai.InternalServerError, 503, "overloaded"): "failed (HTTP 503: overloaded)",
    }
    for err, words in cases.items():
        why = model_failure(err, remote)
        assert words in why and why.startswith(("the model", "the model server")), (err, why)
    assert "OpenAI could not be reached" in model_failure(openai.APIConnectionError(request=REQUEST),
                                                          Backend("openai", "gpt-4o-mini", api_key="sk-x"))
    assert model_failure(ValueError("x")) == "the model server failed (ValueError)"


def test_the_local_models_failures_name_it_and_never_openai_settings() -> None:
    local = Backend("local", MODEL_NAME, "http://127.0.0.1:9/v1", KEY, timeout=30.0)  # unsupervised: "answering"
    cases = {
        openai.APIConnectionError(request=REQUEST): "could not be reached: its server process stopped answering",
        httpx.RemoteProtocolError("peer closed"): "could not be reached",
        openai.APITimeoutError(request=REQUEST): "did not answer within 30 s (LLMFT_CHAT_TIMEOUT)",
        _status(openai.AuthenticationError, 401, f"invalid key {KEY}"): "refused the app's own key",
        _status(openai.InternalServerError, 500, "context full"): "failed (HTTP 500: context full)",
    }
    for err, words in cases.items():
        why = model_failure(err, local)
        assert why.startswith(f"the embedded model {MODEL_NAME} ") and words in why, (err, why)
        assert "OPENAI" not in why and KEY not in why


def test_a_compatible_server_that_goes_away_and_comes_back_is_used_again() -> None:
    """OPENAI_BASE_URL on a real llama.cpp server: one ChatOpenAI built at start (as the app builds it) fails with
    a message while the server is gone, and answers again once it is back on its address, with no restart."""
    require_local_model()
    server = LocalServer(api_key=KEY).start(timeout=60)
    try:
        remote = Backend("compatible", "smollm2", server.base_url, KEY, timeout=30.0)
        model = remote.chat_model(max_tokens=4)
        assert isinstance(model.invoke("Hi").content, str)
        server.stop()
        with pytest.raises(openai.APIConnectionError) as gone:
            model.invoke("Hi")
        assert model_failure(gone.value, remote) == ("the model server could not be reached (is it running? check "
                                                     "OPENAI_BASE_URL)")
        server.start(timeout=60)  # the same port
        assert isinstance(model.invoke("Hi").content, str)
    finally:
        server.stop()


PARENT = """import sys, time
from llmft.chat.backends import resolve_backend
from llmft.settings import ChatSettings
backend = resolve_backend(ChatSettings())  # the supervised local server, as the app starts it
print(backend.server.process.pid, flush=True)
time.sleep(120)
"""


def test_a_killed_app_leaves_no_server_behind(subprocess_env: dict[str, str]) -> None:
    require_local_model()
    import subprocess
    import sys

    import psutil

    app = subprocess.Popen([sys.executable, "-c", PARENT], env=subprocess_env, stdout=subprocess.PIPE, text=True,
                           start_new_session=True)
    try:
        server = psutil.Process(int(app.stdout.readline()))
        app.kill()  # SIGKILL: no atexit, no signal handler; the server alone must notice
        app.wait(timeout=10)
        server.wait(timeout=10)  # psutil.TimeoutExpired if it outlives its app
    finally:
        if app.poll() is None:
            app.kill()
