"""The Summarizer Space's settings: what every Space shares (`AppSettings`) plus its own.

| variable | default | meaning |
| --- | --- | --- |
| `LLMFT_SUMMARIZER_BASE` | `google/flan-t5-base` | the original model; every LoRA adapter is loaded onto it |
| `LLMFT_FULL_MODEL` | (none) | the fully fine-tuned checkpoint |
| `LLMFT_LORA_ADAPTERS` | `LLMFT_LORA_ADAPTER`, else none | LoRA adapters, comma-separated |
| `LLMFT_BATCH_MAX_BYTES` | `1000000` | largest batch file accepted, in bytes |
| `LLMFT_BATCH_MAX_ROWS` | `200` | most dialogues in one batch file |
| `LLMFT_MAX_EVAL` | `100` | most test dialogues one evaluation may run over |
| `LLMFT_SUMMARY_TOKENS` | `128` | new tokens a summary may have (the default of the UI's slider) |
| `LLMFT_GENERATION_BATCH` | `8` | dialogues generated together (sorted by length) |
| `LLMFT_SUMMARIZER_BACKEND` | `torch` | `ctranslate2`: summaries from CTranslate2 conversions (adapters merged) |
| `LLMFT_CT2_QUANTIZATION` | `int8` | the CTranslate2 models' weights: `int8`, `float32`, ... |

Each model is a Hub id, `id@revision`, or a local folder. A subclass of `AppSettings` (as
`PromptingSettings` is), so `model_policy()` offers exactly this Space's models (plus `LLMFT_MODELS`,
`LLMFT_MODEL_DIRS`, or anything with `LLMFT_ALLOW_ANY_MODEL=1`): a hosted Space loads nothing else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

from llmft.apps.settings import AppSettings, _env_int
from llmft.errors import ConfigError
from llmft.models import DEFAULT_BASE_MODEL

BACKENDS = ("torch", "ctranslate2")
QUANTIZATIONS = ("int8", "int8_float32", "float32", "bfloat16", "int8_bfloat16")


def _env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, "").strip().lower() or default
    if value not in choices:
        raise ConfigError(f"{name}={value!r}: use one of {', '.join(choices)}.")
    return value


def split_sources(text: str | None) -> list[str]:
    """Comma- or newline-separated model sources, stripped, blanks and repeats dropped."""
    parts = (text or "").replace("\n", ",").split(",")
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))


def without_revision(source: str) -> str:
    """`owner/name@rev` -> `owner/name`: the allowlist names models, not revisions."""
    head, _, tail = source.rpartition("@")
    return head if head and tail and "/" not in tail else source


@dataclass
class SummarizerSettings(AppSettings):
    """`AppSettings` plus the variants and limits of the Summarizer; see the module docstring."""

    full_model: str = ""
    adapters: list[str] = field(default_factory=list)
    batch_max_bytes: int = 1_000_000
    batch_max_rows: int = 200
    max_eval_dialogues: int = 100
    max_new_tokens: int = 128
    generation_batch: int = 8
    backend: str = "torch"
    ct2_quantization: str = "int8"

    @classmethod
    def from_env(cls) -> SummarizerSettings:
        shared = AppSettings.from_env()
        adapters = os.environ.get("LLMFT_LORA_ADAPTERS")
        if adapters is None:  # the demo build exports one adapter under this name
            adapters = os.environ.get("LLMFT_LORA_ADAPTER", "")
        copied = {f.name: getattr(shared, f.name) for f in fields(AppSettings) if f.init}
        # The Summarizer's base is the ORIGINAL model; LLMFT_BASE_MODEL (the Prompting Space's model) may be a
        # fine-tuned one (the demo build points it at its full checkpoint), so it is not read here.
        copied["base_model"] = os.environ.get("LLMFT_SUMMARIZER_BASE", "").strip() or DEFAULT_BASE_MODEL
        return cls(
            **copied,
            full_model=os.environ.get("LLMFT_FULL_MODEL", "").strip(),
            adapters=split_sources(adapters),
            batch_max_bytes=_env_int("LLMFT_BATCH_MAX_BYTES", 1_000_000),
            batch_max_rows=_env_int("LLMFT_BATCH_MAX_ROWS", 200),
            max_eval_dialogues=_env_int("LLMFT_MAX_EVAL", 100),
            max_new_tokens=_env_int("LLMFT_SUMMARY_TOKENS", 128),
            generation_batch=_env_int("LLMFT_GENERATION_BATCH", 8),
            backend=_env_choice("LLMFT_SUMMARIZER_BACKEND", "torch", BACKENDS),
            ct2_quantization=_env_choice("LLMFT_CT2_QUANTIZATION", "int8", QUANTIZATIONS),
        )

    @property
    def model_choices(self) -> list[str]:
        """The models this Space offers (its allowlist with `model_policy()`): base, full, adapters, extras."""
        offered = [self.base_model, self.full_model, *self.adapters, *self.extra_models]
        return list(dict.fromkeys(without_revision(m) for m in offered if m))
