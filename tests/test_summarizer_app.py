"""The Summarizer Space end to end: `spaces/summarizer/app.py` on 127.0.0.1 with a tiny base, a full checkpoint
and two LoRA adapters served by the local Hub test server, called with `gradio_client` (its page in
Chromium: tests/test_browser.py).

Expected summaries come from the shared package on the local folders the Hub copies were pushed from
(`load_model` + `fit_prompt` + `generate`): each variant must give exactly what its model gives on its own.
"""

from __future__ import annotations

import csv
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from llmft.data import DialogueExample, write_jsonl
from llmft.demo.tiny import build_tiny_lora, build_tiny_t5, synthetic_dialogues
from llmft.faithfulness import unsupported_facts
from llmft.feedback import read_rows
from llmft.hub import push_folder
from llmft.metrics import score_one
from llmft.models import GenerationSettings, generate, load_model
from llmft.prompts import fit_prompt
from tests.support.apps import (
    guarded_env,
    launch_app,
    log_on_failure,
    wait_until_ready,
)
from tests.support.hub_server import LocalHub

REPO_ROOT = Path(__file__).resolve().parent.parent
APP = REPO_ROOT / "spaces" / "summarizer" / "app.py"
TOKEN = "hf_test_write_token"
TOKENS = 10
NAMES = ["base", "full", "lora-1", "lora-2"]
ROWS = synthetic_dialogues(4, seed=11)


