"""What the training scripts share: arguments, model set-up, batches, run folders, checkpoints, resume, logs.

Run folder (`output_dir`) layout::

    run_config.json          the resolved recipe; a later run into the same folder must match it
    train_log.csv            step, epoch, split, metric, value, elapsed_s (one row per logged value)
    runs/                    TensorBoard events
    checkpoint-<step>/       Accelerate state + a loadable model/adapter + tokenizer + training_state.json,
                             and `checkpoint_complete.json`, written last
    checkpoint-<step>.tmp/   a save in progress (or one that was interrupted): never resumed from
    config.json, model.safetensors, ... or adapter_config.json, adapter_model.safetensors: the final model
    eval/                    predictions.csv, results.json, rouge.png for the test split

Saving is atomic: a checkpoint is written under `checkpoint-N.tmp`, its marker is written last, and
only then is the folder renamed to `checkpoint-N` (a rename within one file system is atomic). An
interrupted save therefore leaves a `.tmp` folder, which resume ignores and the next save removes.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from llmft.data import DEFAULT_DATASET, DialogueExample
from llmft.errors import ConfigError, HubError, ModelLoadError, OutputDirError
from llmft.models import DEFAULT_BASE_MODEL, read_adapter_config, resolve_source
from llmft.prompts import MAX_SOURCE_TOKENS, zero_shot_prompt

# The course lab's values. Full fine-tuning moves every weight, so it wants a far smaller step.
DEFAULT_LEARNING_RATE = {"full": 1e-5, "lora": 1e-3}
RUN_CONFIG = "run_config.json"
TRAIN_LOG = "train_log.csv"
TRAINING_STATE = "training_state.json"
COMPLETE_MARKER = "checkpoint_complete.json"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "spiece.model",
    "added_tokens.json",
)
FULL_MODEL_FILES = ("config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json")
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


# --- arguments ---------------------------------------------------------------------------------


@dataclass
class ModelArguments:
    model_name_or_path: str = field(
        default=DEFAULT_BASE_MODEL, metadata={"help": "Hub id or local folder of the seq2seq model to fine-tune"}
    )
    model_revision: str | None = field(default=None, metadata={"help": "Hub branch, tag or commit of the model"})
    method: Literal["full", "lora"] = field(
        default="lora", metadata={"help": "full: train every weight; lora: train a low-rank adapter on q and v"}
    )
    lora_r: int = field(default=32, metadata={"help": "LoRA rank"})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling (alpha / r multiplies the update)"})
    lora_dropout: float = field(default=0.05, metadata={"help": "dropout on the LoRA branch"})
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q", "v"], metadata={"help": "modules that get an adapter (T5: q k v o wi_0 wi_1 wo)"}
    )
    dropout_rate: float | None = field(
        default=None, metadata={"help": "override the model's dropout (FLAN-T5 ships 0.1); none keeps it"}
    )

    def __post_init__(self) -> None:
        if self.lora_r <= 0 or self.lora_alpha <= 0:
            raise ConfigError(f"lora_r and lora_alpha must be positive (got {self.lora_r}, {self.lora_alpha}).")
        if not 0 <= self.lora_dropout < 1 or (self.dropout_rate is not None and not 0 <= self.dropout_rate < 1):
            raise ConfigError("Dropout rates must be in [0, 1).")
        if not self.lora_target_modules:
            raise ConfigError("lora_target_modules is empty: name at least one module, like q v.")


@dataclass
class DataArguments:
    dataset_name: str = field(
        default=DEFAULT_DATASET, metadata={"help": "Hub dataset id, local folder, or .jsonl/.json/.csv file"}
    )
    train_split: str = field(default="train", metadata={"help": "split to train on"})
    eval_split: str = field(default="validation", metadata={"help": "split for evaluation during training"})
    test_split: str = field(default="test", metadata={"help": "split scored with ROUGE after training"})
    max_source_length: int = field(default=MAX_SOURCE_TOKENS, metadata={"help": "prompt tokens kept (encoder)"})
    max_target_length: int = field(default=128, metadata={"help": "summary tokens kept (decoder labels)"})
    max_train_samples: int | None = field(default=None, metadata={"help": "use only the first N training rows"})
    max_eval_samples: int | None = field(default=None, metadata={"help": "use only the first N validation rows"})
    max_test_samples: int | None = field(default=None, metadata={"help": "score only the first N test dialogues"})

    def __post_init__(self) -> None:
        if self.max_source_length < 8 or self.max_target_length < 2:
            raise ConfigError("max_source_length must be at least 8 and max_target_length at least 2.")


@dataclass
class TrainArguments:
    output_dir: str | None = field(default=None, metadata={"help": "run folder: checkpoints, logs, final model"})
    overwrite_output_dir: bool = field(
        default=False,
        metadata={"help": "empty output_dir first if it holds another run", "aliases": ("--overwrite",)},
    )
    resume_from_checkpoint: str | None = field(
        default=None, metadata={"help": "'latest' (the newest complete checkpoint in output_dir) or a folder"}
    )
    seed: int = field(default=42, metadata={"help": "seed for weights, dropout and data order"})
    learning_rate: float | None = field(default=None, metadata={"help": "peak learning rate (full 1e-5, lora 1e-3)"})
    lr_scheduler_type: Literal["linear", "cosine", "constant", "constant_with_warmup"] = field(
        default="linear", metadata={"help": "learning-rate schedule after warm-up"}
    )
    warmup_ratio: float = field(default=0.0, metadata={"help": "share of the steps spent warming up"})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay"})
    num_train_epochs: int = field(default=1, metadata={"help": "passes over the training split"})
    max_steps: int = field(default=-1, metadata={"help": "optimizer steps; > 0 overrides num_train_epochs"})
    per_device_train_batch_size: int = field(default=8, metadata={"help": "rows per device per micro-batch"})
    per_device_eval_batch_size: int = field(default=16, metadata={"help": "rows per device when evaluating"})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "micro-batches per optimizer step"})
    max_grad_norm: float = field(default=1.0, metadata={"help": "gradient clipping; 0 turns it off"})
    gradient_checkpointing: bool = field(default=False, metadata={"help": "recompute activations to save memory"})
    logging_steps: int = field(default=10, metadata={"help": "log the training loss every N steps"})
    eval_steps: int = field(default=500, metadata={"help": "evaluate on eval_split every N steps; 0: never"})
    eval_generate_samples: int = field(
        default=50, metadata={"help": "validation rows also generated and scored with ROUGE at each evaluation"}
    )
    save_steps: int = field(default=500, metadata={"help": "write a checkpoint every N steps; 0: never"})
    save_total_limit: int | None = field(default=2, metadata={"help": "keep only the newest N checkpoints"})
    generation_max_new_tokens: int = field(default=128, metadata={"help": "summary length limit when evaluating"})
    generation_num_beams: int = field(default=1, metadata={"help": "beams when evaluating (1: greedy, as the lab)"})
    do_test_eval: bool = field(
        default=True, metadata={"help": "score the test split with ROUGE after training (the model card needs it)"}
    )
    report_to: Literal["tensorboard", "none"] = field(default="tensorboard", metadata={"help": "experiment tracker"})
    push_to_hub: bool = field(default=False, metadata={"help": "push the model (or adapter) and its card when done"})
    hub_model_id: str | None = field(default=None, metadata={"help": "repository to push to, like you/name"})
    hub_private: bool = field(default=False, metadata={"help": "create the Hub repository as private"})

    def __post_init__(self) -> None:
        positive = {
            "per_device_train_batch_size": self.per_device_train_batch_size,
            "per_device_eval_batch_size": self.per_device_eval_batch_size,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            "num_train_epochs": self.num_train_epochs,
            "logging_steps": self.logging_steps,
        }
        for name, value in positive.items():
            if value < 1:
                raise ConfigError(f"{name} must be at least 1, not {value}.")
        if self.learning_rate is not None and self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be positive, not {self.learning_rate}.")
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigError(f"warmup_ratio must be in [0, 1), not {self.warmup_ratio}.")
        if min(self.eval_steps, self.save_steps, self.eval_generate_samples) < 0:
            raise ConfigError("eval_steps, save_steps and eval_generate_samples must be 0 or more.")
        if self.save_total_limit is not None and self.save_total_limit < 1:
            raise ConfigError("save_total_limit must be at least 1 (or none to keep every checkpoint).")


# Settings that change how a run is watched, saved or published, not what it learns: they may differ
# when a run is resumed. max_steps / num_train_epochs are here so a run can be extended.
OPERATIONAL_KEYS = frozenset(
    {
        "output_dir",
        "overwrite_output_dir",
        "resume_from_checkpoint",
        "max_steps",
        "num_train_epochs",
        "logging_steps",
        "eval_steps",
        "eval_generate_samples",
        "save_steps",
        "save_total_limit",
        "generation_max_new_tokens",
        "generation_num_beams",
        "do_test_eval",
        "report_to",
        "push_to_hub",
        "hub_model_id",
        "hub_private",
        "per_device_eval_batch_size",
        "max_eval_samples",
        "max_test_samples",
        "test_split",
        "eval_split",
    }
)


def resolve_defaults(model_args: ModelArguments, train_args: TrainArguments) -> None:
    """Fill settings whose default depends on others; fail early on settings that cannot work together."""
    if train_args.learning_rate is None:
        train_args.learning_rate = DEFAULT_LEARNING_RATE[model_args.method]
    if not train_args.output_dir:
        raise ConfigError("Set output_dir (in the recipe or with --output_dir): the run needs a folder.")
    check_push_settings(train_args)


def check_push_settings(train_args: TrainArguments) -> None:
    """Before any training: pushing needs a repository name and a token, and learning that later wastes a run."""
    if not train_args.push_to_hub:
        return
    if not train_args.hub_model_id:
        raise ConfigError("--push_to_hub needs --hub_model_id, like your-name/flan-t5-base-dialogsum-lora.")
    from huggingface_hub import get_token

    if not get_token():  # HF_TOKEN, or the token `hf auth login` saved
        raise HubError(
            f"Pushing to '{train_args.hub_model_id}' needs a Hub token with write access: "
            "set HF_TOKEN or run `hf auth login` before training (or drop --push_to_hub)."
        )


# --- model ---------------------------------------------------------------------------------------


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


# --- data --------------------------------------------------------------------------------------


def tokenize_examples(
    tokenizer: Any, examples: Sequence[DialogueExample], max_source_length: int, max_target_length: int
) -> list[dict[str, list[int]]]:
    """Prompt -> input ids, first reference summary -> labels; the prompt is exactly the apps' zero-shot prompt."""
    if not examples:
        return []
    prompts = [zero_shot_prompt(example.dialogue) for example in examples]
    sources = tokenizer(prompts, max_length=max_source_length, truncation=True)
    targets = tokenizer(
        text_target=[example.summary for example in examples], max_length=max_target_length, truncation=True
    )
    return [
        {"input_ids": ids, "attention_mask": mask, "labels": labels}
        for ids, mask, labels in zip(sources["input_ids"], sources["attention_mask"], targets["input_ids"], strict=True)
    ]


