"""CTranslate2 for FLAN-T5: a correct conversion, and batched greedy summaries from the converted model.

Conversion traps with transformers 5.24, both handled here:
- `T5Config` forces `tie_word_embeddings=True` and keeps the checkpoint's real flag as
  `scale_decoder_outputs`. CTranslate2's T5 converter reads the forced flag and would scale FLAN-T5's
  decoder outputs by 1/sqrt(d_model): greedy picks survive (argmax does not change), beam search,
  sampling and scores do not. `_T5Converter` gives the converter the real flag.
- A LoRA adapter is merged into its base first (`merge_and_unload`): CTranslate2 has no adapters.

`Ct2Summarizer` tokenizes with the model's own tokenizer (the same prompt text as the torch path),
translates in length-sorted batches, and decodes back. `score` gives per-token log-probabilities of
given summaries, to check a conversion against torch. Needs `pip install ctranslate2`.
"""

from __future__ import annotations

import itertools
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llmft.errors import ConfigError, ModelLoadError
from llmft.model_cache import ModelCache
from llmft.models import load_model, locate, normalise_source, resolve_source
from llmft.settings.spaces import QUANTIZATIONS

logger = logging.getLogger(__name__)



def _ctranslate2() -> Any:
    try:
        import ctranslate2
    except ImportError as err:
        raise ConfigError("The CTranslate2 backend needs the ctranslate2 package: pip install ctranslate2") from err
    return ctranslate2


def _converter_class() -> type:
    from ctranslate2.converters import TransformersConverter

    class _T5Converter(TransformersConverter):  # type: ignore[misc, valid-type]
        def load_model(self, model_class: Any, model_name_or_path: str, **kwargs: Any) -> Any:
            model = super().load_model(model_class, model_name_or_path, **kwargs)
            if hasattr(model.config, "scale_decoder_outputs"):
                # The converter scales outputs when this says "tied"; give it the checkpoint's real flag.
                model.config.tie_word_embeddings = bool(model.config.scale_decoder_outputs)
            return model

    return _T5Converter


def merged_folder(source: str, work_dir: Path) -> Path:
    """A local folder with a full model for `source`: itself, or (for a LoRA adapter) its merge into its base."""
    located = locate(source)
    if located.kind == "model":
        return located.folder
    loaded = load_model(source, use_cache=False)
    merged = loaded.model.merge_and_unload()
    out = work_dir / "merged"
    merged.save_pretrained(out)
    loaded.tokenizer.save_pretrained(out)
    logger.info("merged adapter %s into %s for conversion", source, loaded.base_model)
    return out


def convert(source: str, out_dir: str | Path, quantization: str = "int8") -> Path:
    """Convert a FLAN-T5 model or LoRA adapter (merged first) to a CTranslate2 model folder."""
    if quantization not in QUANTIZATIONS:
        raise ConfigError(f"Unknown quantization '{quantization}'; one of {', '.join(QUANTIZATIONS)}.")
    _ctranslate2()
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="llmft-ct2-") as work:
        folder = merged_folder(source, Path(work))
        try:
            _converter_class()(str(folder)).convert(str(out_dir), quantization=quantization, force=True)
        except (ValueError, OSError, KeyError) as err:
            raise ModelLoadError(f"Could not convert '{source}' to CTranslate2: {err}") from err
    return out_dir


class Ct2Summarizer:
    """Greedy summaries from a converted model, in length-sorted batches (CTranslate2 sorts them)."""

    def __init__(self, model_dir: str | Path, tokenizer: Any, compute_type: str = "int8",
                 threads: int | None = None):
        ctranslate2 = _ctranslate2()
        self.tokenizer = tokenizer
        self.translator = ctranslate2.Translator(
            str(model_dir), device="cpu", compute_type=compute_type, inter_threads=1,
            intra_threads=threads or os.cpu_count() or 1,
        )

    def _source_tokens(self, prompts: Sequence[str], max_input_tokens: int) -> list[list[str]]:
        encoded = self.tokenizer(list(prompts), truncation=True, max_length=max_input_tokens)["input_ids"]
        return [self.tokenizer.convert_ids_to_tokens(ids) for ids in encoded]

    def generate(
        self, prompts: Sequence[str], max_new_tokens: int = 200, min_new_tokens: int = 1, batch_size: int = 16,
        max_input_tokens: int = 512,
    ) -> list[str]:
        results = self.translator.translate_batch(
            self._source_tokens(prompts, max_input_tokens), max_batch_size=batch_size, beam_size=1,
            max_decoding_length=max_new_tokens, min_decoding_length=min_new_tokens,
        )
        decode = self.tokenizer.decode
        return [decode(self.tokenizer.convert_tokens_to_ids(r.hypotheses[0]), skip_special_tokens=True).strip()
                for r in results]

    def score(self, prompts: Sequence[str], target_ids: Sequence[Sequence[int]], max_input_tokens: int = 512
              ) -> list[list[float]]:
        """Per-token log-probabilities of each target (token ids, without the end token), given its prompt."""
        targets = [self.tokenizer.convert_ids_to_tokens(list(ids)) for ids in target_ids]
        results = self.translator.score_batch(self._source_tokens(prompts, max_input_tokens), targets)
        return [list(r.log_probs[: len(t)]) for r, t in zip(results, targets, strict=True)]


class Ct2Variants:
    """Converted variants for serving, converted once per process (adapters merged into their base first).

    Unlike the torch backend, every adapter becomes a model of its own (CTranslate2 has no adapters); int8
    models are about a quarter of the fp32 size. `check(spec, base_spec)` is the torch store's refusals
    (allowlist, an adapter for another base), run before converting.
    """

    def __init__(self, work_dir: str | Path | None = None, quantization: str = "int8", threads: int | None = None):
        self.work_dir = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="llmft-ct2-models-"))
        self.quantization = quantization
        self.threads = threads
        # One conversion at a time: each holds a full fp32 model in memory.
        self._models: ModelCache[Ct2Summarizer] = ModelCache(one_load_at_a_time=True)
        self._folders = itertools.count()

    def get(self, source: str, revision: str | None, base_source: str, tokenizer: Any) -> Ct2Summarizer:
        key = (normalise_source(source), revision, normalise_source(base_source) if base_source.strip() else "")
        return self._models.get_or_load(key, lambda: self._convert(source, revision, tokenizer))

    def _convert(self, source: str, revision: str | None, tokenizer: Any) -> Ct2Summarizer:
        out = self.work_dir / f"model-{next(self._folders)}"
        convert(str(resolve_source(source, revision)), out, self.quantization)
        compute = "int8" if self.quantization.startswith("int8") else self.quantization
        logger.info("serving %s with CTranslate2 (%s)", source, self.quantization)
        return Ct2Summarizer(out, tokenizer, compute, self.threads)
