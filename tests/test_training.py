"""Training scripts in-process on tiny models: recipes, both methods learning, errors, atomic saves, eval, merge."""

from __future__ import annotations

import csv
import json
import time

import pytest
import yaml

from llmft.errors import ConfigError, DataError, HubError, ModelLoadError, OutputDirError
from llmft.models import GenerationSettings, generate, load_model
from llmft.prompts import zero_shot_prompt
from llmft.recipes import parse_args
from llmft.training import (
    COMPLETE_MARKER,
    DataArguments,
    ModelArguments,
    TrainArguments,
    checkpoint_is_complete,
    latest_checkpoint,
    list_checkpoints,
    read_train_log,
)
from tests.support.training import RECIPES, REPO_ROOT, load_script, make_project, one_torch_thread, train_argv

TRAIN_TYPES = (ModelArguments, DataArguments, TrainArguments)
pytestmark = pytest.mark.usefixtures("one_torch_thread")
__all__ = ["one_torch_thread"]  # a fixture, imported so this module's tests can use it


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("training-project"))


# --- recipes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("recipe", sorted(RECIPES.glob("*/*.yaml")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_recipe_parses(recipe):
    model_args, data_args, args = parse_args(TRAIN_TYPES, ["--config", str(recipe)])
    assert model_args.method == recipe.stem and args.output_dir
    if recipe.parent.name.startswith("flan-t5-"):
        assert model_args.model_name_or_path == f"google/{recipe.parent.name}"
        assert data_args.dataset_name == "knkarthick/dialogsum"
        if recipe.stem == "lora":  # the course lab's adapter
            assert (model_args.lora_r, model_args.lora_alpha, model_args.lora_dropout) == (32, 32, 0.05)
            assert model_args.lora_target_modules == ["q", "v"] and args.learning_rate == 1e-3
        else:
            assert args.learning_rate == 1e-5


def test_flags_override_the_recipe_and_unknown_keys_are_named(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("method: lora\nlearning_rate: 1e-3\nlora_target_modules: q,v,o\nmax_steps: 7\n")
    model_args, _, args = parse_args(TRAIN_TYPES, ["--config", str(recipe), "--max_steps", "9", "--push_to_hub"])
    assert args.learning_rate == 1e-3  # PyYAML reads `1e-3` as a string; the field's type decides
    assert model_args.lora_target_modules == ["q", "v", "o"]
    assert args.max_steps == 9 and args.push_to_hub is True and args.seed == 42  # flag > recipe > default

    recipe.write_text("learning_rat: 1e-3\n")
    with pytest.raises(ConfigError, match=r"unknown key 'learning_rat'.*Did you mean 'learning_rate'"):
        parse_args(TRAIN_TYPES, ["--config", str(recipe)])
    with pytest.raises(ConfigError, match=r"Unknown command-line option '--lora_rank'.*'lora_r'"):
        parse_args(TRAIN_TYPES, ["--lora_rank", "8"])
    with pytest.raises(ConfigError, match="'method' must be one of full, lora"):
        parse_args(TRAIN_TYPES, ["--method", "qlora"])
    with pytest.raises(ConfigError, match="'max_steps' must be a whole number"):
        parse_args(TRAIN_TYPES, ["--max_steps", "ten"])


def test_lora_share_of_flan_t5_base_is_the_labs():
    """3,538,944 of 251,116,800 parameters (1.41%), counted on the real architecture built on the meta device."""
    from peft import LoraConfig, TaskType, get_peft_model

    from llmft.training import count_parameters, describe_parameters

    bench = load_script("train_memory", REPO_ROOT / "bench")
    model = get_peft_model(bench.build_flan_t5_base("meta"), LoraConfig(task_type=TaskType.SEQ_2_SEQ_LM, **bench.LORA))
    trainable, total = count_parameters(model)
    assert (trainable, total) == (3_538_944, 251_116_800)
    assert "percentage of trainable model parameters: 1.41%" in describe_parameters(trainable, total)


# --- both methods learn ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["full", "lora"])
def test_method_memorises_sixteen_rows(method, project, tmp_path, caplog):
    """The tiny recipe (120 steps full, 150 LoRA; ROUGE-1 passes 0.9 near step 70 and 100) on 16 rows."""
    out = tmp_path / method
    started = time.perf_counter()
    assert load_script("train").main(train_argv(project, method, out, eval_steps=60, eval_generate_samples=4)) == 0
    elapsed = time.perf_counter() - started

    results = json.loads((out / "eval" / "results.json").read_text())
    assert results["rows"] == 16
    rouge1 = results["models"][method]["rouge"]["rouge1"]
    assert rouge1 >= 0.9, f"{method}: ROUGE-1 {rouge1:.3f} on its 16 training rows after {elapsed:.0f}s"

    logged = caplog.text  # status lines go through logging (INFO on the main process)
    assert "percentage of trainable model parameters:" in logged and "rouge1" in logged
    log = read_train_log(out)
    losses = [row["value"] for row in log if row["metric"] == "loss" and row["split"] == "train"]
    assert losses[-1] < losses[0] / 10
    assert {row["step"] for row in log if row["split"] == "eval"} == {60, 120}
    assert list((out / "runs").glob("events.out.tfevents.*")), "no TensorBoard events"
    assert len(list_checkpoints(out)) == 2  # save_total_limit
    with (out / "eval" / "predictions.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 16
    assert (out / "eval" / "rouge.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if method == "lora":  # the adapter alone, naming its base as given
        assert not (out / "model.safetensors").exists()
        assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == str(project.base)
    else:
        assert (out / "model.safetensors").is_file() and not (out / "adapter_config.json").exists()


# --- clear errors ----------------------------------------------------------------------------------


def test_errors_are_clear_and_come_before_any_work(project, tmp_path, monkeypatch):
    import huggingface_hub.constants as hf_constants

    train = load_script("train").main
    out = tmp_path / "run"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="'nobody/no-such-model' is not in the local cache"):
        train(train_argv(project, "full", out, model_name_or_path="nobody/no-such-model"))
    with pytest.raises(ModelLoadError, match="no such local folder"):
        train(train_argv(project, "full", out, model_name_or_path=tmp_path / "nowhere"))

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"fname": "a", "dialogue": "#Person1#: hi"}) + "\n")
    with pytest.raises(DataError, match=r"bad.jsonl: row 1: missing field 'summary'"):
        train(train_argv(project, "full", out, dataset_name=bad))

    (only_train := tmp_path / "only-train").mkdir()
    (only_train / "train.jsonl").write_text((project.data / "train.jsonl").read_text())
    with pytest.raises(DataError, match="no file for split 'validation'"):
        train(train_argv(project, "full", out, dataset_name=only_train))
    with pytest.raises(DataError, match="no file for split 'test'"):  # found before training, not after
        train(train_argv(project, "full", out, dataset_name=only_train, eval_steps=0))

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    with pytest.raises(HubError, match="needs a Hub token with write access"):
        train(train_argv(project, "lora", out, push_to_hub="true", hub_model_id="me/x"))
    with pytest.raises(ConfigError, match="--push_to_hub needs --hub_model_id"):
        train(train_argv(project, "lora", out, push_to_hub="true"))
    assert not out.exists(), "a run that failed its checks must not create its folder"


