"""Deployment settings every Space shares, from environment variables.

Environment variables (read when `AppSettings.from_env()` is called, not at import, so a test or a
launcher can set them late):

| variable | default | meaning |
| --- | --- | --- |
| `LLMFT_BASE_MODEL` | `google/flan-t5-base` | model a request gets when it names none |
| `LLMFT_MODELS` | (none) | more models offered in the model menu, comma-separated |
| `LLMFT_ALLOW_ANY_MODEL` | `0` | `1`: requests may load any Hub id or local folder (local use; `scripts/run.sh`) |
| `LLMFT_MODEL_DIRS` | (none) | folders whose insides may be loaded by path, comma-separated (see below) |
| `LLMFT_DATASET` | `knkarthick/dialogsum` | Hub dataset id, local folder, or .jsonl/.json/.csv file |
| `LLMFT_CONCURRENCY` | `1` | requests that generate at the same time (the rest wait in the queue) |
| `LLMFT_MAX_QUEUE` | `20` | requests that may wait in the queue; more are refused with "queue full" |
| `LLMFT_MAX_SESSIONS` | `1000` | visitors' sessions kept in memory (see below); past it the least recent is dropped |
| `LLMFT_MAX_MODELS` | `2` | distinct models kept in memory; past it the least recently used is dropped |
| `LLMFT_HUB_TIMEOUT` | `10` | seconds the Hub may stay silent before a look-up or download gives up |

With `LLMFT_ALLOW_ANY_MODEL` off (the default, for a hosted Space) a request may name only the offered
models (`LLMFT_BASE_MODEL`, `LLMFT_MODELS`), a folder inside an offered local model's folder or inside
`LLMFT_MODEL_DIRS`, and an adapter only if its base model is allowed too; anything else gets one message
that does not say whether such a path exists (`llmft.sources.ModelPolicy`).

Gradio keeps, per session (a browser tab, a `gradio_client.Client`), a copy of every component's config with
the last inputs and outputs (measured before any values: 142 KiB a session in the Prompting Space, 105 KiB in the
Summarizer, about 50 KiB in the Shopbot), and by default keeps 10,000 sessions: memory grew with every visitor.
`LLMFT_MAX_SESSIONS` is Gradio's `state_session_capacity`. A dropped session (the least recently used) loses those
copies and its `gr.State`: the Summarizer's and Prompting Space's pages work on, the Shopbot's chat starts its
history afresh at its next message.

Host and port are Gradio's own `GRADIO_SERVER_NAME` / `GRADIO_SERVER_PORT`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from llmft.data import DEFAULT_DATASET
from llmft.errors import ConfigError
from llmft.models import DEFAULT_BASE_MODEL
from llmft.sources import ModelPolicy, local_model_dirs


def _env_int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} is too small; it must be at least {minimum}.")
    return value


def _env_flag(name: str) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}={raw!r}: use 1 (on) or 0 (off).")


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


@dataclass
class AppSettings:
    """Deployment settings of a Space; see the module docstring for the variables."""

    base_model: str = DEFAULT_BASE_MODEL
    extra_models: list[str] = field(default_factory=list)
    dataset: str = DEFAULT_DATASET
    concurrency: int = 1
    max_queue: int = 20
    max_sessions: int = 1000
    max_models: int = 2
    allow_any_model: bool = False
    model_dirs: list[Path] = field(default_factory=list)

    @classmethod
    def from_env(cls) -> AppSettings:
        return cls(
            base_model=os.environ.get("LLMFT_BASE_MODEL", "").strip() or DEFAULT_BASE_MODEL,
            extra_models=_env_list("LLMFT_MODELS"),
            dataset=os.environ.get("LLMFT_DATASET", "").strip() or DEFAULT_DATASET,
            concurrency=_env_int("LLMFT_CONCURRENCY", 1),
            max_queue=_env_int("LLMFT_MAX_QUEUE", 20),
            max_sessions=_env_int("LLMFT_MAX_SESSIONS", 1000),
            max_models=_env_int("LLMFT_MAX_MODELS", 2),
            allow_any_model=_env_flag("LLMFT_ALLOW_ANY_MODEL"),
            model_dirs=[Path(folder).expanduser() for folder in _env_list("LLMFT_MODEL_DIRS")],
        )

    @property
    def model_choices(self) -> list[str]:
        """The default model first, then the extra ones, without repeats."""
        return list(dict.fromkeys([self.base_model, *self.extra_models]))

    def model_policy(self) -> ModelPolicy:
        """What a request may load: the offered models, anything inside their folders and `model_dirs`."""
        choices = self.model_choices
        return ModelPolicy(
            allowed=tuple(choices),
            allow_any=self.allow_any_model,
            model_dirs=(*local_model_dirs(choices), *self.model_dirs),
        )
