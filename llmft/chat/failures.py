"""Why the model did not answer, in words the person reading the page can act on.

    why = model_failure(err, backend)   # "the embedded model SmolLM2-135M-Instruct is restarting: ..."

Failures are told apart by the `openai` client's exception types (and httpx's, which a streamed answer raises
when the connection breaks mid-answer), never by class names. The message names the backend: the embedded
model says what happened to its server (crashed, restarting, down since when and why) and never points at
OPENAI_BASE_URL, a setting its user never made; a remote server names the setting that chose it. No key ever
appears: every message goes through `redact`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx
import openai

from llmft.apps.errors import redact

if TYPE_CHECKING:
    from llmft.chat.backends import Backend

_DETAIL_CHARS = 160
_SETTLE_S = 0.5


def _detail(err: openai.APIStatusError) -> str:
    body = err.body if isinstance(err.body, dict) else {}
    inner = body.get("error", body)
    message = inner.get("message") if isinstance(inner, dict) else None
    return " ".join(str(message or err.message or "").split())[:_DETAIL_CHARS]


def _local(err: BaseException, backend: Backend) -> str:
    from llmft.chat.backends import LOCAL_NAME

    if isinstance(err, (openai.APITimeoutError, httpx.TimeoutException)):
        return (f"{LOCAL_NAME} did not answer within {backend.timeout:.0f} s (LLMFT_CHAT_TIMEOUT); it answers one "
                "question at a time, so it may be busy")
    # The supervisor may not have seen the crash yet: it checks the process each time its state is asked.
    down = backend.unavailable()
    if down:
        return down
    if isinstance(err, (openai.APIConnectionError, httpx.TransportError)):
        # A killed server breaks its connections a moment before its process is seen to end: look once more.
        time.sleep(_SETTLE_S)
        return backend.unavailable() or f"{LOCAL_NAME} could not be reached: its server process stopped answering"
    if isinstance(err, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return f"{LOCAL_NAME} refused the app's own key (a bug: restart the app)"
    if isinstance(err, openai.APIStatusError):
        return f"{LOCAL_NAME} failed (HTTP {err.status_code}: {_detail(err)})"
    return f"{LOCAL_NAME} failed ({type(err).__name__})"


def _remote(err: BaseException, backend: Backend | None) -> str:
    openai_itself = backend is not None and backend.kind == "openai"
    where = "OpenAI" if openai_itself else "the model server"
    if isinstance(err, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return f"{where} refused the API key (check OPENAI_API_KEY)"
    if isinstance(err, (openai.APITimeoutError, httpx.TimeoutException)):  # before APIConnectionError, its parent
        return "the model did not answer in time (LLMFT_CHAT_TIMEOUT)"
    if isinstance(err, openai.RateLimitError):
        return f"{where} is limiting requests (HTTP 429: {_detail(err)}); try again in a minute"
    if isinstance(err, (openai.APIConnectionError, httpx.TransportError)):
        if openai_itself:
            return "OpenAI could not be reached (is this machine online?)"
        return "the model server could not be reached (is it running? check OPENAI_BASE_URL)"
    if isinstance(err, openai.APIStatusError):
        return f"{where} failed (HTTP {err.status_code}: {_detail(err)})"
    return f"{where} failed ({type(err).__name__})"


def model_failure(err: BaseException, backend: Backend | None = None) -> str:
    """Why the model did not answer `err`, naming `backend` (never its key)."""
    if backend is not None and backend.kind == "local":
        return redact(_local(err, backend))
    return redact(_remote(err, backend))
