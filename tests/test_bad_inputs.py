"""The catalogue of bad inputs: for each of the three Spaces, what a person (or a script) can send that the app cannot
use, and the exact message the person sees. One table, so the whole contract is read in one place.

Every row goes through the real app over HTTP with `gradio_client`: the app is started once per module (each app
once), a row calls one endpoint, and the row's message must be what comes back: the error Gradio shows (`error`),
or, where the app still answers, the place on the result where the person reads it (`notes`, `notices`, ...).
After the table, each app must still serve a good request; in the browser, the Prompting page shows an empty
dialogue's refusal and the Summarizer page a wrong upload's.

The Shopbot's model server is tests.support.fake_model_server on the app's OPENAI_BASE_URL: each row sets how it
fails (down, silent, refusing the key). Library-level checks of the same rules live beside their modules' tests.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from llmft.data import DialogueExample, write_jsonl
from llmft.demo.tiny import build_tiny_t5, synthetic_dialogues
from tests.support.apps import (
    AppStartError,
    chromium_available,
    free_port,
    guarded_env,
    log_on_failure,
    running_apps,
    start_app,
)
from tests.support.fake_model_server import FakeModelServer
from tests.support.require import require
from tests.support.screenshots import watched_page

SPACES = Path(__file__).resolve().parent.parent / "spaces"
SECRET = "sk-bad-inputs-secret-key-0123456789"
PASSWORD = "admin-pw-for-tests"
ROWS = [  # five test dialogues: the Prompting Space's shot pool is the other four
    DialogueExample(f"test_{i}", r.dialogue, r.summaries, r.topic) for i, r in enumerate(synthetic_dialogues(5, seed=3))
]
DIALOGUE = ROWS[0].dialogue
FAST = {"max_new_tokens": 4}  # tiny random models: a few tokens say as much as many
HUGE = "#Person1#: " + "word " * 5_000  # 25,011 characters, over the 20,000 the apps take
LONG_NAME = "a" * 300


@dataclass(frozen=True)
class Upload:
    """A file the row uploads (written to a temporary folder first)."""

    name: str
    content: bytes | str


@dataclass(frozen=True)
class Case:
    app: str  # prompting | summarizer | shopbot
    endpoint: str
    what: str  # the bad input, in words (the test id)
    inputs: dict[str, Any]  # keyword arguments of the endpoint; "{name}" in a string: a path from the fixtures
    message: str  # what the person sees (a literal part of it; "{name}" as in inputs)
    shown: str = "error"  # where: the error Gradio shows, or a place on the result (see SHOWN)
    backend: str = "down"  # the Shopbot's model server for this row (see FakeModelServer.MODES)
    extra: tuple[str, ...] = field(default=())  # more literal parts that must be there too


P, S, B = "prompting", "summarizer", "shopbot"
CATALOGUE = [
    # --- Prompting: /compare, /evaluate, /load_example ---------------------------------------------------------
    Case(P, "/compare", "empty dialogue", {"dialogue": "   ", "reference": ""},
         "The dialogue is empty: paste a conversation or pick one from the dataset."),
    Case(P, "/compare", "dialogue with no turns", {"dialogue": "\n \n\t\n", "reference": ""},
         "The dialogue is empty: paste a conversation or pick one from the dataset."),
    Case(P, "/compare", "reference without a dialogue", {"dialogue": "", "reference": "They meet."},
         "A reference summary was given but no dialogue: paste the dialogue it summarises."),
    Case(P, "/compare", "huge dialogue", {"dialogue": HUGE, "reference": ""},
         "The dialogue is 25,010 characters; this app takes at most 20,000 (the model reads only its first 512 "
         "tokens, about 2,000 characters)."),
    Case(P, "/compare", "more shots than examples", {"dialogue": DIALOGUE, "c_shots": 5, "c_strategy": "first"},
         "Asked for 5 shots but only 4 example"),
    Case(P, "/compare", "shots above the slider", {"dialogue": DIALOGUE, "a_shots": 6},
         "A: shots must be from 0 to 5, not 6."),
    Case(P, "/compare", "negative shots", {"dialogue": DIALOGUE, "c_shots": -1},
         "C: shots must be from 0 to 5, not -1."),
    Case(P, "/compare", "unknown shot picker", {"dialogue": DIALOGUE, "b_strategy": "best"},
         "B: pick shots by: unknown shot picker 'best'"),
    Case(P, "/compare", "unknown decoding", {"dialogue": DIALOGUE, "decoding": "creative"},
         "Decoding: unknown decoding 'creative'"),
    Case(P, "/compare", "too many beams", {"dialogue": DIALOGUE, "decoding": "beam", "num_beams": 9},
         "Beams must be from 2 to 8, not 9."),
    Case(P, "/compare", "temperature too high", {"dialogue": DIALOGUE, "decoding": "sample", "temperature": 3},
         "Temperature must be above 0 and at most 2, not 3."),
    Case(P, "/compare", "top-p zero", {"dialogue": DIALOGUE, "decoding": "sample", "top_p": 0},
         "Top-p must be above 0 and at most 1, not 0."),
    Case(P, "/compare", "max new tokens too many", {"dialogue": DIALOGUE, "max_new_tokens": 600},
         "Max new tokens must be from 1 to 512, not 600."),
    Case(P, "/compare", "unknown model id", {"dialogue": DIALOGUE, "model": "nobody/no-such-model"},
         "Model 'nobody/no-such-model' is not offered here: choose one from the model menu."),
    Case(P, "/compare", "path traversal out of the model folder", {"dialogue": DIALOGUE, "model": "{models}/../../etc"},
         "is not offered here: choose one from the model menu."),
    Case(P, "/compare", "absolute path to a system folder", {"dialogue": DIALOGUE, "model": "/etc"},
         "Model '/etc' is not offered here"),
    Case(P, "/compare", "NUL byte in the model id", {"dialogue": DIALOGUE, "model": "google/flan-t5-base\x00.bin"},
         "Model 'google/flan-t5-base\\x00.bin' contains a control character (such as a NUL byte)"),
    Case(P, "/compare", "300-character model id", {"dialogue": DIALOGUE, "model": LONG_NAME},
         f"Model '{'a' * 79}…' is too long for a Hub id (at most 96 characters per part)"),
    Case(P, "/compare", "model folder without weights", {"dialogue": DIALOGUE, "model": "{models}/broken-model"},
         "Could not load model"),
    Case(P, "/load_example", "unknown example id", {"example_id": "nope", "topic": ""},
         "No test dialogue with id 'nope'"),
    Case(P, "/evaluate", "no dialogues to evaluate", {"n_dialogues": 0},
         "N test dialogues must be from 1 to 10, not 0."),
    Case(P, "/evaluate", "more dialogues than allowed", {"n_dialogues": 11},
         "N test dialogues must be from 1 to 10, not 11."),
    # --- Summarizer: /summarize, /summarize_batch, /explain, /models, /evaluate, /load_example ------------------
    Case(S, "/summarize", "empty dialogue", {"dialogue": "  \n "},
         "The dialogue is empty: paste a conversation or pick one from the dataset."),
    Case(S, "/summarize", "dialogue with no turns", {"dialogue": "\n \n\t\n"},
         "The dialogue is empty: paste a conversation or pick one from the dataset."),
    Case(S, "/summarize", "reference without a dialogue", {"dialogue": "", "reference": "Anna goes to the bank."},
         "A reference summary was given but no dialogue: paste the dialogue it summarises."),
    Case(S, "/summarize", "huge dialogue", {"dialogue": HUGE}, "The dialogue is 25,010 characters; this app takes at "
         "most 20,000"),
    Case(S, "/summarize", "unknown variant", {"dialogue": DIALOGUE, "variants": ["lora-7"]},
         "Unknown variant(s) lora-7; this Space has base, full, lora-1"),
    Case(S, "/summarize", "max new tokens above the slider", {"dialogue": DIALOGUE, "max_new_tokens": 600},
         "Max new tokens must be from 1 to 512, not 600."),
    Case(S, "/summarize", "base model not offered: its variants refused, the full model answers",
         {"dialogue": DIALOGUE, "base_model": "me/not-offered"},
         "base: Model 'me/not-offered' is not offered here", shown="variant errors",
         extra=("lora-1: Model 'me/not-offered' is not offered here", "full: ok")),
    Case(S, "/summarize", "base model not offered and only its variant chosen",
         {"dialogue": DIALOGUE, "base_model": "me/not-offered", "variants": ["base"]},
         "No chosen variant could be loaded.\nbase: Model 'me/not-offered' is not offered here"),
    Case(S, "/summarize", "path traversal as the base model",
         {"dialogue": DIALOGUE, "base_model": "{base}/../../../etc", "variants": ["base"]},
         "is not offered here: choose one from the model menu."),
    Case(S, "/summarize", "NUL byte in an adapter id", {"dialogue": DIALOGUE, "adapters": "me/lora\x00", **FAST},
         "Model 'me/lora\\x00' contains a control character (such as a NUL byte)", shown="variant errors"),
    Case(S, "/summarize", "300-character adapter id", {"dialogue": DIALOGUE, "adapters": LONG_NAME},
         "is too long for a Hub id (at most 96 characters per part)", shown="variant errors"),
    Case(S, "/models", "adapter trained on another base", {"adapters": "{lora}, {other_lora}"},
         "- **lora-2** (lora): `{other_lora}` on base `{base}`: **unavailable**: Adapter", shown="models note",
         extra=("trained on base model '{other_base}', but this Space's base is '{base}'",)),
    Case(S, "/explain", "unknown variant to explain", {"dialogue": DIALOGUE, "variant": "lora-7"},
         "Unknown variant(s) lora-7; this Space has base, full, lora-1"),
    Case(S, "/explain", "empty dialogue to explain", {"dialogue": " ", "variant": "base"},
         "The dialogue is empty: paste a conversation or pick one from the dataset."),
    Case(S, "/summarize_batch", "no file", {"file": None},
         "Upload a .csv or .jsonl file with a 'dialogue' column first."),
    Case(S, "/summarize_batch", "not a CSV or JSONL file", {"file": Upload("dialogues.txt", "dialogue\nhi\n")},
         # Gradio's own check of the upload's type (the file box accepts .csv and .jsonl), before the app's.
         "Invalid file type. Please upload a file that is one of these formats: ['.csv', '.jsonl']"),
    Case(S, "/summarize_batch", "binary file", {"file": Upload("binary.csv", b"\x89PNG\r\n\x1a\n\x00\x00")},
         "binary.csv is a binary file, not CSV or JSONL text: save it as UTF-8 text and upload that."),
    Case(S, "/summarize_batch", "not UTF-8", {"file": Upload("latin.csv", "dialogue\nCafé\n".encode("latin-1"))},
         "latin.csv is not UTF-8 text"),
    Case(S, "/summarize_batch", "wrong columns", {"file": Upload("columns.csv", "text,reference\nhi,there\n")},
         "columns.csv has no 'dialogue' column. Columns found: 'text', 'reference'. Expected: 'dialogue' (required) "
         "and 'summary'"),
    Case(S, "/summarize_batch", "header only", {"file": Upload("header.csv", "dialogue,summary\n")},
         "header.csv has no dialogues"),
    Case(S, "/summarize_batch", "file too big", {"file": Upload("big.jsonl", json.dumps({"dialogue": "x" * 4000}))},
         "big.jsonl is 4,016 bytes; the limit is 4,000 bytes. Split it into smaller files."),
    Case(S, "/summarize_batch", "too many rows", {"file": Upload("rows.csv", "dialogue\n" + "hi\n" * 6)},
         "rows.csv has 6 dialogues; the limit is 5 per file. Split it."),
    Case(S, "/summarize_batch", "reference without a dialogue",
         {"file": Upload("orphan.csv", "dialogue,summary\nhi,ok\n,lost\n")},
         "orphan.csv: row(s) 2 have a reference summary but no dialogue."),
    Case(S, "/summarize_batch", "JSONL line that is not an object", {"file": Upload("list.jsonl", '["hi"]\n')},
         "list.jsonl: line 1 is a JSON list, not an object with a 'dialogue'."),
    Case(S, "/evaluate", "more dialogues than the slider", {"n_dialogues": 5},
         "The number of dialogues must be from 1 to 4, not 5."),
    Case(S, "/evaluate", "no dialogues to evaluate", {"n_dialogues": 0},
         "The number of dialogues must be from 1 to 4, not 0."),
    Case(S, "/load_example", "unknown example id", {"example_id": "test_99"}, "No test dialogue with id 'test_99'"),
    # --- Shopbot: /answer, /chat, /sources, /ingest -------------------------------------------------------------
    Case(B, "/answer", "empty question", {"message": "   ", "history": []},
         "the message is empty: ask about a product, a price or a store policy"),
    Case(B, "/chat", "empty question in the chat", {"message": "   "},
         "the message is empty: ask about a product, a price or a store policy"),
    Case(B, "/sources", "empty search", {"question": ""},
         "the question is empty: ask about a product, a price or a store policy"),
    Case(B, "/answer", "huge question", {"message": "cheapest phone " + "x" * 20_000, "history": []},
         "Your message had 20,015 characters; only the first 2,000 were read (ask about one thing at a time).",
         shown="notices"),
    Case(B, "/answer", "model server down", {"message": "What is the cheapest phone?", "history": []},
         "The language model did not answer: the model server could not be reached (is it running? check "
         "OPENAI_BASE_URL). Here is the answer computed from the store's data.", shown="notices",
         extra=("The cheapest smartphone is the Nimbus A5, at $199.00 [1].",)),
    Case(B, "/chat", "model server down, in the chat", {"message": "What is the cheapest phone?"},
         "The language model did not answer: the model server could not be reached", shown="chat",
         extra=('data-id="SP-101"', "no model answered: this is the answer computed from the store")),
    Case(B, "/answer", "model server silent (timeout)", {"message": "What is the cheapest phone?", "history": []},
         "The language model did not answer: the model did not answer in time (LLMFT_CHAT_TIMEOUT).",
         shown="notices", backend="silent", extra=("The cheapest smartphone is the Nimbus A5, at $199.00 [1].",)),
    Case(B, "/answer", "OpenAI key missing or refused", {"message": "How much is express shipping?", "history": []},
         "The language model did not answer: the model server refused the API key (check OPENAI_API_KEY).",
         shown="notices", backend="refuse-key"),
    Case(B, "/ingest", "wrong admin password", {"files": [Upload("more.csv", "id,title,price\nX-1,Thing,5\n")],
                                                "password": "nope"}, "Wrong admin password."),
    Case(B, "/ingest", "no files", {"files": [], "password": PASSWORD}, "choose one or more files to ingest first"),
    Case(B, "/ingest", "catalogue with a bad price",
         {"files": [Upload("broken.csv", "id,title,price\nX-1,Thing,not-a-price\n")], "password": PASSWORD},
         "broken.csv"),
    Case(B, "/ingest", "unsupported file type", {"files": [Upload("tool.exe", b"MZ\x00\x00")], "password": PASSWORD},
         "unsupported file type: tool.exe (supported: "),
]
SHOWN = {  # where on a successful result the person reads the row's message
    "notices": lambda result: " ".join(result["notices"]) + " " + result["answer"],
    "chat": lambda result: "\n".join(result),  # the chat message and the sources under it
    "models note": lambda result: result[1],
    "variant errors": lambda result: "\n".join(f"{r['variant']}: {r['error'] or 'ok'}" for r in result[0]["results"]),
}


@pytest.fixture(scope="module")
def model_server():
    server = FakeModelServer(hang_seconds=10).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def world(tiny_models, model_server, tmp_path_factory):
    """The three apps, launched side by side, and the paths the table's "{name}" placeholders stand for."""
    root = tmp_path_factory.mktemp("bad-inputs")
    models = root / "models"  # LLMFT_MODEL_DIRS of the Prompting Space: a broken model inside
    broken = shutil.copytree(tiny_models.base, models / "broken-model")
    (broken / "model.safetensors").unlink()  # a config with no weights
    dataset = write_jsonl(ROWS, root / "test.jsonl")
    base = guarded_env()
    envs = {
        P: dict(base, LLMFT_BASE_MODEL=str(tiny_models.base), LLMFT_DATASET=str(dataset), LLMFT_MODEL_DIRS=str(models),
                LLMFT_MAX_EVAL="10", HF_HOME=str(root / "p-hf")),
        S: dict(base, LLMFT_SUMMARIZER_BASE=str(tiny_models.base), LLMFT_FULL_MODEL=str(build_tiny_t5(root / "full")),
                LLMFT_LORA_ADAPTERS=str(tiny_models.lora), LLMFT_MODELS=str(tiny_models.other_lora),
                LLMFT_DATASET=str(dataset), LLMFT_BATCH_MAX_BYTES="4000", LLMFT_BATCH_MAX_ROWS="5",
                LLMFT_MAX_EVAL="4", LLMFT_SUMMARY_TOKENS="4", HF_HOME=str(root / "s-hf")),
        B: dict(base, LLMFT_STORE_PATH=str(root / "store"), OPENAI_BASE_URL=model_server.url, OPENAI_API_KEY=SECRET,
                LLMFT_CHAT_TIMEOUT="2", LLMFT_SHOPBOT_ADMIN_PASSWORD=PASSWORD),
    }
    paths = {"models": str(models), "base": str(tiny_models.base), "lora": str(tiny_models.lora),
             "other_base": str(tiny_models.other_base), "other_lora": str(tiny_models.other_lora)}
    with running_apps({name: (SPACES / name / "app.py", env) for name, env in envs.items()}, root) as apps:
        yield {"apps": apps, "clients": {name: Client(app.url, verbose=False) for name, app in apps.items()},
               "paths": paths, "uploads": root / "uploads"}


