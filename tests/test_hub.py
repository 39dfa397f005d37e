"""Push tiny models and adapters to the local Hub API server and pull them back, through huggingface_hub."""

import ast
import json
import re
import shutil
import subprocess
import sys
import time

import httpx
import pytest
import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData, metadata_load

from llmft.demo.tiny import synthetic_dialogues
from llmft.errors import ConfigError, HubError, ModelLoadError
from llmft.hub import CardScores, model_card, pull, push_folder, push_run
from llmft.models import GenerationSettings, generate, load_model
from llmft.prompts import zero_shot_prompt
from tests.support.silent_server import SilentServer
from tests.support.training import free_port

PROMPTS = [zero_shot_prompt(r.dialogue) for r in synthetic_dialogues(4)]
SETTINGS = GenerationSettings(max_new_tokens=8)
METRICS = {"rouge1": 0.4123, "rouge2": 0.171, "rougeL": 0.33, "rougeLsum": 0.331}
SCORES = CardScores(dataset="knkarthick/dialogsum", split="test", rows=1500, metrics=METRICS)


def test_full_model_round_trip_generates_identically(tiny_models, local_hub):
    card = model_card("me/tiny-full", "google/flan-t5-base", "full", "knkarthick/dialogsum", SCORES)
    pushed = push_folder(tiny_models.base, "me/tiny-full", model_card=card)
    assert pushed.commit_sha and pushed.repo_url.endswith("me/tiny-full")

    local = generate(load_model(str(tiny_models.base)), PROMPTS, SETTINGS)
    from_hub = load_model("me/tiny-full", use_cache=False)
    assert from_hub.kind == "model"
    assert generate(from_hub, PROMPTS, SETTINGS) == local

    card_on_hub = ModelCard.load("me/tiny-full")
    results = card_on_hub.data.eval_results
    assert {r.metric_name: r.metric_value for r in results} == METRICS
    assert card_on_hub.data.base_model == "google/flan-t5-base"


def test_adapter_round_trip_loads_on_its_base(tiny_models, local_hub, tmp_path):
    push_folder(tiny_models.base, "me/tiny-base")
    # Published adapters name their base by Hub id: stage a copy of the local adapter that does.
    staged = shutil.copytree(tiny_models.lora, tmp_path / "lora")
    config = json.loads((staged / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "me/tiny-base"
    (staged / "adapter_config.json").write_text(json.dumps(config))
    card = model_card("me/tiny-lora", "me/tiny-base", "lora", "knkarthick/dialogsum", SCORES)
    push_folder(staged, "me/tiny-lora", model_card=card)

    local = generate(load_model(str(tiny_models.lora)), PROMPTS, SETTINGS)
    from_hub = load_model("me/tiny-lora", use_cache=False)
    assert from_hub.kind == "adapter" and from_hub.base_model == "me/tiny-base"
    assert generate(from_hub, PROMPTS, SETTINGS) == local
    assert metadata_load(pull("me/tiny-lora") / "README.md")["library_name"] == "peft"


def test_pull_a_revision(tiny_models, local_hub, tmp_path):
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "notes.txt").write_text("v1")
    first = push_folder(folder, "me/revisions")
    (folder / "notes.txt").write_text("v2")
    push_folder(folder, "me/revisions")
    assert (pull("me/revisions") / "notes.txt").read_text() == "v2"
    assert (pull("me/revisions", revision=first.commit_sha) / "notes.txt").read_text() == "v1"
    with pytest.raises(HubError, match="has no revision 'nope'"):
        pull("me/revisions", revision="nope")
    with pytest.raises(HubError, match="'me/missing' was not found on the Hub"):
        pull("me/missing")


def test_push_without_token_is_refused_before_any_upload(tiny_models, local_hub, monkeypatch):
    import huggingface_hub.constants as hf_constants

    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tiny_models.base / "no-token-here"))
    with pytest.raises(HubError, match="needs a Hub token with write access"):
        push_folder(tiny_models.base, "me/no-token")
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")
    with pytest.raises(HubError, match=r"HTTP 401") as err:
        push_folder(tiny_models.base, "me/bad-token")
    assert "hf_not_a_real_token" not in str(err.value)


def test_unknown_hub_model_is_a_clear_error(local_hub):
    with pytest.raises(ModelLoadError, match=rf"'me/nothing' was not found on the Hub \({local_hub.url}\)"):
        load_model("me/nothing", use_cache=False)


def test_model_card_metadata_parses():
    card = model_card("me/x", "google/flan-t5-base", "lora", "knkarthick/dialogsum", SCORES, recipe={"r": 32})
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["base_model"] == "google/flan-t5-base" and meta["license"] == "cc-by-nc-sa-4.0"
    assert meta["model-index"][0]["results"][0]["metrics"][0]["type"] == "rouge"
    assert "r: 32" in card and "CC BY-NC-SA 4.0" in card


