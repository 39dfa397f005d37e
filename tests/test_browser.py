"""The three Spaces in headless Chromium (Debian's /usr/bin/chromium through Playwright), as a person uses them.

Each page must load and run its main flow with no console error and no uncaught page error, and the flow is
clicked and typed in the page (never the API): Prompting compares three prompts and shows ROUGE in each column;
the Summarizer summarises with every variant and shows ROUGE per variant; the Shopbot answers a question with its
sources. The flows are the ones the README's screenshots are taken with (tests.support.screenshots), and each test
saves its full-page screenshot to LLMFT_SCREENSHOT_DIR (default: a new folder under outputs/screenshots).

The three apps start once for the module, side by side, on tiny models (the Shopbot on its embedded local model).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from llmft.data import DialogueExample, write_jsonl
from llmft.demo.tiny import build_tiny_t5, synthetic_dialogues
from llmft.feedback import read_rows
from tests.support.apps import chromium_available, guarded_env, log_on_failure, running_apps
from tests.support.llm_server import require_local_model
from tests.support.require import require
from tests.support.screenshots import (
    ask_shopbot,
    compare_prompts,
    evaluate_summarizer,
    save_screenshot,
    screenshot_dir,
    summarize_all,
    watched_page,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
SPACES = REPO_ROOT / "spaces"
VARIANTS = ["base", "full", "lora-1"]
# Prompting's dialogues: two on distinct subjects and three synthetic ones (the file has no train split, so the
# shots come from the other rows).
PROMPTING_ROWS = [
    DialogueExample("weather", "#Person1#: Will it rain tomorrow?\n#Person2#: Yes, take an umbrella.",
                    ["It will rain tomorrow."], "weather"),
    DialogueExample("bank", "#Person1#: I want to open a savings account.\n#Person2#: Fill in this form.",
                    ["Person1 opens a savings account."], "banking"),
    *synthetic_dialogues(3),
]
SUMMARIZER_ROWS = [DialogueExample(f"test_{i}", r.dialogue, r.summaries, r.topic)
                   for i, r in enumerate(synthetic_dialogues(3, seed=11))]
ROUGE_FIGURE = r"\d+(\.\d+)?"


@pytest.fixture(scope="module")
def votes(tmp_path_factory) -> Path:
    """Each app's feedback folder: votes / <app name>."""
    return tmp_path_factory.mktemp("votes")


