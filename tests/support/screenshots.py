"""A person's main flow in each Space, driven in headless Chromium, and the screenshot after it: one code path for
the browser tests (tests/test_browser.py) and the README's pictures.

    .venv/bin/python -m tests.support.screenshots                       # all three, on the embedded demo models
    .venv/bin/python -m tests.support.screenshots prompting --example-id test_3
    .venv/bin/python -m tests.support.screenshots shopbot --url http://127.0.0.1:7862   # an app already running

Without --url each app is started offline behind the tests' network guard: the Prompting and Summarizer Spaces
on a `python -m llmft.demo build` folder (--demo, default outputs/demo; built or brought up to date first), the
Shopbot on the demo store and the local SmolLM2 model. The pictures go to spaces/<name>/screenshot.png
(--out-dir to change); the Summarizer's Evaluate tab to spaces/summarizer/screenshot-evaluate.png.
The browser may reach 127.0.0.1 only. Needs Debian's chromium at /usr/bin/chromium.

In code: `watched_page(url)` opens a page and records console errors and uncaught page errors;
`compare_prompts`, `summarize_all`, `evaluate_summarizer`, `ask_shopbot` drive the flows; `save_screenshot` writes
the full page.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.apps import (
    RunningApp,
    chromium_available,
    guarded_env,
    keep_browser_local,
    launch_app,
    launch_chromium,
    wait_until_ready,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SPACES = ("prompting", "summarizer", "shopbot")
VIEWPORTS = {"prompting": (1440, 1000), "summarizer": (1440, 1000), "shopbot": (1300, 1000)}
SCREENSHOT_DIR_ENV = "LLMFT_SCREENSHOT_DIR"
# Gradio's status tracker over each output while an event runs (the class "hide" when idle).
BUSY = ".wrap.default:not(.hide), .wrap.center:not(.hide)"
FINAL_STATUS = re.compile("checked|set aside|no model answered|no model configured")  # the shopbot's last status


@dataclass
class WatchedPage:
    """A Chromium page and what went wrong in it: console messages of type error and uncaught exceptions."""

    page: Any
    errors: list[str] = field(default_factory=list)


@contextmanager
def watched_page(url: str, width: int = 1400, height: int = 1000) -> Iterator[WatchedPage]:
    """A headless Chromium page on `url` that may reach only 127.0.0.1 and records its errors from the first byte.

    After the body, no request may have been aborted (the page needs nothing from outside).
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
            watched = WatchedPage(page)

            def on_console(message: Any) -> None:
                if message.type == "error":
                    where = message.location.get("url", "")
                    watched.errors.append(f"console error: {message.text} ({where})")

            page.on("console", on_console)
            page.on("pageerror", lambda error: watched.errors.append(f"page error: {error}"))
            blocked = keep_browser_local(page)
            page.goto(url)
            yield watched
            assert blocked == [], f"the page tried to leave 127.0.0.1: {blocked[:3]}"
        finally:
            browser.close()


def screenshot_dir() -> Path:
    """`LLMFT_SCREENSHOT_DIR`, or a new folder under outputs/screenshots (ignored by git; CI may keep it)."""
    configured = os.environ.get(SCREENSHOT_DIR_ENV, "").strip()
    if configured:
        folder = Path(configured)
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    root = REPO_ROOT / "outputs" / "screenshots"
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="browser-", dir=root))


def save_screenshot(page: Any, path: Path) -> Path:
    """The whole page as a PNG, once the charts have settled."""
    page.wait_for_timeout(1000)  # a Plotly/Matplotlib image and an opened accordion finish drawing
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


# --- the main flows ------------------------------------------------------------------------------------------


def _wait_for_result(page: Any, timeout_ms: int = 300_000) -> None:
    """After a click that runs an event: wait until Gradio's status trackers ("queue: 1/1 | ...", "processing |
    1.2s", "3/4 steps") are gone, then fail if the page shows an error toast. (A result's own content may be
    empty: a tiny model's summary can be.)"""
    from playwright.sync_api import expect

    busy = page.locator(BUSY)
    try:
        expect(busy.first).to_be_visible(timeout=10_000)
    except AssertionError:
        pass  # finished before we looked
    expect(busy).to_have_count(0, timeout=timeout_ms)
    error = page.locator(".toast-body.error")
    if error.count():
        raise AssertionError(f"the page shows an error: {error.first.inner_text()}")


