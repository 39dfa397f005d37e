"""The embedded local demo model (`llmft.demo`): scripts/run.sh's choice of it, its build, its English tokenizer,
its varied training dialogues, and what it does with a real DialogSum dialogue in the Prompting lab."""

import json
import re
import subprocess
import sys
import time

from llmft.demo.build import hub_reachable
from llmft.demo.dialogues import demo_dialogues
from llmft.demo.tokenizer import english_pieces, english_tokenizer
from llmft.hub import push_folder
from llmft.models import load_model
from tests.conftest import DIALOGSUM_DIR
from tests.support.require import require


def dialogsum_test(limit: int) -> list[dict]:
    require(DIALOGSUM_DIR.is_dir(), f"the DialogSum copy at {DIALOGSUM_DIR}")
    with (DIALOGSUM_DIR / "dialogsum.test.jsonl").open() as rows:
        return [json.loads(line) for line, _ in zip(rows, range(limit), strict=False)]


def test_hub_check_follows_the_hub(tiny_models, local_hub, monkeypatch):
    assert not hub_reachable("me/flan-demo", timeout=2)  # not there yet
    push_folder(tiny_models.base, "me/flan-demo")
    assert hub_reachable("me/flan-demo", timeout=2)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not hub_reachable("me/flan-demo", timeout=2)


def test_check_hub_command_exits_1_offline(subprocess_env):
    result = subprocess.run(
        [sys.executable, "-m", "llmft.demo", "check-hub"], env=subprocess_env, capture_output=True, timeout=120
    )
    assert result.returncode == 1, result.stderr.decode()[-2000:]


def test_english_tokenizer_is_built_offline_quickly_and_the_same_every_time():
    started = time.monotonic()
    first = english_pieces(["#Person1#: Hi Zoltan."])
    assert time.monotonic() - started < 5  # built, not trained: milliseconds, seconds on a busy machine
    assert first == english_pieces(["#Person1#: Hi Zoltan."])  # same pieces, scores and order: same ids
    assert len(first) == 8000 and [piece for piece, _ in first[:3]] == ["<pad>", "</s>", "<unk>"]
    tokenizer = english_tokenizer(["#Person1#: Hi Zoltan."])
    # Common words (from the packaged MiniLM word list) and the caller's own words are single pieces.
    assert tokenizer.tokenize("#Person1#: Hi Zoltan, the restaurant is full tonight.") == [
        "▁#Person1#:", "▁Hi", "▁Zoltan", ",", "▁the", "▁restaurant", "▁is", "▁full", "▁tonight", "."]


