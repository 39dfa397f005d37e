"""The CTranslate2 conversion (llmft.summarizing.ct2): fp32 greedy outputs and per-token scores equal torch's.

transformers 5's `T5Config` reports every T5 as "tied"; CTranslate2's stock converter then scales the decoder's
outputs by 1/sqrt(d_model). Greedy picks survive that, scores do not: the second test shows the stock
converter's scores are off and ours are not.
"""

from __future__ import annotations

import importlib.util

import pytest
import torch

from llmft.demo.tiny import synthetic_dialogues
from llmft.errors import ConfigError
from llmft.models import load_model
from llmft.prompts import fit_prompt
from tests.support.require import require

TOKENS = 10


@pytest.fixture(scope="module")
def ct2_ready():
    require(importlib.util.find_spec("ctranslate2") is not None, "the ctranslate2 package (pip install ctranslate2)")


def _torch_reference(loaded, prompts):
    """Greedy ids (exactly TOKENS new tokens) and their per-token log-probabilities, from torch."""
    tokenizer, model = loaded.tokenizer, loaded.model
    encoded = tokenizer(prompts, return_tensors="pt", padding=True)
    with torch.inference_mode():
        ids = model.generate(**encoded, max_new_tokens=TOKENS, min_new_tokens=TOKENS, do_sample=False)
        targets = [row[1:].tolist() for row in ids]
        scores = []
        for prompt, target in zip(prompts, targets, strict=True):
            logits = model(**tokenizer(prompt, return_tensors="pt"), labels=torch.tensor([target])).logits[0]
            scores.append(torch.log_softmax(logits.float(), dim=-1)[range(len(target)), target].tolist())
    texts = [t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)]
    return texts, targets, scores


def _max_difference(a: list[list[float]], b: list[list[float]]) -> float:
    return max(abs(x - y) for row_a, row_b in zip(a, b, strict=True) for x, y in zip(row_a, row_b, strict=True))


def test_a_merged_adapter_converts_to_fp32_with_torch_outputs_and_scores(ct2_ready, tiny_models, tmp_path):
    from llmft.summarizing.ct2 import Ct2Summarizer, convert

    loaded = load_model(str(tiny_models.lora), use_cache=False)  # an adapter: merged before converting
    prompts = [fit_prompt(loaded.tokenizer, row.dialogue).text for row in synthetic_dialogues(5, seed=3)]
    texts, targets, scores = _torch_reference(loaded, prompts)

    ct2 = Ct2Summarizer(convert(str(tiny_models.lora), tmp_path / "ct2", "float32"), loaded.tokenizer, "float32")
    assert ct2.generate(prompts, max_new_tokens=TOKENS, min_new_tokens=TOKENS, batch_size=2) == texts
    ct2_scores = ct2.score(prompts, targets)
    assert [len(s) for s in ct2_scores] == [TOKENS] * len(prompts)
    assert _max_difference(ct2_scores, scores) < 1e-3


def test_the_stock_converter_scales_the_outputs_and_ours_does_not(ct2_ready, tiny_models, tmp_path):
    from ctranslate2.converters import TransformersConverter

    from llmft.summarizing.ct2 import Ct2Summarizer, convert

    loaded = load_model(str(tiny_models.base), use_cache=False)
    assert loaded.model.config.tie_word_embeddings is True and loaded.model.config.scale_decoder_outputs is False
    prompts = [fit_prompt(loaded.tokenizer, row.dialogue).text for row in synthetic_dialogues(3, seed=4)]
    texts, targets, scores = _torch_reference(loaded, prompts)

    TransformersConverter(str(tiny_models.base)).convert(str(tmp_path / "stock"), quantization="float32")
    stock = Ct2Summarizer(tmp_path / "stock", loaded.tokenizer, "float32")
    ours = Ct2Summarizer(convert(str(tiny_models.base), tmp_path / "ours", "float32"), loaded.tokenizer, "float32")
    assert stock.generate(prompts, TOKENS, TOKENS) == texts  # greedy picks survive the scaling ...
    assert _max_difference(stock.score(prompts, targets), scores) > 1e-2  # ... the scores do not
    assert ours.generate(prompts, TOKENS, TOKENS) == texts
    assert _max_difference(ours.score(prompts, targets), scores) < 1e-3


def test_the_summarizer_serves_from_ctranslate2_when_chosen(ct2_ready, tiny_models, monkeypatch):
    from llmft.models import GenerationSettings, generate
    from llmft.summarizing import Summarizer, SummarizerSettings

    monkeypatch.setenv("LLMFT_SUMMARIZER_BASE", str(tiny_models.base))
    monkeypatch.setenv("LLMFT_LORA_ADAPTERS", str(tiny_models.lora))
    monkeypatch.setenv("LLMFT_SUMMARIZER_BACKEND", "ctranslate2")
    monkeypatch.setenv("LLMFT_CT2_QUANTIZATION", "float32")  # exact: the outputs must be torch's
    summarizer = Summarizer(SummarizerSettings.from_env())
    assert summarizer.ct2 is not None
    dialogue = synthetic_dialogues(1, seed=9)[0].dialogue
    result = summarizer.summarize(dialogue, "", summarizer.specs(), max_new_tokens=TOKENS)
    for row in result.results:
        loaded = load_model(row.source, use_cache=False)
        prompt = fit_prompt(loaded.tokenizer, dialogue).text
        assert row.summary == generate(loaded, [prompt], GenerationSettings(max_new_tokens=TOKENS))[0]
    assert len(summarizer.ct2._models.keys()) == 2  # the base and the merged adapter, each converted once
    monkeypatch.setenv("LLMFT_SUMMARIZER_BACKEND", "onnx")
    with pytest.raises(ConfigError, match="LLMFT_SUMMARIZER_BACKEND='onnx': use one of torch, ctranslate2"):
        SummarizerSettings.from_env()
