"""The embedded local default: what the apps run on when the Hub cannot be reached.

`python -m llmft.demo check-hub` exits 0 when the default base model's repo answers on the Hub
(within a few seconds), 1 otherwise. `python -m llmft.demo build DIR` writes a tiny T5 and synthetic
DialogSum-shaped dialogues (`llmft.tiny.write_tiny_project`), fine-tunes it fully and with LoRA
through the real training code (`python -m llmft.training`, the tiny recipes), and prints `export ...`
lines that point the apps at the result. A build that finished is reused. Each model folder it
builds holds `llmft_demo.json` ({"demo": true, ...}): the apps read it to say the model is the demo one.

The tiny model learns the synthetic dialogues' one-sentence summaries in about a minute on a CPU:
enough to use every feature of the apps offline, not a summariser for real conversations.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

from llmft.apps.demo_note import DEMO_MARKER
from llmft.files import write_json_atomic
from llmft.models import DEFAULT_BASE_MODEL

REPO_ROOT = Path(__file__).resolve().parent.parent
DONE_MARKER = ".demo-complete"
DEMO_WHAT = "tiny T5 trained on synthetic dialogues by llmft.demo"


def hub_reachable(model_id: str = DEFAULT_BASE_MODEL, timeout: float = 5.0) -> bool:
    """True when the Hub answers for `model_id` now (never when HF_HUB_OFFLINE=1)."""
    from llmft.hub.client import hub_reachable as answers

    return answers(model_id, timeout=timeout)


def _train(recipe: str, model: Path, data: Path, output_dir: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "llmft.training",
        "--config",
        str(REPO_ROOT / "training" / "recipes" / "tiny" / recipe),  # a recipe file; the code runs from the package
        "--model_name_or_path",
        str(model),
        "--dataset_name",
        str(data),
        "--output_dir",
        str(output_dir),
        "--overwrite_output_dir",
        "--report_to",
        "none",
    ]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    subprocess.run(command, check=True, env=env, stdout=sys.stderr)  # stdout carries only the exports


def build_demo(out_dir: str | Path) -> dict[str, str]:
    """Build (or reuse) the demo models and data; return the settings the apps should use."""
    from llmft.tiny import write_tiny_project

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
    if (out_dir / DONE_MARKER).is_file():
        return settings
    model, data = write_tiny_project(out_dir, rows=64)
    if model.resolve() != (out_dir / "model").resolve():
        raise RuntimeError(f"write_tiny_project put the base model in {model}, not {out_dir / 'model'}")
    for method in ("full", "lora"):
        _train(f"{method}.yaml", model, data, out_dir / method)
    for folder in (model, out_dir / "full", out_dir / "lora"):
        # The apps read this marker to tell their user the answering model is the demo one.
        write_json_atomic(folder / DEMO_MARKER, {"demo": True, "what": DEMO_WHAT})
    (out_dir / DONE_MARKER).write_text("ok\n")
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check-hub", help="exit 0 if the Hub answers for the base model")
    check.add_argument("--model", default=DEFAULT_BASE_MODEL)
    build = commands.add_parser("build", help="build the local demo models and print export lines")
    build.add_argument("out_dir", nargs="?", default=str(REPO_ROOT / "outputs" / "demo"))
    args = parser.parse_args(argv)
    if args.command == "check-hub":
        return 0 if hub_reachable(args.model) else 1
    for key, value in build_demo(args.out_dir).items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
