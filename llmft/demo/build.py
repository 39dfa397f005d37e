"""Build the embedded local default (`python -m llmft.demo build DIR`): the tiny T5, its data and its training.

`write_demo_project` writes the untrained model (English tokenizer, `llmft.demo.tokenizer`) and the demo
dialogues (`llmft.demo.dialogues`); `build_demo` fine-tunes it fully and with LoRA through the real training code
(`python -m llmft.training`, the package's tiny recipes `llmft/demo/recipes/*.yaml` with the demo's lengths and
steps) and returns the settings that point the apps at the result. A build that finished is reused. Each model
folder it builds holds `llmft_demo.json` ({"demo": true, ...}): the apps read it to say the model is the demo one.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from llmft.apps.demo_note import DEMO_MARKER
from llmft.errors import LlmftError
from llmft.files import write_json_atomic
from llmft.models import DEFAULT_BASE_MODEL

logger = logging.getLogger("llmft.demo")  # not __main__ under `python -m`

RECIPES = Path(__file__).resolve().parent / "recipes"  # package data: shipped inside the wheel too
DONE_MARKER = ".demo-complete"
# Written into DONE_MARKER: a build by an older version of this module (another tokenizer, other dialogues) is
# rebuilt, not reused.
BUILD_VERSION = "3: English tokenizer, demo_dialogues, LoRA on every projection"
DEMO_WHAT = "tiny T5 trained on synthetic dialogues by llmft.demo"
SPLIT_ROWS = {"train": 360, "validation": 24, "test": 24}  # the scenarios in turn: 30 of each in train
MODEL_SHAPE = {"d_model": 64, "num_layers": 2}
# Flags over the tiny recipes: the demo's prompts and summaries are longer than the tests' rows, and more rows
# take more steps; one evaluation and one save, at the end. LoRA adapts every projection (rank 8): on q and v
# alone, over a random base whose tied embeddings it cannot touch, it reached 35% ROUGE-1 on the held-out demo
# dialogues where full training reaches about 80%; on every projection, about 70% (measured on 2 CPU cores).
_COMMON = {"max_source_length": 256, "max_target_length": 48}
TRAINING_FLAGS: dict[str, dict[str, object]] = {
    "full": _COMMON | {"max_steps": 300, "eval_steps": 300, "save_steps": 300},
    "lora": _COMMON | {"max_steps": 400, "eval_steps": 400, "save_steps": 400, "learning_rate": 8e-3, "lora_r": 8,
                       "lora_alpha": 16, "lora_target_modules": ["q", "k", "v", "o", "wi_0", "wi_1", "wo"]},
}


class DemoBuildError(LlmftError):
    """The demo's training failed; the message holds the end of each failed run's log."""


def hub_reachable(model_id: str = DEFAULT_BASE_MODEL, timeout: float = 5.0) -> bool:
    """True when the Hub answers for `model_id` now (never when HF_HUB_OFFLINE=1)."""
    from llmft.hub.client import hub_reachable as answers

    return answers(model_id, timeout=timeout)


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _training_command(recipe: str, model: Path, data: Path, output_dir: Path, flags: dict[str, object]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "llmft.training",
        "--config",
        str(RECIPES / recipe),
        "--model_name_or_path",
        str(model),
        "--dataset_name",
        str(data),
        "--output_dir",
        str(output_dir),
        "--overwrite_output_dir",
        "--report_to",
        "none",
        *[part for name, value in flags.items() for part in (f"--{name}", *map(str, _as_list(value)))],
    ]


def _train_all(model: Path, data: Path, out_dir: Path) -> None:
    """Full and LoRA training side by side (one core each), each logging to `out_dir/<method>.log`."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")  # two runs on two cores: one thread each
    runs = {}
    for method, flags in TRAINING_FLAGS.items():
        log_path = out_dir / f"{method}.log"
        command = _training_command(f"{method}.yaml", model, data, out_dir / method, flags)
        with log_path.open("wb") as log:  # the child keeps its own copy of the file descriptor
            runs[method] = (subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT), log_path)
        logger.info("training the demo's %s model (log: %s)", method, log_path)
    failed = [(m, log) for m, (process, log) in runs.items() if process.wait() != 0]
    if failed:
        tails = "\n".join(f"--- {m} ({log}):\n{log.read_text(errors='replace')[-2000:]}" for m, log in failed)
        raise DemoBuildError(f"demo training failed: {', '.join(m for m, _ in failed)}\n{tails}")


def write_demo_project(out_dir: str | Path, seed: int = 0) -> tuple[Path, Path]:
    """The untrained demo model (`out_dir/model`, English tokenizer) and its data (`out_dir/data/*.jsonl`)."""
    from llmft.data import write_jsonl
    from llmft.demo.dialogues import demo_dialogues
    from llmft.demo.tiny import build_tiny_t5
    from llmft.demo.tokenizer import english_tokenizer
    from llmft.prompts import INSTRUCTION

    out_dir = Path(out_dir)
    examples = demo_dialogues(sum(SPLIT_ROWS.values()), seed=seed)
    start = 0
    for split, rows in SPLIT_ROWS.items():
        write_jsonl(examples[start : start + rows], out_dir / "data" / f"{split}.jsonl")
        start += rows
    texts = [INSTRUCTION, "Summary:", *(e.dialogue for e in examples), *(s for e in examples for s in e.summaries)]
    # A LoRA base: random lm_head rows for the special tokens, or the adapter could never learn to stop.
    model = build_tiny_t5(out_dir / "model", examples, seed=seed, quiet_special_tokens=False,
                          tokenizer=english_tokenizer(texts), **MODEL_SHAPE)
    return model, out_dir / "data"


def build_demo(out_dir: str | Path) -> dict[str, str]:
    """Build (or reuse) the demo models and data; return the settings the apps should use."""
    out_dir = Path(out_dir).resolve()
    settings = {
        "LLMFT_BASE_MODEL": str(out_dir / "full"),
        "LLMFT_LORA_ADAPTER": str(out_dir / "lora"),
        # The Summarizer compares the untuned tiny base with its full fine-tune and its LoRA adapter.
        "LLMFT_SUMMARIZER_BASE": str(out_dir / "model"),
        "LLMFT_FULL_MODEL": str(out_dir / "full"),
        "LLMFT_DATASET": str(out_dir / "data"),
        "HF_HUB_OFFLINE": "1",
    }
    marker = out_dir / DONE_MARKER
    if marker.is_file() and marker.read_text().strip() == BUILD_VERSION:
        return settings
    model, data = write_demo_project(out_dir)
    _train_all(model, data, out_dir)
    for folder in (model, out_dir / "full", out_dir / "lora"):
        # The apps read this marker to tell their user the answering model is the demo one.
        write_json_atomic(folder / DEMO_MARKER, {"demo": True, "what": DEMO_WHAT})
    marker.write_text(BUILD_VERSION + "\n")
    return settings