def test_a_real_dialogsum_dialogue_fits_with_room_for_shots(demo_build):
    """With the 158-piece vocabulary of the tests' tiny models, test_1 was over 1,000 tokens."""
    assert demo_build.result.returncode == 0, demo_build.result.stderr[-3000:]
    tokenizer = load_model(str(demo_build.root / "full"), use_cache=False).tokenizer
    rows = dialogsum_test(200)
    lengths = sorted(len(tokenizer(row["dialogue"]).input_ids) for row in rows)
    by_id = {row["fname"]: len(tokenizer(row["dialogue"]).input_ids) for row in rows}
    assert by_id["test_1"] < 300  # a typical dialogue: 136 words
    assert lengths[len(lengths) // 2] < 250  # the median of the first 200
    assert not any(tokenizer.unk_token_id in tokenizer(row["dialogue"]).input_ids for row in rows)


def test_demo_dialogues_vary_and_their_summaries_follow_the_content():
    rows = demo_dialogues(120, seed=0)
    assert rows == demo_dialogues(120, seed=0)
    assert len({row.topic for row in rows}) == 12
    turns = [row.dialogue.count("\n") + 1 for row in rows]
    assert min(turns) <= 5 and max(turns) >= 9
    assert len({row.summary for row in rows}) > 100  # a few repeat by chance; one pattern would give 12
    for row in rows:
        # Every name, number and capitalised word of the summary (after its first word) is in the dialogue.
        for word in re.findall(r"(?<!^)\b(?:[A-Z][a-z]+|\d+)\b", row.summary):
            assert word in row.dialogue, (word, row.summary, row.dialogue)


def test_demo_build_trains_through_the_package_and_marks_its_models(demo_build):
    """`python -m llmft.demo build` (what scripts/run.sh runs without the Hub): both models trained by
    `python -m llmft.training`, each folder marked as the demo model, and export lines on stdout alone."""
    result, out = demo_build.result, demo_build.root
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == [
        f"export LLMFT_BASE_MODEL={out / 'full'}",
        f"export LLMFT_LORA_ADAPTER={out / 'lora'}",
        f"export LLMFT_SUMMARIZER_BASE={out / 'model'}",
        f"export LLMFT_FULL_MODEL={out / 'full'}",
        f"export LLMFT_DATASET={out / 'data'}",
        "export HF_HUB_OFFLINE=1",
    ]
    for folder in ("model", "full", "lora"):  # the untuned base too: the Summarizer shows it as a variant
        marker = json.loads((out / folder / "llmft_demo.json").read_text())
        assert marker == {"demo": True, "what": "tiny T5 trained on synthetic dialogues by llmft.demo"}
    for method in ("full", "lora"):
        scores = json.loads((out / method / "eval" / "results.json").read_text())["models"][method]["rouge"]
        # Held-out demo dialogues: it learnt (an untrained model scores about 0), and not by heart.
        assert scores["rouge1"] > {"full": 0.65, "lora": 0.5}[method], (method, scores)
    assert load_model(str(out / "lora"), use_cache=False).kind == "adapter"
    assert demo_build.seconds < 600, f"the build took {demo_build.seconds:.0f} s"


def test_prompting_lab_keeps_shots_and_its_columns_differ_on_a_real_dialogue(demo_build, monkeypatch):
    """0-shot, 1-shot and 2-shot columns (first-k: "most similar" would embed the whole shot pool first) on
    DialogSum's test_1: the shots fit, and the three summaries are not all the same (they were, when every shot
    was dropped)."""
    from llmft.models import GenerationSettings
    from llmft.prompting import PromptingLab, PromptingSettings, column_configs

    assert demo_build.result.returncode == 0, demo_build.result.stderr[-3000:]
    for name, value in demo_build.settings.items():
        monkeypatch.setenv(name, value)
    lab = PromptingLab(PromptingSettings.from_env())
    row = next(row for row in dialogsum_test(5) if row["fname"] == "test_1")
    configs = column_configs((0, "first", 0), (1, "first", 0), (2, "first", 0))
    result = lab.compare(row["dialogue"], row["summary1"], configs, GenerationSettings(max_new_tokens=64)).to_dict()
    columns = result["columns"]
    assert [len(c["shot_ids"]) for c in columns] == [0, 1, 2], [c["fit_report"] for c in columns]
    assert all(c["summary"].strip() for c in columns)
    assert len({c["summary"] for c in columns}) > 1, [c["summary"] for c in columns]


def test_a_long_real_dialogue_keeps_one_of_two_shots(demo_build, monkeypatch):
    """test_0 (221 words, one of the longer ones): the 2-shot column may drop a shot to fit 512, never both."""
    from llmft.models import GenerationSettings
    from llmft.prompting import PromptingLab, PromptingSettings, column_configs

    assert demo_build.result.returncode == 0, demo_build.result.stderr[-3000:]
    for name, value in demo_build.settings.items():
        monkeypatch.setenv(name, value)
    lab = PromptingLab(PromptingSettings.from_env())
    row = next(row for row in dialogsum_test(5) if row["fname"] == "test_0")
    configs = column_configs((2, "first", 0))
    (column,) = lab.compare(row["dialogue"], "", configs, GenerationSettings(max_new_tokens=8)).to_dict()["columns"]
    assert len(column["shot_ids"]) >= 1, column["fit_report"]


def test_a_build_by_an_older_version_is_rebuilt_not_reused(tmp_path, monkeypatch):
    """An outputs/demo left by the 158-piece version must not keep serving it: only a finished build of this
    version is reused."""
    from llmft.demo import build as demo

    built = []

    def write_demo_project(out_dir):
        built.append(out_dir)
        return out_dir / "model", out_dir / "data"

    monkeypatch.setattr(demo, "write_demo_project", write_demo_project)
    monkeypatch.setattr(demo, "_train_all", lambda *args: None)
    monkeypatch.setattr(demo, "write_json_atomic", lambda *args: None)
    (tmp_path / ".demo-complete").write_text("ok\n")  # what the older version wrote
    settings = demo.build_demo(tmp_path)
    assert built == [tmp_path] and settings["LLMFT_BASE_MODEL"] == str(tmp_path / "full")
    assert demo.build_demo(tmp_path) == settings and built == [tmp_path]  # now finished: reused
