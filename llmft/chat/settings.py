"""Shopbot settings from environment variables, each with its default in one place.

OPENAI_API_KEY       OpenAI's API (backend "openai"), unless OPENAI_BASE_URL is set too
OPENAI_BASE_URL      any OpenAI-compatible server (vLLM, Ollama, llama.cpp, hosted endpoints): backend "compatible"
LLMFT_CHAT_MODEL     the chat model's name for those two backends (default gpt-3.5-turbo, as in the course)
LLMFT_CHAT_TIMEOUT   seconds to wait for the model before answering from retrieval alone (default 30)
LLMFT_CHAT_MAX_TOKENS  most tokens per answer (default 256)
LLMFT_CHAT_REWRITE   follow-up rewriting: "auto" (the LLM on remote backends, the store's history join on the
                     local 135M model, which cannot rewrite reliably), "llm" or "store"
LLMFT_SHOPBOT_STORE  "demo" (default: the demo shop shipped in the package, filled on first start, next to
                     LLMFT_STORE_PATH's folder) or "env" (the store LLMFT_STORE_PATH / LLMFT_CHROMA_* name)
LLMFT_SHOPBOT_ADMIN_PASSWORD  opens the admin tab (upload and ingest files); unset: no admin tab
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from llmft.errors import ConfigError

DEFAULT_CHAT_MODEL = "gpt-3.5-turbo"
REWRITE_MODES = ("auto", "llm", "store")


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _number(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError as err:
        raise ConfigError(f"{name}={raw!r} is not a number") from err
    if value <= 0:
        raise ConfigError(f"{name}={raw!r} must be greater than 0")
    return value


@dataclass(frozen=True)
class ChatSettings:
    api_key: str | None = None
    base_url: str | None = None
    model: str = DEFAULT_CHAT_MODEL
    timeout: float = 30.0
    max_tokens: int = 256
    rewrite: str = "auto"
    admin_password: str | None = field(default=None, repr=False)
    store: str = "demo"

    def __repr__(self) -> str:  # the key and the password never reach a log through a repr
        return (f"ChatSettings(base_url={self.base_url!r}, model={self.model!r}, timeout={self.timeout}, "
                f"max_tokens={self.max_tokens}, rewrite={self.rewrite!r}, api_key={'***' if self.api_key else None})")

    @classmethod
    def from_env(cls) -> ChatSettings:
        rewrite = (_env("LLMFT_CHAT_REWRITE") or "auto").lower()
        if rewrite not in REWRITE_MODES:
            raise ConfigError(f"LLMFT_CHAT_REWRITE={rewrite!r} is not one of {', '.join(REWRITE_MODES)}")
        store = (_env("LLMFT_SHOPBOT_STORE") or "demo").lower()
        if store not in ("demo", "env"):
            raise ConfigError(f"LLMFT_SHOPBOT_STORE={store!r} is not demo or env")
        return cls(api_key=_env("OPENAI_API_KEY"), base_url=_env("OPENAI_BASE_URL"),
                   model=_env("LLMFT_CHAT_MODEL") or DEFAULT_CHAT_MODEL,
                   timeout=_number("LLMFT_CHAT_TIMEOUT", 30.0),
                   max_tokens=int(_number("LLMFT_CHAT_MAX_TOKENS", 256)), rewrite=rewrite,
                   admin_password=_env("LLMFT_SHOPBOT_ADMIN_PASSWORD"), store=store)