@pytest.fixture(scope="module")
def apps(tiny_models, tmp_path_factory, votes):
    """The three apps, launched side by side (startup is most of this module's time)."""
    require(chromium_available(), "Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    require_local_model()
    root = tmp_path_factory.mktemp("browser")
    dataset = root / "prompting.jsonl"
    dataset.write_text("".join(json.dumps({"id": r.id, "dialogue": r.dialogue, "summary": r.summary,
                                           "topic": r.topic}) + "\n" for r in PROMPTING_ROWS), encoding="utf-8")
    base = guarded_env()
    envs = {
        "prompting": dict(base, LLMFT_BASE_MODEL=str(tiny_models.base), LLMFT_DATASET=str(dataset),
                          HF_HOME=str(root / "prompting" / "hf")),
        "summarizer": dict(base, LLMFT_SUMMARIZER_BASE=str(tiny_models.base),
                           LLMFT_FULL_MODEL=str(_writes_only(build_tiny_t5(root / "full", seed=5), "2")),
                           LLMFT_LORA_ADAPTERS=str(tiny_models.lora),
                           LLMFT_DATASET=str(write_jsonl(SUMMARIZER_ROWS, root / "test.jsonl")),
                           LLMFT_SUMMARY_TOKENS="10", HF_HOME=str(root / "summarizer" / "hf")),
        "shopbot": dict(base, LLMFT_STORE_PATH=str(root / "shopbot" / "store"), LLMFT_CHAT_MAX_TOKENS="48"),
    }
    for name, env in envs.items():
        env["LLMFT_FEEDBACK_DIR"] = str(votes / name)
    with running_apps({name: (SPACES / name / "app.py", env) for name, env in envs.items()}, root) as apps:
        yield apps


def _writes_only(model: Path, token: str) -> Path:
    """Make a tiny model write nothing but `token` (its generation config suppresses every other token but the
    end, and the end at the first step): its summary is then "2", "22", ... "2222222222", a number no dialogue here
    states, flagged whatever the weights. (Without the first step's suppression, weights on which the end's logit
    beats the token's gave an empty summary: the tokenizer trained on the fly numbers the token differently from
    run to run.)"""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    keep = {tokenizer.convert_tokens_to_ids(token), tokenizer.eos_token_id}
    config_path = model / "generation_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["suppress_tokens"] = [i for i in range(len(tokenizer)) if i not in keep]
    config["begin_suppress_tokens"] = [tokenizer.eos_token_id]
    config_path.write_text(json.dumps(config), encoding="utf-8")
    return model


@pytest.fixture(scope="module")
def shots() -> Path:
    return screenshot_dir()


@pytest.fixture(autouse=True)
def _app_logs_on_failure(request, apps):
    yield from log_on_failure(request, *apps.values())


def test_prompting_compares_three_prompts_with_rouge_in_each_column(apps, shots, votes):
    from playwright.sync_api import expect

    bank = PROMPTING_ROWS[1]
    with watched_page(apps["prompting"].url, 1400, 1000) as watched:
        page = watched.page
        expect(page.get_by_text("5 test dialogues from")).to_be_visible(timeout=30_000)
        compare_prompts(page, dialogue=bank.dialogue, reference=bank.summary)
        # The page's default columns: 0-shot, 1-shot first-k, 2-shot most similar; each with its ROUGE figures.
        for label in ("A · 0-shot", "B · 1-shot first-k", "C · 2-shot most similar"):
            details = page.locator(".prose:not(:has(.prose))").filter(has_text=label).filter(has_text="Prompt:")
            expect(details).to_have_count(1)
            expect(details).to_contain_text(re.compile(
                rf"ROUGE-1 {ROUGE_FIGURE} · ROUGE-2 {ROUGE_FIGURE} · ROUGE-L {ROUGE_FIGURE}"))
        notes = page.locator("#compare-notes")  # the persistent note, not a toast that goes away
        expect(notes.get_by_text("Every column used the shots it asked for; nothing was cut.")).to_be_visible()
        save_screenshot(page, shots / "prompting.png")
        # Which column is best: one row in the feedback folder, with every column's summary.
        page.get_by_role("radio", name="B", exact=True).check()
        page.get_by_label("Comment (optional)").fill("B is shortest")
        page.get_by_role("button", name="Send vote").click()
        expect(page.locator("#compare-vote-note")).to_contain_text("Thanks: your vote for column B was recorded")
        [row] = read_rows(votes / "prompting")
        assert (row["variant"], row["comment"], row["dialogue"]) == ("B", "B is shortest", bank.dialogue)
        assert [c["column"] for c in row["columns"]] == ["A", "B", "C"] and row["summary"] is not None
        # A dialogue that leaves no room for shots: the labels and the note on the page say so.
        page.get_by_label("Dialogue", exact=True).fill("\n".join(r.dialogue for r in synthetic_dialogues(40)))
        page.get_by_role("button", name="Compare", exact=True).click()
        expect(notes.get_by_text("C · 2-shot most similar → 0 used: asked for 2 shot(s), used 0")).to_be_visible(
            timeout=60_000)
        expect(page.get_by_text("B · 1-shot first-k → 0 used").first).to_be_visible()
        assert watched.errors == []


def test_summarizer_summarises_with_every_variant_and_rouge_per_variant(apps, shots, votes):
    from playwright.sync_api import expect

    example = SUMMARIZER_ROWS[2]
    with watched_page(apps["summarizer"].url, 1400, 1200) as watched:
        page = watched.page
        expect(page.get_by_text("3 test dialogues from")).to_be_visible(timeout=30_000)
        for name in VARIANTS:  # the variants' status, loaded with the page
            status = page.locator("li").filter(has_text=f"{name} (")
            expect(status).to_be_visible(timeout=60_000)
            expect(status).not_to_contain_text("unavailable")
        summarize_all(page, example_id="test_2", explain_variant="lora-1")
        expect(page.get_by_label("Dialogue", exact=True)).to_have_value(example.dialogue)
        table = page.get_by_role("grid", name="Summaries")
        for name in VARIANTS:  # a row per variant, its ROUGE-1 a figure
            row = table.get_by_role("row").filter(has=page.get_by_role("gridcell", name=name, exact=True))
            expect(row.get_by_role("gridcell").nth(4)).to_have_text(re.compile(rf"^\s*{ROUGE_FIGURE}\s*$"))
        improvements = page.get_by_role("grid", name=re.compile("improvement over the base"))
        for line in ("full - base", "lora-1 - base"):
            expect(improvements.get_by_role("gridcell", name=line, exact=True)).to_be_visible()
        expect(page.locator(".sentence").first).to_be_visible()  # the LoRA summary's evidence
        _flagged_spans_are_highlighted(page, table)
        save_screenshot(page, shots / "summarizer.png")
        # A vote on one variant's summary (the menu's first, base): one row in the feedback folder.
        page.get_by_role("radio", name="👎 bad").check()
        page.get_by_role("button", name="Send vote").click()
        expect(page.locator("#summary-vote-note")).to_contain_text("Thanks: your 👎 on base was recorded")
        [row] = read_rows(votes / "summarizer")
        assert (row["app"], row["vote"], row["variant"], row["dialogue"]) == ("summarizer", "down", "base",
                                                                               example.dialogue)
        assert row["summary"] and row["settings"]["max_new_tokens"]
        evaluate_summarizer(page, n_dialogues=3)
        evaluation = page.get_by_role("grid", name=re.compile("Mean ROUGE")).last
        for line in ("full - base", "lora-1 - base"):  # each difference with its interval
            row = evaluation.get_by_role("row").filter(has=page.get_by_role("gridcell", name=line, exact=True))
            expect(row).to_contain_text(re.compile(r"[+-]\d+\.\d \[[+-]\d+\.\d, [+-]\d+\.\d\]"))
        save_screenshot(page, shots / "summarizer-evaluate.png")
        assert watched.errors == []


def _flagged_spans_are_highlighted(page, table) -> None:
    """Each variant's line under the table: its count, and each unsupported fact a coloured <mark> inside that
    variant's summary. The full model writes only "2" (`_writes_only`), so at least its line has a mark."""
    from playwright.sync_api import expect

    from llmft.faithfulness.render import COLOURS

    lines = page.locator("#unsupported-facts p.facts")
    expect(lines).to_have_count(len(VARIANTS))
    flagged = 0
    for index in range(len(VARIANTS)):
        line = lines.nth(index)
        variant = line.locator("b").first.inner_text()
        marks = line.locator("mark")
        count = marks.count()
        shown = re.search(r"⚠️ (\d+) unsupported|✅ none flagged", line.inner_text())
        assert shown, line.inner_text()
        assert int(shown.group(1) or 0) == count, line.inner_text()
        summary = table.get_by_role("row").filter(
            has=page.get_by_role("gridcell", name=variant, exact=True)).first.inner_text()
        for m in range(count):
            mark = marks.nth(m)
            kind = mark.get_attribute("title").split(":")[0]
            assert mark.inner_text() in summary, (mark.inner_text(), summary)
            background = mark.evaluate("m => getComputedStyle(m).backgroundColor")
            red, green, blue = (int(COLOURS[kind][i:i + 2], 16) for i in (1, 3, 5))
            assert background == f"rgb({red}, {green}, {blue})", (kind, background)
        flagged += bool(count)
    assert flagged >= 1
    full = lines.filter(has_text="full (").locator("mark")
    expect(full.first).to_have_text(re.compile(r"^2+$"))
    expect(full.first).to_have_attribute("title", re.compile("^number: the dialogue never states"))


def test_shopbot_answers_with_its_sources(apps, shots, votes):
    """The demo store (llmft/store/demo/catalogue.csv, read by hand): the Pacer Run 2 (SW-401) is $149.00, the
    Pacer Trail Solar (SW-403) $499.00; the return window is in returns.html."""
    from playwright.sync_api import expect

    with watched_page(apps["shopbot"].url, 1300, 1100) as watched:
        page = watched.page
        expect(page.get_by_text("Model answering: local llama.cpp")).to_be_visible(timeout=30_000)
        question = "Compare the Pacer Run 2 and the Pacer Trail Solar"
        ask_shopbot(page, question)
        cards = page.locator(".shop-card.product")
        expect(cards.nth(0)).to_contain_text("[1] Pacer Run 2")
        expect(cards.nth(0)).to_contain_text("$149.00")
        expect(cards.nth(1)).to_contain_text("[2] Pacer Trail Solar")
        expect(cards.nth(1)).to_contain_text("SW-403")
        status = page.locator(".shop-status")
        expect(status).to_contain_text(re.compile("checked|set aside"))  # a model answered
        expect(status).to_contain_text("backend: local llama.cpp")
        chat = page.get_by_role("log", name="chatbot conversation")
        expect(chat).to_contain_text(question)
        # Whatever the 135M model wrote, what is shown names both products and cites both cards.
        answer = chat.inner_text().replace(question, "")
        assert all(text in answer for text in ("Pacer Run 2", "Pacer Trail Solar", "[1]", "[2]")), answer
        save_screenshot(page, shots / "shopbot.png")
        # A policy question: the sources name the document the answer comes from.
        ask_shopbot(page, "How many days do I have to return an item?")
        expect(chat).to_contain_text("How many days do I have to return an item?")
        expect(page.locator(".shop-card.document").first).to_contain_text("returns.html")
        # Thumbs down on the last answer, with a comment: one row, with that answer's status and sources.
        page.locator("#shop-comment textarea").fill("I wanted the exact days")
        chat.get_by_role("button", name="Dislike").last.click()
        expect(page.locator("#shop-vote-note")).to_contain_text("Thanks: your 👎 was recorded")
        [row] = read_rows(votes / "shopbot")
        assert (row["vote"], row["question"], row["comment"]) == ("down", "How many days do I have to return an "
                                                                  "item?", "I wanted the exact days")
        assert row["status"] != "unknown" and row["backend"].startswith("local llama.cpp")
        assert any(s.get("file") == "returns.html" for s in row["sources"])
        assert watched.errors == []
