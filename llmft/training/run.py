"""`train.py`'s stages: settings, model, data, the loop, the final model, its test score, publishing.

Run it as `accelerate launch training/train.py ...` or `python -m llmft.training ...` (the same `main`).
"""

from __future__ import annotations

from pathlib import Path

from accelerate.logging import get_logger

from llmft.data import load_dialogues
from llmft.errors import ConfigError
from llmft.recipes import as_flat_dict, parse_args
from llmft.training.arguments import (
    DataArguments,
    ModelArguments,
    TrainArguments,
    check_base_model_id,
    resolve_defaults,
)
from llmft.training.batches import build_dataloaders
from llmft.training.checkpoints import (
    read_training_state,
    resolve_resume,
    retire_newer_checkpoints,
    save_final_model,
)
from llmft.training.logs import setup_logging
from llmft.training.loop import check_resume_schedule, fit, plan_training
from llmft.training.model_setup import apply_lora, count_parameters, describe_parameters, load_model_for_training
from llmft.training.publishing import ModelToPublish, evaluate_and_publish
from llmft.training.run_dir import check_output_dir, prepare_output_dir

logger = get_logger(__name__)
USAGE = "Fine-tune a seq2seq model fully or with LoRA: see training/README.md (every recipe key is also a flag)."


def main(argv: list[str] | None = None, usage: str | None = None) -> int:
    from accelerate import Accelerator, DataLoaderConfiguration
    from accelerate.utils import set_seed
    from transformers.utils import logging as hf_logging

    # 1. Settings: recipe < flags; every check that can fail fast runs before any heavy work.
    model_args, data_args, args = parse_args((ModelArguments, DataArguments, TrainArguments), argv, usage or USAGE)
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
    setup_logging(accelerator.is_main_process)
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
    logger.info(describe_parameters(trainable, total))

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
            data_args.dataset_name, args.test_split, limit=args.max_test_samples, group_references=True
        )
        if args.do_test_eval
        else []
    )
    train_loader, eval_loader = build_dataloaders(tokenizer, train_rows, eval_rows, data_args, args)

    # 3. Optimizer, schedule, and everything wrapped by Accelerate.
    plan = plan_training(accelerator, model, train_loader, eval_loader, args)
    check_resume_schedule(resume_from, plan, args)  # before the folder is touched
    if accelerator.is_main_process:
        prepare_output_dir(output_dir, run_config, args.overwrite_output_dir)
        if resume_from is not None:  # resuming from an older checkpoint abandons the newer ones
            retire_newer_checkpoints(output_dir, read_training_state(resume_from)["global_step"])
    accelerator.wait_for_everyone()

    # 4. Train (resuming if asked).
    logger.info(
        f"{len(train_rows)} training rows, {plan.total_steps} steps ({plan.steps_per_epoch} per epoch), "
        f"{accelerator.num_processes} process(es), mixed precision: {accelerator.mixed_precision}"
    )
    fit(accelerator, plan, tokenizer, eval_rows, args, data_args, output_dir, run_config, resume_from)

    # 5. Final model (the adapter alone for LoRA), then the test split scored with the apps' generate + ROUGE:
    # every process generates its shard of the test rows, the main process scores them and writes eval/.
    save_final_model(accelerator, plan.model, tokenizer, output_dir)  # ends with every process waiting for it
    base_id = None
    if args.push_to_hub:
        base_id = check_base_model_id(model_args.model_name_or_path, args.hub_base_model_id, model_args.method)
        if base_id is None and accelerator.is_main_process:
            logger.warning(
                f"The base model '{model_args.model_name_or_path}' is a local folder and --hub_base_model_id is not "
                "set: the card leaves base_model out."
            )
    # The saved folder, loaded exactly as the apps load it (on each process's device), scored with their
    # generate + ROUGE; then 6. published, only once training and evaluation have succeeded: a card from what
    # this run measured.
    final = ModelToPublish(
        folder=output_dir,
        name=model_args.method,
        method=model_args.method,
        base_model=base_id,
        dataset=data_args.dataset_name,
        recipe=run_config,
        commit_message=f"{model_args.method} fine-tune of {base_id or 'a local base model'}",
        trainable=(trainable, total),
        training_rows=len(train_rows),
    )
    evaluate_and_publish(final, test_rows if args.do_test_eval else None, args, args,
                         max_input_tokens=data_args.max_source_length, processes=accelerator)
    accelerator.end_training()  # closes the trackers and, under DDP, the process group: last
    return 0
