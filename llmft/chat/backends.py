"""Which model answers: OpenAI (OPENAI_API_KEY), any OpenAI-compatible server (OPENAI_BASE_URL), or the embedded
local SmolLM2 server; all three through LangChain's `ChatOpenAI`, streaming, at temperature 0.

    backend = resolve_backend(ChatSettings.from_env())   # starts the local server when neither is set
    model = backend.chat_model(max_tokens=256)            # a ChatOpenAI, or None for retrieval only
    backend.unavailable()                                 # None, or why the model cannot answer now
    backend.state()                                       # BackendState: answering, restarting, down, ...

The local server is supervised (`llmft.chat.local_server.Supervisor`): restarted after a crash, or marked down.
A remote server is not probed: each request tries it, and a failure is reported with that answer.
"""

from __future__ import annotations

import atexit
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from llmft.apps.errors import redact
from llmft.chat.local_server import MODEL_NAME, LocalServer, Supervisor
from llmft.errors import LlmftError
from llmft.settings import ChatSettings

logger = logging.getLogger(__name__)

LOCAL_NAME = f"the embedded model {MODEL_NAME}"
Kind = Literal["openai", "compatible", "local", "none"]
StateName = Literal["answering", "restarting", "down", "stopped", "unchecked"]
_STARTED = time.time()


@dataclass(frozen=True)
class BackendState:
    """What `/backend` and the page report. `unchecked`: a remote server, which each request tries."""

    state: StateName
    since: float | None = None  # epoch seconds
    why: str = ""
    restarts: int = 0

    def describe(self) -> str:
        if self.state in ("answering", "unchecked") or self.since is None:
            return self.state
        return f"{self.state} since {time.strftime('%H:%M:%S', time.localtime(self.since))}: {self.why}"


@dataclass
class Backend:
    kind: Kind  # "none": retrieval only
    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    server: LocalServer | None = field(default=None, repr=False)
    why_none: str = ""
    supervisor: Supervisor | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """What the UI shows: which model answers, and where (never the key)."""
        if self.kind == "openai":
            return f"OpenAI · {self.model}"
        if self.kind == "compatible":
            return f"OpenAI-compatible server {self.base_url} · {self.model}"
        if self.kind == "local":
            return f"local llama.cpp · {MODEL_NAME} (offline)"
        return f"no model: answers come from retrieval alone ({self.why_none})"

    @property
    def extra_body(self) -> dict[str, Any] | None:
        # llama.cpp reuses a cached prompt prefix by default, which makes temperature-0 output drift between runs.
        return {"cache_prompt": False} if self.kind == "local" else None

    def chat_model(self, max_tokens: int = 256, temperature: float = 0.0) -> Any:
        if self.kind == "none":
            return None
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=self.model, api_key=self.api_key or "none", base_url=self.base_url,
                          temperature=temperature, max_tokens=max_tokens, timeout=self.timeout, max_retries=0,
                          streaming=True, extra_body=self.extra_body)

    def state(self) -> BackendState:
        if self.kind == "none":
            return BackendState("down", _STARTED, self.why_none)
        if self.kind != "local":
            return BackendState("unchecked")
        if self.supervisor is None:  # a server someone else runs (tests): assumed to answer
            return BackendState("answering")
        now = self.supervisor.state()
        return BackendState(now.state, now.since, now.why, now.restarts)

    def unavailable(self) -> str | None:
        """None when the model can be asked now; else why not, as a sentence part naming the model."""
        now = self.state()
        if now.state in ("answering", "unchecked"):
            return None
        if self.kind == "none":
            return f"no model is configured ({self.why_none})"
        clock = time.strftime("%H:%M:%S", time.localtime(now.since)) if now.since else "now"
        if now.state == "restarting":
            return f"{LOCAL_NAME} is restarting: at {clock} {now.why}"
        return f"{LOCAL_NAME} is {now.state} since {clock}: {now.why}"

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()  # first: nothing restarts the server once it is stopped
        if self.server is not None:
            self.server.stop()


def resolve_backend(settings: ChatSettings, start_local: bool = True) -> Backend:
    """OPENAI_BASE_URL wins, then OPENAI_API_KEY, then the local server (when it can start), else retrieval only."""
    if settings.base_url:
        return Backend("compatible", settings.model, settings.base_url.rstrip("/"), settings.api_key, settings.timeout)
    if settings.api_key:
        return Backend("openai", settings.model, None, settings.api_key, settings.timeout)
    if not start_local:
        return Backend("none", "", why_none="no model configured")
    server = LocalServer()
    try:
        server.start()
    except LlmftError as err:
        logger.warning("local model unavailable: %s", redact(str(err)))
        return Backend("none", "", why_none=redact(str(err)))
    backend = Backend("local", MODEL_NAME, server.base_url, server.api_key, settings.timeout, server,
                      supervisor=Supervisor(server).start())
    atexit.register(backend.stop)  # the supervisor and the server stop when the app stops
    return backend
