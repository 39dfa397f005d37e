"""What every Space shares: deployment settings from the environment, errors for the UI, charts.

Nothing here imports Gradio at module level, so the package (and its tests) work without it; only
`gradio_errors` needs it, when a wrapped function raises.

Environment variables (read when `AppSettings.from_env()` is called, not at import, so a test or a
launcher can set them late):

| variable | default | meaning |
| --- | --- | --- |
| `LLMFT_BASE_MODEL` | `google/flan-t5-base` | model a request gets when it names none |
| `LLMFT_MODELS` | (none) | more models offered in the model menu, comma-separated |
| `LLMFT_DATASET` | `knkarthick/dialogsum` | Hub dataset id, local folder, or .jsonl/.json/.csv file |
| `LLMFT_CONCURRENCY` | `1` | requests that generate at the same time (the rest wait in the queue) |
| `LLMFT_MAX_QUEUE` | `20` | requests that may wait in the queue; more are refused with "queue full" |
| `LLMFT_SHOT_POOL` | `500` | examples the shot pickers choose from (the first N of the pool split) |
| `LLMFT_MAX_EVAL` | `100` | most dialogues one evaluation may run over |
| `LLMFT_MAX_MODELS` | `2` | distinct models kept in memory before the cache is emptied |

Host and port are Gradio's own `GRADIO_SERVER_NAME` / `GRADIO_SERVER_PORT`.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from llmft.data import DEFAULT_DATASET
from llmft.errors import ConfigError, LlmftError
from llmft.models import DEFAULT_BASE_MODEL

logger = logging.getLogger(__name__)

SECRET_ENV_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OPENAI_API_KEY")
# Hugging Face and OpenAI token shapes: redacted even when they are not in this process's environment.
_TOKEN_PATTERN = re.compile(r"\b(hf_[A-Za-z0-9]{8,}|sk-[A-Za-z0-9_-]{16,})\b")
_MAX_UNEXPECTED_MESSAGE = 300

F = TypeVar("F", bound=Callable[..., Any])


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
    # The first "most similar" request embeds the whole pool: about a minute for 500 dialogues on 2 CPUs.
    shot_pool_size: int = 500
    max_eval_dialogues: int = 100
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
            shot_pool_size=_env_int("LLMFT_SHOT_POOL", 500),
            max_eval_dialogues=_env_int("LLMFT_MAX_EVAL", 100),
            max_models=_env_int("LLMFT_MAX_MODELS", 2),
        )

    @property
    def model_choices(self) -> list[str]:
        """The default model first, then the extra ones, without repeats."""
        return list(dict.fromkeys([self.base_model, *self.extra_models]))


# --- errors -----------------------------------------------------------------------------------------


def redact(text: str) -> str:
    """Remove secrets: the values of token variables set here, and anything shaped like a token."""
    for name in SECRET_ENV_VARS:
        value = os.environ.get(name)
        if value and len(value) >= 4:
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


# --- charts -----------------------------------------------------------------------------------------


def grouped_bar_chart(
    groups: Mapping[str, Mapping[str, float]],
    title: str = "",
    ylabel: str = "",
    value_format: str = "{:.1f}",
    figsize: tuple[float, float] = (8.0, 3.6),
) -> Any:
    """A matplotlib Figure: one cluster of bars per metric, one bar (and colour) per group.

    `groups` maps a group (a column, a model) to its metric values, e.g. {"A · 0-shot": {"rouge1": 31.2}}.
    Uses `Figure` directly rather than pyplot, whose global state is not safe across server threads.
    """
    from matplotlib.figure import Figure

    metrics = list(dict.fromkeys(m for values in groups.values() for m in values))
    figure = Figure(figsize=figsize, layout="constrained")
    axes = figure.subplots()
    count = max(len(groups), 1)
    width = 0.8 / count
    for index, (name, values) in enumerate(groups.items()):
        xs = [m + (index - (count - 1) / 2) * width for m in range(len(metrics))]
        heights = [values.get(metric, 0.0) for metric in metrics]
        bars = axes.bar(xs, heights, width=width, label=name)
        axes.bar_label(bars, labels=[value_format.format(h) for h in heights], fontsize=7, padding=1)
    axes.set_xticks(range(len(metrics)), metrics)
    axes.set_ylabel(ylabel)
    if title:
        axes.set_title(title)
    heights = [v for values in groups.values() for v in values.values()]
    if heights and min(heights) >= 0:
        # Scores are never negative: start at 0, and keep an all-zero chart from centring on 0.
        axes.set_ylim(0, max(max(heights) * 1.15, 1.0))
    else:
        axes.margins(y=0.15)
    axes.spines[["top", "right"]].set_visible(False)
    if groups:
        axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return figure
