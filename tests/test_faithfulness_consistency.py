"""The optional consistency model: a tiny NLI classifier built here, served by the local Hub, loaded by name."""

from __future__ import annotations

import pytest

from llmft.faithfulness import check, consistency
from llmft.hub import push_folder
from tests.conftest import WRITE_TOKEN

DIALOGUE = "#Person1#: A table for seven, please.\n#Person2#: Under which name?\n#Person1#: Iris."
SUMMARY = "#Person1# books a table for 2 under the name Helen."


@pytest.fixture
def fresh(monkeypatch):
    """No remembered failures or cached models from another test."""
    from llmft.models import MODEL_CACHE

    monkeypatch.setattr(consistency, "_failures", {})
    MODEL_CACHE.clear()
    yield
    MODEL_CACHE.clear()


def build_tiny_nli(folder, tokenizer_from):
    """A 1-layer BERT classifier with NLI labels (entailment is label 2) and the tiny T5's tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_from)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=512, num_labels=3,
                        id2label={0: "contradiction", 1: "neutral", 2: "entailment"},
                        label2id={"contradiction": 0, "neutral": 1, "entailment": 2})
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_a_hub_classifier_scores_each_summary_beside_the_rules(tiny_models, local_hub, monkeypatch, tmp_path, fresh):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = build_tiny_nli(tmp_path / "tiny-nli", tiny_models.base)
    push_folder(folder, "me/tiny-nli", token=WRITE_TOKEN)
    monkeypatch.setenv(consistency.SETTING, "me/tiny-nli")
    result = check(SUMMARY, DIALOGUE)
    # What the model says, computed here with transformers alone: the entailment label's probability.
    tokenizer, model = AutoTokenizer.from_pretrained(folder), AutoModelForSequenceClassification.from_pretrained(folder)
    with torch.inference_mode():
        logits = model(**tokenizer(DIALOGUE, SUMMARY, return_tensors="pt")).logits[0]
    assert result["consistency_score"] == pytest.approx(float(torch.softmax(logits, -1)[2]), abs=1e-5)
    assert "me/tiny-nli" in result["consistency_note"]
    assert result["unsupported_count"] == 2  # the rules still run: 2 and Helen
    downloads = [r for r in local_hub.requests if r.startswith("GET /me/tiny-nli/resolve/") and "safetensors" in r]
    check(SUMMARY, DIALOGUE)
    assert len([r for r in local_hub.requests if r.startswith("GET /me/tiny-nli/resolve/")
                and "safetensors" in r]) == len(downloads) == 1  # loaded once, then from the cache


def test_absent_or_failing_model_leaves_the_rules_alone_and_says_so(local_hub, monkeypatch, fresh):
    monkeypatch.delenv(consistency.SETTING, raising=False)
    result = check(SUMMARY, DIALOGUE)
    assert result["consistency_score"] is None and "is not set" in result["consistency_note"]
    assert result["unsupported_count"] == 2

    monkeypatch.setenv(consistency.SETTING, "me/no-such-model")
    result = check(SUMMARY, DIALOGUE)
    assert result["consistency_score"] is None and result["unsupported_count"] == 2
    assert "Consistency model 'me/no-such-model' could not be loaded" in result["consistency_note"]
    assert "rule-based check runs alone" in result["consistency_note"]