def test_publishing_names_the_base_model_by_hub_id_or_not_at_all(project, tmp_path, monkeypatch):
    from llmft.training.arguments import check_base_model_id

    monkeypatch.setenv("HF_TOKEN", "hf_test_write_token")
    train = load_script("train").main
    out = tmp_path / "run"
    push = {"push_to_hub": "true", "hub_model_id": "me/x"}
    with pytest.raises(ConfigError, match=r"is a local folder: a pushed adapter must name its base by Hub id"):
        train(train_argv(project, "lora", out, **push))
    with pytest.raises(ConfigError, match=r"hub_base_model_id must be a Hub id like google/flan-t5-base, not '/"):
        train(train_argv(project, "lora", out, hub_base_model_id=tmp_path, **push))
    assert not out.exists(), "refused before any work"
    assert check_base_model_id(str(project.base), None, "full") is None  # a full model's card leaves it out
    assert check_base_model_id(str(project.base), "google/flan-t5-small", "lora") == "google/flan-t5-small"
    assert check_base_model_id("google/flan-t5-base", None, "lora") == "google/flan-t5-base"


def test_output_dir_of_another_run_is_refused_unless_overwrite(project, tmp_path):
    train = load_script("train").main
    out = tmp_path / "run"
    quick = {"max_steps": 2, "save_steps": 0, "eval_steps": 0, "do_test_eval": "false", "report_to": "none"}
    train(train_argv(project, "full", out, **quick))
    with pytest.raises(OutputDirError, match=r"holds a different run \(learning_rate: 0.01 -> 0.02; method"):
        train(train_argv(project, "lora", out, learning_rate=0.02, **quick))
    with pytest.raises(OutputDirError, match="already holds a finished or started run of this recipe"):
        train(train_argv(project, "full", out, **quick))
    (foreign := tmp_path / "foreign").mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(OutputDirError, match=r"not from a training run \(notes.txt\)"):
        train(train_argv(project, "full", foreign, **quick))

    assert train(train_argv(project, "lora", out, overwrite=True, **quick)) == 0
    assert (out / "adapter_config.json").is_file() and not (out / "model.safetensors").exists()
    assert json.loads((out / "run_config.json").read_text())["method"] == "lora"