class Seq2SeqCollator:
    """Pads a micro-batch to its longest row: inputs with <pad>, labels with -100 (ignored by the loss)."""

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, rows: Sequence[Mapping[str, list[int]]]) -> dict[str, Any]:
        import torch

        def pad(key: str, value: int) -> Any:
            width = max(len(row[key]) for row in rows)
            return torch.tensor([list(row[key]) + [value] * (width - len(row[key])) for row in rows])

        return {
            "input_ids": pad("input_ids", self.pad_token_id),
            "attention_mask": pad("attention_mask", 0),
            "labels": pad("labels", -100),
        }


def build_dataloaders(
    tokenizer: Any,
    train_rows: Sequence[DialogueExample],
    eval_rows: Sequence[DialogueExample],
    data_args: DataArguments,
    args: TrainArguments,
) -> tuple[Any, Any]:
    """Shuffled training batches and in-order validation batches, padded per batch (not yet prepared).

    Each loader has a generator of its own. A loader without one draws a number from the global RNG each
    time an iteration starts; a resumed run starts one where the stopped run did not (mid-epoch), which
    would shift every later dropout mask, and the resume would not be exact.
    """
    import torch
    from torch.utils.data import DataLoader

    lengths = (data_args.max_source_length, data_args.max_target_length)
    collate = Seq2SeqCollator(tokenizer.pad_token_id)
    train = DataLoader(
        tokenize_examples(tokenizer, train_rows, *lengths),
        shuffle=True,
        collate_fn=collate,
        batch_size=args.per_device_train_batch_size,
        generator=torch.Generator().manual_seed(args.seed),
    )
    evaluation = DataLoader(
        tokenize_examples(tokenizer, eval_rows, *lengths),
        collate_fn=collate,
        batch_size=args.per_device_eval_batch_size,
        generator=torch.Generator().manual_seed(args.seed),
    )
    return train, evaluation


