"""The Hub down, silent or failing midway: every call returns within its timeout with the package's own message,
and a model already in the cache loads without asking the Hub.

Run with HF_HUB_OFFLINE unset (the code really tries the Hub) and LLMFT_HUB_TIMEOUT small, against a closed
port, a server that accepts connections and never answers (tests/support/silent_server.py), and the local Hub
server stopped or stalled midway through a download (tests/support/hub_server.py).
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time

import huggingface_hub  # noqa: F401 - imported before any timing: the first import takes seconds
import pytest

from llmft.data import load_dialogues
from llmft.demo.build import hub_reachable
from llmft.errors import DataError, ModelLoadError
from llmft.hub.client import hub_api
from llmft.models import load_model
from tests.support.silent_server import SilentServer

TIMEOUT = 1  # seconds, LLMFT_HUB_TIMEOUT for these tests
huggingface_hub.snapshot_download, huggingface_hub.HfApi  # noqa: B018 - lazy attributes: load them now too


@pytest.fixture(autouse=True)
def _online_with_a_short_timeout(monkeypatch):
    import huggingface_hub.constants as hf_constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("LLMFT_HUB_TIMEOUT", str(TIMEOUT))


def _point_at(monkeypatch, url: str, cache) -> None:
    """HF_ENDPOINT (and huggingface_hub's import-time copies of it) at `url`, with an empty cache."""
    import huggingface_hub.constants as hf_constants

    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setattr(hf_constants, "ENDPOINT", url)
    monkeypatch.setattr(hf_constants, "HUGGINGFACE_CO_URL_TEMPLATE", url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


def _timed(call):
    start = time.monotonic()
    with pytest.raises(Exception) as err:  # noqa: PT011 - the type is checked by the caller
        call()
    return err.value, time.monotonic() - start


def test_a_hub_that_refuses_connections(monkeypatch, tmp_path, caplog):
    url = f"http://127.0.0.1:{_closed_port()}"
    _point_at(monkeypatch, url, tmp_path / "cache")
    err, elapsed = _timed(lambda: load_model("me/some-model", use_cache=False))
    assert isinstance(err, ModelLoadError), repr(err)
    assert str(err).startswith(f"The Hub at {url} cannot be reached (connection refused or no network)")
    assert "model 'me/some-model'" in str(err) and elapsed < 3
    err, _ = _timed(lambda: load_dialogues("me/some-dataset"))
    assert isinstance(err, DataError) and "cannot be reached" in str(err) and "HF_HUB_OFFLINE=1" in str(err)
    assert not any(r.exc_info for r in caplog.records)  # a message, not a logged traceback
    assert hub_reachable("me/some-model") is False


def test_a_hub_that_accepts_and_never_answers(monkeypatch, tmp_path):
    with SilentServer() as url:
        _point_at(monkeypatch, url, tmp_path / "cache")
        err, elapsed = _timed(lambda: load_model("me/some-model", use_cache=False))
        assert isinstance(err, ModelLoadError), repr(err)
        assert f"The Hub at {url} did not answer within {TIMEOUT} s (set LLMFT_HUB_TIMEOUT" in str(err)
        assert elapsed < 3 * TIMEOUT + 1, elapsed  # one bounded look-up, not a hang
        err, elapsed = _timed(lambda: load_dialogues("me/some-dataset"))
        assert isinstance(err, DataError) and f"did not answer within {TIMEOUT} s" in str(err)
        assert elapsed < 3 * TIMEOUT + 1, elapsed
        err, elapsed = _timed(lambda: hub_api().list_repo_files("me/some-model"))  # no timeout of its own
        assert type(err).__name__ == "ReadTimeout" and elapsed < 3 * TIMEOUT + 1, elapsed
        start = time.monotonic()
        assert hub_reachable("me/some-model") is False and time.monotonic() - start < 3 * TIMEOUT + 1


def test_a_bad_hub_id_is_named_not_sent(monkeypatch, tmp_path):
    _point_at(monkeypatch, f"http://127.0.0.1:{_closed_port()}", tmp_path / "cache")
    with pytest.raises(ModelLoadError, match="Model 'me/two--dashes' is not a valid Hub id"):
        load_model("me/two--dashes", use_cache=False)


@pytest.fixture()
def hub_with_model(local_hub, tiny_models, monkeypatch):
    """The local Hub holding the tiny T5 as me/tiny (the timeout and HF_HUB_OFFLINE as set above)."""
    api = hub_api()
    api.create_repo("me/tiny")
    api.upload_folder(repo_id="me/tiny", folder_path=tiny_models.base)
    local_hub.requests.clear()
    return local_hub


def test_a_hub_that_stops_midway_through_a_download(hub_with_model, caplog):
    hub_with_model.interrupt_downloads("model.safetensors", mode="stop")
    err, elapsed = _timed(lambda: load_model("me/tiny", use_cache=False))
    assert isinstance(err, ModelLoadError), repr(err)
    # Which of the parallel file downloads fails last decides the wording; both say what happened.
    assert re.match(f"The Hub at {hub_with_model.url} (cannot be reached|closed the connection midway)", str(err))
    assert "model 'me/tiny'" in str(err)
    assert elapsed < 15, elapsed  # huggingface_hub retries a broken download 5 times, 1 s apart
    assert any(r.startswith("GET") and r.endswith("/model.safetensors") for r in hub_with_model.requests)
    assert not any(r.exc_info for r in caplog.records)


def test_a_hub_that_stalls_midway_through_a_download(hub_with_model):
    hub_with_model.interrupt_downloads("model.safetensors", mode="stall")
    err, elapsed = _timed(lambda: load_model("me/tiny", use_cache=False))
    assert isinstance(err, ModelLoadError), repr(err)
    assert f"did not answer within {TIMEOUT} s" in str(err) and "model 'me/tiny'" in str(err)
    assert elapsed < 6 * (TIMEOUT + 1) + 3, elapsed  # 1 try + 5 resumes, each bounded by the timeout


def test_a_cached_model_loads_while_the_hub_is_down(hub_with_model, monkeypatch, caplog):
    first = load_model("me/tiny", use_cache=False)
    hub_with_model.stop()
    caplog.set_level(logging.DEBUG)
    again = load_model("me/tiny", use_cache=False)
    assert again.source == first.source == "me/tiny" and again.kind == "model"
    assert not any(r.exc_info or r.levelno >= logging.WARNING for r in caplog.records), caplog.records
    with SilentServer() as url:  # a silent Hub is not even asked: the cached snapshot comes first
        monkeypatch.setenv("HF_ENDPOINT", url)
        start = time.monotonic()
        load_model("me/tiny", use_cache=False)
        assert time.monotonic() - start < TIMEOUT


def test_a_download_does_not_block_requests_for_loaded_models(hub_with_model, tiny_models, monkeypatch):
    local = load_model(str(tiny_models.base))  # in the process cache
    release = hub_with_model.interrupt_downloads("model.safetensors", mode="stall")
    monkeypatch.setenv("LLMFT_HUB_TIMEOUT", "30")  # the download stays stalled while we look
    outcome: dict[str, object] = {}

    def download() -> None:
        try:
            outcome["model"] = load_model("me/tiny")
        except Exception as err:  # noqa: BLE001 - reported below
            outcome["error"] = err

    worker = threading.Thread(target=download)
    try:
        worker.start()
        deadline = time.monotonic() + 20
        while not any("model.safetensors" in r for r in hub_with_model.requests) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any("model.safetensors" in r for r in hub_with_model.requests), "the download never started"
        start = time.monotonic()
        assert load_model(str(tiny_models.base)) is local
        assert time.monotonic() - start < 1  # not queued behind the stalled download
        assert worker.is_alive()  # ... which is still stalled
    finally:
        hub_with_model.interrupt_downloads(None)  # the resumed download then completes
        release.set()
        worker.join(60)
    assert "model" in outcome, outcome.get("error")
