"""The model to train: the base loaded in fp32, LoRA applied, parameters counted as the course lab does."""

from __future__ import annotations

from typing import Any

from llmft.errors import ConfigError, ModelLoadError
from llmft.models import read_adapter_config, resolve_source
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
    import torch
    from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoTokenizer

    source = model_args.model_name_or_path
    folder = resolve_source(source, model_args.model_revision)  # raises ModelLoadError with the reason
    if read_adapter_config(folder) is not None:
        raise ConfigError(
            f"'{source}' is a LoRA adapter. Train from its base model, or merge it first with training/merge.py."
        )
    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"Model '{source}' has no config.json: it is not a transformers model folder.")
    try:
        config = AutoConfig.from_pretrained(folder)
        if not getattr(config, "is_encoder_decoder", False):
            raise ModelLoadError(f"Model '{source}' is a {config.model_type} model, not an encoder-decoder like T5.")
        if model_args.dropout_rate is not None:
            config.dropout_rate = model_args.dropout_rate
        model = AutoModelForSeq2SeqLM.from_pretrained(folder, config=config, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    except ModelLoadError:
        raise
    except (OSError, ValueError, KeyError) as err:
        raise ModelLoadError(f"Could not load model '{source}': {err}") from err
    return model, tokenizer


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