def validation_metrics(
    accelerator: Any,
    model: Any,
    tokenizer: Any,
    eval_loader: Any,
    eval_rows: Sequence[DialogueExample],
    args: TrainArguments,
    data_args: DataArguments,
) -> dict[str, float]:
    """Validation loss (token-weighted, over all processes) and ROUGE on the first rows (main process only).

    Every process must call it. ROUGE uses `llmft.evaluation.evaluate_model`, the apps' generate + ROUGE.
    """
    import torch
    import torch.nn.functional as F

    from llmft.evaluation import evaluate_model
    from llmft.models import GenerationSettings, LoadedModel

    model.eval()
    loss_sum = torch.zeros((), device=accelerator.device)
    token_count = torch.zeros((), device=accelerator.device)
    for batch in eval_loader:
        with torch.no_grad():
            logits = model(**batch).logits.float()
        token_losses = F.cross_entropy(logits.transpose(1, 2), batch["labels"], reduction="none")  # 0 at -100
        # Per row, so gather_for_metrics can drop the rows repeated to even out the last batch across processes.
        row_losses, row_tokens = accelerator.gather_for_metrics(
            (token_losses.sum(dim=1), (batch["labels"] != -100).sum(dim=1))
        )
        loss_sum += row_losses.sum()
        token_count += row_tokens.sum()
    metrics = {"eval/loss": (loss_sum / token_count.clamp(min=1)).item()}
    if args.eval_generate_samples and eval_rows and accelerator.is_main_process:
        unwrapped = accelerator.unwrap_model(model)
        loaded = LoadedModel(unwrapped, tokenizer, "training", "model", None, str(accelerator.device))
        settings = GenerationSettings(
            max_new_tokens=args.generation_max_new_tokens, num_beams=args.generation_num_beams
        )
        scored = evaluate_model(
            loaded,
            eval_rows[: args.eval_generate_samples],
            settings=settings,
            batch_size=args.per_device_eval_batch_size,
            max_input_tokens=data_args.max_source_length,
        )
        metrics.update({f"eval/{name}": value for name, value in scored.single.mean.items()})
    accelerator.wait_for_everyone()
    model.train()
    return metrics


