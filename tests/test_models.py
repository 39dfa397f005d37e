"""Loading base / full / LoRA checkpoints, adapter-base checks, batched generation."""

import json
import re
import shutil

import pytest
import torch

from llmft.demo.tiny import synthetic_dialogues
from llmft.errors import AdapterMismatchError, ConfigError, ModelLoadError
from llmft.models import GenerationSettings, generate, load_model, loader, locate
from llmft.prompts import zero_shot_prompt
from llmft.training import load_model_for_training
from llmft.training.arguments import ModelArguments

SETTINGS = GenerationSettings(max_new_tokens=8)
PROMPTS = [zero_shot_prompt(r.dialogue[: 40 + 25 * i]) for i, r in enumerate(synthetic_dialogues(5))]


def test_adapter_is_detected_and_changes_generations(tiny_models):
    base = load_model(str(tiny_models.base))
    adapter = load_model(str(tiny_models.lora))
    assert base.kind == "model" and adapter.kind == "adapter"
    assert adapter.base_model == str(tiny_models.base)
    base_out, adapter_out = generate(base, PROMPTS, SETTINGS), generate(adapter, PROMPTS, SETTINGS)
    assert all(base_out) and all(adapter_out)
    assert base_out != adapter_out


def test_models_are_loaded_once_per_process(tiny_models):
    assert load_model(str(tiny_models.base)) is load_model(str(tiny_models.base))


def test_batched_generation_keeps_input_order(tiny_models):
    loaded = load_model(str(tiny_models.lora))
    one_by_one = [generate(loaded, [p], SETTINGS)[0] for p in PROMPTS]
    done = []
    assert generate(loaded, PROMPTS, SETTINGS, batch_size=2, progress=lambda d, t: done.append((d, t))) == one_by_one
    assert done == [(2, 5), (4, 5), (5, 5)]


def test_adapter_for_another_base_names_both(tiny_models):
    with pytest.raises(AdapterMismatchError) as err:
        load_model(str(tiny_models.lora), base_model=str(tiny_models.other_base), use_cache=False)
    assert str(tiny_models.base) in str(err.value) and str(tiny_models.other_base) in str(err.value)
    assert f"but the base model asked for is '{tiny_models.other_base}'" in str(err.value)  # the Summarizer's: its base


def test_adapter_whose_config_lies_about_its_base(tiny_models, tmp_path):
    """Config names the small base but the weights are for another shape: still a named mismatch."""
    forged = shutil.copytree(tiny_models.other_lora, tmp_path / "forged")
    config = json.loads((forged / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = str(tiny_models.base)
    (forged / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(AdapterMismatchError, match="does not fit base model"):
        load_model(str(forged), use_cache=False)


def test_bad_sources_are_clear_errors(tiny_models, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="No model given"):
        load_model("  ")
    with pytest.raises(ModelLoadError, match="no such local folder"):
        load_model(str(tmp_path / "nowhere"))
    with pytest.raises(ModelLoadError, match="not in the local cache"):
        load_model("nobody/no-such-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="has no config.json"):
        load_model(str(tmp_path / "empty"))


def test_the_kind_asked_for_is_refused_before_any_weights_with_the_callers_hint(tiny_models, monkeypatch):
    def no_weights(*args, **kwargs):
        raise AssertionError("weights were read")

    lora, base = str(tiny_models.lora), str(tiny_models.base)
    assert load_model(base).kind == "model"  # now in the process cache: asked for as an adapter, still refused
    monkeypatch.setattr(loader, "_load_seq2seq", no_weights)
    adapter_here = re.escape(f"'{lora}' is a LoRA adapter (on '{base}'), not a full model. Train from its base")
    with pytest.raises(ConfigError, match=adapter_here):
        load_model_for_training(ModelArguments(model_name_or_path=lora))
    full_here = re.escape(f"'{base}' is a full model, not a LoRA adapter (it has no adapter_config.json). Pick one")
    with pytest.raises(ConfigError, match=full_here):
        load_model(base, want="adapter", hint="Pick one.")
    with pytest.raises(ConfigError, match=full_here):
        locate(base, want="adapter", hint="Pick one.")
    located = locate(lora, want="adapter")
    assert (located.kind, located.base, located.trained_on) == ("adapter", base, base)


def test_training_loads_in_fp32_on_cpu_with_its_dropout(tiny_models):
    args = ModelArguments(model_name_or_path=str(tiny_models.base), dropout_rate=0.3)
    model, tokenizer = load_model_for_training(args)
    assert model.config.dropout_rate == 0.3 and tokenizer is not None
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert {p.device.type for p in model.parameters()} == {"cpu"}
