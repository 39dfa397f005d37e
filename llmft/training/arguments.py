"""Training settings: the dataclasses a recipe and flags fill, and the checks that run before any work.

`EvalArguments` (how a finished model is scored on the test split) and `PushArguments` (where it is published)
are shared: `TrainArguments` holds both, and `training/merge.py` parses them next to its own `MergeArguments`,
so the two scripts take the same flags for the same things.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from llmft.data import DEFAULT_DATASET
from llmft.errors import ConfigError, HubError
from llmft.models import DEFAULT_BASE_MODEL, GenerationSettings
from llmft.prompts import MAX_SOURCE_TOKENS

# The course lab's values. Full fine-tuning moves every weight, so it wants a far smaller step.
DEFAULT_LEARNING_RATE = {"full": 1e-5, "lora": 1e-3}


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
    max_source_length: int = field(default=MAX_SOURCE_TOKENS, metadata={"help": "prompt tokens kept (encoder)"})
    max_target_length: int = field(default=128, metadata={"help": "summary tokens kept (decoder labels)"})
    max_train_samples: int | None = field(default=None, metadata={"help": "use only the first N training rows"})
    max_eval_samples: int | None = field(default=None, metadata={"help": "use only the first N validation rows"})

    def __post_init__(self) -> None:
        if self.max_source_length < 8 or self.max_target_length < 2:
            raise ConfigError("max_source_length must be at least 8 and max_target_length at least 2.")


@dataclass
class EvalArguments:
    """How a finished model is scored on the test split (train.py after training, merge.py with --evaluate):
    the model card's scores come from this. Training's validation generates with the same settings."""

    test_split: str = field(default="test", metadata={"help": "split scored with ROUGE once the model is saved"})
    max_test_samples: int | None = field(default=None, metadata={"help": "score only the first N test dialogues"})
    per_device_eval_batch_size: int = field(default=16, metadata={"help": "rows per device when evaluating"})
    generation_max_new_tokens: int = field(default=128, metadata={"help": "summary length limit when evaluating"})
    generation_num_beams: int = field(default=1, metadata={"help": "beams when evaluating (1: greedy, as the lab)"})

    def __post_init__(self) -> None:
        if self.per_device_eval_batch_size < 1:
            raise ConfigError(f"per_device_eval_batch_size must be at least 1, not {self.per_device_eval_batch_size}.")

    def generation_settings(self) -> GenerationSettings:
        return GenerationSettings(max_new_tokens=self.generation_max_new_tokens, num_beams=self.generation_num_beams)


@dataclass
class PushArguments:
    """Publishing the saved model to the Hub with a card of what was measured (train.py and merge.py)."""

    push_to_hub: bool = field(default=False, metadata={"help": "push the model (or adapter) and its card when done"})
    hub_model_id: str | None = field(default=None, metadata={"help": "repository to push to, like you/name"})
    hub_private: bool = field(default=False, metadata={"help": "create the Hub repository as private"})
    hub_base_model_id: str | None = field(
        default=None,
        metadata={"help": "the base model's Hub id, for the card and the pushed adapter, when its base is a folder"},
    )


@dataclass
class TrainArguments(EvalArguments, PushArguments):
    """The run's own settings, with the shared evaluation and push settings (one flag each, as in merge.py)."""

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
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "micro-batches per optimizer step"})
    max_grad_norm: float = field(default=1.0, metadata={"help": "gradient clipping; 0 turns it off"})
    gradient_checkpointing: bool = field(default=False, metadata={"help": "recompute activations to save memory"})
    group_by_length: bool = field(
        default=False, metadata={"help": "batch rows of similar length together: less padding (the real recipes)"}
    )
    torch_compile: bool = field(
        default=False, metadata={"help": "compile the model's forward with torch.compile (same losses, faster steps)"}
    )
    torch_compile_backend: str = field(
        default="inductor", metadata={"help": "torch.compile backend (inductor; aot_eager for a quick check)"}
    )
    logging_steps: int = field(default=10, metadata={"help": "log the training loss every N steps"})
    eval_steps: int = field(default=500, metadata={"help": "evaluate on eval_split every N steps; 0: never"})
    eval_generate_samples: int = field(
        default=50, metadata={"help": "validation rows also generated and scored with ROUGE at each evaluation"}
    )
    save_steps: int = field(default=500, metadata={"help": "write a checkpoint every N steps; 0: never"})
    save_total_limit: int | None = field(default=2, metadata={"help": "keep only the newest N checkpoints"})
    do_test_eval: bool = field(
        default=True, metadata={"help": "score the test split with ROUGE after training (the model card needs it)"}
    )
    report_to: Literal["tensorboard", "none"] = field(default="tensorboard", metadata={"help": "experiment tracker"})

    def __post_init__(self) -> None:
        super().__post_init__()
        positive = {
            "per_device_train_batch_size": self.per_device_train_batch_size,
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
# when a run is resumed. max_steps / num_train_epochs are here because what matters is the run's total
# steps, which `llmft.training.loop.check_resume_schedule` compares with the checkpoint's (a changed total
# would change the learning-rate schedule mid-run: refused, except with the constant schedule).
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
        "hub_base_model_id",
        "torch_compile",
        "torch_compile_backend",
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
    if train_args.push_to_hub:
        check_base_model_id(model_args.model_name_or_path, train_args.hub_base_model_id, model_args.method)


def check_push_settings(push: PushArguments) -> None:
    """Before any work: pushing needs a repository name and a token, and learning that later wastes a run."""
    if not push.push_to_hub:
        return
    if not push.hub_model_id:
        raise ConfigError("--push_to_hub needs --hub_model_id, like your-name/flan-t5-base-dialogsum-lora.")
    from huggingface_hub import get_token

    if not get_token():  # HF_TOKEN, or the token `hf auth login` saved
        raise HubError(
            f"Pushing to '{push.hub_model_id}' needs a Hub token with write access: "
            "set HF_TOKEN or run `hf auth login` before training (or drop --push_to_hub)."
        )


def check_base_model_id(base: str, hub_base_model_id: str | None, method: str) -> str | None:
    """The base model's Hub id for publishing: `hub_base_model_id`, or `base` when it is one.

    A base loaded from a folder has no Hub id unless one is given. A full model's card then leaves
    `base_model` out; an adapter cannot be published that way (its config would name a folder on this
    machine, and nobody could load it), so that is refused before any training.
    """
    from llmft.hub.cards import as_hub_id

    if hub_base_model_id is not None:
        if as_hub_id(hub_base_model_id) is None:
            raise ConfigError(
                f"hub_base_model_id must be a Hub id like google/flan-t5-base, not '{hub_base_model_id}'."
            )
        return hub_base_model_id
    hub_id = as_hub_id(base)
    if hub_id is None and method == "lora":
        raise ConfigError(
            f"The base model '{base}' is a local folder: a pushed adapter must name its base by Hub id. "
            "Pass --hub_base_model_id (like google/flan-t5-base) with the id that folder holds."
        )
    return hub_id