# --- run folders ---------------------------------------------------------------------------------


def _identity(run_config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run_config.items() if k not in OPERATIONAL_KEYS}


def _is_dangerous_to_empty(folder: Path) -> bool:
    folder = folder.resolve()
    protected = {Path.home().resolve(), Path("/").resolve(), Path.cwd().resolve()}
    return folder in protected or folder in Path.cwd().resolve().parents


def check_output_dir(
    output_dir: str | Path,
    run_config: Mapping[str, Any],
    overwrite: bool,
    resume: str | None,
    resumable: bool = True,
) -> None:
    """Refuse to mix two runs in one folder. Read-only, so every process can call it.

    - empty or missing: fine;
    - the same run (same recipe apart from `OPERATIONAL_KEYS`) and resuming: fine;
    - anything else: an `OutputDirError` saying what is there, unless `overwrite`.
    """
    folder = Path(output_dir)
    if not folder.exists():
        return
    if not folder.is_dir():
        raise OutputDirError(f"output_dir '{folder}' is a file, not a folder.")
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if not entries:
        return
    if overwrite:
        if _is_dangerous_to_empty(folder):
            raise OutputDirError(f"Refusing to empty '{folder}' (your home, the root or the current folder).")
        return
    config_file = folder / RUN_CONFIG
    if not config_file.is_file():
        raise OutputDirError(
            f"output_dir '{folder}' already holds files that are not from a training run "
            f"({', '.join(sorted(p.name for p in entries)[:5])}). Choose another folder, or pass "
            "--overwrite_output_dir to empty it."
        )
    previous = json.loads(config_file.read_text(encoding="utf-8"))
    changed = {
        key: (previous.get(key), run_config.get(key))
        for key in sorted(set(_identity(previous)) | set(_identity(run_config)))
        if previous.get(key) != run_config.get(key)
    }
    if changed:
        details = "; ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in changed.items())
        raise OutputDirError(
            f"output_dir '{folder}' holds a different run ({details}). Choose another folder, or pass "
            "--overwrite_output_dir to delete it and start again."
        )
    if not resume:
        steps = [step for step, _ in list_checkpoints(folder)]
        what = f"checkpoints up to step {steps[-1]}" if steps else "a finished or started run"
        how = "Pass --resume_from_checkpoint latest to continue it, or" if resumable else "Pass"
        raise OutputDirError(
            f"output_dir '{folder}' already holds {what} of this recipe. {how} --overwrite_output_dir to start again."
        )