def compare_prompts(page: Any, dialogue: str | None = None, reference: str = "", example_id: str | None = None,
                    max_new_tokens: int | None = None) -> None:
    """Prompting Space: a dialogue (typed, picked by id, or at random), Compare, and the three columns' results.

    Returns when the result's notes show; the prompt of column B is opened, as the README's picture shows it.
    """
    from playwright.sync_api import expect

    expect(page.get_by_text("test dialogues from")).to_be_visible(timeout=120_000)
    if dialogue is not None:
        page.get_by_label("Dialogue", exact=True).fill(dialogue)
        page.get_by_label("Reference summary (one per line)").fill(reference)
    elif example_id:
        example = page.get_by_label("Test dialogue (id)")
        example.fill(example_id)
        example.press("Enter")
    else:
        page.get_by_role("button", name="Random dialogue").click()
    expect(page.get_by_label("Dialogue", exact=True)).not_to_have_value("", timeout=30_000)
    if max_new_tokens is not None:
        page.get_by_text("Generation settings").click()
        tokens = page.get_by_label("number input for Max new tokens")
        tokens.fill(str(max_new_tokens))
        tokens.press("Enter")
    page.get_by_role("button", name="Compare", exact=True).click()
    _wait_for_result(page)
    expect(page.locator("#compare-notes")).to_contain_text(re.compile(r"\S"))  # with every result
    page.get_by_text("B: exact prompt sent").click()
    try:  # a warning toast (a dialogue cut to fit) shows for 10 s; the picture is better without it
        expect(page.get_by_text("Warning (")).to_be_hidden(timeout=20_000)
    except AssertionError:
        pass


def summarize_all(page: Any, example_id: str | None = None, explain_variant: str | None = None) -> None:
    """Summarizer Space: a test dialogue from the menu, Summarize with every variant, and (optionally) Explain one.

    Returns when every variant's row is in the Summaries table (and the explanation is drawn).
    """
    from playwright.sync_api import expect

    expect(page.get_by_text("test dialogues from")).to_be_visible(timeout=120_000)
    expect(page.get_by_text("(base):")).to_be_visible(timeout=120_000)  # the variants have loaded
    page.get_by_label("Test dialogue (id)").click()
    if example_id:
        # The menu shows "test_2 · bank": the id, then the topic.
        page.get_by_role("option", name=re.compile(rf"^{re.escape(example_id)}\b")).first.click()
    else:
        page.get_by_role("option").first.click()
    expect(page.get_by_label("Dialogue", exact=True)).not_to_have_value("", timeout=30_000)
    page.get_by_role("button", name="Summarize", exact=True).click()
    _wait_for_result(page)
    expect(page.get_by_role("grid", name="Summaries").get_by_role("columnheader", name="ROUGE-1")).to_be_visible()
    if explain_variant:
        page.get_by_label("Variant to explain").click()
        page.get_by_role("option", name=explain_variant, exact=True).click()
        page.get_by_role("button", name="Explain", exact=True).click()
        _wait_for_result(page)
        expect(page.locator(".sentence").first).to_be_visible()


def evaluate_summarizer(page: Any, n_dialogues: int) -> None:
    """Summarizer Space, Evaluate tab: the first N test dialogues through every variant; returns when the table
    of mean ROUGE (with each 'X - base' row's interval) shows. The picture is taken on this tab."""
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Evaluate").click()
    count = page.get_by_label("number input for N test dialogues")
    count.fill(str(n_dialogues))
    count.press("Enter")
    page.get_by_role("button", name="Evaluate", exact=True).click()
    _wait_for_result(page, timeout_ms=600_000)
    table = page.get_by_role("grid", name=re.compile("Mean ROUGE")).last
    expect(table.get_by_role("columnheader", name=re.compile("95% interval"))).to_be_visible()


def ask_shopbot(page: Any, question: str) -> None:
    """Shopbot Space: type a question, press Enter, and wait for the final (checked) answer and its sources."""
    from playwright.sync_api import expect

    box = page.get_by_role("textbox").first
    expect(box).to_be_visible(timeout=60_000)
    # Every message (the question, the answer as soon as it streams) gets a copy button; the box is disabled
    # until the answer has finished. Counting first tells a second question's answer from the first one's.
    copies = page.get_by_role("log", name="chatbot conversation").get_by_role("button", name="Copy message")
    before = copies.count()
    box.fill(question)
    box.press("Enter")
    expect(copies).to_have_count(before + 2, timeout=180_000)
    expect(box).to_be_enabled(timeout=180_000)
    expect(page.locator(".shop-status")).to_contain_text(FINAL_STATUS, timeout=30_000)