def _relabel(adapter: Path, base_id: str, out: Path) -> Path:
    """A copy of a local adapter whose config names its base by Hub id, as a published adapter does."""
    staged = shutil.copytree(adapter, out)
    config = json.loads((staged / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = base_id
    (staged / "adapter_config.json").write_text(json.dumps(config))
    (staged / "README.md").unlink(missing_ok=True)  # peft's card names the local base, which the Hub refuses
    return staged


@pytest.fixture(scope="module")
def world(tiny_models, tmp_path_factory):
    """Models on a local Hub, a five-dialogue test file, and the app started on them."""
    root = tmp_path_factory.mktemp("summarizer-app")
    local = {
        "base": tiny_models.base,
        "full": build_tiny_t5(root / "full", seed=5),
        "lora-1": tiny_models.lora,
        "lora-2": build_tiny_lora(tiny_models.base, root / "lora-b", r=8, seed=7),
    }
    with LocalHub(write_tokens=[TOKEN]) as hub, pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_ENDPOINT", hub.url)
        push_folder(local["base"], "me/tiny-base", token=TOKEN)
        push_folder(local["full"], "me/tiny-full", token=TOKEN)
        push_folder(_relabel(local["lora-1"], "me/tiny-base", root / "a"), "me/tiny-lora-a", token=TOKEN)
        push_folder(_relabel(local["lora-2"], "me/tiny-base", root / "b"), "me/tiny-lora-b", token=TOKEN)
        examples = [DialogueExample(f"test_{i}", r.dialogue, r.summaries, r.topic) for i, r in enumerate(ROWS)]
        env = guarded_env()
        env.update(
            HF_ENDPOINT=hub.url,
            HF_HUB_OFFLINE="0",
            HF_HOME=str(root / "hf"),
            LLMFT_SUMMARIZER_BASE="me/tiny-base",
            LLMFT_FULL_MODEL="me/tiny-full",
            LLMFT_LORA_ADAPTERS="me/tiny-lora-a,me/tiny-lora-b",
            LLMFT_DATASET=str(write_jsonl(examples, root / "test.jsonl")),
            LLMFT_CONCURRENCY="3",
            LLMFT_BATCH_MAX_BYTES="4000",
            LLMFT_BATCH_MAX_ROWS="5",
            LLMFT_MAX_EVAL="4",
            LLMFT_SUMMARY_TOKENS=str(TOKENS),
            LLMFT_FEEDBACK_DIR=str(root / "votes"),
        )
        app = wait_until_ready(launch_app(APP, env, log_path=root / "app" / "app.log"), timeout=150)
        try:
            yield {"app": app, "hub": hub, "local": local, "examples": examples, "root": root}
        finally:
            app.stop()


@pytest.fixture(scope="module")
def client(world) -> Client:
    return Client(world["app"].url, verbose=False)


@pytest.fixture(scope="module")
def expected(world) -> dict[str, dict[str, str]]:
    """{variant: {dialogue: summary}} from the shared package, each model loaded on its own."""
    settings = GenerationSettings(max_new_tokens=TOKENS)
    out = {}
    for name, folder in world["local"].items():
        loaded = load_model(str(folder), use_cache=False)
        out[name] = {
            e.dialogue: generate(loaded, [fit_prompt(loaded.tokenizer, e.dialogue).text], settings)[0]
            for e in world["examples"]
        }
    return out


@pytest.fixture(autouse=True)
def _app_log_on_failure(request, world):
    yield from log_on_failure(request, world["app"])


def _summaries(client: Client, dialogue: str, variants: list[str] | None = None, reference: str = "") -> dict:
    result = client.predict(dialogue=dialogue, reference=reference, variants=variants or [], api_name="/summarize")
    return {r["variant"]: r for r in result[0]["results"]}


def test_named_endpoints(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert {"/summarize", "/summarize_batch", "/explain", "/evaluate", "/load_example", "/models", "/vote"} <= set(
        api["named_endpoints"]
    )
    params = [p["parameter_name"] for p in api["named_endpoints"]["/summarize"]["parameters"]]
    assert params[:3] == ["dialogue", "reference", "variants"]


def test_a_vote_on_a_variants_summary_is_one_row(client, world):
    example = world["examples"][0]
    result = client.predict(dialogue=example.dialogue, variants=["lora-1"], api_name="/summarize")[0]
    note = client.predict(example.dialogue, result, "lora-1", "down", "misses the date", 24, api_name="/vote")
    assert note.startswith("Thanks: your 👎 on lora-1 was recorded.") and "local folder" in note
    [row] = read_rows(world["root"] / "votes")
    [chosen] = result["results"]
    assert (row["app"], row["vote"], row["variant"], row["comment"]) == ("summarizer", "down", "lora-1",
                                                                          "misses the date")
    assert (row["dialogue"], row["summary"], row["model"]) == (example.dialogue, chosen["summary"], chosen["source"])
    assert row["settings"] == {"max_new_tokens": 24} and "session_hash" not in row
    with pytest.raises(AppError, match="Summarize first, then vote"):
        client.predict(example.dialogue, result, "full", "up", "", 24, api_name="/vote")
    with pytest.raises(AppError, match="A vote in the summarizer is one of up, down, not 'best'"):
        client.predict(example.dialogue, result, "lora-1", "best", "", 24, api_name="/vote")
    assert len(read_rows(world["root"] / "votes")) == 1  # neither refusal wrote a row


def test_each_variant_gives_what_its_model_gives_on_its_own_and_rouge_per_variant(client, world, expected):
    example = world["examples"][0]
    reference = "\n".join(example.summaries)
    result, summaries, comparison, chart = client.predict(
        dialogue=example.dialogue, reference=reference, api_name="/summarize"
    )
    by_name = {r["variant"]: r for r in result["results"]}
    assert list(by_name) == NAMES
    assert len({expected[n][example.dialogue] for n in NAMES}) == 4  # four different models, four summaries
    for name in NAMES:
        row = by_name[name]
        assert row["summary"] == expected[name][example.dialogue] and row["seconds"] > 0 and row["error"] is None
        scores = score_one(row["summary"], example.summaries)
        assert row["rouge"] == pytest.approx({k: 100 * v for k, v in scores.items()})  # percent, one scale
        facts = unsupported_facts(row["summary"], example.dialogue)  # the check, as a user would call it
        assert row["faithfulness"]["unsupported_facts"] == [f.to_dict() for f in facts]
        assert row["faithfulness"]["unsupported_count"] == len(facts)
    assert result["rouge_scale"] == "ROUGE F-measure, %"
    assert [r[0] for r in summaries["data"]] == NAMES and summaries["headers"][4] == "ROUGE-1"
    assert [r[0] for r in comparison["data"]] == [*NAMES, "full - base", "lora-1 - base", "lora-2 - base"]
    assert chart is not None


def test_switching_adapters_back_and_forth_and_concurrently_keeps_one_base(client, world, expected):
    dialogues = [e.dialogue for e in world["examples"][:3]]
    order = ["lora-2", "lora-1", "base", "lora-2", "base", "lora-1"]
    for name in order:
        assert _summaries(client, dialogues[0], [name])[name]["summary"] == expected[name][dialogues[0]]

    # Concurrent requests (the app generates 3 at once): each gets its own variant, never another's adapter.
    jobs = [(name, dialogue) for dialogue in dialogues for name in ["lora-1", "base", "lora-2"]] * 2
    with ThreadPoolExecutor(max_workers=6) as pool:
        outputs = list(pool.map(lambda job: _summaries(client, job[1], [job[0]])[job[0]]["summary"], jobs))
    assert outputs == [expected[name][dialogue] for name, dialogue in jobs]

    status, note = client.predict(api_name="/models")
    rows = {row["variant"]: row for row in status["variants"]}
    assert status["bases_loaded"] == 1  # read from disk once, whatever was switched
    assert rows["base"]["base_object"] == rows["lora-1"]["base_object"] == rows["lora-2"]["base_object"]
    assert rows["full"]["base_object"] != rows["base"]["base_object"]
    assert "`me/tiny-lora-a` on base `me/tiny-base`" in note
    weights = [r for r in world["hub"].requests if r.startswith("GET /me/tiny-base/resolve/") and "safetensors" in r]
    assert len(weights) == 1  # and downloaded once


def test_a_batch_file_with_references_gets_rouge_per_row_and_mean(client, world, expected):
    e0, e1, e2 = world["examples"][:3]
    base0 = expected["base"][e0.dialogue]
    path = world["root"] / "batch.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "dialogue", "summary"])
        writer.writerow(["same", e0.dialogue, base0])  # the base's own words: ROUGE 100 for the base
        writer.writerow(["", "", ""])  # skipped and counted
        writer.writerow(["other", e1.dialogue, "Quokka xylophone."])  # words no tiny model writes: 0
        writer.writerow(["none", e2.dialogue, ""])  # no reference: summarised, not scored
    summary, rows, comparison, chart, csv_path = client.predict(
        file=handle_file(str(path)), variants=["base", "lora-1"], api_name="/summarize_batch"
    )
    assert summary["dialogues"] == 3 and summary["with_references"] == 2
    assert "1 empty row(s) skipped." in summary["notes"]
    assert summary["mean_rouge"]["base"]["rouge1"] == 50.0  # (100 + 0) / 2
    with open(csv_path, encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert [w["id"] for w in written] == ["same", "other", "none"]
    assert [w["base: summary"] for w in written] == [expected["base"][e.dialogue] for e in (e0, e1, e2)]
    assert [w["lora-1: summary"] for w in written] == [expected["lora-1"][e.dialogue] for e in (e0, e1, e2)]
    assert [w["base: rouge1"] for w in written] == ["100.0", "0.0", ""]
    lora_rows = [100 * score_one(expected["lora-1"][e0.dialogue], [base0])["rouge1"], 0.0]
    assert float(written[0]["lora-1: rouge1"]) == pytest.approx(lora_rows[0])
    assert summary["mean_rouge"]["lora-1"]["rouge1"] == pytest.approx(sum(lora_rows) / 2)
    assert [r[0] for r in rows["data"]] == ["same", "other", "none"]
    assert [r[0] for r in comparison["data"]] == ["base", "lora-1", "lora-1 - base"] and chart is not None


def test_explain_gives_weights_over_the_turns_that_sum_to_one(client, world):
    example = world["examples"][1]
    turns = example.dialogue.splitlines()
    given = "Anna is going to the bank. She wants a ticket!"
    evidence, html = client.predict(dialogue=example.dialogue, variant="lora-2", summary=given, api_name="/explain")
    assert evidence["variant"] == "lora-2" and evidence["turns"] == turns
    assert [s["sentence"] for s in evidence["sentences"]] == ["Anna is going to the bank.", "She wants a ticket!"]
    for sentence in evidence["sentences"]:
        assert len(sentence["turn_weights"]) == len(turns)
        assert sum(sentence["turn_weights"]) == pytest.approx(1.0, abs=1e-5)
    assert html.count('class="sentence"') == 2 and html.count('class="turn"') == 2 * len(turns)

    own, _ = client.predict(dialogue=example.dialogue, variant="full", api_name="/explain")  # its own summary
    assert own["summary"] and all(sum(s["turn_weights"]) == pytest.approx(1.0, abs=1e-5) for s in own["sentences"])


def test_evaluate_runs_test_dialogues_through_every_variant(client, world):
    summary, comparison, chart, csv_path = client.predict(n_dialogues=2, api_name="/evaluate")
    assert summary["dialogues"] == 2 and summary["variants"] == NAMES and set(summary["mean_rouge"]) == set(NAMES)
    assert [r[0] for r in comparison["data"]][-3:] == ["full - base", "lora-1 - base", "lora-2 - base"]
    assert "[95% interval]" in comparison["headers"][5] and "unsupported" in comparison["headers"][6]
    lora = summary["differences_from_base"]["lora-1"]["rougeL"]
    assert lora["dialogues"] == 2 and lora["resamples"] >= 1000 and "fewer than 10" in lora["note"]
    assert lora["low"] <= lora["difference"] <= lora["high"]
    assert set(summary["share_with_unsupported_fact"]) == set(NAMES)
    with open(csv_path, encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert [row["id"] for row in written] == ["test_0", "test_1"] and "base: unsupported facts" in written[0]
