"""Load FLAN-T5-style seq2seq models (base, fully fine-tuned, or a LoRA adapter), keep them, and generate in batches.

A model source is a Hub id (`google/flan-t5-base`, `you/flan-t5-dialogsum-lora`) or a local folder; names,
the apps' allowlist (`ModelPolicy`), the one "same model?" rule (`same_model`) and Hub downloads are
`llmft.sources`' job, so transformers only ever loads local folders. A folder with `adapter_config.json` is
a LoRA adapter: its base model comes from that file unless the caller names one, and a caller's base that
differs from the adapter's is refused with both names. Configs are checked (an encoder-decoder model; an
adapter's base allowed) before weights are fetched.

- `loader`: `locate` (the checks before any weights), `load_model` (the one loader: apps, training, merge,
  evaluation, the Summarizer), `attach_adapter` (several adapters on one base), `pick_device`.
- `generation`: `GenerationSettings`, `generate` (batches of similar length, outputs in input order).

Loaded models live in a `ModelCache` (`llmft.model_cache`; one per process by default, `MODEL_CACHE`): the
least recently used model is dropped past `max_models`, and a model being loaded holds a lock for its own key
only, so requests for models already loaded never wait behind a download.
"""

from llmft.model_cache import ModelCache
from llmft.models.generation import GenerationSettings, generate
from llmft.models.loader import (
    MODEL_CACHE,
    LoadedModel,
    Located,
    attach_adapter,
    check_seq2seq_config,
    clear_model_cache,
    load_model,
    locate,
    pick_device,
    read_adapter_config,
)
from llmft.settings.spaces import DEFAULT_BASE_MODEL  # stated in the settings home; the apps' LLMFT_BASE_MODEL
from llmft.sources import ModelPolicy, normalise_source, resolve_source, same_model

__all__ = [
    "DEFAULT_BASE_MODEL",
    "MODEL_CACHE",
    "GenerationSettings",
    "LoadedModel",
    "Located",
    "ModelCache",
    "ModelPolicy",
    "attach_adapter",
    "check_seq2seq_config",
    "clear_model_cache",
    "generate",
    "load_model",
    "locate",
    "normalise_source",
    "pick_device",
    "read_adapter_config",
    "resolve_source",
    "same_model",
]
