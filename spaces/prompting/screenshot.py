"""Take the README's screenshot of the Prompting Space in headless Chromium.

    # start the app offline with a tiny model and synthetic dialogues, compare, and save the PNG:
    .venv/bin/python spaces/prompting/screenshot.py
    # real DialogSum dialogues from a local copy, and a real model if you have one:
    .venv/bin/python spaces/prompting/screenshot.py --dataset path/to/dialogsum --example-id test_1
    # or photograph an app that is already running:
    .venv/bin/python spaces/prompting/screenshot.py --url http://127.0.0.1:7860

Without --model a tiny random-weight T5 is built (llmft.tiny), so the summaries are noise; the point
is the layout: the prompts, their token counts, the timings and the chart. The app it starts runs
with the tests' network guard and HF_HUB_OFFLINE=1; the browser may reach 127.0.0.1 only.
Needs a checkout (it uses tests/support/apps.py) and Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.apps import (  # noqa: E402
    RunningApp,
    chromium_available,
    guarded_env,
    keep_browser_local,
    launch_chromium,
    start_app,
)

APP = Path(__file__).resolve().parent / "app.py"
DEFAULT_OUT = Path(__file__).resolve().parent / "screenshot.png"


def _start(args: argparse.Namespace, workdir: Path) -> RunningApp:
    from llmft.data import load_dialogues
    from llmft.errors import DataError
    from llmft.tiny import build_tiny_t5, synthetic_dialogues

    # The app runs in another working folder: local paths must not depend on this one (Hub ids pass as given).
    model = str(Path(args.model).resolve()) if args.model and Path(args.model).exists() else args.model
    dataset = str(Path(args.dataset).resolve()) if args.dataset and Path(args.dataset).exists() else args.dataset
    if model is None and dataset is not None:
        # A tokenizer trained on the dataset's own text, so token counts and fitting look like FLAN-T5's
        # (the default tiny tokenizer knows only the synthetic dialogues and splits real ones finely).
        try:
            rows = load_dialogues(dataset, "train", limit=2000)
        except DataError:
            rows = load_dialogues(dataset, "test", limit=2000)
        model = str(build_tiny_t5(workdir / "tiny-t5", examples=rows, vocab_size=4000))
    elif model is None:
        model = str(build_tiny_t5(workdir / "tiny-t5"))
    if dataset is None:
        dataset = workdir / "dialogues.jsonl"
        with dataset.open("w", encoding="utf-8") as handle:
            for row in synthetic_dialogues(20):
                handle.write(json.dumps({"id": row.id, "dialogue": row.dialogue, "summary": row.summary,
                                         "topic": row.topic}) + "\n")
    env = guarded_env()
    env.update(LLMFT_BASE_MODEL=model, LLMFT_DATASET=str(Path(dataset).resolve()), HF_HOME=str(workdir / "hf"))
    return start_app(APP, env, timeout=180, log_path=workdir / "app.log")


def take(url: str, out: Path, example_id: str | None, max_new_tokens: int) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, device_scale_factor=1)
            keep_browser_local(page)
            page.goto(url)
            expect(page.get_by_text("test dialogues from")).to_be_visible(timeout=120_000)
            if example_id:
                example = page.get_by_label("Test dialogue (id)")
                example.fill(example_id)
                example.press("Enter")
            else:
                page.get_by_role("button", name="Random dialogue").click()
            expect(page.get_by_label("Dialogue", exact=True)).not_to_have_value("", timeout=30_000)
            page.get_by_text("Generation settings").click()
            tokens = page.get_by_label("number input for Max new tokens")
            tokens.fill(str(max_new_tokens))
            tokens.press("Enter")
            page.get_by_role("button", name="Compare", exact=True).click()
            expect(page.get_by_label("C: summary")).not_to_have_value("", timeout=300_000)
            page.get_by_text("B: exact prompt sent").click()
            try:  # warnings (a dialogue cut to fit) show for 10 s; wait for them to go
                expect(page.get_by_text("Warning (")).to_be_hidden(timeout=20_000)
            except AssertionError:
                pass
            page.wait_for_timeout(1500)  # the chart image and the accordion settle
            page.screenshot(path=str(out), full_page=True)
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="photograph this running app instead of starting one")
    parser.add_argument("--model", help="model for the app it starts (default: a tiny random T5)")
    parser.add_argument("--dataset", help="dataset for the app it starts (default: synthetic dialogues)")
    parser.add_argument("--example-id", help="test dialogue to show (default: a random one)")
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if not chromium_available():
        sys.exit("Debian's chromium is not at /usr/bin/chromium: apt-get install chromium")
    if args.url:
        take(args.url, args.out, args.example_id, args.max_new_tokens)
    else:
        with tempfile.TemporaryDirectory(prefix="llmft-screenshot-") as workdir:
            app = _start(args, Path(workdir))
            try:
                take(app.url, args.out, args.example_id, args.max_new_tokens)
            except Exception:
                print(app.log_tail(), file=sys.stderr)
                raise
            finally:
                app.stop()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
