"""Peak memory and step time of full fine-tuning vs LoRA on the FLAN-T5-base architecture.

    python bench/train_memory.py                  # CUDA if present (bf16 autocast, batch 8), else CPU (batch 2)
    python bench/train_memory.py --batch_size 16 --gradient_checkpointing
    python bench/train_memory.py --table            # full and LoRA, checkpointing off and on, batches 2, 8, 16

The model is FLAN-T5-base's architecture from its public config (written below), with random weights:
memory and speed do not depend on the weight values, and nothing is downloaded. Each method trains a
few steps on one fixed batch of DialogSum-length inputs (prompt 384 tokens, summary 64: about the
longest row of a batch of 8, since batches pad to their longest), with the training loop's AdamW
(`llmft.training.loop.build_optimizer`, fused).

Each method runs in a fresh child process, so one method's memory (or the allocator's cache) cannot
inflate the other's. Peak memory is the most memory in use at once (weights, gradients, optimizer state,
activations) above what the process held before the model was built: on CUDA
`torch.cuda.max_memory_allocated`; on CPU the bytes glibc reports in use (`mallinfo2`, where PyTorch's CPU
tensors live), sampled every 2 ms. The peak resident set size (ru_maxrss) is printed beside it: it also
counts memory freed but kept by the allocator, so it overstates what training needs.
Target: LoRA's peak at most 0.6 of full fine-tuning's. LoRA saves the gradients and AdamW state of the
frozen weights (three copies of 248M fp32 numbers), not activations, which grow with the batch: the larger
the batch, the closer the ratio gets to 1 (gradient checkpointing shrinks activations for both methods).
`--table` measures every method with gradient checkpointing off and on at each of `--batch_sizes`, and
prints one row per run with its peak memory as a ratio to full fine-tuning (no checkpointing) at the same
batch. The last line is a one-line summary with the ratios.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import multiprocessing
import platform
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

# google/flan-t5-base's config.json (public), as a T5Config. tie_word_embeddings False: FLAN-T5 (T5 v1.1)
# has an lm_head of its own and no decoder output scaling.
FLAN_T5_BASE = dict(
    vocab_size=32128,
    d_model=768,
    d_kv=64,
    d_ff=2048,
    num_layers=12,
    num_decoder_layers=12,
    num_heads=12,
    relative_attention_num_buckets=32,
    relative_attention_max_distance=128,
    dropout_rate=0.1,
    layer_norm_epsilon=1e-6,
    feed_forward_proj="gated-gelu",
    tie_word_embeddings=False,
    decoder_start_token_id=0,
    pad_token_id=0,
    eos_token_id=1,
)
# The course lab's LoRA settings (training/recipes/flan-t5-base/lora.yaml).
LORA = dict(r=32, lora_alpha=32, target_modules=["q", "v"], lora_dropout=0.05, bias="none")
TARGET_RATIO = 0.6


def build_flan_t5_base(device: str = "cpu") -> Any:
    """FLAN-T5-base with random weights on `device` ("meta" builds it without allocating memory)."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    config = T5Config(**FLAN_T5_BASE)
    with torch.device(device):
        model = T5ForConditionalGeneration(config)
        # transformers 5 ties lm_head to the input embeddings when it builds T5 from a config; the released
        # FLAN-T5 checkpoint has its own lm_head (and loading it keeps it separate), so untie it here.
        model.lm_head.weight = torch.nn.Parameter(model.shared.weight.detach().clone())
    model.all_tied_weights_keys.pop("lm_head.weight", None)
    return model


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _heap_in_use() -> int:
    """Bytes malloc has handed out and not had back: heap chunks in use plus mmapped chunks (glibc >= 2.33)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    return info.uordblks + info.hblkhd


class PeakSampler(threading.Thread):
    """Samples `read()` every `interval` seconds while running; `.peak` is the largest value seen."""

    def __init__(self, read: Any, interval: float = 0.002):
        super().__init__(daemon=True)
        self.read, self.interval, self.peak = read, interval, read()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.peak = max(self.peak, self.read())

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, self.read())
        return self.peak


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


def _peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def measure(method: str, options: dict[str, Any]) -> dict[str, Any]:
    """Train `method` for warm-up + measured steps on a fixed batch; runs in its own process."""
    import peft  # noqa: F401  (imported before the baseline is taken: libraries are not training memory)
    import torch
    from transformers import T5ForConditionalGeneration  # noqa: F401

    from llmft.training import TrainArguments, count_parameters
    from llmft.training.loop import build_optimizer

    device = options["device"]
    torch.manual_seed(0)
    if options["threads"]:
        torch.set_num_threads(options["threads"])
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        before, rss_before = _heap_in_use(), _rss_bytes()
        sampler = PeakSampler(_heap_in_use)
        sampler.start()

    model = build_flan_t5_base(device)
    if options["gradient_checkpointing"]:  # as train.py does with --gradient_checkpointing
        model.gradient_checkpointing_enable()
        model.config.use_cache = False
        if method == "lora":
            model.enable_input_require_grads()
    if method == "lora":
        from peft import LoraConfig, TaskType, get_peft_model

        model = get_peft_model(model, LoraConfig(task_type=TaskType.SEQ_2_SEQ_LM, **LORA))
    model.train()
    trainable, total = count_parameters(model)
    # The training loop's AdamW (fused: no whole-model temporaries, unlike the multi-tensor default).
    optimizer = build_optimizer(model, TrainArguments(output_dir="unused", learning_rate=1e-5), fused=True)

    generator = torch.Generator().manual_seed(1)  # the same batch for both methods
    batch_size, source, target = options["batch_size"], options["source_tokens"], options["target_tokens"]
    input_ids = torch.randint(2, FLAN_T5_BASE["vocab_size"], (batch_size, source), generator=generator)
    input_ids[:, -1] = FLAN_T5_BASE["eos_token_id"]
    labels = torch.randint(2, FLAN_T5_BASE["vocab_size"], (batch_size, target), generator=generator)
    labels[:, -1] = FLAN_T5_BASE["eos_token_id"]
    batch = {
        "input_ids": input_ids.to(device),
        "attention_mask": torch.ones_like(input_ids).to(device),
        "labels": labels.to(device),
    }
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda and options["bf16"])

    times = []
    for step in range(options["warmup_steps"] + options["steps"]):
        if cuda:
            torch.cuda.synchronize()
        started = time.perf_counter()
        with autocast:
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.synchronize()
        if step >= options["warmup_steps"]:
            times.append(time.perf_counter() - started)

    peak = (torch.cuda.max_memory_allocated() if cuda else sampler.stop()) - before
    return {
        "method": method,
        "trainable": trainable,
        "total": total,
        "peak_bytes": peak,
        "peak_rss_bytes": None if cuda else _peak_rss_bytes() - rss_before,
        "step_s": statistics.mean(times),
        "step_s_stdev": statistics.stdev(times) if len(times) > 1 else 0.0,
        "loss": float(loss.detach()),
    }


def _child(work: Callable[..., dict[str, Any]], args: tuple[Any, ...], queue: Any) -> None:
    try:
        queue.put(work(*args))
    except BaseException as err:  # report, so the parent does not wait forever
        queue.put({"error": f"{type(err).__name__}: {err}"})


def run_in_fresh_process(work: Callable[..., dict[str, Any]], *args: Any, label: str) -> dict[str, Any]:
    """`work(*args)` in a spawned process (no memory left from another run); its error raised here, named."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(work, args, queue))
    process.start()
    result = queue.get()
    process.join()
    if "error" in result:
        raise RuntimeError(f"{label}: {result['error']}")
    return result


