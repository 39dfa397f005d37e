"""Which model answers: OpenAI (OPENAI_API_KEY), any OpenAI-compatible server (OPENAI_BASE_URL), or the embedded
local SmolLM2 server; all three through LangChain's `ChatOpenAI`, streaming, at temperature 0.

    backend = resolve_backend(ChatSettings.from_env())   # starts the local server when neither is set
    model = backend.chat_model(max_tokens=256)            # a ChatOpenAI, or None for retrieval only
"""

from __future__ import annotations

import atexit
import logging
from dataclasses import dataclass, field
from typing import Any

from llmft.apps.errors import redact
from llmft.chat.local_server import MODEL_NAME, LocalServer
from llmft.chat.settings import ChatSettings
from llmft.errors import LlmftError

logger = logging.getLogger(__name__)


@dataclass
class Backend:
    kind: str  # "openai", "compatible", "local" or "none" (retrieval only)
    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    server: LocalServer | None = field(default=None, repr=False)
    why_none: str = ""

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

    def stop(self) -> None:
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
    atexit.register(server.stop)  # the server stops when the app stops
    return Backend("local", MODEL_NAME, server.base_url, server.api_key, settings.timeout, server)