# --- cards say only what was measured ---------------------------------------------------------------


def test_card_metadata_round_trips_through_huggingface_hubs_card_classes():
    scores = CardScores("knkarthick/dialogsum", "validation", 12, {"rouge1": 0.5, "rougeLsum": 0.25})
    card = model_card("me/tiny-lora", "me/tiny-base", "lora", "knkarthick/dialogsum", scores, training_rows=40)
    common = dict(
        task_type="summarization",
        task_name="Dialogue summarisation",
        dataset_type="knkarthick/dialogsum",
        dataset_name="knkarthick/dialogsum",
        dataset_split="validation",
        metric_type="rouge",
    )
    expected = [
        EvalResult(**common, metric_name="rouge1", metric_value=0.5),
        EvalResult(**common, metric_name="rougeLsum", metric_value=0.25),
    ]
    data = ModelCard(card).data
    assert data.eval_results == expected
    # The model-index written into the card parses back (ModelCardData's own reader) to the same results.
    again = ModelCardData(**yaml.safe_load(data.to_yaml()))
    assert again.eval_results == expected and again.to_dict()["model-index"] == data.to_dict()["model-index"]
    assert data.base_model == "me/tiny-base" and data.datasets == ["knkarthick/dialogsum"]
    assert data.license == "cc-by-nc-sa-4.0" and data.library_name == "peft"
    assert (
        "on 12 dialogues of the `validation` split of [knkarthick/dialogsum](https://huggingface.co/datasets/knkarthick/dialogsum)"
        in card
    )
    assert "ROUGE-Lsum is computed on summaries split into sentences" in card
    assert "| rouge1 | 50.00 |" in card and "| rougeLsum | 25.00 |" in card
    assert "DialogSum test" not in card  # the old fixed wording


def test_a_card_without_scores_or_hub_ids_claims_nothing(tmp_path):
    data_folder = tmp_path / "my-dialogues"
    data_folder.mkdir()
    card = model_card("me/merged", None, "lora-merged", str(data_folder), recipe={"dataset_name": str(data_folder)})
    data = ModelCard(card).data
    assert data.eval_results is None and data.base_model is None and data.datasets is None and data.license is None
    assert "This model was not evaluated, so this card reports no scores." in card
    assert "training/merge.py --evaluate" in card
    assert str(tmp_path) not in card and "`my-dialogues`" in card  # never a path on this machine
    with pytest.raises(ConfigError, match="base_model must be a Hub id like google/flan-t5-base, not '/models/t5'"):
        model_card("me/x", "/models/t5", "full", "knkarthick/dialogsum")


def test_validate_yaml_accepts_our_cards_and_refuses_bad_metadata(tiny_models, local_hub):
    good = model_card("me/x", "google/flan-t5-base", "full", "knkarthick/dialogsum", SCORES)
    answer = httpx.post(f"{local_hub.url}/api/validate-yaml", json={"content": good, "repoType": "model"})
    assert answer.status_code == 200 and answer.json()["errors"] == []

    bad = (
        "---\nlicense: not-a-licence\nbase_model: /home/me/models/t5\nmodel-index:\n- name: x\n  results:\n"
        "  - task: {type: summarization}\n    dataset: {type: d}\n    metrics: []\n---\n# x\n"
    )
    answer = httpx.post(f"{local_hub.url}/api/validate-yaml", json={"content": bad, "repoType": "model"})
    assert answer.status_code == 400
    assert [error["message"] for error in answer.json()["errors"]] == [
        "'license' is 'not-a-licence', which is not a licence id the Hub knows.",
        "'base_model' holds '/home/me/models/t5', which is not a valid repository id.",
        "Each 'model-index' result needs 'dataset.type' and 'dataset.name'.",
        "Each 'model-index' result needs a non-empty 'metrics' list.",
    ]
    with pytest.raises(HubError, match=r"(?s)refused the model card for 'me/bad-card'.*'license' is 'not-a-licence'"):
        push_folder(tiny_models.base, "me/bad-card", model_card=bad)


def _files_and_times(folder):
    return {path: (path.stat().st_mtime_ns, path.stat().st_size) for path in sorted(folder.rglob("*"))}


