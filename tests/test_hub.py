"""Push tiny models and adapters to the local Hub API server and pull them back, through huggingface_hub."""

import json
import shutil

import pytest
import yaml
from huggingface_hub import ModelCard, metadata_load

from llmft.errors import HubError, ModelLoadError
from llmft.hub import model_card, pull, push_folder
from llmft.models import GenerationSettings, generate, load_model
from llmft.prompts import zero_shot_prompt
from llmft.tiny import synthetic_dialogues

PROMPTS = [zero_shot_prompt(r.dialogue) for r in synthetic_dialogues(4)]
SETTINGS = GenerationSettings(max_new_tokens=8)
METRICS = {"rouge1": 0.4123, "rouge2": 0.171, "rougeL": 0.33, "rougeLsum": 0.331}


def test_full_model_round_trip_generates_identically(tiny_models, local_hub):
    card = model_card("me/tiny-full", base_model="google/flan-t5-base", method="full", metrics=METRICS)
    pushed = push_folder(tiny_models.base, "me/tiny-full", model_card=card)
    assert pushed.commit_sha and pushed.repo_url.endswith("me/tiny-full")

    local = generate(load_model(str(tiny_models.base)), PROMPTS, SETTINGS)
    from_hub = load_model("me/tiny-full", use_cache=False)
    assert from_hub.kind == "model"
    assert generate(from_hub, PROMPTS, SETTINGS) == local

    card_on_hub = ModelCard.load("me/tiny-full")
    results = card_on_hub.data.eval_results
    assert {r.metric_name: r.metric_value for r in results} == METRICS
    assert card_on_hub.data.base_model == "google/flan-t5-base"


def test_adapter_round_trip_loads_on_its_base(tiny_models, local_hub, tmp_path):
    push_folder(tiny_models.base, "me/tiny-base")
    # Published adapters name their base by Hub id: stage a copy of the local adapter that does.
    staged = shutil.copytree(tiny_models.lora, tmp_path / "lora")
    config = json.loads((staged / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "me/tiny-base"
    (staged / "adapter_config.json").write_text(json.dumps(config))
    card = model_card("me/tiny-lora", base_model="me/tiny-base", method="lora", metrics=METRICS)
    push_folder(staged, "me/tiny-lora", model_card=card)

    local = generate(load_model(str(tiny_models.lora)), PROMPTS, SETTINGS)
    from_hub = load_model("me/tiny-lora", use_cache=False)
    assert from_hub.kind == "adapter" and from_hub.base_model == "me/tiny-base"
    assert generate(from_hub, PROMPTS, SETTINGS) == local
    assert metadata_load(pull("me/tiny-lora") / "README.md")["library_name"] == "peft"


def test_pull_a_revision(tiny_models, local_hub, tmp_path):
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "notes.txt").write_text("v1")
    first = push_folder(folder, "me/revisions")
    (folder / "notes.txt").write_text("v2")
    push_folder(folder, "me/revisions")
    assert (pull("me/revisions") / "notes.txt").read_text() == "v2"
    assert (pull("me/revisions", revision=first.commit_sha) / "notes.txt").read_text() == "v1"
    with pytest.raises(HubError, match="has no revision 'nope'"):
        pull("me/revisions", revision="nope")
    with pytest.raises(HubError, match="'me/missing' not found"):
        pull("me/missing")


def test_push_without_token_is_refused_before_any_upload(tiny_models, local_hub, monkeypatch):
    import huggingface_hub.constants as hf_constants

    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tiny_models.base / "no-token-here"))
    with pytest.raises(HubError, match="needs a Hub token with write access"):
        push_folder(tiny_models.base, "me/no-token")
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")
    with pytest.raises(HubError, match=r"HTTP 401") as err:
        push_folder(tiny_models.base, "me/bad-token")
    assert "hf_not_a_real_token" not in str(err.value)


def test_unknown_hub_model_is_a_clear_error(local_hub):
    with pytest.raises(ModelLoadError, match=rf"'me/nothing' was not found on the Hub \({local_hub.url}\)"):
        load_model("me/nothing", use_cache=False)


def test_model_card_metadata_parses():
    card = model_card("me/x", base_model="google/flan-t5-base", method="lora", metrics=METRICS, recipe={"r": 32})
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["base_model"] == "google/flan-t5-base" and meta["license"] == "cc-by-nc-sa-4.0"
    assert meta["model-index"][0]["results"][0]["metrics"][0]["type"] == "rouge"
    assert "r: 32" in card and "CC BY-NC-SA 4.0" in card
