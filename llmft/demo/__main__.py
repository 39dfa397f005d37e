"""The embedded local default: what the apps run on when the Hub cannot be reached.

`python -m llmft.demo check-hub` exits 0 when the default base model's repo answers on the Hub
(within a few seconds), 1 otherwise. `python -m llmft.demo build DIR` writes a tiny T5 with an English
tokenizer (`llmft.demo.tokenizer`: a real DialogSum dialogue is about 160 tokens, so few-shot prompts fit
512) and varied DialogSum-shaped dialogues (`llmft.demo.dialogues`: twelve scenarios whose summaries follow
the content), fine-tunes it fully and with LoRA through the real training code (`python -m llmft.training`,
the package's tiny recipes with the demo's lengths and steps), and prints `export ...` lines that point the
apps at the result. A build that finished is reused. Each model folder it builds holds `llmft_demo.json`
({"demo": true, ...}): the apps read it to say the model is the demo one.

The tiny model learns the demo dialogues' summaries in a minute or two on a CPU: enough to use every
feature of the apps offline, with summaries that change with the dialogue and the prompt, not a
summariser for real conversations.
"""

from __future__ import annotations

import argparse
import logging
import shlex
from pathlib import Path

from llmft.demo.build import build_demo, hub_reachable, logger
from llmft.errors import LlmftError
from llmft.models import DEFAULT_BASE_MODEL

# The default build folder: outputs/demo of the checkout this package sits in (as before the package moved).
DEFAULT_OUT_DIR = Path(__file__).resolve().parents[2] / "outputs" / "demo"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llmft.demo", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check-hub", help="exit 0 if the Hub answers for the base model")
    check.add_argument("--model", default=DEFAULT_BASE_MODEL)
    build = commands.add_parser("build", help="build the local demo models and print export lines")
    build.add_argument("out_dir", nargs="?", default=str(DEFAULT_OUT_DIR))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    if args.command == "check-hub":
        return 0 if hub_reachable(args.model) else 1
    try:
        settings = build_demo(args.out_dir)
    except LlmftError as err:
        logger.error("%s", err)
        return 1
    for key, value in settings.items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
