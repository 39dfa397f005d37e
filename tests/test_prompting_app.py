"""The Prompting Space end to end: `spaces/prompting/app.py` on 127.0.0.1 with a tiny model, called with
`gradio_client` (every named endpoint). Its page in Chromium: tests/test_browser.py.

The app is started once for the module (startup is most of the cost); every test uses it.
"""

from __future__ import annotations

import csv
import json
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from gradio_client.utils import QueueError, Status

from llmft.apps.demo_note import DEMO_MARKER
from llmft.data import DialogueExample
from llmft.demo.tiny import synthetic_dialogues
from llmft.faithfulness import unsupported_facts
from llmft.feedback import read_rows
from llmft.metrics import mean_scores, score_one
from llmft.prompts import INSTRUCTION, pick_shots
from tests.support.apps import (
    RunningApp,
    guarded_env,
    log_on_failure,
    running_apps,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
APP = REPO_ROOT / "spaces" / "prompting" / "app.py"
FAST = {"max_new_tokens": 8}  # tiny random model: a few tokens say as much as many

# Five test dialogues: three on distinct subjects (for the similarity picker) and two synthetic ones.
# The file has no train split, so shots come from the other rows of the same file.
ROWS = [
    DialogueExample(
        "weather", "#Person1#: Will it rain tomorrow?\n#Person2#: Yes, take an umbrella.",
        ["It will rain tomorrow."], "weather",
    ),
    DialogueExample(
        "bank", "#Person1#: I want to open a savings account.\n#Person2#: Fill in this form.",
        ["Person1 opens a savings account.", "Person2 gives Person1 a form for a savings account."], "banking",
    ),
    DialogueExample(
        "food", "#Person1#: The pasta here is great.\n#Person2#: Let us order dessert too.",
        ["They like the pasta and order dessert."], "restaurant",
    ),
    *synthetic_dialogues(2),
]
QUERY = "#Person1#: How much interest does a deposit account pay?\n#Person2#: Two percent a year."


def _write_jsonl(path: Path, rows: list[DialogueExample]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            record = {"id": row.id, "dialogue": row.dialogue, "topic": row.topic}
            record.update({f"summary{i}": s for i, s in enumerate(row.summaries, start=1)})
            handle.write(json.dumps(record) + "\n")
    return path


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    """A folder the app may load models from by path (`LLMFT_MODEL_DIRS`); tests put models there."""
    return tmp_path_factory.mktemp("loadable-models")


@pytest.fixture(scope="module")
def votes_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("prompting-votes")


@pytest.fixture(scope="module")
def servers(tiny_models, models_dir, tmp_path_factory, votes_dir):
    """Two apps, started side by side (startup is most of this module's time):

    - `app`: a tiny model and a five-dialogue file;
    - `offline_app`: the real defaults (flan-t5-base, knkarthick/dialogsum), an empty cache, no network.
    """
    root = tmp_path_factory.mktemp("prompting-app")
    env = guarded_env()
    env.update(
        LLMFT_BASE_MODEL=str(tiny_models.base),
        LLMFT_MODELS=str(tiny_models.lora),
        LLMFT_DATASET=str(_write_jsonl(root / "dialogues.jsonl", ROWS)),
        LLMFT_MAX_EVAL="10",
        LLMFT_MAX_QUEUE="1",  # one generation waiting fills the queue (test_lookups_answer_while_the_queue_is_full)
        LLMFT_MODEL_DIRS=str(models_dir),  # folders a request may load by path (a broken one, below)
        HF_HOME=str(root / "hf"),
        LLMFT_FEEDBACK_DIR=str(votes_dir),
    )
    offline_env = guarded_env()
    offline_env["LLMFT_FEEDBACK"] = "0"  # feedback off: no /vote, and the page says nothing about it
    for name in ("LLMFT_BASE_MODEL", "LLMFT_DATASET"):
        offline_env.pop(name, None)
    offline_env["LLMFT_MODELS"] = str(tiny_models.base)  # offered, at hand: works without the network
    offline_env["HF_HOME"] = str(root / "empty-hf")
    with running_apps({"app": (APP, env), "offline_app": (APP, offline_env)}, root, timeout=150) as apps:
        yield apps


@pytest.fixture(scope="module")
def app(servers) -> RunningApp:
    return servers["app"]


@pytest.fixture(scope="module")
def offline_app(servers) -> RunningApp:
    return servers["offline_app"]


@pytest.fixture(scope="module")
def client(app) -> Client:
    return Client(app.url, verbose=False)


@pytest.fixture(autouse=True)
def _app_log_on_failure(request, servers):
    yield from log_on_failure(request, *servers.values())


def _compare(client: Client, **kwargs):
    result = client.predict(api_name="/compare", **{**FAST, **kwargs})
    return result[0], result


def _shot_count(prompt: str) -> int:
    return prompt.count(INSTRUCTION) - 1


def test_named_endpoints_are_documented(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert {"/compare", "/evaluate", "/load_example", "/random_example"} <= set(api["named_endpoints"])
    compare_params = [p["parameter_name"] for p in api["named_endpoints"]["/compare"]["parameters"]]
    assert compare_params[:4] == ["dialogue", "reference", "model", "a_shots"]
    assert not APP.with_suffix(".pyi").exists()  # Gradio writes one next to app.py for component subclasses


def test_a_vote_for_the_best_column_is_one_row_and_off_means_no_vote(client, votes_dir, offline_app):
    weather = ROWS[0]
    result, outputs = _compare(client, dialogue=weather.dialogue, reference="It will rain tomorrow.")
    note = client.predict(weather.dialogue, result, "B", "B keeps the umbrella", api_name="/vote")
    assert note.startswith("Thanks: your vote for column B was recorded.") and "local folder" in note
    [row] = read_rows(votes_dir)
    assert (row["app"], row["vote"], row["variant"], row["comment"]) == ("prompting", "best", "B",
                                                                          "B keeps the umbrella")
    assert row["summary"] == result["columns"][1]["summary"] and row["model"] == result["model"]
    assert row["settings"] == result["settings"] and [c["column"] for c in row["columns"]] == ["A", "B", "C"]
    with pytest.raises(AppError, match="Compare first, then pick the best column"):
        client.predict(weather.dialogue, result, "D", "", api_name="/vote")
    off = Client(offline_app.url, verbose=False).view_api(print_info=False, return_format="dict")
    assert "/vote" not in off["named_endpoints"] and "/compare" in off["named_endpoints"]
    assert "Votes" not in urllib.request.urlopen(offline_app.url + "/config", timeout=30).read().decode()


def test_compare_shots_match_what_was_asked_and_rouge_uses_the_reference(client):
    weather = ROWS[0]
    references = ["It will rain tomorrow.", "Take an umbrella."]
    result, outputs = _compare(
        client,
        dialogue=weather.dialogue,
        reference="\n".join(references),
        a_shots=0,
        b_shots=1, b_strategy="first",
        c_shots=3, c_strategy="random", c_seed=5,
    )
    others = ROWS[1:]  # the dialogue itself is never its own example
    expected = [[], [others[0].id], [s.id for s in pick_shots(ROWS, 3, "random", dialogue=weather.dialogue, seed=5)]]
    columns = result["columns"]
    assert [c["shot_ids"] for c in columns] == expected
    by_id = {row.id: row for row in ROWS}
    for column, ids, prompt_box in zip(columns, expected, (outputs[5], outputs[8], outputs[11]), strict=True):
        assert column["prompt"] == prompt_box and _shot_count(column["prompt"]) == len(ids)
        assert column["prompt"].endswith(f"{weather.dialogue}\n\nSummary:")
        for shot_id in ids:  # each shot appears whole: its dialogue and its reference summary
            assert f"{by_id[shot_id].dialogue}\n\nSummary: {by_id[shot_id].summary}" in column["prompt"]
        assert column["prompt_tokens"] <= 512 and "nothing dropped" in column["fit_report"]
        assert column["summary"] and column["seconds"] > 0
        # ROUGE is against the references given (best of the two), not the dataset's; F-measure in percent.
        expected_rouge = {k: 100 * v for k, v in score_one(column["summary"], references).items()}
        assert column["rouge"] == pytest.approx(expected_rouge)
        facts = unsupported_facts(column["summary"], weather.dialogue)  # every column says what it flagged
        assert column["faithfulness"]["unsupported_facts"] == [f.to_dict() for f in facts]
        assert f"Unsupported facts: **{len(facts)}**" in outputs[4 + 3 * columns.index(column)]
    assert result["references"] == references and result["rouge_scale"] == "ROUGE F-measure, %"
    assert result["model_note"] is None and outputs[12].startswith("✅ Every column used the shots it asked for")
    assert [c["label"] for c in columns] == ["A · 0-shot", "B · 1-shot first-k", "C · 3-shot random (seed 5)"]
    table = outputs[1]
    assert [row[0] for row in table["data"]] == [c["label"] for c in columns]
    assert outputs[2] is not None  # the chart
    assert outputs[3] == columns[0]["summary"] and "tokens" in outputs[4]


def test_compare_without_a_reference_has_no_rouge(client):
    result, outputs = _compare(client, dialogue=QUERY, reference="", b_shots=0, c_shots=0)
    assert all(c["rouge"] is None for c in result["columns"])
    assert "no reference" in outputs[4]


def test_similar_picker_through_the_endpoint_uses_embedding_neighbours(client):
    """The packaged all-MiniLM-L6-v2, offline, in the app: shots are the dialogues nearest by cosine similarity."""
    from sentence_transformers import SentenceTransformer

    from llmft.prompts import default_embedding_model

    model = SentenceTransformer(default_embedding_model(), device="cpu")
    vectors = model.encode([QUERY, *(r.dialogue for r in ROWS)], normalize_embeddings=True)
    similarity = vectors[1:] @ vectors[0]
    nearest = [ROWS[i].id for i in similarity.argsort()[::-1][:2]]

    result, outputs = _compare(
        client, dialogue=QUERY, reference="", a_shots=2, a_strategy="similar", b_shots=0, c_shots=0
    )
    assert result["columns"][0]["shot_ids"] == nearest
    assert nearest[0] == "bank"  # a question about a deposit account is nearest to opening a savings account
    assert outputs[5].startswith(f"{INSTRUCTION}\n\n{ROWS[1].dialogue}")


def test_examples_by_id_topic_and_at_random(client):
    bank = ROWS[1]
    assert client.predict(example_id="bank", topic="", api_name="/load_example") == (
        "bank", bank.dialogue, "\n".join(bank.summaries)
    )
    assert client.predict(example_id="", topic="restaurant", api_name="/load_example")[0] == "food"
    assert client.predict(topic="banking", api_name="/random_example")[0] == "bank"
    seen = {client.predict(topic="", api_name="/random_example")[0] for _ in range(4)}
    assert seen <= {row.id for row in ROWS}


def test_a_dialogue_longer_than_the_model_takes_is_cut_and_said_so(client):
    long_dialogue = "\n".join(row.dialogue for row in synthetic_dialogues(40))
    result, outputs = _compare(client, dialogue=long_dialogue, reference="", a_shots=0, b_shots=2, c_shots=0)
    zero, two = result["columns"][0], result["columns"][1]
    assert zero["dialogue_tokens_cut"] > 0 and zero["prompt_tokens"] <= 512
    assert zero["prompt"].endswith("\n\nSummary:") and "cut the last" in zero["fit_report"]
    assert two["dropped_shot_ids"] and two["shot_ids"] == []  # shots go first, then the dialogue is cut
    # The column says it ran without its shots, in its label, the table, and the page's persistent note.
    assert two["label"] == "B · 2-shot first-k → 0 used" and two["shots_used"] == 0
    assert outputs[1]["data"][1][:3] == ["B · 2-shot first-k → 0 used", 2, 0]
    assert any("longer than the model reads" in w for w in result["warnings"])
    assert "B · 2-shot first-k → 0 used: asked for 2 shot(s), used 0: the model reads 512 tokens" in outputs[12]


def test_a_lora_adapter_and_beam_search(client, tiny_models):
    result, _ = _compare(
        client, dialogue=QUERY, reference="Deposits pay two percent.", model=str(tiny_models.lora),
        b_shots=0, c_shots=0, decoding="beam", num_beams=2,
    )
    assert result["model"] == str(tiny_models.lora) and result["settings"]["num_beams"] == 2
    assert result["columns"][0]["summary"]


def test_evaluate_scores_every_strategy_and_writes_every_prompt(client):
    summary, table, chart, csv_path, notes = client.predict(
        n_dialogues=3, a_shots=0, b_shots=1, b_strategy="first", c_shots=2, c_strategy="random", c_seed=1,
        api_name="/evaluate", **FAST,
    )
    assert summary["rouge_scale"] == "ROUGE F-measure, %" and "fewer than 10 dialogues" in notes  # 3 dialogues
    assert table["headers"][2:5] == ["shots asked", "shots used (mean)", "dialogues that lost shots"]
    pairs = [(d["column"][0], d["minus"][0]) for d in summary["differences"]]
    assert pairs == [("B", "A"), ("C", "A"), ("C", "B")]  # column against column, every pair
    assert all(d["rougeL"]["dialogues"] == 3 and d["rougeL"]["resamples"] >= 1000 for d in summary["differences"])
    assert table["data"][0][-1] == "" and table["data"][1][-1].startswith("B − A: ")
    assert [row[2:5] for row in table["data"]] == [[0, 0, 0], [1, 1, 0], [2, 2, 0]]
    labels = ["A · 0-shot", "B · 1-shot first-k", "C · 2-shot random (seed 1)"]
    assert [s["label"] for s in summary["strategies"]] == labels and [r[0] for r in table["data"]] == labels
    assert chart is not None
    with open(csv_path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 * 3
    references = {row.id: row.summaries for row in ROWS}
    dialogues = {row.id: row.dialogue for row in ROWS}
    for row in rows:
        shots = row["shot_ids"].split()
        assert len(shots) == int(row["shots_requested"]) == int(row["shots_used"]) == _shot_count(row["prompt"])
        assert row["example_id"] not in shots
        assert row["references"].split("\n") == references[row["example_id"]]
        facts = unsupported_facts(row["prediction"], dialogues[row["example_id"]])
        assert int(row["unsupported"]) == len(facts)
        expected = score_one(row["prediction"], references[row["example_id"]])  # in [0, 1]; the CSV has percent
        for name in expected:
            assert float(row[f"{name}_pct"]) == pytest.approx(100 * expected[name], abs=1e-4)
    assert [r["example_id"] for r in rows[:3]] == ["weather", "bank", "food"]  # the first N, in file order
    for strategy, label in zip(summary["strategies"], labels, strict=True):
        per_row = [{k: float(r[f"{k}_pct"]) for k in strategy["rouge"]} for r in rows if r["column"] == label]
        assert strategy["rouge"] == pytest.approx(mean_scores(per_row), abs=1e-3)



def test_the_embedded_demo_model_is_named_as_such(client, tiny_models, models_dir):
    """A model folder with the demo build's marker (written here, as `llmft.demo` does) makes the result say so."""
    demo = shutil.copytree(tiny_models.base, models_dir / "demo-t5")
    (demo / DEMO_MARKER).write_text("{}", encoding="utf-8")
    result, outputs = _compare(client, dialogue=QUERY, reference="", model=str(demo), b_shots=0, c_shots=0)
    assert "embedded demo model" in result["model_note"] and "not meaningful" in result["model_note"]
    assert outputs[12].startswith("ℹ️ **The model answering is the embedded demo model")


RUNNING = {Status.PROCESSING, Status.PROGRESS}  # a job with a progress bar reports PROGRESS while it runs


def _run_off_the_queue(app: RunningApp, api_name: str, *data: str) -> list:
    """Call an event as the page does for events with `queue=False`: one POST to /gradio_api/run/<name>.

    (Gradio's JavaScript client takes this route for them; `gradio_client` always joins the queue.)
    """
    request = urllib.request.Request(
        f"{app.url}/gradio_api/run/{api_name}", data=json.dumps({"data": list(data)}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())["data"]


def test_lookups_answer_while_the_queue_is_full(app):
    """Comparisons fill the queue (LLMFT_MAX_QUEUE=1: one running, one waiting); the dialogue menu still answers.

    One client per caller, as with separate visitors (a client's jobs share one event stream, which a
    "queue full" answer would end for all of them).
    """
    def visitor() -> Client:
        return Client(app.url, verbose=False)

    slow = visitor().submit(
        dialogue=QUERY, reference="", b_shots=0, c_shots=0, max_new_tokens=512, api_name="/compare"
    )
    waiting = None
    try:
        deadline = time.monotonic() + 60
        while slow.status().code not in RUNNING and time.monotonic() < deadline:
            time.sleep(0.1)
        assert slow.status().code in RUNNING
        waiting = visitor().submit(dialogue=QUERY, reference="", **FAST, api_name="/compare")
        while waiting.status().code != Status.IN_QUEUE and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(QueueError):  # the queue is full now: a third comparison is refused
            visitor().predict(dialogue=QUERY, reference="", **FAST, api_name="/compare")
        started = time.monotonic()
        assert _run_off_the_queue(app, "load_example", "bank", "")[0] == "bank"
        assert _run_off_the_queue(app, "random_example", "banking")[0] == "bank"
        assert time.monotonic() - started < 10  # not after the 512-token comparison
        assert slow.status().code in RUNNING  # the queue was full all along
        with pytest.raises(urllib.error.HTTPError, match="404"):  # generation cannot go around the queue
            _run_off_the_queue(app, "compare", QUERY)
    finally:
        if waiting is not None:
            waiting.cancel()
        slow.result(timeout=300)  # let it finish, so later tests find an empty queue


def test_without_network_the_app_serves_and_says_what_is_missing(offline_app, tiny_models):
    client = Client(offline_app.url, verbose=False)
    zero_shot = {"a_shots": 0, "b_shots": 0, "c_shots": 0, **FAST}
    with pytest.raises(AppError, match="Model 'google/flan-t5-base' is not in the local cache"):
        client.predict(dialogue=QUERY, reference="", api_name="/compare", **zero_shot)
    with pytest.raises(AppError, match="Could not load dataset 'knkarthick/dialogsum'"):
        client.predict(example_id="test_0", topic="", api_name="/load_example")
    # Pasting a dialogue still works with a model that is at hand; shots need the dataset, and say so.
    result = client.predict(dialogue=QUERY, reference="", model=str(tiny_models.base), api_name="/compare", **zero_shot)
    assert result[0]["columns"][0]["summary"]
    with pytest.raises(AppError, match="Columns with shots need examples from the dataset"):
        client.predict(dialogue=QUERY, model=str(tiny_models.base), b_shots=1, api_name="/compare", **FAST)