def test_an_interrupted_save_never_looks_complete(project, tmp_path, monkeypatch):
    from accelerate import Accelerator

    train = load_script("train").main
    out = tmp_path / "run"
    argv = train_argv(
        project,
        "full",
        out,
        max_steps=4,
        save_steps=2,
        eval_steps=0,
        do_test_eval="false",
        report_to="none",
        per_device_train_batch_size=4,
    )
    real_save_state = Accelerator.save_state

    def dies_during_second_save(self, output_dir=None, **kwargs):
        real_save_state(self, output_dir, **kwargs)  # files are on disk: only the marker and rename are missing
        if output_dir.endswith("checkpoint-4.tmp"):
            raise KeyboardInterrupt("killed while saving")

    monkeypatch.setattr(Accelerator, "save_state", dies_during_second_save)
    with pytest.raises(KeyboardInterrupt):
        train(argv)
    assert (out / "checkpoint-4.tmp" / "model.safetensors").is_file()
    assert not checkpoint_is_complete(out / "checkpoint-4.tmp") and not (out / "checkpoint-4").exists()
    assert latest_checkpoint(out) == out / "checkpoint-2"

    # A complete-looking folder whose files were cut short does not count either.
    (out / "checkpoint-2" / "optimizer.bin").write_bytes(b"truncated")
    assert latest_checkpoint(out) is None
    (out / "checkpoint-2" / COMPLETE_MARKER).unlink()
    assert list_checkpoints(out) == []


# --- evaluation and merge ----------------------------------------------------------------------------


def test_evaluate_compares_base_and_adapter_with_multi_reference(tiny_models, tmp_path, capsys):
    from llmft.data import write_jsonl
    from llmft.demo.tiny import synthetic_dialogues

    rows = synthetic_dialogues(6, seed=3)
    for row in rows:
        row.summaries.append(f"Another view: {row.summaries[0]}")
    data = write_jsonl(rows, tmp_path / "test.jsonl")
    out = tmp_path / "eval"
    argv = [
        "--models",
        f"original={tiny_models.base}",
        f"lora={tiny_models.lora}",
        "--dataset_name",
        str(data),
        "--output_dir",
        str(out),
        "--max_new_tokens",
        "12",
        "--batch_size",
        "4",
    ]
    assert load_script("evaluate").main(argv) == 0

    printed = capsys.readouterr().out
    assert "lora - original" in printed and "Best of all references" in printed
    for column in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
        assert column in printed
    results = json.loads((out / "results.json").read_text())
    assert results["rows"] == 6 and results["baseline"] == "original"
    lora = results["models"]["lora"]
    assert lora["kind"] == "adapter" and lora["base_model"] == str(tiny_models.base)
    for name in ("rouge1", "rougeLsum"):  # the best of several references is never worse than the first alone
        assert lora["rouge_multi_ref"][name] >= lora["rouge"][name]
    difference = results["differences_from_baseline"]["lora"]["rouge1"]
    assert difference == pytest.approx(lora["rouge"]["rouge1"] - results["models"]["original"]["rouge"]["rouge1"])
    with (out / "predictions.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 6 and table[0]["original_summary"] and table[0]["lora_summary"]
    assert json.loads(table[0]["all_references"]) == rows[0].summaries
    assert (out / "rouge.png").stat().st_size > 1000


def test_merge_gives_a_full_model_that_generates_what_the_adapter_does(tiny_models, tmp_path):
    out = tmp_path / "merged"
    assert load_script("merge").main(["--adapter", str(tiny_models.lora), "--output_dir", str(out)]) == 0
    assert (out / "model.safetensors").is_file() and not (out / "adapter_config.json").exists()
    prompts = [zero_shot_prompt(f"#Person1#: Shall we meet at {place}?") for place in ("the bank", "noon", "home")]
    settings = GenerationSettings(max_new_tokens=10)
    merged = load_model(str(out), use_cache=False)
    assert merged.kind == "model"
    assert generate(merged, prompts, settings) == generate(load_model(str(tiny_models.lora)), prompts, settings)
    with pytest.raises(ConfigError, match="is a full model, not a LoRA adapter"):
        load_script("merge").main(["--adapter", str(tiny_models.base), "--output_dir", str(tmp_path / "x")])


def test_accelerate_configs_are_valid():
    from accelerate.commands.config.config_args import ClusterConfig

    kinds = {}
    for name in ("cpu", "single_gpu", "multi_gpu", "deepspeed_zero2"):
        path = REPO_ROOT / "training" / "configs" / f"{name}.yaml"
        kinds[name] = ClusterConfig.from_yaml_file(path)  # raises on unknown keys
        assert "accelerate launch --config_file" in path.read_text()
    assert kinds["cpu"].use_cpu and kinds["multi_gpu"].distributed_type == "MULTI_GPU"
    assert kinds["deepspeed_zero2"].deepspeed_config["zero_stage"] == 2
    assert kinds["single_gpu"].mixed_precision == "bf16"
    assert yaml.safe_load((REPO_ROOT / "training" / "configs" / "cpu.yaml").read_text())["mixed_precision"] == "no"
