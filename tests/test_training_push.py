"""train.py --push_to_hub and merge.py --push_to_hub against the local Hub test server, and back."""

from __future__ import annotations

import json

import pytest
import yaml
from huggingface_hub import HfApi, ModelCard

from llmft.hub import pull, push_folder
from llmft.models import GenerationSettings, LoadedModel, generate, load_model
from llmft.prompts import zero_shot_prompt
from tests.support.training import load_script, make_project, one_torch_thread, train_argv

pytestmark = pytest.mark.usefixtures("one_torch_thread")
__all__ = ["one_torch_thread"]  # a fixture, imported so this module's tests can use it
SETTINGS = GenerationSettings(max_new_tokens=12)
QUICK = {"max_steps": 12, "save_steps": 0, "eval_steps": 0, "report_to": "none"}


def _repo_files(repo_id: str) -> dict[str, int]:
    return {f.path: f.size for f in HfApi().list_repo_tree(repo_id, recursive=True) if hasattr(f, "size")}


def test_trained_models_round_trip_through_the_hub(local_hub, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    project = make_project(tmp_path / "project")
    push_folder(project.base, "me/tiny-t5")  # the base by Hub id, so the adapter names its base as users' do
    train = load_script("train").main
    base = {"model_name_or_path": "me/tiny-t5", "dataset_name": project.data}
    full_dir, lora_dir = tmp_path / "full", tmp_path / "lora"
    train(
        train_argv(None, "full", full_dir, push_to_hub=True, hub_model_id="me/tiny-t5-dialogsum-full", **base, **QUICK)
    )
    train(
        train_argv(
            None,
            "lora",
            lora_dir,
            push_to_hub=True,
            hub_model_id="me/tiny-t5-dialogsum-lora",
            lora_r=4,
            lora_alpha=4,
            **base,
            **QUICK,
        )
    )

    # Full: the model, the tokenizer and a card; nothing of the run (logs, checkpoints, evaluation).
    full_files = _repo_files("me/tiny-t5-dialogsum-full")
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md"} <= set(full_files)
    assert not any(name.startswith(("checkpoint-", "eval/", "runs/")) or name.endswith(".csv") for name in full_files)

    # LoRA: the adapter (and tokenizer) alone, a small fraction of the full repo.
    lora_files = _repo_files("me/tiny-t5-dialogsum-lora")
    assert set(lora_files) == {
        "adapter_config.json",
        "adapter_model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "README.md",
        ".gitattributes",
    }
    assert sum(lora_files.values()) < 0.2 * sum(full_files.values())

    # The pulled adapter, on its base through plain peft, generates exactly what the local adapter does.
    prompts = [zero_shot_prompt(row.dialogue) for row in project.rows[:4]]
    pulled = pull("me/tiny-t5-dialogsum-lora")
    assert json.loads((pulled / "adapter_config.json").read_text())["base_model_name_or_path"] == "me/tiny-t5"
    peft_model = PeftModel.from_pretrained(AutoModelForSeq2SeqLM.from_pretrained(pull("me/tiny-t5")), str(pulled))
    from_hub = LoadedModel(peft_model.eval(), AutoTokenizer.from_pretrained(pulled), "hub", "adapter", None, "cpu")
    local = load_model(str(lora_dir), use_cache=False)
    local_out = generate(local, prompts, SETTINGS)
    assert generate(from_hub, prompts, SETTINGS) == local_out
    assert generate(load_model("me/tiny-t5-dialogsum-lora", use_cache=False), prompts, SETTINGS) == local_out
    full_local = generate(load_model(str(full_dir), use_cache=False), prompts, SETTINGS)
    assert generate(load_model("me/tiny-t5-dialogsum-full", use_cache=False), prompts, SETTINGS) == full_local

    # The card: base model, recipe, and a model-index of the ROUGE this run measured, on its data and split.
    card = ModelCard.load("me/tiny-t5-dialogsum-lora")
    assert card.data.base_model == "me/tiny-t5" and card.data.library_name == "peft"
    assert card.data.license is None and "This card sets no licence" in card.content  # the data is not DialogSum
    measured = json.loads((lora_dir / "eval" / "results.json").read_text())["models"]["lora"]["rouge"]
    index = {r.metric_name: r.metric_value for r in card.data.eval_results}
    assert index == {name: round(value, 4) for name, value in measured.items()}
    assert {(r.dataset_name, r.dataset_split) for r in card.data.eval_results} == {("data", "test")}
    assert "on 16 dialogues of the `test` split of `data`" in card.content
    assert "trained to summarise dialogues on 16 dialogues of the `train` split of `data`" in card.content
    metadata = yaml.safe_load(card.content.split("---")[1])
    assert metadata["model-index"][0]["results"][0]["task"]["type"] == "summarization"
    assert "lora_r: 4" in card.content and str(tmp_path) not in card.content

    # Merged from the Hub adapter and pushed: a full model generating what the adapter does. Not evaluated,
    # its card has no scores (the adapter's are not copied); with --evaluate, it has its own.
    merged_dir = tmp_path / "merged"
    merge = ["--adapter", "me/tiny-t5-dialogsum-lora", "--output_dir", str(merged_dir), "--push_to_hub"]
    load_script("merge").main([*merge, "--hub_model_id", "me/tiny-t5-dialogsum-lora-merged"])
    merged = load_model("me/tiny-t5-dialogsum-lora-merged", use_cache=False)
    assert merged.kind == "model" and generate(merged, prompts, SETTINGS) == local_out
    merged_card = ModelCard.load("me/tiny-t5-dialogsum-lora-merged")
    assert merged_card.data.base_model == "me/tiny-t5" and "merged" in merged_card.data.tags
    assert merged_card.data.eval_results is None and "This model was not evaluated" in merged_card.content

    data_flags = ["--dataset_name", str(project.data), "--max_test_samples", "8", "--overwrite_output_dir"]
    load_script("merge").main([*merge, "--hub_model_id", "me/merged-scored", "--evaluate", *data_flags])
    scored_card = ModelCard.load("me/merged-scored")
    own = json.loads((merged_dir / "eval" / "results.json").read_text())
    assert own["rows"] == 8 and own["models"]["merged"]["kind"] == "model"  # the merged weights, scored
    assert {r.metric_name: r.metric_value for r in scored_card.data.eval_results} == {
        name: round(value, 4) for name, value in own["models"]["merged"]["rouge"].items()
    } | {
        f"{name}_multi_ref": round(value, 4)
        for name, value in (own["models"]["merged"]["rouge_multi_ref"] or {}).items()
    }
    assert "on 8 dialogues of the `test` split of `data`" in scored_card.content