def prepare_output_dir(output_dir: str | Path, run_config: Mapping[str, Any], overwrite: bool) -> Path:
    """Main process only, after `check_output_dir`: empty it if asked, drop unfinished saves, record the recipe."""
    folder = Path(output_dir)
    if overwrite and folder.is_dir():
        for entry in folder.iterdir():
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    remove_incomplete_checkpoints(folder)
    write_json_atomic(folder / RUN_CONFIG, dict(run_config))
    return folder


def write_json_atomic(path: str | Path, payload: Any) -> None:
    """Write JSON to a temporary file, flush it to disk, then rename it over `path`."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, default=str)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


# --- checkpoints ---------------------------------------------------------------------------------


def checkpoint_is_complete(folder: str | Path) -> bool:
    """A checkpoint counts only with its marker, and with every file the marker lists at its recorded size."""
    folder = Path(folder)
    try:
        marker = json.loads((folder / COMPLETE_MARKER).read_text(encoding="utf-8"))
        files = marker["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    for name, size in files.items():
        path = folder / name
        if not path.exists() or (size is not None and path.is_file() and path.stat().st_size != size):
            return False
    return True


def list_checkpoints(output_dir: str | Path) -> list[tuple[int, Path]]:
    """Complete checkpoints in `output_dir`, oldest first."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return []
    found = [
        (int(m.group(1)), path)
        for path in folder.iterdir()
        if path.is_dir() and (m := _CHECKPOINT.match(path.name)) and checkpoint_is_complete(path)
    ]
    return sorted(found)


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    checkpoints = list_checkpoints(output_dir)
    return checkpoints[-1][1] if checkpoints else None


def resolve_resume(output_dir: str | Path, resume: str | None) -> Path | None:
    """`latest` -> the newest complete checkpoint (None when there is none yet: start fresh); a path -> itself."""
    if not resume:
        return None
    if resume == "latest":
        return latest_checkpoint(output_dir)
    path = Path(resume)
    if not checkpoint_is_complete(path):
        raise ConfigError(
            f"resume_from_checkpoint '{resume}' is not a complete checkpoint folder (no {COMPLETE_MARKER}); "
            "use 'latest' to pick the newest complete one."
        )
    return path


def remove_incomplete_checkpoints(output_dir: Path) -> None:
    for path in output_dir.glob("checkpoint-*.tmp"):
        shutil.rmtree(path, ignore_errors=True)


def _fsync_folder(folder: Path) -> None:
    """Flush the folder's files and its entry list, so a crash after the rename cannot lose their contents."""
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_folder_entries(folder)


def _fsync_folder_entries(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def save_checkpoint(
    accelerator: Any, output_dir: str | Path, step: int, state: Mapping[str, Any], keep: int | None = None
) -> Path:
    """Save model/optimizer/scheduler/RNG state for `step` atomically. Every process must call it."""
    output_dir = Path(output_dir)
    final = output_dir / f"checkpoint-{step}"
    tmp = output_dir / f"checkpoint-{step}.tmp"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))  # every process writes its RNG state; the hooks write the model
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        write_json_atomic(tmp / TRAINING_STATE, dict(state))
        _fsync_folder(tmp)
        files = {p.name: (p.stat().st_size if p.is_file() else None) for p in sorted(tmp.iterdir())}
        write_json_atomic(tmp / COMPLETE_MARKER, {"step": step, "files": files, "saved_at": time.time()})
        if final.exists():  # left by an earlier attempt that went past this step, then was resumed from before it
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync_folder_entries(output_dir)
        if keep:
            for _, old in list_checkpoints(output_dir)[:-keep]:
                shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def read_training_state(checkpoint: str | Path) -> dict[str, Any]:
    return json.loads((Path(checkpoint) / TRAINING_STATE).read_text(encoding="utf-8"))


