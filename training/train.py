r"""Fine-tune FLAN-T5 on DialogSum, fully or with LoRA, with Accelerate; score it with ROUGE; push it to the Hub.

One GPU:
    accelerate launch --config_file training/configs/single_gpu.yaml training/train.py \
        --config training/recipes/flan-t5-base/lora.yaml

Several GPUs (DDP), or DeepSpeed ZeRO-2 (needs `pip install deepspeed`); CPU for a smoke test:
    accelerate launch --config_file training/configs/multi_gpu.yaml --num_processes 4 training/train.py --config ...
    accelerate launch --config_file training/configs/deepspeed_zero2.yaml training/train.py --config ...
    accelerate launch --config_file training/configs/cpu.yaml training/train.py --config training/recipes/tiny/lora.yaml
    ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes 2 training/train.py --config ...  # CPU DDP

Every recipe key is also a flag (`--learning_rate 3e-4`, `--max_steps 100`), and a flag wins over the recipe.
After a crash or preemption, run the same command with `--resume_from_checkpoint latest`.
To publish: `--push_to_hub --hub_model_id you/flan-t5-base-dialogsum-lora` (HF_TOKEN must be set).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from accelerate import Accelerator, DataLoaderConfiguration
from accelerate.utils import set_seed
from tqdm.auto import tqdm
from transformers import get_scheduler
from transformers.utils import logging as hf_logging

from llmft.data import load_dialogues
from llmft.errors import ConfigError, run_cli
from llmft.evaluation import evaluate_saved_model
from llmft.hub import model_card
from llmft.models import GenerationSettings
from llmft.recipes import as_flat_dict, parse_args
from llmft.training import (
    DataArguments,
    MetricsLogger,
    ModelArguments,
    TrainArguments,
    apply_lora,
    build_dataloaders,
    check_output_dir,
    count_parameters,
    dataset_label,
    describe_parameters,
    load_model_for_training,
    prepare_output_dir,
    push_run,
    read_training_state,
    register_checkpoint_hooks,
    resolve_defaults,
    resolve_resume,
    rouge_for_card,
    save_checkpoint,
    save_final_model,
    validation_metrics,
)


def main(argv: list[str] | None = None) -> int:
    # 1. Settings: recipe < flags; every check that can fail fast runs before any heavy work.
    model_args, data_args, args = parse_args((ModelArguments, DataArguments, TrainArguments), argv, __doc__)
    resolve_defaults(model_args, args)
    if args.resume_from_checkpoint and args.overwrite_output_dir:
        raise ConfigError(
            "Choose one: --resume_from_checkpoint continues the run in output_dir, --overwrite_output_dir deletes it."
        )
    run_config = as_flat_dict(model_args, data_args, args)
    output_dir = Path(args.output_dir)
    check_output_dir(output_dir, run_config, args.overwrite_output_dir, args.resume_from_checkpoint)
    resume_from = resolve_resume(output_dir, args.resume_from_checkpoint)

    hf_logging.disable_progress_bar()  # per-file load/save bars would interleave with the training bar
    accelerator = Accelerator(
        gradient_accumulation_steps=args.gradient_accumulation_steps,  # mixed precision comes from the config
        log_with=None if args.report_to == "none" else args.report_to,
        project_dir=str(output_dir),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True),  # epoch order from (seed, epoch)
    )
    set_seed(args.seed)

    # 2. Model (+ LoRA) and data.
    model, tokenizer = load_model_for_training(model_args)
    if args.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.config.use_cache = False
    if model_args.method == "lora":
        if args.gradient_checkpointing:
            model.enable_input_require_grads()  # frozen embeddings would otherwise cut the gradient path
        model = apply_lora(model, model_args)
    trainable, total = count_parameters(model)
    accelerator.print(describe_parameters(trainable, total))

    train_rows = load_dialogues(data_args.dataset_name, data_args.train_split, limit=data_args.max_train_samples)
    eval_rows = (
        load_dialogues(data_args.dataset_name, data_args.eval_split, limit=data_args.max_eval_samples)
        if args.eval_steps
        else []
    )
    # Loaded now so that a missing test split fails the run before training, not after. Grouped: DialogSum's
    # test split has three human summaries per dialogue (multi-reference ROUGE).
    test_rows = (
        load_dialogues(
            data_args.dataset_name, data_args.test_split, limit=data_args.max_test_samples, group_references=True
        )
        if args.do_test_eval
        else []
    )
    train_loader, eval_loader = build_dataloaders(tokenizer, train_rows, eval_rows, data_args, args)

    if accelerator.is_main_process:
        prepare_output_dir(output_dir, run_config, args.overwrite_output_dir)
    accelerator.wait_for_everyone()

    # 3. Optimizer and schedule. Accelerate steps a prepared scheduler once per process per optimizer step.
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=args.learning_rate, weight_decay=args.weight_decay
    )
    model, optimizer, train_loader = accelerator.prepare(model, optimizer, train_loader)
    eval_loader = accelerator.prepare(eval_loader)  # apart: DeepSpeed reads the micro-batch size from the first
    steps_per_epoch = math.ceil(len(train_loader) / args.gradient_accumulation_steps)
    total_steps = args.max_steps if args.max_steps > 0 else args.num_train_epochs * steps_per_epoch
    num_epochs = math.ceil(total_steps / steps_per_epoch)
    scheduler = get_scheduler(
        args.lr_scheduler_type,
        optimizer,
        num_warmup_steps=math.ceil(args.warmup_ratio * total_steps) * accelerator.num_processes,
        num_training_steps=total_steps * accelerator.num_processes,
    )
    scheduler = accelerator.prepare(scheduler)
    register_checkpoint_hooks(accelerator, tokenizer)

    # 4. Resume: weights, optimizer, scheduler, RNG and Accelerate's step counter, then the data position.
    global_step, start_epoch, skip_batches = 0, 0, 0
    if resume_from is not None:
        accelerator.load_state(str(resume_from))
        state = read_training_state(resume_from)
        global_step, start_epoch, skip_batches = state["global_step"], state["epoch"], state["batches_in_epoch"]
        if skip_batches >= len(train_loader):
            start_epoch, skip_batches = start_epoch + 1, 0
        if state.get("num_processes") != accelerator.num_processes:
            accelerator.print(
                f"warning: resuming on {accelerator.num_processes} processes, the checkpoint was written "
                f"on {state.get('num_processes')}: the data order differs from an uninterrupted run."
            )
        accelerator.print(f"Resuming from {resume_from} at step {global_step} (epoch {start_epoch}).")
    if args.report_to != "none":
        accelerator.init_trackers("runs", config={k: str(v) for k, v in run_config.items()})
    log = MetricsLogger(accelerator, output_dir, resume_step=global_step if resume_from else None)

    # 5. Train.
    accelerator.print(
        f"{len(train_rows)} training rows, {total_steps} steps ({steps_per_epoch} per epoch), "
        f"{accelerator.num_processes} process(es), mixed precision: {accelerator.mixed_precision}"
    )
    progress = tqdm(total=total_steps, initial=global_step, desc="train", disable=not accelerator.is_local_main_process)
    model.train()
    running_loss, running_batches = torch.zeros((), device=accelerator.device), 0
    for epoch in range(start_epoch, num_epochs):
        if global_step >= total_steps:  # resumed from the last step: straight to saving and evaluation
            break
        train_loader.set_epoch(epoch)
        batches = accelerator.skip_first_batches(train_loader, skip_batches) if skip_batches else train_loader
        batch_in_epoch, skip_batches = skip_batches, 0
        for batch in batches:
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
                    {"train/loss": mean_loss, "train/learning_rate": scheduler.get_last_lr()[0]},
                    global_step,
                    fractional_epoch,
                )
                progress.set_postfix(loss=f"{mean_loss:.4f}")
                running_loss, running_batches = torch.zeros((), device=accelerator.device), 0
            if args.eval_steps and global_step % args.eval_steps == 0:
                metrics = validation_metrics(accelerator, model, tokenizer, eval_loader, eval_rows, args, data_args)
                log.log(metrics, global_step, fractional_epoch)
            if args.save_steps and global_step % args.save_steps == 0:
                state = {
                    "global_step": global_step,
                    "epoch": epoch,
                    "batches_in_epoch": batch_in_epoch,
                    "total_steps": total_steps,
                    "num_processes": accelerator.num_processes,
                }
                save_checkpoint(accelerator, output_dir, global_step, state, keep=args.save_total_limit)
            if global_step >= total_steps:
                break
    progress.close()

    # 6. Final model (the adapter alone for LoRA), then the test split scored with the apps' generate + ROUGE.
    save_final_model(accelerator, model, tokenizer, output_dir)
    log.close()
    results = None
    if args.do_test_eval and accelerator.is_main_process:
        # The saved folder, loaded exactly as the apps load it, scored with their generate + ROUGE.
        settings = GenerationSettings(
            max_new_tokens=args.generation_max_new_tokens, num_beams=args.generation_num_beams
        )
        results = evaluate_saved_model(
            output_dir,
            model_args.method,
            test_rows,
            data_args.dataset_name,
            data_args.test_split,
            settings,
            batch_size=args.per_device_eval_batch_size,
            max_input_tokens=data_args.max_source_length,
            device=str(accelerator.device),
        )
    accelerator.wait_for_everyone()

    # 7. Publish, only once training and evaluation have succeeded.
    if args.push_to_hub and accelerator.is_main_process:
        card = model_card(
            args.hub_model_id,
            model_args.model_name_or_path,
            model_args.method,
            dataset=dataset_label(data_args.dataset_name),
            metrics=rouge_for_card(results, model_args.method) if results else None,
            recipe=run_config,
            trainable=(trainable, total),
        )
        message = f"{model_args.method} fine-tune of {model_args.model_name_or_path}"
        pushed = push_run(output_dir, args.hub_model_id, card, private=args.hub_private, commit_message=message)
        accelerator.print(f"Pushed to {pushed.repo_url} (commit {pushed.commit_sha[:10]}).")
    accelerator.end_training()  # closes the trackers and, under DDP, the process group: last
    return 0


if __name__ == "__main__":
    run_cli(main)