@pytest.fixture(autouse=True)
def _app_logs_on_failure(request, world):
    yield from log_on_failure(request, *world["apps"].values())


def _resolve(value: Any, world: dict[str, Any]) -> Any:
    if isinstance(value, Upload):
        path = world["uploads"] / value.name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(value.content if isinstance(value.content, bytes) else value.content.encode("utf-8"))
        return handle_file(str(path))
    if isinstance(value, list):
        return [_resolve(item, world) for item in value]
    return value.format_map(world["paths"]) if isinstance(value, str) and "{" in value else value


@pytest.mark.parametrize("case", CATALOGUE, ids=lambda case: f"{case.app}{case.endpoint}: {case.what}")
def test_bad_input_gets_its_message(case: Case, world, model_server) -> None:
    model_server.mode = case.backend
    client = world["clients"][case.app]
    inputs = {name: _resolve(value, world) for name, value in case.inputs.items()}
    expected = [_resolve(text, world) for text in (case.message, *case.extra)]
    if case.shown == "error":
        with pytest.raises(AppError) as refused:
            client.predict(**inputs, api_name=case.endpoint)
        seen = str(refused.value)
    else:
        seen = SHOWN[case.shown](client.predict(**inputs, api_name=case.endpoint))
    for text in expected:
        assert text in seen
    assert SECRET not in seen


