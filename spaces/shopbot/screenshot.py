"""Take the README's screenshot of the Shopbot Space in headless Chromium: a question, the streamed answer and
its sources.

    .venv/bin/python spaces/shopbot/screenshot.py                        # starts the app out of the box (offline)
    .venv/bin/python spaces/shopbot/screenshot.py --url http://127.0.0.1:7862

The app it starts uses the demo store and the local SmolLM2 model, with the tests' network guard; the browser
may reach 127.0.0.1 only. Needs a checkout (it uses tests/support/apps.py) and Debian's chromium.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.apps import chromium_available, guarded_env, keep_browser_local, launch_chromium, start_app  # noqa: E402

APP = Path(__file__).resolve().parent / "app.py"
DEFAULT_OUT = Path(__file__).resolve().parent / "screenshot.png"


def take(url: str, out: Path, question: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000}, device_scale_factor=1)
            keep_browser_local(page)
            page.goto(url)
            box = page.get_by_role("textbox").first
            expect(box).to_be_visible(timeout=60_000)
            box.fill(question)
            box.press("Enter")
            expect(page.locator(".shop-status")).to_contain_text(re.compile("checked|replaced|no model"),
                                                                 timeout=120_000)
            page.screenshot(path=str(out), full_page=True)
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an app that is already running (default: start one)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--question", default="What is the cheapest phone?")
    args = parser.parse_args()
    if not chromium_available():
        sys.exit("Chromium not found at /usr/bin/chromium (apt-get install chromium)")
    if args.url:
        take(args.url, args.out, args.question)
    else:
        with tempfile.TemporaryDirectory(prefix="llmft-shopbot-shot-") as workdir:
            env = dict(guarded_env(), LLMFT_STORE_PATH=str(Path(workdir) / "store"))
            app = start_app(APP, env, timeout=180, log_path=Path(workdir) / "app.log")
            try:
                take(app.url, args.out, args.question)
            finally:
                app.stop()
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
