"""An optional consistency model: a Hub sequence-classification checkpoint that scores (dialogue, summary) pairs.

Set `LLMFT_CONSISTENCY_MODEL` to a Hub id or folder of a sequence-classification model: an NLI model with an
entailment label (the score is that label's probability), a two-label consistent/inconsistent model (the
probability of the label named consistent, supported or entailment, else of label 1), or a one-logit model
(its sigmoid). It loads the way the FLAN-T5 models do: the name checked by `llmft.sources.normalise_source`,
the files fetched by `resolve_source` (the Hub cache first, every request bounded by `LLMFT_HUB_TIMEOUT`), the
model kept in the process's `MODEL_CACHE`. Remote code is never run, so models that need it (Vectara's HHEM
has custom code) fail to load, and then, as when the setting is absent, the rule-based check runs alone and
`status()` says why. A failed load is retried after `RETRY_AFTER_S`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmft.errors import LlmftError, ModelLoadError
from llmft.model_cache import ModelCache
from llmft.settings.services import FaithfulnessSettings
from llmft.sources import normalise_source, resolve_source, shown

SETTING = "LLMFT_CONSISTENCY_MODEL"
RETRY_AFTER_S = 60.0
ENTAILMENT_WORDS = ("entail", "consistent", "support", "faithful")
_failures: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


@dataclass
class ConsistencyModel:
    model: Any
    tokenizer: Any
    source: str
    label: int | None  # the index scored; None: one logit, scored by its sigmoid

    def score(self, summary: str, dialogue: str) -> float:
        """How consistent the summary is with the dialogue, from 0 to 1 (the premise is the dialogue)."""
        import torch

        batch = self.tokenizer(dialogue, summary, truncation="only_first", max_length=512, return_tensors="pt")
        with torch.inference_mode(), _lock:
            logits = self.model(**batch).logits[0]
        if self.label is None:
            return float(torch.sigmoid(logits[0]))
        return float(torch.softmax(logits, dim=-1)[self.label])


def configured() -> str | None:
    return FaithfulnessSettings.value_of("consistency_model")


def _label(config: Any) -> int | None:
    if config.num_labels == 1:
        return None
    names = {int(i): str(n).lower() for i, n in (config.id2label or {}).items()}
    for index, name in sorted(names.items()):
        if any(word in name for word in ENTAILMENT_WORDS) and not name.startswith(("in", "not", "non", "un")):
            return index
    if config.num_labels == 2:
        return 1
    raise ModelLoadError(f"none of its labels ({', '.join(names.values())}) names entailment or consistency")


def _check(folder: Path) -> None:
    if not (folder / "config.json").is_file():
        raise ModelLoadError("it has no config.json: not a transformers model")


def load(source: str, cache: ModelCache[Any] | None = None) -> ConsistencyModel:
    """The model for `source`, loaded once per process (MODEL_CACHE), or a `ModelLoadError` saying why not."""
    from llmft.models import MODEL_CACHE

    name = normalise_source(source)

    def build() -> ConsistencyModel:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        folder = resolve_source(name, check=_check)
        try:
            model = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=False)
            tokenizer = AutoTokenizer.from_pretrained(folder)
        except (OSError, ValueError, KeyError) as err:
            raise ModelLoadError(str(err).splitlines()[0]) from err
        return ConsistencyModel(model.eval(), tokenizer, name, _label(model.config))

    try:
        return (cache or MODEL_CACHE).get_or_load(("consistency", name), build)
    except ModelLoadError as err:
        raise ModelLoadError(f"Consistency model '{shown(name)}' could not be loaded: {err}") from err


def status() -> tuple[ConsistencyModel | None, str]:
    """The configured model, ready, or None and a note for the page (not set, or why it failed to load)."""
    source = configured()
    if source is None:
        return None, f"No consistency model ({SETTING} is not set): the rule-based check runs alone."
    with _lock:
        failed = _failures.get(source)
    if failed and time.monotonic() - failed[0] < RETRY_AFTER_S:
        return None, failed[1]
    try:
        model = load(source)
    except LlmftError as err:
        note = f"{err} The rule-based check runs alone."
        with _lock:
            _failures[source] = (time.monotonic(), note)
        return None, note
    return model, f"Consistency model: {model.source} (score 0 to 1: how consistent the summary is with the dialogue)."
