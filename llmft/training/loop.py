"""The training loop: optimizer and schedule, resume, steps with gradient accumulation, logging, checkpoints.

`plan_training` prepares everything Accelerate needs and checks that a resume can be exact; `fit` runs
the steps. Both must be called on every process.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accelerate.logging import get_logger

from llmft.data import DialogueExample
from llmft.errors import ConfigError
from llmft.training.arguments import DataArguments, TrainArguments
from llmft.training.checkpoints import read_training_state, register_checkpoint_hooks, save_checkpoint
from llmft.training.efficiency import ThroughputMeter
from llmft.training.logs import MetricsLogger
from llmft.training.validation import validation_metrics

logger = get_logger(__name__)


@dataclass
class TrainingPlan:
    """What `plan_training` prepared: the wrapped model, optimizer, loaders and schedule, and the step counts."""

    model: Any
    optimizer: Any
    scheduler: Any
    train_loader: Any
    eval_loader: Any
    steps_per_epoch: int
    total_steps: int
    num_epochs: int
    efficiency: str = ""  # `fit`'s closing line: tokens/s, padding, model FLOP/s, MFU (llmft.training.efficiency)


def plan_training(
    accelerator: Any, model: Any, train_loader: Any, eval_loader: Any, args: TrainArguments
) -> TrainingPlan:
    """AdamW on the trainable weights and the schedule over the run's steps, all prepared by Accelerate."""
    from transformers import get_scheduler

    optimizer = build_optimizer(model, args, fused=fused_adamw_supported(accelerator))
    if args.torch_compile:  # in place: the state dict keeps its keys, so checkpoints and saved models are unchanged
        model.compile(backend=args.torch_compile_backend)
    model, optimizer, train_loader = accelerator.prepare(model, optimizer, train_loader)
    eval_loader = accelerator.prepare(eval_loader)  # apart: DeepSpeed reads the micro-batch size from the first
    steps_per_epoch = math.ceil(len(train_loader) / args.gradient_accumulation_steps)
    total_steps = args.max_steps if args.max_steps > 0 else args.num_train_epochs * steps_per_epoch
    # Accelerate steps a prepared scheduler once per process per optimizer step.
    scheduler = get_scheduler(
        args.lr_scheduler_type,
        optimizer,
        num_warmup_steps=math.ceil(args.warmup_ratio * total_steps) * accelerator.num_processes,
        num_training_steps=total_steps * accelerator.num_processes,
    )
    scheduler = accelerator.prepare(scheduler)
    return TrainingPlan(model, optimizer, scheduler, train_loader, eval_loader, steps_per_epoch, total_steps,
                        num_epochs=math.ceil(total_steps / steps_per_epoch))


# Devices whose AdamW kernel is fused in every torch this project supports (>= 2.4), and that the tests cover.
FUSED_ADAMW_DEVICES = ("cpu", "cuda")


def fused_adamw_supported(accelerator: Any) -> bool:
    """Whether the loop's AdamW can be the fused kernel on `accelerator`'s device.

    Decided by the device the model will train on (the weights are still on the CPU when the optimizer is
    built; Accelerate moves them). Under DeepSpeed the engine owns the optimizer's weights: it keeps the
    default implementation there.
    """
    from accelerate.utils import DistributedType

    if accelerator.distributed_type == DistributedType.DEEPSPEED:
        return False
    return accelerator.device.type in FUSED_ADAMW_DEVICES


def build_optimizer(model: Any, args: TrainArguments, fused: bool) -> Any:
    """AdamW on the trainable weights; `fused`: one kernel updates all of them.

    The fused kernel applies the same update as the per-weight (CPU) and multi-tensor (CUDA) defaults, in
    one pass over the weights instead of one per operation; `Seq2SeqTrainer` uses it by default too
    ("adamw_torch_fused"). bench/train_loop_vs_trainer.py measures the loop against it (training/README.md).
    """
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=args.learning_rate, weight_decay=args.weight_decay, fused=fused or None)


def check_resume_schedule(resume_from: Path | None, plan: TrainingPlan, args: TrainArguments) -> None:
    """Refuse a resume that would change the learning-rate schedule mid-run.

    Warm-up and decay are laid out over the run's total steps, and the checkpoint's scheduler state only
    counts steps taken. A resume into a longer (or shorter) run would follow neither schedule from the
    checkpoint on: the run would match no run trained with either setting from the start. `constant`
    does not depend on the total, so a run with it may be extended.
    """
    if resume_from is None or args.lr_scheduler_type == "constant":
        return
    state = read_training_state(resume_from)
    planned = state.get("total_steps")
    if planned is None or planned == plan.total_steps:
        return
    raise ConfigError(
        f"Checkpoint '{resume_from}' (step {state['global_step']}) belongs to a run of {planned} steps, and these "
        f"settings make it {plan.total_steps} (max_steps, num_train_epochs or the number of processes changed). "
        f"The '{args.lr_scheduler_type}' learning-rate schedule is laid out over the run's steps, so from here on "
        "the run would follow neither schedule. Resume with the settings the run started with, or train the "
        "longer run from the start in another output_dir (only lr_scheduler_type: constant can be extended)."
    )


