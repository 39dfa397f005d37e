"""The run folder (`output_dir`): one run per folder, checked before any work and prepared by the main process."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmft.errors import OutputDirError
from llmft.files import write_json_atomic
from llmft.training.arguments import OPERATIONAL_KEYS
from llmft.training.checkpoints import list_checkpoints, remove_incomplete_checkpoints

RUN_CONFIG = "run_config.json"


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
