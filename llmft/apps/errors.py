"""Errors for the UI: package errors become `gr.Error` messages; secrets never reach a message or a log.

Nothing here imports Gradio at module level, so the package (and its tests) work without it; only
`gradio_errors` needs it, when a wrapped function raises.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable
from typing import Any, TypeVar

from llmft.errors import LlmftError
from llmft.settings import secret_values

logger = logging.getLogger(__name__)

SECRET_ENV_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")  # huggingface_hub's; the project's own: secret_values()
# Hugging Face and OpenAI token shapes: redacted even when they are not in this process's environment.
_TOKEN_PATTERN = re.compile(r"\b(hf_[A-Za-z0-9]{8,}|sk-[A-Za-z0-9_-]{16,})\b")
_MAX_UNEXPECTED_MESSAGE = 300

F = TypeVar("F", bound=Callable[..., Any])


def redact(text: str) -> str:
    """Remove secrets: the values of token variables set here, and anything shaped like a token."""
    values = [value for name in SECRET_ENV_VARS if len(value := os.environ.get(name) or "") >= 4]
    for value in [*values, *secret_values()]:
        text = text.replace(value, "***")
    return _TOKEN_PATTERN.sub("***", text)


def user_message(err: BaseException) -> str:
    """The message a person sees: the package's own message, or a short one for anything unexpected."""
    if isinstance(err, LlmftError):
        return redact(str(err))
    first_line = (str(err).strip().splitlines() or [""])[0][:_MAX_UNEXPECTED_MESSAGE]
    detail = f": {first_line}" if first_line else ""
    return redact(f"Unexpected error ({type(err).__name__}{detail}). The server log has the details.")


def gradio_errors(fn: F) -> F:
    """Turn exceptions raised by `fn` into `gr.Error`, which Gradio shows in the UI and sends to API clients.

    Package errors (`LlmftError`) are expected: a one-line log, no traceback. Anything else is a bug or an
    outage: the traceback goes to the log, and the user gets the exception type and first line.
    `functools.wraps` keeps `fn`'s signature, which Gradio reads for API parameter names and `gr.Progress`.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import gradio as gr

        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except LlmftError as err:
            logger.warning("%s: %s", fn.__name__, redact(str(err)).splitlines()[0] if str(err) else type(err).__name__)
            raise gr.Error(user_message(err), print_exception=False) from err
        except Exception as err:
            logger.exception("%s failed", fn.__name__)
            raise gr.Error(user_message(err), print_exception=False) from err

    return wrapper  # type: ignore[return-value]