def register_checkpoint_hooks(accelerator: Any, tokenizer: Any) -> None:
    """Make every checkpoint a loadable model folder and keep LoRA checkpoints small.

    Accelerate would save the whole state dict under its own names (`module.` prefixes under DDP, and
    the frozen base weights of a LoRA model). Instead the main process saves the model the way
    `from_pretrained` reads it (the adapter alone for LoRA) plus the tokenizer, and loading reads it back.
    """

    def save_hook(models: list[Any], weights: list[Any], output_dir: str) -> None:
        if accelerator.is_main_process:
            for model in models:
                save_model_files(accelerator.unwrap_model(model), output_dir)
            tokenizer.save_pretrained(output_dir)
        weights.clear()  # accelerate must not write its own copy as well

    def load_hook(models: list[Any], input_dir: str) -> None:
        for model in models:
            load_weights(accelerator.unwrap_model(model), Path(input_dir))
        models.clear()  # loaded above; accelerate must not try its own file names

    accelerator.register_save_state_pre_hook(save_hook)
    accelerator.register_load_state_pre_hook(load_hook)


def load_weights(model: Any, folder: Path) -> None:
    """Load weights saved by `save_pretrained` into an existing (prepared) model, in place."""
    from peft import PeftModel

    if isinstance(model, PeftModel):
        from peft.utils import load_peft_weights, set_peft_model_state_dict

        result = set_peft_model_state_dict(model, load_peft_weights(str(folder), device="cpu"))
        if result.unexpected_keys:
            raise ModelLoadError(
                f"Checkpoint '{folder}' holds adapter weights this model lacks: {result.unexpected_keys[:3]}"
            )
        return
    import torch

    dtype = next(model.parameters()).dtype
    saved = type(model).from_pretrained(folder, dtype=dtype if dtype.is_floating_point else torch.float32)
    model.load_state_dict(saved.state_dict(), strict=True)


def save_model_files(model: Any, folder: str | Path, state_dict: dict[str, Any] | None = None) -> None:
    """`save_pretrained` in safetensors: a full model's weights and config, or a peft model's adapter alone."""
    from peft import PeftModel

    if isinstance(model, PeftModel):
        # save_embedding_layers=False: LoRA here never trains embeddings, and peft's "auto" check would look
        # the base model up on the Hub (a network call on every save; a warning offline).
        model.save_pretrained(folder, safe_serialization=True, save_embedding_layers=False)
        (Path(folder) / "README.md").unlink(missing_ok=True)  # peft's placeholder card; ours comes at push time
    else:
        model.save_pretrained(folder, state_dict=state_dict, safe_serialization=True)


def save_final_model(accelerator: Any, model: Any, tokenizer: Any, output_dir: str | Path) -> None:
    """Save the trained model (or only the adapter) and tokenizer into output_dir. Every process must call it."""
    from peft import PeftModel

    output_dir = Path(output_dir)
    unwrapped = accelerator.unwrap_model(model)
    # All processes: under DeepSpeed ZeRO-3 this gathers the shards.
    state_dict = None if isinstance(unwrapped, PeftModel) else accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        tmp = output_dir / ".final.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        save_model_files(unwrapped, tmp, state_dict)
        tokenizer.save_pretrained(tmp)
        for path in tmp.iterdir():
            os.replace(path, output_dir / path.name)  # each file appears whole
        tmp.rmdir()
    accelerator.wait_for_everyone()


# --- logging -------------------------------------------------------------------------------------


