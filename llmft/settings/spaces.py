"""What the Spaces read: the settings every Space shares (`AppSettings`), and the Prompting and Summarizer Spaces'
own (subclasses, so code written against `AppSettings`, the model cache and the model policy, reads them alike).

With `LLMFT_ALLOW_ANY_MODEL` off (the default, for a hosted Space) a request may name only the offered models
(`model_choices`), a folder inside an offered local model's folder or inside `LLMFT_MODEL_DIRS`, and an adapter
only if its base model is allowed too; anything else gets one message that does not say whether such a path
exists (`llmft.sources.ModelPolicy`).

Gradio keeps, per session (a browser tab, a `gradio_client.Client`), a copy of every component's config with the
last inputs and outputs, and by default keeps 10,000 sessions: memory grew with every visitor.
`LLMFT_MAX_SESSIONS` is Gradio's `state_session_capacity`. A dropped session (the least recently used) loses
those copies and its `gr.State`. Host and port are Gradio's own `GRADIO_SERVER_NAME` / `GRADIO_SERVER_PORT`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from llmft.settings.env import EnvSettings, setting

if TYPE_CHECKING:
    from llmft.sources import ModelPolicy

DEFAULT_BASE_MODEL = "google/flan-t5-base"
DEFAULT_DATASET = "knkarthick/dialogsum"
SummarizerBackend = Literal["torch", "ctranslate2"]
Quantization = Literal["int8", "int8_float32", "float32", "bfloat16", "int8_bfloat16"]
QUANTIZATIONS: tuple[str, ...] = get_args(Quantization)


def without_revision(source: str) -> str:
    """`owner/name@rev` -> `owner/name`: the allowlist names models, not revisions."""
    head, _, tail = source.rpartition("@")
    return head if head and tail and "/" not in tail else source


@dataclass
class AppSettings(EnvSettings):
    """Deployment settings of a Space."""

    base_model: str = setting("LLMFT_BASE_MODEL", DEFAULT_BASE_MODEL, "model a request gets when it names none")
    extra_models: list[str] = setting("LLMFT_MODELS", factory=list,
                                      meaning="more models offered in the model menu, comma-separated")
    dataset: str = setting("LLMFT_DATASET", DEFAULT_DATASET,
                           "Hub dataset id, local folder, or .jsonl/.json/.csv file")
    concurrency: int = setting("LLMFT_CONCURRENCY", 1, "requests that generate at the same time (the rest wait in "
                               "the queue)", minimum=1)
    max_queue: int = setting("LLMFT_MAX_QUEUE", 20, "requests that may wait in the queue; more are refused with "
                             "\"queue full\"", minimum=1)
    max_sessions: int = setting("LLMFT_MAX_SESSIONS", 1000, "visitors' sessions kept in memory; past it the least "
                                "recent is dropped", minimum=1)
    max_models: int = setting("LLMFT_MAX_MODELS", 2, "distinct models kept in memory; past it the least recently "
                              "used is dropped", minimum=1)
    allow_any_model: bool = setting("LLMFT_ALLOW_ANY_MODEL", False, "`1`: requests may load any Hub id or local "
                                    "folder (local use; `scripts/run.sh`)")
    model_dirs: list[Path] = setting("LLMFT_MODEL_DIRS", factory=list,
                                     meaning="folders whose insides may be loaded by path, comma-separated")

    @property
    def model_choices(self) -> list[str]:
        """The default model first, then the extra ones, without repeats."""
        return list(dict.fromkeys([self.base_model, *self.extra_models]))

    def model_policy(self) -> ModelPolicy:
        """What a request may load: the offered models, anything inside their folders and `model_dirs`."""
        from llmft.sources import ModelPolicy, local_model_dirs  # the policy's rules live with the sources

        choices = self.model_choices
        return ModelPolicy(allowed=tuple(choices), allow_any=self.allow_any_model,
                           model_dirs=(*local_model_dirs(choices), *self.model_dirs))

    def shared(self) -> dict[str, object]:
        """The fields every Space shares, to build another Space's settings from these."""
        return {name: getattr(self, name) for name in AppSettings.__dataclass_fields__}


@dataclass
class EvaluatingSettings(AppSettings):
    """`AppSettings` plus the largest evaluation: what the Prompting and Summarizer Spaces share (not the Shopbot)."""

    max_eval_dialogues: int = setting("LLMFT_MAX_EVAL", 100, "most dialogues one evaluation may run over",
                                      minimum=1)


@dataclass
class PromptingSettings(EvaluatingSettings):
    """`AppSettings` plus the largest evaluation and the shot pool's size."""

    # The first "most similar" request embeds the whole pool: about a minute for 500 dialogues on 2 CPUs.
    shot_pool_size: int = setting("LLMFT_SHOT_POOL", 500, "examples the shot pickers choose from (the first N of "
                                  "the pool split)", minimum=1)

    @classmethod
    def from_app(cls, shared: AppSettings) -> PromptingSettings:
        """These settings from shared ones (every field of `AppSettings` copied), this Space's defaults for the rest."""
        return shared if isinstance(shared, cls) else cls(**shared.shared())


@dataclass
class SummarizerSettings(EvaluatingSettings):
    """`AppSettings` plus the largest evaluation, the Summarizer's variants and limits. Each model is a Hub id,
    `id@revision`, or a folder.

    The base is the ORIGINAL model, `LLMFT_SUMMARIZER_BASE`: `LLMFT_BASE_MODEL` (the Prompting Space's model) may
    be a fine-tuned one (the demo build points it at its full checkpoint), so this Space does not read it."""

    base_model: str = setting("LLMFT_SUMMARIZER_BASE", DEFAULT_BASE_MODEL, "the original model; every LoRA adapter "
                              "is loaded onto it")
    full_model: str = setting("LLMFT_FULL_MODEL", "", "the fully fine-tuned checkpoint")
    adapters: list[str] = setting("LLMFT_LORA_ADAPTERS", factory=list, shown="`LLMFT_LORA_ADAPTER`, else (none)",
                                  fallback="LLMFT_LORA_ADAPTER", meaning="LoRA adapters, comma-separated")
    batch_max_bytes: int = setting("LLMFT_BATCH_MAX_BYTES", 1_000_000, "largest batch file accepted, in bytes",
                                   minimum=1)
    batch_max_rows: int = setting("LLMFT_BATCH_MAX_ROWS", 200, "most dialogues in one batch file", minimum=1)
    max_new_tokens: int = setting("LLMFT_SUMMARY_TOKENS", 128, "new tokens a summary may have (the default of the "
                                  "UI's slider)", minimum=1)
    generation_batch: int = setting("LLMFT_GENERATION_BATCH", 8, "dialogues generated together (sorted by length)",
                                    minimum=1)
    backend: SummarizerBackend = setting("LLMFT_SUMMARIZER_BACKEND", "torch", "`ctranslate2`: summaries from "
                                         "CTranslate2 conversions (adapters merged)")
    ct2_quantization: Quantization = setting("LLMFT_CT2_QUANTIZATION", "int8", "the CTranslate2 models' weights: "
                                             "`int8`, `float32`, ...")

    @property
    def model_choices(self) -> list[str]:
        """The models this Space offers (its allowlist with `model_policy()`): base, full, adapters, extras."""
        offered = [self.base_model, self.full_model, *self.adapters, *self.extra_models]
        return list(dict.fromkeys(without_revision(m) for m in offered if m))
