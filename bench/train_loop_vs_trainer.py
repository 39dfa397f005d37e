"""The project's Accelerate training loop against transformers' `Seq2SeqTrainer`: step time and peak memory.

    python bench/train_loop_vs_trainer.py                         # CUDA if present: flan-t5-base, bf16, batch 8
    python bench/train_loop_vs_trainer.py --device cpu --model tiny --steps 10     # a quick CPU check

Both sides train the same model, on the same rows, with the same batch size, optimizer (AdamW, same
learning rate, linear schedule, clipping at 1.0), precision and logging interval:

- ours: `llmft.training` itself: the model from `load_model_for_training` (+ `apply_lora`), batches from
  `build_dataloaders` (prompts through `llmft.prompts.fit_prompt`), `plan_training` and `fit` (the loop
  `training/train.py` runs), with evaluation and checkpoints off;
- the Trainer: `Seq2SeqTrainer` with `DataCollatorForSeq2Seq`, on the same token ids (`tokenize_examples`),
  with its defaults for everything the list above does not fix (its default optimizer is `adamw_torch_fused`).

The model is flan-t5-base's architecture (`--model base`: 12+12 layers, d_model 768, d_ff 2048, 12 heads,
gated-GELU, 32,128-token vocabulary, its own untied `lm_head`) with random weights, written once to a temporary
folder so every configuration loads the same weights, or the 2-layer tiny T5 of `llmft.demo.tiny` (`--model tiny`).
Rows are `llmft.demo.tiny.synthetic_dialogues`, `--dialogues_per_row` of them joined into one, so a base-model prompt
is about as long as a DialogSum one; all of one length (prompts cut to the shortest one), so both loops train on
batches of the same shape although they draw the rows in different orders.

Each configuration (loop x method) runs in a fresh child process. Step time: the median of `--steps` steps
after `--warmup_steps`, each step timed from one forward pass to the next (a hook on the encoder, after a CUDA
synchronize), so the loop's own work between steps (data, logging, scheduler) counts. Peak memory: on CUDA
`torch.cuda.max_memory_allocated` above what the process held before the model was loaded; on CPU the growth
of the peak resident set (ru_maxrss) over the resident set before the model was loaded. (bench/train_memory.py
samples glibc's heap every 2 ms instead, which is closer to what training needs, but the sampler holds malloc's
lock and would slow the very steps timed here.) The last line gives the ratios: Trainer time / our time (>= 1.0: ours
is as fast or faster) and our memory / Trainer memory (<= 1.0: ours uses no more). `--unfused` also times
our loop with torch's default AdamW (multi-tensor on CUDA, per-weight on CPU), as it was before it took the
fused kernel, and prints fused / default.

Efficiency per configuration: tokens per second (batch x (prompt + summary tokens) / median step time) and model
FLOPs utilisation, with the FLOP count of `llmft.training.efficiency` (6 x encoder weights x prompt tokens +
6 x decoder weights x summary tokens, 4 for a frozen weight, attention aside) over the device's dense bf16 peak
(unknown on a CPU). Our loop's own end-of-run line (what train.py logs) is printed below its row.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
for path in (str(BENCH.parent), str(BENCH)):  # the package, and train_memory's helpers
    if path not in sys.path:
        sys.path.insert(0, path)

from train_memory import FLAN_T5_BASE, _peak_rss_bytes, _rss_bytes, run_in_fresh_process  # noqa: E402

from llmft.training.efficiency import flops_per_token, peak_flops  # noqa: E402

LEARNING_RATE = {"full": 1e-5, "lora": 1e-3}  # the course lab's rates (llmft.training.DEFAULT_LEARNING_RATE)
LOGGING_STEPS = 10


def write_model(folder: Path, kind: str, seed: int = 0) -> Path:
    """A random-weight model and a T5 tokenizer trained on the synthetic dialogues, saved to `folder`."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    from llmft.demo.tiny import _corpus, build_tiny_t5, build_tokenizer, synthetic_dialogues

    if kind == "tiny":
        return build_tiny_t5(folder, synthetic_dialogues(200, seed=seed), seed=seed, quiet_special_tokens=False)
    tokenizer = build_tokenizer(_corpus(synthetic_dialogues(200, seed=seed)), vocab_size=512)
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(T5Config(**FLAN_T5_BASE))
    # transformers 5's T5Config ties lm_head to the embeddings whatever the flag says; FLAN-T5 has its own head.
    model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.shared.weight) * FLAN_T5_BASE["d_model"] ** -0.5)
    model.config.tie_word_embeddings = False
    model.all_tied_weights_keys.pop("lm_head.weight", None)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def training_rows(count: int, per_row: int) -> list[Any]:
    """`count` DialogSum-shaped rows, each `per_row` synthetic dialogues (and their summaries) joined."""
    from llmft.data import DialogueExample
    from llmft.demo.tiny import synthetic_dialogues

    parts = synthetic_dialogues(count * per_row, seed=1)
    rows = []
    for index in range(count):
        group = parts[index * per_row : (index + 1) * per_row]
        rows.append(
            DialogueExample(
                id=f"row_{index}",
                dialogue="\n".join(p.dialogue for p in group),
                summaries=[" ".join(p.summary for p in group)],
            )
        )
    return rows