class MetricsLogger:
    """Metrics to the tracker (TensorBoard) and to `train_log.csv`, one row per value; main process writes.

    On resume, rows logged after the checkpoint (by the run that was stopped) are dropped first, so the
    CSV reads as one uninterrupted run.
    """

    FIELDS = ("step", "epoch", "split", "metric", "value", "elapsed_s")

    def __init__(self, accelerator: Any, output_dir: str | Path, resume_step: int | None = None):
        self.accelerator = accelerator
        self.path = Path(output_dir) / TRAIN_LOG
        self.started = time.monotonic()
        self._handle = None
        if not accelerator.is_main_process:
            return
        kept: list[dict[str, str]] = []
        if resume_step is not None and self.path.is_file():
            with self.path.open(encoding="utf-8", newline="") as handle:
                kept = [row for row in csv.DictReader(handle) if int(row["step"]) <= resume_step]
            if kept:
                self.started -= float(kept[-1]["elapsed_s"])
        self._handle = self.path.open("w", encoding="utf-8", newline="")
        self._writer = csv.DictWriter(self._handle, fieldnames=self.FIELDS)
        self._writer.writeheader()
        self._writer.writerows(kept)
        self._handle.flush()

    def log(self, metrics: Mapping[str, float], step: int, epoch: float) -> None:
        """`metrics` keys are `split/metric`, like `train/loss` or `eval/rouge1`."""
        self.accelerator.log(dict(metrics), step=step)
        if self._handle is None:
            return
        elapsed = round(time.monotonic() - self.started, 3)
        for key, value in metrics.items():
            split, _, metric = key.partition("/")
            self._writer.writerow(
                {
                    "step": step,
                    "epoch": round(epoch, 4),
                    "split": split,
                    "metric": metric,
                    "value": f"{float(value):.6g}",
                    "elapsed_s": elapsed,
                }
            )
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def read_train_log(output_dir: str | Path) -> list[dict[str, Any]]:
    """The CSV log as dicts with numbers parsed (for tests and notebooks)."""
    with (Path(output_dir) / TRAIN_LOG).open(encoding="utf-8", newline="") as handle:
        return [
            {
                **row,
                "step": int(row["step"]),
                "epoch": float(row["epoch"]),
                "value": float(row["value"]),
                "elapsed_s": float(row["elapsed_s"]),
            }
            for row in csv.DictReader(handle)
        ]


# --- publishing ----------------------------------------------------------------------------------


def publishable_files(folder: str | Path) -> list[Path]:
    """What goes to the Hub from a model folder: the adapter (LoRA) or the full weights, and the tokenizer.

    Only named files, so logs, checkpoints and evaluation outputs never ride along, and an adapter repo
    never carries base weights.
    """
    folder = Path(folder)
    names: Iterable[str] = ADAPTER_FILES if (folder / "adapter_config.json").is_file() else FULL_MODEL_FILES
    files = [folder / name for name in names if (folder / name).is_file()]
    if not (folder / "adapter_config.json").is_file():
        files += sorted(folder.glob("model-*-of-*.safetensors"))  # shards of a large model
    if not any(f.suffix == ".safetensors" for f in files):
        raise ModelLoadError(f"'{folder}' holds no model or adapter weights to push.")
    return files + [folder / name for name in TOKENIZER_FILES if (folder / name).is_file()]


def stage_for_push(folder: str | Path, staging: str | Path) -> Path:
    """Hard-link (or copy) the publishable files into `staging`, an empty folder to push from."""
    staging = Path(staging)
    staging.mkdir(parents=True, exist_ok=True)
    for path in publishable_files(folder):
        target = staging / path.name
        try:
            os.link(path, target)
        except OSError:  # another file system, or links not allowed
            shutil.copy2(path, target)
    return staging


def rouge_for_card(results: Mapping[str, Any], model_name: str) -> dict[str, float]:
    """Model-index metrics from an evaluation's results.json: single-reference ROUGE, and multi-reference."""
    entry = results["models"][model_name]
    metrics = dict(entry["rouge"])
    for key, value in (entry.get("rouge_multi_ref") or {}).items():
        metrics[f"{key}_multi_ref"] = value
    return metrics


def dataset_label(dataset: str) -> str:
    """A dataset name for a model card: the Hub id, or a local folder's name (never a path on this machine)."""
    path = Path(dataset).expanduser()
    return path.name if path.exists() or dataset.startswith((".", "/", "~")) else dataset


def push_run(
    folder: str | Path, repo_id: str, card: str, private: bool = False, commit_message: str = "Upload with llmft"
):
    """Push a trained model folder's publishable files and its card; the card is also kept in the folder."""
    from llmft.hub import push_folder

    folder = Path(folder)
    (folder / "README.md").write_text(card, encoding="utf-8")
    staging = stage_for_push(folder, folder / ".push")  # a dot folder: run-folder checks ignore it
    try:
        return push_folder(staging, repo_id, private=private, model_card=card, commit_message=commit_message)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
