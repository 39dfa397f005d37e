"""The model to train: the base loaded in fp32, LoRA applied, parameters counted as the course lab does."""

from __future__ import annotations

from typing import Any

from llmft.errors import ConfigError
from llmft.models import load_model
from llmft.training.arguments import ModelArguments


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameters; a LoRA model's total includes its adapter weights, as peft counts."""
    trainable = total = 0
    for parameter in model.parameters():
        count = parameter.numel()
        total += count
        if parameter.requires_grad:
            trainable += count
    return trainable, total


def describe_parameters(trainable: int, total: int) -> str:
    """The course lab's wording: for flan-t5-base + LoRA r=32 on q, v: 3,538,944 of 251,116,800 (1.41%)."""
    return (
        f"trainable model parameters: {trainable:,}\n"
        f"all model parameters: {total:,}\n"
        f"percentage of trainable model parameters: {100 * trainable / max(total, 1):.2f}%"
    )


def load_model_for_training(model_args: ModelArguments) -> tuple[Any, Any]:
    """The base model in fp32 on CPU (Accelerate moves it and applies mixed precision) and its tokenizer."""
    overrides = {} if model_args.dropout_rate is None else {"dropout_rate": model_args.dropout_rate}
    loaded = load_model(
        model_args.model_name_or_path, model_args.model_revision, device="cpu", use_cache=False, want="model",
        hint="Train from its base model, or merge it first with training/merge.py.", config_overrides=overrides,
    )
    return loaded.model, loaded.tokenizer


def apply_lora(model: Any, model_args: ModelArguments) -> Any:
    """Wrap `model` in a peft LoRA model; the adapter config names the base as the user did (Hub id or path)."""
    from peft import LoraConfig, TaskType, get_peft_model

    config = LoraConfig(
        task_type=TaskType.SEQ_2_SEQ_LM,
        r=model_args.lora_r,
        lora_alpha=model_args.lora_alpha,
        lora_dropout=model_args.lora_dropout,
        target_modules=list(model_args.lora_target_modules),
        bias="none",
    )
    try:
        peft_model = get_peft_model(model, config)
    except ValueError as err:  # target modules not found in the model
        raise ConfigError(f"LoRA cannot be applied: {err}") from err
    # Otherwise peft records the local snapshot folder the Hub id was downloaded to, and the pushed adapter
    # would name a path on this machine instead of `google/flan-t5-base`.
    peft_model.peft_config["default"].base_model_name_or_path = model_args.model_name_or_path
    return peft_model
