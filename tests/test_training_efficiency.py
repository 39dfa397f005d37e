"""The loop reports its own efficiency (tokens/s, padding, model FLOPs and MFU), does no host sync per step,
groups batches by length, and compiles with `torch_compile` to the same losses as eager."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmft.training import DataArguments, ModelArguments, TrainArguments, build_dataloaders, read_train_log
from llmft.training.batches import LengthGroupedBatches
from llmft.training.efficiency import Window, describe, flops_per_token, peak_flops
from tests.support.training import one_torch_thread

pytestmark = pytest.mark.usefixtures("one_torch_thread")
__all__ = ["one_torch_thread"]  # a fixture, imported so this module's tests can use it

# google/flan-t5-base's public config.
FLAN_T5_BASE = dict(vocab_size=32128, d_model=768, d_kv=64, d_ff=2048, num_layers=12, num_decoder_layers=12,
                    num_heads=12, feed_forward_proj="gated-gelu", tie_word_embeddings=False)


def test_flops_per_token_of_flan_t5_base_counts_encoder_and_decoder_matrices_apart():
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    with torch.device("meta"):  # shapes only, no memory
        model = T5ForConditionalGeneration(T5Config(**FLAN_T5_BASE))
    # By hand, per layer: attention 4 x 768 x 768; gated FF 2 x 768 x 2048 + 2048 x 768; layer norms 768 each;
    # a final layer norm; the decoder's lm_head 32128 x 768. Embedding tables (tokens, relative position bias)
    # are lookups: not counted.
    attention, ff = 4 * 768 * 768, 3 * 768 * 2048
    encoder = 12 * (attention + ff + 2 * 768) + 768  # 84,953,856
    decoder = 12 * (2 * attention + ff + 3 * 768) + 768 + 32128 * 768  # 137,948,928
    assert flops_per_token(model) == (6 * encoder, 6 * decoder)
    for parameter in model.parameters():  # frozen (LoRA's base): no weight gradient, 4 instead of 6
        parameter.requires_grad_(False)
    assert flops_per_token(model) == (4 * encoder, 4 * decoder)


@pytest.mark.parametrize(("name", "peak"), [("NVIDIA H200", 989e12), ("NVIDIA H100 80GB HBM3", 989e12),
                                            ("NVIDIA H100 PCIe", 756e12), ("NVIDIA A100-SXM4-80GB", 312e12),
                                            ("NVIDIA L4", 121e12), ("NVIDIA GeForce GTX 1080", None)])
def test_peak_flops_by_device_name(monkeypatch, name, peak):
    import torch

    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: name)
    assert peak_flops("cuda") == (peak, name)


def test_cpu_has_no_peak_and_the_report_says_mfu_is_unknown():
    assert peak_flops("cpu") == (None, "CPU")
    line = describe(Window(seconds=2.0, source_tokens=1000, target_tokens=200, padded_tokens=1500, flops=1e12,
                           peak=None), "CPU", 1, "no")
    assert "1,200 tokens" in line and "= 600 tokens/s" in line and "padding 20.0%" in line
    assert "0.50 TFLOP/s" in line and "MFU unknown (CPU" in line


def test_mfu_is_model_flops_per_second_over_the_peak_of_all_processes():
    window = Window(seconds=2.0, source_tokens=1000, target_tokens=200, padded_tokens=1200, flops=400e12,
                    peak=2 * 989e12)
    line = describe(window, "NVIDIA H200", 2, "bf16")
    assert window.mfu == pytest.approx(200e12 / (2 * 989e12))
    assert "MFU 10.1% of NVIDIA H200's bf16 dense peak 989 TFLOP/s x 2" in line and "padding 0.0%" in line


def test_length_grouped_batches_cover_every_row_once_and_pad_less():
    import random

    rng = random.Random(0)
    lengths = [rng.randint(10, 500) for _ in range(1000)]
    grouped = LengthGroupedBatches(lengths, batch_size=8, seed=42)

    def padded(batches):  # tokens a batch padded to its longest row holds
        return sum(max(lengths[i] for i in batch) * len(batch) for batch in batches)

    epoch0 = list(grouped)
    assert sorted(i for batch in epoch0 for i in batch) == list(range(1000)) and len(epoch0) == len(grouped) == 125
    assert list(grouped) == epoch0  # the order comes from (seed, epoch) alone: a resume redraws it
    grouped.set_epoch(1)
    assert list(grouped) != epoch0
    shuffled = [list(range(1000))[i:i + 8] for i in range(0, 1000, 8)]
    rng.shuffle(shuffled)
    # Random batches of lengths uniform in 10..500 pad to about 0.8 x 500 per row; grouped ones barely pad.
    assert padded(epoch0) < 0.7 * padded(shuffled)
    assert padded(epoch0) < 1.05 * sum(lengths)


def _tiny_run(tmp_path: Path, tiny: Path, dropout_rate: float | None = None, **overrides):
    """The loop on the tiny T5, 16 synthetic rows of varied length; returns (plan, train_log rows)."""
    from accelerate import Accelerator, DataLoaderConfiguration
    from accelerate.utils import set_seed

    from llmft.demo.tiny import synthetic_dialogues
    from llmft.training import load_model_for_training
    from llmft.training.loop import fit, plan_training

    tmp_path.mkdir(parents=True, exist_ok=True)
    accelerator = Accelerator(cpu=True, dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True))
    set_seed(0)
    model, tokenizer = load_model_for_training(ModelArguments(model_name_or_path=str(tiny), method="full",
                                                                    dropout_rate=dropout_rate))
    settings = dict(output_dir=str(tmp_path), learning_rate=1e-3, max_steps=4, per_device_train_batch_size=4,
                    logging_steps=1, eval_steps=0, save_steps=0, report_to="none", do_test_eval=False)
    args = TrainArguments(**{**settings, **overrides})
    data_args = DataArguments(dataset_name="synthetic", max_source_length=64, max_target_length=32)
    rows = synthetic_dialogues(16, seed=3)
    train_loader, eval_loader = build_dataloaders(tokenizer, rows, [], data_args, args)
    plan = plan_training(accelerator, model, train_loader, eval_loader, args)
    fit(accelerator, plan, tokenizer, [], args, data_args, tmp_path, {}, None)
    return plan, read_train_log(tmp_path), (tokenizer, rows, data_args)


def test_the_loop_logs_tokens_per_second_and_reports_its_efficiency(tmp_path, tiny_models):
    from llmft.training import tokenize_examples

    plan, log, (tokenizer, rows, data_args) = _tiny_run(tmp_path, tiny_models.base, group_by_length=True)
    per_step = {(r["step"], r["metric"]): r["value"] for r in log if r["split"] == "train"}
    assert all(per_step[(step, "tokens_per_second")] > 0 for step in (1, 2, 3, 4))
    assert all(0 <= per_step[(step, "pad_share")] < 1 for step in (1, 2, 3, 4))
    assert not any(metric == "mfu" for _, metric in per_step)  # CPU: no peak, no MFU
    # 4 steps x 4 rows = one epoch of the 16 rows: every real prompt and summary token counted once.
    features = tokenize_examples(tokenizer, rows, data_args.max_source_length, data_args.max_target_length)
    tokens = sum(len(f["input_ids"]) + len(f["labels"]) for f in features)
    assert f"efficiency: {tokens:,} tokens" in plan.efficiency
    assert "tokens/s" in plan.efficiency and "MFU unknown (CPU" in plan.efficiency


def test_no_host_synchronisation_per_step(tmp_path, tiny_models, monkeypatch):
    """Reading a tensor's value from the loop (`.item()`, `float()`, `bool()`, `.tolist()`) happens per
    logging step, not per step: 2 or 8 steps with one log each read the same number of values."""
    import sys

    import torch

    calls: list[str] = []
    for name in ("item", "tolist", "__float__", "__bool__", "__int__"):
        original = getattr(torch.Tensor, name)

        def wrapper(self, *args, _original=original, _name=name, **kwargs):
            caller = sys._getframe(1).f_code.co_filename
            if f"llmft{'/'}training" in caller:
                calls.append(f"{_name} {Path(caller).name}:{sys._getframe(1).f_lineno}")
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, wrapper)
    _tiny_run(tmp_path / "two", tiny_models.base, max_steps=2, logging_steps=2, per_device_train_batch_size=2)
    two = list(calls)
    calls.clear()
    _tiny_run(tmp_path / "eight", tiny_models.base, max_steps=8, logging_steps=8, per_device_train_batch_size=2)
    assert two and calls == two


def test_length_grouped_batches_resume_where_they_stopped(tmp_path, tiny_models):
    """Accelerate's `skip_first_batches` (what a resume does) continues the same grouped order."""
    from accelerate import Accelerator, DataLoaderConfiguration
    from transformers import AutoTokenizer

    from llmft.demo.tiny import synthetic_dialogues

    tokenizer = AutoTokenizer.from_pretrained(tiny_models.base)
    args = TrainArguments(output_dir=str(tmp_path), per_device_train_batch_size=2, group_by_length=True)
    data_args = DataArguments(dataset_name="synthetic", max_source_length=64, max_target_length=32)
    train, _ = build_dataloaders(tokenizer, synthetic_dialogues(12, seed=3), [], data_args, args)
    accelerator = Accelerator(cpu=True, dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True))
    loader = accelerator.prepare(train)
    loader.set_epoch(1)
    whole = [batch["input_ids"].tolist() for batch in loader]
    loader.set_epoch(1)
    assert [batch["input_ids"].tolist() for batch in accelerator.skip_first_batches(loader, 2)] == whole[2:]
    loader.set_epoch(0)
    assert [batch["input_ids"].tolist() for batch in loader] != whole


def test_torch_compile_gives_the_losses_of_eager(tmp_path, tiny_models):
    """`torch_compile: true` traces the model with dynamo and trains it to eager's losses. The test compiles
    with the aot_eager backend (graph capture and AOT autograd, as inductor gets them, without C++ code
    generation, which takes minutes on two cores); dropout is off because compiled dropout draws other masks."""
    from torch._dynamo.utils import counters

    _, eager, _ = _tiny_run(tmp_path / "eager", tiny_models.base, dropout_rate=0.0, max_steps=3)
    counters.clear()
    _, compiled, _ = _tiny_run(tmp_path / "compiled", tiny_models.base, dropout_rate=0.0, max_steps=3,
                               torch_compile=True, torch_compile_backend="aot_eager")

    def losses(log):
        return [r["value"] for r in log if r["metric"] == "loss"]

    assert counters["stats"]["unique_graphs"] >= 1  # dynamo did capture the model
    assert len(losses(eager)) == 3
    assert losses(compiled) == pytest.approx(losses(eager), rel=1e-4)