def rows_of_one_length(tokenizer: Any, count: int, per_row: int) -> tuple[list[Any], tuple[int, int]]:
    """`count` rows whose fitted prompt and summary are all of the same length, and those two lengths.

    Prompts are cut to the shortest row's prompt by `fit_prompt` (which cuts between words, so some land a
    token short) and summaries to the shortest summary; the rows that come out at exactly those lengths are kept.
    """
    from llmft.training import tokenize_examples

    candidates = training_rows(3 * count, per_row)
    full = tokenize_examples(tokenizer, candidates, 512, 128)
    lengths = (min(len(r["input_ids"]) for r in full), min(len(r["labels"]) for r in full))
    cut = tokenize_examples(tokenizer, candidates, *lengths)
    rows = [
        row for row, ids in zip(candidates, cut, strict=True) if (len(ids["input_ids"]), len(ids["labels"])) == lengths
    ]
    if len(rows) < count:
        raise RuntimeError(f"only {len(rows)} of {len(candidates)} rows are {lengths} tokens long; {count} needed")
    return rows[:count], lengths


class StepClock:
    """Timestamps each training step: a forward pre-hook on the encoder, which runs once per step."""

    def __init__(self, model: Any, cuda: bool):
        import torch

        self.stamps: list[float] = []

        def stamp(*_: Any) -> None:
            if cuda:
                torch.cuda.synchronize()
            self.stamps.append(time.perf_counter())

        model.get_encoder().register_forward_pre_hook(stamp)

    def step_times(self, warmup: int) -> list[float]:
        return [b - a for a, b in zip(self.stamps, self.stamps[1:], strict=False)][warmup:]


def _prepare(model: Any, method: str, gradient_checkpointing: bool, source: str) -> Any:
    """The model setup `llmft.training.run` does, for both sides: checkpointing, then LoRA."""
    from llmft.training import ModelArguments, apply_lora

    if gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.config.use_cache = False
    if method == "lora":
        if gradient_checkpointing:
            model.enable_input_require_grads()
        model = apply_lora(model, ModelArguments(model_name_or_path=source, method="lora"))
    return model


def run_ours(options: dict[str, Any], workdir: Path, start_clock: Any) -> str:
    from accelerate import Accelerator, DataLoaderConfiguration
    from accelerate.utils import set_seed

    from llmft.training import (
        DataArguments,
        ModelArguments,
        TrainArguments,
        build_dataloaders,
        load_model_for_training,
        loop,
    )
    from llmft.training.loop import fit, plan_training

    if options["loop"] == "ours-unfused":  # the loop as it was before it used the fused kernel
        loop.fused_adamw_supported = lambda accelerator: False
    accelerator = Accelerator(
        mixed_precision="bf16" if options["precision"] == "bf16" else "no",
        cpu=options["device"] == "cpu",
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True),  # as llmft.training.run
    )
    set_seed(42)
    source = options["model_dir"]
    model, tokenizer = load_model_for_training(ModelArguments(model_name_or_path=source, method=options["method"]))
    start_clock(model)
    model = _prepare(model, options["method"], options["gradient_checkpointing"], source)
    args = TrainArguments(
        output_dir=str(workdir),
        learning_rate=LEARNING_RATE[options["method"]],
        max_steps=options["total_steps"],
        per_device_train_batch_size=options["batch_size"],
        gradient_checkpointing=options["gradient_checkpointing"],
        torch_compile=options["torch_compile"],
        logging_steps=LOGGING_STEPS,
        eval_steps=0,
        save_steps=0,
        report_to="none",
        do_test_eval=False,
    )
    source_tokens, target_tokens = options["lengths"]
    data_args = DataArguments(
        dataset_name="synthetic", max_source_length=source_tokens, max_target_length=target_tokens
    )
    train_loader, eval_loader = build_dataloaders(tokenizer, options["rows"], [], data_args, args)
    plan = plan_training(accelerator, model, train_loader, eval_loader, args)
    fit(accelerator, plan, tokenizer, [], args, data_args, workdir, {}, None)
    return plan.efficiency