# --- the README's pictures -----------------------------------------------------------------------------------


def _demo_settings(demo: Path) -> dict[str, str]:
    """The settings `scripts/run.sh` gives the FLAN-T5 apps offline (`llmft.demo.build.build_demo`: reuses a current
    build, (re)builds a missing or older one in a minute or two)."""
    from llmft.demo.build import build_demo

    print(f"the embedded demo models in {demo} ...", file=sys.stderr)
    return build_demo(demo)


def _env(space: str, demo: dict[str, str], workdir: Path) -> dict[str, str]:
    env = dict(guarded_env(), HF_HOME=str(workdir / "hf"))
    if space in ("prompting", "summarizer"):
        env.update(demo, LLMFT_SUMMARY_TOKENS="48")
    else:
        env.update(LLMFT_STORE_PATH=str(workdir / "store"))
    return env


def photograph(space: str, url: str, out: Path, args: argparse.Namespace) -> Path:
    """Open `url`, run `space`'s main flow as the tests do, and save the full page to `out`."""
    with watched_page(url, *VIEWPORTS[space]) as watched:
        if space == "prompting":
            compare_prompts(watched.page, example_id=args.example_id, max_new_tokens=args.max_new_tokens)
        elif space == "summarizer":
            summarize_all(watched.page, example_id=args.example_id, explain_variant=args.explain)
            save_screenshot(watched.page, out)
            # The Evaluate tab's table: each variant's share of flagged summaries, each 'X - base' its interval.
            evaluate_summarizer(watched.page, args.evaluate_dialogues)
            out = out.with_name(f"{out.stem}-evaluate.png")
        else:
            ask_shopbot(watched.page, args.question)
        save_screenshot(watched.page, out)
        if watched.errors:
            print(f"{space}: the page logged errors: {watched.errors}", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spaces", nargs="*", help=f"which Spaces: {', '.join(SPACES)} (default: all three)")
    parser.add_argument("--url", help="photograph this running app instead of starting one (one Space only)")
    parser.add_argument("--demo", type=Path, default=REPO_ROOT / "outputs" / "demo",
                        help="a `python -m llmft.demo build` folder for the FLAN-T5 apps")
    parser.add_argument("--out-dir", type=Path,
                        help="where to write <space>.png (default: spaces/<space>/screenshot.png)")
    parser.add_argument("--example-id", help="test dialogue to show (default: random / the first)")
    parser.add_argument("--max-new-tokens", type=int, default=24, help="Prompting: tokens per summary")
    parser.add_argument("--explain", default="lora-1", help="Summarizer: variant whose summary is explained")
    parser.add_argument("--evaluate-dialogues", type=int, default=10,
                        help="Summarizer: test dialogues on the Evaluate tab (<summarizer>-evaluate.png)")
    parser.add_argument("--question", default="Compare the Pacer Run 2 and the Pacer Trail Solar",
                        help="Shopbot: the question")
    args = parser.parse_args(argv)
    spaces = args.spaces or list(SPACES)
    unknown = sorted(set(spaces) - set(SPACES))
    if unknown:
        parser.error(f"unknown Space(s) {', '.join(unknown)}; choose from {', '.join(SPACES)}")
    if args.url and len(spaces) != 1:
        parser.error("--url photographs one Space: name it")
    if not chromium_available():
        parser.exit(1, "Debian's chromium is not at /usr/bin/chromium: apt-get install chromium\n")

    def out(space: str) -> Path:
        return (args.out_dir / f"{space}.png") if args.out_dir else REPO_ROOT / "spaces" / space / "screenshot.png"

    if args.url:
        print(f"wrote {photograph(spaces[0], args.url, out(spaces[0]), args)}")
        return 0
    demo = _demo_settings(args.demo) if {"prompting", "summarizer"} & set(spaces) else {}
    with tempfile.TemporaryDirectory(prefix="llmft-screenshots-") as tmp, ExitStack() as stack:
        apps: dict[str, RunningApp] = {}
        for space in spaces:  # started side by side, photographed one after the other
            workdir = Path(tmp) / space
            app = launch_app(REPO_ROOT / "spaces" / space / "app.py", _env(space, demo, workdir),
                             log_path=workdir / "app.log")
            stack.callback(app.stop)
            apps[space] = app
        for space, app in apps.items():
            try:
                wait_until_ready(app, timeout=300)
                print(f"wrote {photograph(space, app.url, out(space), args)}")
            except Exception:
                print(app.log_tail(), file=sys.stderr)
                raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
