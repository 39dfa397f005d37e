"""Fine-tuning seq2seq models with Accelerate, fully or with LoRA; one concern per module.

- `arguments`: the settings a recipe and flags fill (`ModelArguments`, `DataArguments`, `TrainArguments`, which
  holds `EvalArguments` and `PushArguments`, the flags merge.py shares);
- `model_setup`: the base model loaded for training, LoRA, parameter counts;
- `batches`: dialogues -> token ids (through `llmft.prompts.fit_prompt`, as the apps) -> padded batches;
- `run_dir`: one run per `output_dir`, checked before any work;
- `checkpoints`: atomic saves, `latest`, resume, loadable model folders;
- `logs`: `train_log.csv`, the tracker, per-process log levels;
- `validation`: loss and ROUGE during training;
- `loop`: optimizer, schedule and steps; `run`: the stages of `training/train.py` (`python -m llmft.training`);
- `publishing`: the end train.py and merge.py share: score the saved model on the test split, then publish it.

Run folder (`output_dir`) layout::

    run_config.json          the resolved recipe; a later run into the same folder must match it
    train_log.csv            step, epoch, split, metric, value, elapsed_s (one row per logged value)
    runs/                    TensorBoard events
    checkpoint-<step>/       Accelerate state + a loadable model/adapter + tokenizer + training_state.json,
                             and `checkpoint_complete.json`, written last
    checkpoint-<step>.tmp/   a save in progress (or one that was interrupted): never resumed from
    config.json, model.safetensors, ... or adapter_config.json, adapter_model.safetensors: the final model
    eval/                    predictions.csv, results.json, rouge.png for the test split

The loop and `run` import Accelerate at module level, so they are not imported here.
"""

from llmft.training.arguments import (
    DEFAULT_LEARNING_RATE,
    OPERATIONAL_KEYS,
    DataArguments,
    EvalArguments,
    ModelArguments,
    PushArguments,
    TrainArguments,
    check_push_settings,
    resolve_defaults,
)
from llmft.training.batches import Seq2SeqCollator, build_dataloaders, tokenize_examples
from llmft.training.checkpoints import (
    COMPLETE_MARKER,
    TRAINING_STATE,
    checkpoint_is_complete,
    latest_checkpoint,
    list_checkpoints,
    read_training_state,
    resolve_resume,
    save_checkpoint,
    save_final_model,
    save_model_files,
)
from llmft.training.logs import TRAIN_LOG, MetricsLogger, read_train_log, setup_logging
from llmft.training.model_setup import apply_lora, count_parameters, describe_parameters, load_model_for_training
from llmft.training.run_dir import RUN_CONFIG, check_output_dir, prepare_output_dir

__all__ = [
    "COMPLETE_MARKER",
    "DEFAULT_LEARNING_RATE",
    "OPERATIONAL_KEYS",
    "RUN_CONFIG",
    "TRAINING_STATE",
    "TRAIN_LOG",
    "DataArguments",
    "EvalArguments",
    "MetricsLogger",
    "ModelArguments",
    "PushArguments",
    "Seq2SeqCollator",
    "TrainArguments",
    "apply_lora",
    "build_dataloaders",
    "check_output_dir",
    "check_push_settings",
    "checkpoint_is_complete",
    "count_parameters",
    "describe_parameters",
    "latest_checkpoint",
    "list_checkpoints",
    "load_model_for_training",
    "prepare_output_dir",
    "read_train_log",
    "read_training_state",
    "resolve_defaults",
    "resolve_resume",
    "save_checkpoint",
    "save_final_model",
    "save_model_files",
    "setup_logging",
    "tokenize_examples",
]