def test_pushing_never_writes_into_the_pushed_folder(tiny_models, local_hub, tmp_path):
    folder = shutil.copytree(tiny_models.lora, tmp_path / "run")
    before = _files_and_times(folder)
    card = model_card("me/untouched", "me/tiny-base", "lora", "knkarthick/dialogsum")
    push_run(folder, "me/untouched", card, base_model_id="me/tiny-base")
    push_folder(folder, "me/untouched-folder", model_card=card)
    assert _files_and_times(folder) == before  # nothing written, renamed or added
    local_base = json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"]
    assert local_base == str(tiny_models.base)

    pulled = pull("me/untouched")
    assert json.loads((pulled / "adapter_config.json").read_text())["base_model_name_or_path"] == "me/tiny-base"
    assert (pulled / "README.md").read_text() == card
    assert (pull("me/untouched-folder") / "README.md").read_text() == card


def _imported_modules(code: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module.split(".")[0])
    return found


def test_the_cards_usage_snippets_run_with_only_transformers_and_peft(tiny_models, local_hub, tmp_path, subprocess_env):
    """The snippets of a pushed adapter's and a pushed full model's cards, run as a reader would, generate what
    the local models do. One child process runs both (each start costs seconds of imports)."""
    push_folder(tiny_models.base, "me/snippet-base")
    adapter_card = model_card("me/snippet-adapter", "me/snippet-base", "lora", "knkarthick/dialogsum")
    push_run(tiny_models.lora, "me/snippet-adapter", adapter_card, base_model_id="me/snippet-base")
    push_run(tiny_models.base, "me/snippet-full", model_card("me/snippet-full", "google/flan-t5-base", "full", "x/y"))
    snippets = {
        repo: re.search(r"```python\n(.*?)```", ModelCard.load(repo).text, re.DOTALL).group(1)
        for repo in ("me/snippet-adapter", "me/snippet-full")
    }
    assert _imported_modules(snippets["me/snippet-adapter"]) == {"peft", "transformers"}
    assert "AutoPeftModelForSeq2SeqLM.from_pretrained" in snippets["me/snippet-adapter"]
    assert _imported_modules(snippets["me/snippet-full"]) == {"transformers"}

    env = subprocess_env | {"HF_ENDPOINT": local_hub.url, "HF_HUB_CACHE": str(tmp_path / "child-cache")}
    env.pop("HF_HUB_OFFLINE")  # the snippets download from the (local) Hub, as a reader's would
    # Each snippet runs in a namespace of its own, as if pasted alone.
    program = "\n".join(f"exec(compile({code!r}, {repo!r}, 'exec'), {{}})" for repo, code in snippets.items())
    result = subprocess.run(
        [sys.executable, "-c", program], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-3000:]
    dialogue = "#Person1#: Shall we meet at noon?\n#Person2#: Yes, at the bank."
    settings = GenerationSettings(max_new_tokens=64)
    expected = [
        generate(load_model(str(folder), use_cache=False), [zero_shot_prompt(dialogue)], settings)[0]
        for folder in (tiny_models.lora, tiny_models.base)
    ]
    assert all(expected) and result.stdout.strip().splitlines() == expected


# --- the Hub down or silent -------------------------------------------------------------------------


@pytest.fixture()
def hub_at(monkeypatch):
    """Point the Hub settings at `url`, with a token and HF_HUB_OFFLINE unset."""

    def point(url: str) -> None:
        monkeypatch.setenv("HF_ENDPOINT", url)
        monkeypatch.setenv("HF_TOKEN", "hf_test_write_token")
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)

    return point


def test_push_and_pull_to_a_closed_port_fail_within_seconds(tiny_models, hub_at, tmp_path):
    hub_at(f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(HubError, match=r"Could not push to 'me/x': the Hub at http://127.0.0.1:\d+ cannot be reached"):
        push_folder(tiny_models.base, "me/x")
    with pytest.raises(
        HubError, match=r"Repository 'me/x' is not in the local cache, and the Hub .* cannot be reached"
    ):
        pull("me/x", local_dir=tmp_path / "pulled")
    assert time.monotonic() - started < 10


def test_push_and_pull_give_up_on_a_hub_that_never_answers(tiny_models, hub_at, monkeypatch, tmp_path):
    monkeypatch.setenv("LLMFT_HUB_TIMEOUT", "1")
    with SilentServer() as url:
        hub_at(url)
        started = time.monotonic()
        with pytest.raises(
            HubError,
            match=r"Could not push to 'me/x': .* did not answer within 1 s \(set LLMFT_HUB_TIMEOUT to wait longer\)",
        ):
            push_folder(tiny_models.base, "me/x")
        pushed_after = time.monotonic() - started
        with pytest.raises(HubError, match=r"did not answer within 1 s"):
            pull("me/x", local_dir=tmp_path / "pulled")
        pulled_after = time.monotonic() - started - pushed_after
    assert pushed_after < 6 and pulled_after < 6, (pushed_after, pulled_after)