def test_after_the_catalogue_every_app_still_serves_and_never_logged_the_key(world, model_server) -> None:
    model_server.mode = "down"
    clients = world["clients"]
    result = clients[P].predict(dialogue=DIALOGUE, reference="", b_shots=0, c_shots=0, **FAST, api_name="/compare")
    assert len(result[0]["columns"]) == 3
    summary = clients[S].predict(dialogue=DIALOGUE, variants=["base"], api_name="/summarize")[0]
    assert summary["results"][0]["error"] is None
    reply = clients[B].predict("What is the cheapest phone?", [], api_name="/answer")
    assert reply["status"] == "retrieval-only" and reply["sources"][0]["id"] == "SP-101"
    assert model_server.requests > 0  # the silent and key rows did reach the model server
    assert SECRET not in world["apps"][B].log()


def test_shopbot_store_missing_stops_the_app_with_what_to_do(tmp_path) -> None:
    """A Chroma server named by the settings that does not answer: the app does not start, and says why."""
    port = free_port()
    env = dict(guarded_env(), LLMFT_SHOPBOT_STORE="env", LLMFT_CHROMA_HOST="127.0.0.1", LLMFT_CHROMA_PORT=str(port),
               OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(AppStartError) as failed:
        start_app(SPACES / B / "app.py", env, timeout=120, log_path=tmp_path / "app.log")
    assert (f"Chroma server 127.0.0.1:{port} does not answer" in str(failed.value)
            and f"start it with `chroma run --host 127.0.0.1 --port {port}` or unset LLMFT_CHROMA_HOST"
            in str(failed.value))


def test_the_prompting_page_shows_the_refusal(world) -> None:
    require(chromium_available(), "Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import expect

    with watched_page(world["apps"][P].url) as watched:
        page = watched.page
        expect(page.get_by_text("5 test dialogues from")).to_be_visible(timeout=30_000)
        page.get_by_label("Dialogue", exact=True).fill("   ")
        page.get_by_role("button", name="Compare", exact=True).click()
        expect(page.get_by_text("The dialogue is empty: paste a conversation or pick one from the dataset.")
               ).to_be_visible(timeout=30_000)
        assert re.fullmatch(r"\s*", page.get_by_label("A: summary").input_value())


def test_the_summarizer_page_shows_a_wrong_upload(world, tmp_path) -> None:
    """A file without a 'dialogue' column, uploaded in the page's Batch file tab: the message names the columns."""
    require(chromium_available(), "Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import expect

    upload = tmp_path / "columns.csv"
    upload.write_text("text,reference\nhi,there\n", encoding="utf-8")
    with watched_page(world["apps"][S].url) as watched:
        page = watched.page
        expect(page.get_by_text("5 test dialogues from")).to_be_visible(timeout=30_000)
        page.get_by_role("tab", name="Batch file").click()
        with page.expect_file_chooser() as chooser:
            page.get_by_role("button", name="Click to upload or drop files").click()
        chooser.value.set_files(str(upload))
        expect(page.get_by_text("columns.csv").first).to_be_visible(timeout=30_000)  # uploaded
        page.get_by_role("button", name="Summarize the file").click()
        expect(page.get_by_text("columns.csv has no 'dialogue' column. Columns found: 'text', 'reference'.")
               ).to_be_visible(timeout=30_000)
