"""How well a run uses its device: tokens per second, padding, and model FLOPs utilisation (MFU).

Model FLOPs of one seq2seq training step, attention's score and mix products aside:

    FLOP = sum over weight matrices of  (2 forward + 2 backward to the inputs + 2 backward to the weight, if it
           trains) x  weights x  tokens through it
         = 6 x encoder weights x source tokens + 6 x decoder weights x target tokens   (full fine-tuning)

Encoder and decoder are counted apart because their tokens differ (DialogSum: 512 prompt, 128 summary tokens).
The decoder's weights include the `lm_head` projection; embedding tables (the token embeddings, T5's relative
position biases) are lookups, with no multiply-adds, and are not counted. A frozen weight (LoRA's base) still
passes gradients back to its inputs, so it counts 4, not 6.
Gradient checkpointing recomputes the forward pass; that work is not model FLOPs and is not counted (MFU, not
hardware FLOPs utilisation). Tokens are the real ones (attention mask, labels other than -100): the work spent
on padding counts against utilisation, and `pad_share` says how much there is.

MFU = model FLOP/s / the device's peak: dense bf16 tensor-core FLOP/s from `PEAK_BF16_DENSE_FLOPS` by device
name (NVIDIA's datasheets, without sparsity). On a CPU or an unknown GPU the peak is unknown, and so is MFU.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

# Dense bf16 peak per device (FLOP/s), from NVIDIA's datasheets (the sparse figures are twice these).
# Matched against `torch.cuda.get_device_name()`, most specific name first.
PEAK_BF16_DENSE_FLOPS: dict[str, float] = {
    "H100 PCIe": 756e12,
    "H100": 989e12,  # SXM ("NVIDIA H100 80GB HBM3")
    "H200": 989e12,
    "H20": 148e12,
    "B200": 2250e12,
    "A100": 312e12,
    "L40S": 362e12,
    "L4": 121e12,
    "A10G": 70e12,
    "A10": 125e12,
}


def peak_flops(device: Any) -> tuple[float | None, str]:
    """(dense bf16 peak FLOP/s or None, the device's name) for a torch device; None on a CPU or unknown GPU."""
    import torch

    device = torch.device(device)
    if device.type != "cuda":
        return None, device.type.upper()
    name = torch.cuda.get_device_name(device)
    for key in sorted(PEAK_BF16_DENSE_FLOPS, key=len, reverse=True):
        if key.lower() in name.lower():
            return PEAK_BF16_DENSE_FLOPS[key], name
    return None, name


def flops_per_token(model: Any) -> tuple[int, int]:
    """(FLOP per source token, FLOP per target token) of one training step of a seq2seq model (see module doc)."""
    import torch

    inner = model
    while not hasattr(inner, "get_encoder") and hasattr(inner, "module"):  # DDP
        inner = inner.module
    base = inner.get_base_model() if hasattr(inner, "get_base_model") else inner  # peft
    embeddings = {id(m.weight) for m in base.modules() if isinstance(m, torch.nn.Embedding)}

    def count(parameters: Any) -> int:
        seen: set[int] = set()
        total = 0
        for parameter in parameters:
            if id(parameter) in seen or id(parameter) in embeddings:
                continue
            seen.add(id(parameter))
            total += (6 if parameter.requires_grad else 4) * parameter.numel()
        return total

    head = base.get_output_embeddings()  # tied to the input embeddings or not, the projection is a matrix product
    projection = (6 if head.weight.requires_grad else 4) * head.weight.numel() if head is not None else 0
    return count(base.get_encoder().parameters()), count(base.get_decoder().parameters()) + projection


@dataclass
class Window:
    """Tokens over some seconds: what is logged at a logging step, or the run's totals at the end."""

    seconds: float
    source_tokens: int
    target_tokens: int
    padded_tokens: int
    flops: float
    peak: float | None  # all processes together

    @property
    def tokens(self) -> int:
        return self.source_tokens + self.target_tokens

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0

    @property
    def pad_share(self) -> float:
        return 1 - self.tokens / self.padded_tokens if self.padded_tokens else 0.0

    @property
    def flops_per_second(self) -> float:
        return self.flops / self.seconds if self.seconds > 0 else 0.0

    @property
    def mfu(self) -> float | None:
        return self.flops_per_second / self.peak if self.peak else None


class ThroughputMeter:
    """Counts a run's tokens without a host synchronisation per step.

    `add` keeps the real-token counts as tensors on the device (summed there); only the padded sizes, which
    the host knows from the shapes, are plain numbers. `read` (at a logging step) syncs once, sums over the
    processes, and returns the window since the previous `read`. Time spent in `pause()` (validation,
    checkpoints) is not training time.
    """

    def __init__(self, accelerator: Any, model: Any):
        self.accelerator = accelerator
        self.per_source, self.per_target = flops_per_token(model)
        peak, self.device_name = peak_flops(accelerator.device)
        self.peak = peak * accelerator.num_processes if peak else None
        self.total = Window(0.0, 0, 0, 0, 0.0, self.peak)
        self._reset()

    def _reset(self) -> None:
        self._counts: Any = None  # tensor [source, target] on the device
        self._padded = 0
        self._started = time.perf_counter()
        self._paused = 0.0

    def add(self, batch: Any) -> None:
        import torch

        mask, labels = batch["attention_mask"], batch["labels"]
        counts = torch.stack([mask.sum(), (labels != -100).sum()])
        self._counts = counts if self._counts is None else self._counts + counts
        self._padded += mask.numel() + labels.numel()

    def pause(self) -> Any:
        """A context manager: time inside it is not counted."""
        meter = self

        class _Paused:
            def __enter__(self) -> None:
                self.started = time.perf_counter()

            def __exit__(self, *_: Any) -> None:
                meter._paused += time.perf_counter() - self.started

        return _Paused()

    def read(self) -> Window:
        """The window since the last read, over all processes (every process must call it)."""
        import torch

        seconds = time.perf_counter() - self._started - self._paused
        device = self.accelerator.device
        counts = self._counts if self._counts is not None else torch.zeros(2, dtype=torch.long, device=device)
        totals = torch.cat([counts.to(torch.long), torch.tensor([self._padded], device=counts.device)])
        source, target, padded = (int(v) for v in self.accelerator.reduce(totals, reduction="sum").tolist())
        window = Window(seconds, source, target, padded, float(source * self.per_source + target * self.per_target),
                        self.peak)
        t = self.total
        self.total = Window(t.seconds + window.seconds, t.source_tokens + source, t.target_tokens + target,
                            t.padded_tokens + padded, t.flops + window.flops, self.peak)
        self._reset()
        return window

    def metrics(self, window: Window) -> dict[str, float]:
        """What a logging step writes to train_log.csv and TensorBoard."""
        metrics = {"train/tokens_per_second": window.tokens_per_second, "train/pad_share": window.pad_share}
        if window.mfu is not None:
            metrics["train/mfu"] = window.mfu
        return metrics

    def report(self, precision: str) -> str:
        """The end-of-run line: tokens/s, padding, model FLOP/s and MFU (or why MFU is unknown)."""
        return describe(self.total, self.device_name, self.accelerator.num_processes, precision)


def describe(window: Window, device_name: str, processes: int, precision: str) -> str:
    """One line for a person, with the formula's inputs, so the figure can be checked by hand."""
    line = (f"efficiency: {window.tokens:,} tokens ({window.source_tokens:,} source + {window.target_tokens:,} "
            f"target) in {window.seconds:.1f} s of training = {window.tokens_per_second:,.0f} tokens/s "
            f"({processes} process(es)); padding {100 * window.pad_share:.1f}% of the batch tokens; model FLOPs "
            f"{window.flops / 1e12:.2f} T = {window.flops_per_second / 1e12:.2f} TFLOP/s; ")
    if window.mfu is None:
        return line + f"MFU unknown ({device_name}: no bf16 dense peak in the table)"
    return line + (f"MFU {100 * window.mfu:.1f}% of {device_name}'s bf16 dense peak "
                   f"{window.peak / processes / 1e12:.0f} TFLOP/s x {processes} (training in {precision})")