def fit(
    accelerator: Any,
    plan: TrainingPlan,
    tokenizer: Any,
    eval_rows: Sequence[DialogueExample],
    args: TrainArguments,
    data_args: DataArguments,
    output_dir: Path,
    run_config: Mapping[str, Any],
    resume_from: Path | None = None,
) -> int:
    """Train until `plan.total_steps`, resuming from `resume_from` if given; returns the last step.

    No host synchronisation per step: the loss and the token counts are summed on the device and read only
    at a logging step (`.item()` there), so the host queues the next step while the device computes.
    """
    import torch
    from tqdm.auto import tqdm

    model, optimizer, scheduler, train_loader = plan.model, plan.optimizer, plan.scheduler, plan.train_loader
    register_checkpoint_hooks(accelerator, tokenizer)

    # Resume: weights, optimizer, scheduler, RNG and Accelerate's step counter, then the data position.
    global_step, start_epoch, skip_batches = 0, 0, 0
    if resume_from is not None:
        accelerator.load_state(str(resume_from))
        state = read_training_state(resume_from)
        global_step, start_epoch, skip_batches = state["global_step"], state["epoch"], state["batches_in_epoch"]
        if skip_batches >= len(train_loader):
            start_epoch, skip_batches = start_epoch + 1, 0
        if state.get("num_processes") != accelerator.num_processes:
            logger.warning(
                f"Resuming on {accelerator.num_processes} processes, the checkpoint was written "
                f"on {state.get('num_processes')}: the data order differs from an uninterrupted run."
            )
        logger.info(f"Resuming from {resume_from} at step {global_step} (epoch {start_epoch}).")
    if args.report_to != "none":
        accelerator.init_trackers("runs", config={k: str(v) for k, v in run_config.items()})
    log = MetricsLogger(accelerator, output_dir, resume_step=global_step if resume_from else None)

    total_steps = plan.total_steps
    progress = tqdm(total=total_steps, initial=global_step, desc="train", disable=not accelerator.is_local_main_process)
    model.train()
    meter = ThroughputMeter(accelerator, model)
    running_loss, running_batches = torch.zeros((), device=accelerator.device), 0
    for epoch in range(start_epoch, plan.num_epochs):
        if global_step >= total_steps:  # resumed from the last step: straight to saving and evaluation
            break
        train_loader.set_epoch(epoch)
        batches = accelerator.skip_first_batches(train_loader, skip_batches) if skip_batches else train_loader
        batch_in_epoch, skip_batches = skip_batches, 0
        for batch in batches:
            meter.add(batch)
            with accelerator.accumulate(model):
                loss = model(**batch).loss
                accelerator.backward(loss)
                if accelerator.sync_gradients and args.max_grad_norm > 0:
                    accelerator.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            batch_in_epoch += 1
            running_loss += loss.detach()
            running_batches += 1
            if not accelerator.sync_gradients:
                continue
            global_step += 1
            progress.update(1)
            fractional_epoch = epoch + batch_in_epoch / len(train_loader)
            if global_step % args.logging_steps == 0 or global_step == total_steps:
                mean_loss = accelerator.reduce(running_loss / running_batches, reduction="mean").item()
                log.log(
                    {"train/loss": mean_loss, "train/learning_rate": scheduler.get_last_lr()[0],
                     **meter.metrics(meter.read())},
                    global_step,
                    fractional_epoch,
                )
                progress.set_postfix(loss=f"{mean_loss:.4f}")
                running_loss, running_batches = torch.zeros((), device=accelerator.device), 0
            if args.eval_steps and global_step % args.eval_steps == 0:
                with meter.pause():
                    metrics = validation_metrics(
                        accelerator, model, tokenizer, plan.eval_loader, eval_rows, args, data_args
                    )
                    log.log(metrics, global_step, fractional_epoch)
            if args.save_steps and global_step % args.save_steps == 0:
                state = {
                    "global_step": global_step,
                    "epoch": epoch,
                    "batches_in_epoch": batch_in_epoch,
                    "total_steps": total_steps,
                    "num_processes": accelerator.num_processes,
                }
                with meter.pause():
                    save_checkpoint(accelerator, output_dir, global_step, state, keep=args.save_total_limit)
            if global_step >= total_steps:
                break
    progress.close()
    log.close()
    meter.read()  # batches since the last logging step (none when it was the last step)
    plan.efficiency = meter.report(accelerator.mixed_precision)
    logger.info(plan.efficiency)
    return global_step
