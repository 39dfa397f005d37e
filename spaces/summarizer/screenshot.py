"""Take the README's screenshot of the Summarizer Space in headless Chromium.

    # the embedded demo models (python -m llmft.demo build DIR, as scripts/run.sh builds offline):
    .venv/bin/python spaces/summarizer/screenshot.py --demo outputs/demo
    # or photograph an app that is already running:
    .venv/bin/python spaces/summarizer/screenshot.py --url http://127.0.0.1:7861

It picks a test dialogue, summarises it with every variant, explains the LoRA variant's summary, and
saves the whole page. The app it starts runs with the tests' network guard and HF_HUB_OFFLINE=1; the
browser may reach 127.0.0.1 only. Needs a checkout (tests/support/apps.py) and Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
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


def _start(demo: Path, workdir: Path) -> RunningApp:
    demo = demo.absolute()  # as given (a link stays a link): the page shows these paths
    env = guarded_env()
    env.update(
        LLMFT_SUMMARIZER_BASE=str(demo / "model"),
        LLMFT_FULL_MODEL=str(demo / "full"),
        LLMFT_LORA_ADAPTERS=str(demo / "lora"),
        LLMFT_DATASET=str(demo / "data"),
        LLMFT_SUMMARY_TOKENS="48",
        HF_HOME=str(workdir / "hf"),
    )
    return start_app(APP, env, timeout=180, log_path=workdir / "app.log")


def take(url: str, out: Path, example_id: str | None, explain_variant: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, device_scale_factor=1)
            keep_browser_local(page)
            page.goto(url)
            expect(page.get_by_text("test dialogues from")).to_be_visible(timeout=120_000)
            expect(page.get_by_text("(base):")).to_be_visible(timeout=120_000)  # the variants have loaded
            page.get_by_label("Test dialogue (id)").click()
            options = page.get_by_role("option")
            (options.filter(has_text=example_id).first if example_id else options.first).click()
            expect(page.get_by_label("Dialogue", exact=True)).not_to_have_value("", timeout=30_000)
            page.get_by_role("button", name="Summarize", exact=True).click()
            table = page.get_by_role("grid", name="Summaries")
            expect(table.get_by_role("gridcell", name=explain_variant, exact=True)).to_be_visible(timeout=300_000)
            variant = page.get_by_label("Variant to explain")
            variant.click()
            page.get_by_role("option", name=explain_variant, exact=True).click()
            page.get_by_role("button", name="Explain", exact=True).click()
            expect(page.locator(".sentence").first).to_be_visible(timeout=120_000)
            page.wait_for_timeout(1500)  # the chart image settles
            page.screenshot(path=str(out), full_page=True)
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="photograph this running app instead of starting one")
    parser.add_argument("--demo", type=Path, default=REPO_ROOT / "outputs" / "demo",
                        help="a `python -m llmft.demo build` folder for the app it starts")
    parser.add_argument("--example-id", help="test dialogue to show (default: the first)")
    parser.add_argument("--explain", default="lora-1", help="variant whose summary is explained")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if not chromium_available():
        sys.exit("Debian's chromium is not at /usr/bin/chromium: apt-get install chromium")
    if args.url:
        take(args.url, args.out, args.example_id, args.explain)
    else:
        if not (args.demo / "lora").is_dir():
            sys.exit(f"no demo build in {args.demo}: run `python -m llmft.demo build {args.demo}` first")
        with tempfile.TemporaryDirectory(prefix="llmft-screenshot-") as workdir:
            app = _start(args.demo, Path(workdir))
            try:
                take(app.url, args.out, args.example_id, args.explain)
            except Exception:
                print(app.log_tail(), file=sys.stderr)
                raise
            finally:
                app.stop()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
