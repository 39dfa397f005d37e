"""Deployment settings every Space shares, from environment variables.

Environment variables (read when `AppSettings.from_env()` is called, not at import, so a test or a
launcher can set them late):

| variable | default | meaning |
| --- | --- | --- |
| `LLMFT_BASE_MODEL` | `google/flan-t5-base` | model a request gets when it names none |
| `LLMFT_MODELS` | (none) | more models offered in the model menu, comma-separated |
| `LLMFT_DATASET` | `knkarthick/dialogsum` | Hub dataset id, local folder, or .jsonl/.json/.csv file |
| `LLMFT_CONCURRENCY` | `1` | requests that generate at the same time (the rest wait in the queue) |
| `LLMFT_MAX_QUEUE` | `20` | requests that may wait in the queue; more are refused with "queue full" |
| `LLMFT_MAX_MODELS` | `2` | distinct models kept in memory before the cache is emptied |

Host and port are Gradio's own `GRADIO_SERVER_NAME` / `GRADIO_SERVER_PORT`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from llmft.data import DEFAULT_DATASET
from llmft.errors import ConfigError
from llmft.models import DEFAULT_BASE_MODEL


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


@dataclass
class AppSettings:
    """Deployment settings of a Space; see the module docstring for the variables."""

    base_model: str = DEFAULT_BASE_MODEL
    extra_models: list[str] = field(default_factory=list)
    dataset: str = DEFAULT_DATASET
    concurrency: int = 1
    max_queue: int = 20
    max_models: int = 2

    @classmethod
    def from_env(cls) -> AppSettings:
        extra = [m.strip() for m in os.environ.get("LLMFT_MODELS", "").split(",") if m.strip()]
        return cls(
            base_model=os.environ.get("LLMFT_BASE_MODEL", "").strip() or DEFAULT_BASE_MODEL,
            extra_models=extra,
            dataset=os.environ.get("LLMFT_DATASET", "").strip() or DEFAULT_DATASET,
            concurrency=_env_int("LLMFT_CONCURRENCY", 1),
            max_queue=_env_int("LLMFT_MAX_QUEUE", 20),
            max_models=_env_int("LLMFT_MAX_MODELS", 2),
        )

    @property
    def model_choices(self) -> list[str]:
        """The default model first, then the extra ones, without repeats."""
        return list(dict.fromkeys([self.base_model, *self.extra_models]))
