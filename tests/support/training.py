"""Helpers for the training-script tests: a tiny project on disk, the scripts as modules, their argv.

The scripts in `training/` are not a package (they run as `accelerate launch training/train.py`), so
tests load them from their files and call `main(argv)` in-process, or run them as child processes.
"""

from __future__ import annotations

import importlib.util
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
TRAINING = REPO_ROOT / "training"
RECIPES = TRAINING / "recipes"
_SCRIPTS: dict[str, ModuleType] = {}


def load_script(name: str, folder: Path = TRAINING) -> ModuleType:
    """`<folder>/<name>.py` (a script in training/ by default) as a module, once per process."""
    key = f"{folder.name}_{name}"
    if key not in _SCRIPTS:
        spec = importlib.util.spec_from_file_location(f"llmft_script_{key}", folder / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        _SCRIPTS[key] = module
    return _SCRIPTS[key]


@dataclass
class TinyProject:
    base: Path  # a tiny T5 whose special-token logits are learnable (LoRA leaves lm_head frozen)
    data: Path  # train / validation / test .jsonl, the same rows in each: memorisation is measured on them
    rows: list[Any]


def make_project(root: Path, rows: int = 16, seed: int = 7) -> TinyProject:
    from llmft.data import write_jsonl
    from llmft.demo.tiny import build_tiny_t5, synthetic_dialogues

    examples = synthetic_dialogues(rows, seed=seed)
    for split in ("train", "validation", "test"):
        write_jsonl(examples, root / "data" / f"{split}.jsonl")
    base = build_tiny_t5(root / "base", synthetic_dialogues(200), quiet_special_tokens=False)
    return TinyProject(base=base, data=root / "data", rows=examples)


def train_argv(project: TinyProject | None, method: str, output_dir: Path, **overrides: Any) -> list[str]:
    """Flags for train.py: the tiny recipe, this project's model and data, then `overrides` (flag=value)."""
    argv = ["--config", str(RECIPES / "tiny" / f"{method}.yaml"), "--output_dir", str(output_dir)]
    if project is not None:
        argv += ["--model_name_or_path", str(project.base), "--dataset_name", str(project.data)]
    for key, value in overrides.items():
        argv += [f"--{key}", *(map(str, value) if isinstance(value, (list, tuple)) else [str(value)])]
    return argv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def one_torch_thread():
    """Tiny models train several times faster on one thread than on two contended ones (measured on 2 cores)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
