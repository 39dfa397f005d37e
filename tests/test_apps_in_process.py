"""The Summarizer and Prompting pages built in this process (`build_app(settings, services)`, then `launch` with
`prevent_thread_lock`) over tiny models and a five-dialogue file, called with `gradio_client`: their API names and
a call each, without a second interpreter. What each Space does on start, as `python spaces/<name>/app.py`:
tests/test_summarizer_app.py and tests/test_prompting_app.py (the Shopbot's built page: tests/test_shopbot_app.py).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client

from llmft.apps import prompting, summarizer
from llmft.apps.services import PromptingServices, SummarizerServices
from llmft.data import DialogueExample, write_jsonl
from llmft.demo.tiny import synthetic_dialogues
from llmft.feedback import FeedbackStore, read_rows
from llmft.prompting import DEFAULT_COLUMNS, Decoding, PromptingLab
from llmft.settings import FeedbackSettings, PromptingSettings, SummarizerSettings
from llmft.summarizing import Summarizer
from tests.support.apps import serving_in_process

ROWS = [DialogueExample(f"test_{i}", r.dialogue, r.summaries, r.topic)
        for i, r in enumerate(synthetic_dialogues(5, seed=3))]


def _api(client: Client) -> dict[str, Any]:
    return client.view_api(print_info=False, return_format="dict")["named_endpoints"]


def _endpoints(client: Client) -> dict[str, list[str]]:
    return {name: [p["parameter_name"] for p in endpoint["parameters"]] for name, endpoint in _api(client).items()}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_jsonl(ROWS, tmp_path_factory.mktemp("in-process") / "test.jsonl")


def test_the_summarizer_built_in_process(tiny_models, dataset: Path, tmp_path: Path) -> None:
    settings = SummarizerSettings(base_model=str(tiny_models.base), adapters=[str(tiny_models.lora)],
                                  dataset=str(dataset), max_new_tokens=4, max_eval_dialogues=4)
    services = SummarizerServices(Summarizer(settings), FeedbackStore(FeedbackSettings(folder=tmp_path / "votes")))
    with serving_in_process(summarizer.build_app(settings, services), summarizer.launch, settings) as url:
        client = Client(url, verbose=False)
        endpoints = _endpoints(client)
        assert {"/summarize", "/summarize_batch", "/evaluate", "/explain", "/models", "/load_example",
                "/vote"} <= set(endpoints)
        assert endpoints["/summarize"] == ["dialogue", "reference", "variants", "base_model", "full_model",
                                           "adapters", "max_new_tokens"]
        assert endpoints["/vote"] == ["dialogue", "result", "variant", "vote", "comment", "max_new_tokens"]
        example_id, dialogue, _ = client.predict("test_1", api_name="/load_example")
        assert (example_id, dialogue) == ("test_1", ROWS[1].dialogue)
        result = client.predict(dialogue=dialogue, variants=["base"], api_name="/summarize")[0]
        [row] = result["results"]
        assert row["variant"] == "base" and row["error"] is None and row["summary"] is not None
        note = client.predict(dialogue=dialogue, result=result, variant="base", vote="up", comment="",
                             api_name="/vote")
        assert note.startswith("Thanks: your 👍 on base was recorded.")
        [vote] = read_rows(tmp_path / "votes")
        assert vote["settings"] == {"max_new_tokens": 4}  # the Space's own, as none was sent


def test_the_prompting_page_built_in_process(tiny_models, dataset: Path, tmp_path: Path) -> None:
    settings = PromptingSettings(base_model=str(tiny_models.base), dataset=str(dataset), max_eval_dialogues=3)
    services = PromptingServices(PromptingLab(settings), FeedbackStore(FeedbackSettings(enabled=False)))
    with serving_in_process(prompting.build_app(settings, services), prompting.launch, settings) as url:
        client = Client(url, verbose=False)
        endpoints = _endpoints(client)
        assert {"/compare", "/evaluate", "/load_example", "/random_example"} <= set(endpoints)
        assert "/vote" not in endpoints  # feedback off
        controls = [f"{c}_{f}" for c in "abc" for f in ("shots", "strategy", "seed")] + [
            "decoding", "num_beams", "temperature", "top_p", "max_new_tokens", "seed"]
        assert endpoints["/compare"] == ["dialogue", "reference", "model", *controls]
        assert endpoints["/evaluate"] == ["n_dialogues", "model", *controls]
        defaults = {p["parameter_name"]: p["parameter_default"] for p in _api(client)["/compare"]["parameters"]}
        first = dataclasses.asdict(Decoding())  # the one place the generation defaults are written
        assert {name: defaults[name] for name in first} == first
        assert [defaults[f"{c.name.lower()}_shots"] for c in DEFAULT_COLUMNS] == [0, 1, 2]
        result = client.predict(dialogue=ROWS[0].dialogue, b_shots=0, c_shots=0, max_new_tokens=4,
                                api_name="/compare")
        assert len(result) == 13 and [c["shots_requested"] for c in result[0]["columns"]] == [0, 0, 0]
        assert result[0]["settings"]["max_new_tokens"] == 4