def run_trainer(options: dict[str, Any], workdir: Path, start_clock: Any) -> str:
    import torch
    from transformers import (
        AutoModelForSeq2SeqLM,
        AutoTokenizer,
        DataCollatorForSeq2Seq,
        Seq2SeqTrainer,
        Seq2SeqTrainingArguments,
    )

    from llmft.training import tokenize_examples

    source = options["model_dir"]
    model = AutoModelForSeq2SeqLM.from_pretrained(source, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(source)
    start_clock(model)
    model = _prepare(model, options["method"], options["gradient_checkpointing"], source)
    targs = Seq2SeqTrainingArguments(
        output_dir=str(workdir),
        per_device_train_batch_size=options["batch_size"],
        learning_rate=LEARNING_RATE[options["method"]],
        lr_scheduler_type="linear",
        weight_decay=0.0,
        max_grad_norm=1.0,
        max_steps=options["total_steps"],
        logging_steps=LOGGING_STEPS,
        eval_strategy="no",
        save_strategy="no",
        report_to="none",
        bf16=options["precision"] == "bf16",
        use_cpu=options["device"] == "cpu",
        seed=42,
        disable_tqdm=True,
        torch_compile=options["torch_compile"],
    )
    features = tokenize_examples(tokenizer, options["rows"], *options["lengths"])
    collator = DataCollatorForSeq2Seq(tokenizer, model=model, label_pad_token_id=-100)
    trainer = Seq2SeqTrainer(
        model=model, args=targs, train_dataset=features, data_collator=collator, processing_class=tokenizer
    )
    trainer.train()
    return ""


def measure(options: dict[str, Any]) -> dict[str, Any]:
    """One configuration (loop x method), in its own process: step times and peak memory."""
    # Both loops' libraries are imported before the baseline: code is not training memory.
    import accelerate  # noqa: F401
    import peft  # noqa: F401
    import torch
    import transformers.trainer  # noqa: F401
    from transformers import Seq2SeqTrainer  # noqa: F401

    import llmft.training.loop  # noqa: F401

    if options["threads"]:
        torch.set_num_threads(options["threads"])
    cuda = options["device"].startswith("cuda")
    if cuda:
        torch.cuda.init()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        before = _rss_bytes()
    clocks: list[StepClock] = []
    with tempfile.TemporaryDirectory(prefix="llmft-loop-bench-") as workdir:
        runner = run_trainer if options["loop"] == "trainer" else run_ours
        models: list[Any] = []

        def start_clock(model: Any) -> None:
            clocks.append(StepClock(model, cuda))
            models.append(model)

        efficiency = runner(options, Path(workdir), start_clock)
        per_source, per_target = flops_per_token(models[0])  # the trained weights (LoRA: most frozen)
    peak = (torch.cuda.max_memory_allocated() if cuda else _peak_rss_bytes()) - before
    times = clocks[0].step_times(options["warmup_steps"])
    if len(times) < options["steps"]:
        raise RuntimeError(f"only {len(times)} timed steps (expected {options['steps']})")
    step_s = statistics.median(times[: options["steps"]])
    source, target = options["lengths"]
    step_flops = options["batch_size"] * (source * per_source + target * per_target)  # every row: the same lengths
    peak_per_second, _ = peak_flops(options["device"])
    return {"step_s": step_s, "peak_bytes": peak, "efficiency": efficiency,
            "tokens_per_s": options["batch_size"] * (source + target) / step_s, "tflops": step_flops / step_s / 1e12,
            "mfu": step_flops / step_s / peak_per_second if peak_per_second else None}


def run_isolated(options: dict[str, Any]) -> dict[str, Any]:
    return run_in_fresh_process(measure, options, label=f"{options['loop']} {options['method']}")


def main(argv: list[str] | None = None) -> int:
    import torch
    from train_memory import device_description

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: cuda when available")
    parser.add_argument("--model", choices=["base", "tiny"], default="base")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default=None, help="default: bf16 on CUDA")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=None, help="timed steps; default 20 on CUDA, 5 on CPU")
    parser.add_argument("--warmup_steps", type=int, default=3)
    parser.add_argument("--methods", nargs="+", choices=["full", "lora"], default=["full", "lora"])
    parser.add_argument("--dialogues_per_row", type=int, default=None, help="default 4 (base), 1 (tiny)")
    parser.add_argument("--gradient_checkpointing", action="store_true")
    parser.add_argument("--torch_compile", action="store_true", help="both loops compile the model (inductor)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's choice)")
    parser.add_argument("--trainer_first", action="store_true", help="run the Trainer before our loop (order check)")
    parser.add_argument(
        "--unfused", action="store_true", help="also time our loop with torch's default AdamW (before the fused one)"
    )
    args = parser.parse_args(argv)

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    cuda = device == "cuda"
    precision = args.precision or ("bf16" if cuda else "fp32")
    steps = args.steps or (20 if cuda else 5)
    total_steps = args.warmup_steps + steps + 1  # the last step's forward closes the last timed step
    per_row = args.dialogues_per_row or (4 if args.model == "base" else 1)

    results: dict[tuple[str, str], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="llmft-loop-model-") as folder:
        model_dir = write_model(Path(folder), args.model)
        from transformers import AutoTokenizer


        # One epoch of rows (no step waits on a new epoch), all of one length: the two loops draw the rows in
        # different orders, and batches of other shapes would time other GEMMs.
        rows, lengths = rows_of_one_length(AutoTokenizer.from_pretrained(model_dir), total_steps * args.batch_size,
                                           per_row)
        print(f"device: {device_description(device)}; {precision}"
              + (", gradient checkpointing" if args.gradient_checkpointing else "")
              + (", torch.compile" if args.torch_compile else ""))
        print(f"model: {'flan-t5-base architecture' if args.model == 'base' else 'tiny T5'}, random weights; batch "
              f"{args.batch_size}; every row {lengths[0]} prompt + {lengths[1]} summary tokens; "
              f"{args.warmup_steps} warm-up + {steps} timed steps (median); AdamW, logging every {LOGGING_STEPS}")
        for method in args.methods:
            order = ("trainer", "ours") if args.trainer_first else ("ours", "trainer")
            for loop in order + (("ours-unfused",) if args.unfused else ()):
                options = {
                    "loop": loop, "method": method, "device": device, "precision": precision,
                    "batch_size": args.batch_size, "steps": steps, "warmup_steps": args.warmup_steps,
                    "total_steps": total_steps, "rows": rows, "lengths": lengths, "model_dir": str(model_dir),
                    "gradient_checkpointing": args.gradient_checkpointing, "threads": args.threads,
                    "torch_compile": args.torch_compile,
                }
                result = results[(method, loop)] = run_isolated(options)
                mfu = f"MFU {100 * result['mfu']:5.1f}%" if result["mfu"] is not None else "MFU unknown"
                print(f"{method:>4} {loop:>12}: step {result['step_s'] * 1000:8.1f} ms  "
                      f"peak memory {result['peak_bytes'] / 2**30:6.2f} GiB  {result['tokens_per_s']:8.0f} tokens/s  "
                      f"{result['tflops']:7.2f} TFLOP/s  {mfu}", flush=True)
                if result["efficiency"]:
                    print(f"{'':>18} whole run, as train.py reports it: {result['efficiency']}", flush=True)
    summary = []
    for method in args.methods:
        ours, trainer = results[(method, "ours")], results[(method, "trainer")]
        time_ratio = trainer["step_s"] / ours["step_s"]
        memory_ratio = ours["peak_bytes"] / trainer["peak_bytes"]
        verdict = "parity met" if time_ratio >= 1.0 and memory_ratio <= 1.0 else "parity MISSED"
        unfused = results.get((method, "ours-unfused"))
        before = f", fused/default AdamW step time {ours['step_s'] / unfused['step_s']:.2f}" if unfused else ""
        mfu = f"MFU {100 * ours['mfu']:.1f}%" if ours["mfu"] is not None else "MFU unknown (no peak for this device)"
        summary.append(f"{method}: Trainer/ours step time {time_ratio:.2f}, ours/Trainer memory {memory_ratio:.2f} "
                       f"({verdict}){before}; ours {ours['tokens_per_s']:.0f} tokens/s, {mfu}")
    print(f"SUMMARY train_loop_vs_trainer {args.model} {device} {precision} batch {args.batch_size}: "
          + "; ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
