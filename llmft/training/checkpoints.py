"""Checkpoints: atomic saves, finding the newest complete one, resume, and model folders `from_pretrained` reads.

Saving is atomic: a checkpoint is written under `checkpoint-N.tmp`, its marker is written last, and
only then is the folder renamed to `checkpoint-N` (a rename within one file system is atomic). An
interrupted save therefore leaves a `.tmp` folder, which resume ignores and the next save removes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmft.errors import ConfigError, ModelLoadError
from llmft.files import write_json_atomic

TRAINING_STATE = "training_state.json"
COMPLETE_MARKER = "checkpoint_complete.json"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
logger = logging.getLogger(__name__)


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


def retire_newer_checkpoints(output_dir: str | Path, step: int) -> list[Path]:
    """Rename the checkpoints after `step` to `checkpoint-N.abandoned`, so `latest` can no longer pick them.

    Called when a run resumes from an older checkpoint than the newest: the newer ones belong to the
    branch being abandoned. Renamed, not deleted: they remain for inspection, and take no part in resume
    or in `save_total_limit`. Returns the new paths.
    """
    retired = []
    for found, path in list_checkpoints(output_dir):
        if found > step:
            target = path.with_name(path.name + ".abandoned")
            shutil.rmtree(target, ignore_errors=True)  # left by an earlier branch at the same step
            os.replace(path, target)
            retired.append(target)
    if retired:
        logger.warning(
            "Resuming from step %d: renamed the newer checkpoints of the abandoned run (%s) to *.abandoned, "
            "so `latest` never picks them; delete them when you no longer need them.",
            step,
            ", ".join(p.name.removesuffix(".abandoned") for p in retired),
        )
    return retired


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