def run_isolated(method: str, options: dict[str, Any]) -> dict[str, Any]:
    return run_in_fresh_process(measure, method, options, label=method)


def device_description(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(torch.device(device))
        return f"{props.name} ({props.total_memory / 2**30:.0f} GiB), torch {torch.__version__}"
    threads = torch.get_num_threads()
    cpu = platform.processor() or platform.machine()
    return f"CPU {cpu}, {threads} thread(s), torch {torch.__version__}"


def run_table(options: dict[str, Any], batch_sizes: list[int], described: str) -> None:
    """Full and LoRA, checkpointing off and on, at each batch size: peak memory against full at that batch."""
    precision = "bf16 autocast" if options["bf16"] else "fp32"
    print("| method | gradient checkpointing | batch | peak memory | ratio to full (no checkpointing) | step time |")
    print("|---|---|---|---|---|---|")
    lora_gc = []
    for batch in batch_sizes:
        peaks = {}
        for method in ("full", "lora"):
            for checkpointing in (False, True):
                result = run_isolated(method, dict(options, batch_size=batch, gradient_checkpointing=checkpointing))
                peaks[(method, checkpointing)] = result["peak_bytes"]
                ratio = result["peak_bytes"] / peaks[("full", False)]
                print(
                    f"| {'LoRA' if method == 'lora' else 'full'} | {'on' if checkpointing else 'off'} | {batch} | "
                    f"{result['peak_bytes'] / 2**30:.2f} GiB | {ratio:.2f} | {result['step_s'] * 1000:.0f} ms |",
                    flush=True,
                )
        lora_gc.append(f"batch {batch} {peaks[('lora', True)] / peaks[('full', False)]:.2f}")
    print(
        f"SUMMARY train_memory table flan-t5-base {options['device']} ({described}, {precision}, "
        f"{options['source_tokens']} + {options['target_tokens']} tokens): LoRA + gradient checkpointing / full "
        f"peak memory: {', '.join(lora_gc)}"
    )


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--batch_size", type=int, default=None, help="default: 8 on CUDA, 2 on CPU")
    parser.add_argument("--source_tokens", type=int, default=384)
    parser.add_argument("--target_tokens", type=int, default=64)
    parser.add_argument("--warmup_steps", type=int, default=None, help="default: 3 on CUDA, 1 on CPU")
    parser.add_argument("--steps", type=int, default=None, help="measured steps; default: 10 on CUDA, 3 on CPU")
    parser.add_argument("--no_bf16", action="store_true", help="CUDA: train in fp32 instead of bf16 autocast")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's choice)")
    parser.add_argument("--gradient_checkpointing", action="store_true", help="recompute activations in backward")
    parser.add_argument("--table", action="store_true", help="both methods, checkpointing off and on, per batch")
    parser.add_argument("--batch_sizes", type=int, nargs="+", default=[2, 8, 16], help="--table's batch sizes")
    args = parser.parse_args(argv)

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    cuda = device.startswith("cuda")
    options = {
        "device": device,
        "batch_size": args.batch_size or (8 if cuda else 2),
        "source_tokens": args.source_tokens,
        "target_tokens": args.target_tokens,
        "warmup_steps": args.warmup_steps if args.warmup_steps is not None else (3 if cuda else 1),
        "steps": args.steps or (10 if cuda else 3),
        "bf16": cuda and not args.no_bf16,
        "threads": args.threads,
        "gradient_checkpointing": args.gradient_checkpointing,
    }
    described = device_description(device)
    precision = ("bf16 autocast" if options["bf16"] else "fp32") + (
        ", gradient checkpointing" if options["gradient_checkpointing"] else ""
    )
    if args.table:
        print(f"device: {described}; {precision.split(',')[0]}")
        print(
            f"{options['source_tokens']} prompt + {options['target_tokens']} summary tokens per row; "
            f"{options['warmup_steps']} warm-up + {options['steps']} measured steps; AdamW; each run in a fresh process"
        )
        run_table(options, args.batch_sizes, described)
        return 0
    print(f"device: {described}; {precision}")
    print(
        f"batch {options['batch_size']} x {options['source_tokens']} prompt + {options['target_tokens']} summary "
        f"tokens; {options['warmup_steps']} warm-up + {options['steps']} measured steps; AdamW"
    )
    results = {}
    for method in ("full", "lora"):
        result = run_isolated(method, options)
        results[method] = result
        share = 100 * result["trainable"] / result["total"]
        print(
            f"{method:>4}: trainable {result['trainable']:,} of {result['total']:,} ({share:.2f}%)  "
            f"peak memory {result['peak_bytes'] / 2**30:.2f} GiB"
            + (f" (RSS growth {result['peak_rss_bytes'] / 2**30:.2f} GiB)" if result["peak_rss_bytes"] else "")
            + f"  step {result['step_s'] * 1000:.0f} ms (± {result['step_s_stdev'] * 1000:.0f})",
            flush=True,
        )
    memory_ratio = results["lora"]["peak_bytes"] / results["full"]["peak_bytes"]
    time_ratio = results["lora"]["step_s"] / results["full"]["step_s"]
    verdict = "meets" if memory_ratio <= TARGET_RATIO else "MISSES"
    print(f"LoRA/full: peak memory {memory_ratio:.2f} ({verdict} the <= {TARGET_RATIO} target), ", end="")
    print(f"step time {time_ratio:.2f}")
    lora, full = results["lora"], results["full"]
    print(
        f"SUMMARY train_memory flan-t5-base {device} ({described}, {precision}): LoRA/full peak memory "
        f"{memory_ratio:.2f} ({lora['peak_bytes'] / 2**30:.2f} / {full['peak_bytes'] / 2**30:.2f} GiB), "
        f"step time {time_ratio:.2f} ({lora['step_s']:.3f} / {full['step_s']:.3f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
