"""`llmft.prompting` (the Prompting Space's logic) and `llmft.apps`, without Gradio's server."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from llmft.apps.demo_note import DEMO_MARKER, DEMO_NOTE, loaded_model_note
from llmft.apps.errors import gradio_errors, redact, user_message
from llmft.charts import grouped_bar_chart
from llmft.data import DialogueExample
from llmft.demo.tiny import synthetic_dialogues
from llmft.errors import ConfigError, DataError, ModelLoadError, PromptError
from llmft.metrics import score_one
from llmft.models import load_model
from llmft.prompting import (
    ColumnConfig,
    Comparison,
    Decoding,
    PromptingLab,
    PromptingSettings,
    column_configs,
    evaluate_columns,
    run_column,
)
from llmft.prompts import (
    INSTRUCTION,
    MAX_DIALOGUE_CHARS,
    SimilarityIndex,
    check_dialogue,
    parse_references,
    zero_shot_prompt,
)
from llmft.settings import AppSettings

ROWS = synthetic_dialogues(8)
FAST = Decoding(max_new_tokens=6).settings()


def _jsonl(path: Path, rows: list[DialogueExample]) -> Path:
    records = [{"id": r.id, "dialogue": r.dialogue, "summary": r.summary, "topic": r.topic} for r in rows]
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def _lab(dataset: str | Path, tiny_models, **settings) -> PromptingLab:
    settings = PromptingSettings(**{"base_model": str(tiny_models.base), "dataset": str(dataset), **settings})
    return PromptingLab(settings, retry_after_s=0)


# --- inputs ----------------------------------------------------------------------------------------


def test_column_configs_are_labelled_and_checked():
    configs = column_configs((0, "first", 0), (2.0, "random", 3), (5, "similar", 0))
    assert [c.label for c in configs] == ["A · 0-shot", "B · 2-shot random (seed 3)", "C · 5-shot most similar"]
    assert configs[1].shots == 2 and isinstance(configs[1].shots, int)
    # Each message starts with the control's label on the page.
    with pytest.raises(PromptError, match=r"^B: shots must be from 0 to 5, not 6\.$"):
        column_configs((0, "first", 0), (6, "first", 0))
    with pytest.raises(PromptError, match=r"^A: shots must be a whole number, not 1\.5\.$"):
        column_configs((1.5, "first", 0))
    with pytest.raises(PromptError, match=r"^C: random seed must be a whole number, not 'x'\.$"):
        column_configs((0, "first", 0), (0, "first", 0), (1, "random", "x"))
    with pytest.raises(PromptError, match="^A: pick shots by: unknown shot picker 'best'"):
        column_configs((1, "best", 0))


def test_generation_settings_from_the_controls():
    assert Decoding("greedy", max_new_tokens=50).settings().generate_kwargs() == {
        "max_new_tokens": 50, "num_beams": 1, "do_sample": False,
    }
    assert Decoding("beam", num_beams=4).settings().num_beams == 4
    sample = Decoding("sample", temperature=0.5, top_p=0.8, seed=7).settings()
    assert sample.do_sample and sample.temperature == 0.5 and sample.top_p == 0.8 and sample.seed == 7
    for kwargs, message in [
        ({"decoding": "creative"}, "^Decoding: unknown decoding 'creative'"),
        ({"decoding": "beam", "num_beams": 1}, r"^Beams must be from 2 to 8, not 1\.$"),
        ({"decoding": "sample", "temperature": 0}, r"^Temperature must be above 0 and at most 2, not 0\.$"),
        ({"decoding": "sample", "top_p": 1.5}, r"^Top-p must be above 0 and at most 1, not 1\.5\.$"),
        ({"decoding": "sample", "seed": -1}, r"^Sampling seed must be from 0 to 4294967295, not -1\.$"),
        ({"max_new_tokens": 0}, r"^Max new tokens must be from 1 to 512, not 0\.$"),
        ({"max_new_tokens": "many"}, r"^Max new tokens must be a whole number, not 'many'\.$"),
        ({"max_new_tokens": None}, r"^Max new tokens must be a whole number, not None\.$"),
    ]:
        with pytest.raises(ConfigError, match=message):
            Decoding(**kwargs).settings()


def test_references_and_dialogue_checks():
    assert parse_references("  first one \n\n second\n") == ["first one", "second"]
    assert parse_references("") == [] and parse_references(None) == [] and parse_references(["a", " "]) == ["a"]
    assert check_dialogue("  #Person1#: Hi.  ") == "#Person1#: Hi."
    with pytest.raises(PromptError, match="dialogue is empty"):
        check_dialogue(" \n ")
    with pytest.raises(PromptError, match=f"takes at most {MAX_DIALOGUE_CHARS:,}"):
        check_dialogue("x" * (MAX_DIALOGUE_CHARS + 1))


# --- one column, an evaluation ---------------------------------------------------------------------


def test_run_column_builds_the_asked_prompt_and_scores_it(tiny_models):
    loaded = load_model(str(tiny_models.base))
    target = ROWS[0]
    result = run_column(loaded, target.dialogue, target.summaries, ROWS, ColumnConfig(2, "first", name="B"), FAST)
    assert result.shot_ids == ["synthetic_1", "synthetic_2"] and result.prompt.count(INSTRUCTION) == 3
    assert result.prompt_tokens <= 512 and result.fit_report.startswith("fits:")
    # One scale in this Space: F-measure in percent.
    assert result.rouge == {k: 100 * v for k, v in score_one(result.summary, target.summaries).items()}
    assert result.label == "B · 2-shot first-k" and "**B · 2-shot first-k**" in result.markdown
    assert result.shots_used == 2 and "(ROUGE F-measure, %)" in result.markdown
    no_ref = run_column(loaded, target.dialogue, [], ROWS, ColumnConfig(0), FAST)
    assert no_ref.rouge is None and "no reference" in no_ref.markdown


def _zero_shot_tokens(loaded, dialogue: str) -> int:
    return len(loaded.tokenizer(zero_shot_prompt(dialogue)).input_ids)


def test_a_column_whose_shots_did_not_fit_says_how_many_it_used(tiny_models):
    """A limit that holds the dialogue's own prompt and nothing more: both shots are dropped, and the label,
    the details, the table and the notes say so (and why)."""
    loaded = load_model(str(tiny_models.base))
    target = ROWS[0]
    limit = _zero_shot_tokens(loaded, target.dialogue)
    column = run_column(loaded, target.dialogue, [], ROWS, ColumnConfig(2, "similar", name="C"), FAST, max_tokens=limit)
    assert column.label == "C · 2-shot most similar → 0 used"
    assert (column.shots_requested, column.shots_used, column.dialogue_tokens_cut) == (2, 0, 0)
    assert "Shots used: **0 of 2**" in column.markdown
    comparison = Comparison("m", {}, [], "pool", [column])
    assert comparison.table()[0][:3] == ["C · 2-shot most similar → 0 used", 2, 0]
    assert comparison.warnings == [
        "C · 2-shot most similar → 0 used: asked for 2 shot(s), used 0: the model reads "
        f"{limit} tokens and the prompt with every shot was longer, so shots were dropped, the last first "
        "(the dialogue being summarised is kept before any shot)."
    ]
    assert comparison.notes_markdown().startswith("- ⚠️ C · 2-shot most similar → 0 used: asked for 2")
    fits = Comparison("m", {}, [], "pool", [run_column(loaded, target.dialogue, [], ROWS, ColumnConfig(0), FAST)])
    assert fits.warnings == [] and fits.notes_markdown().startswith("✅ Every column used the shots it asked for")


def test_an_evaluation_counts_the_shots_used_and_the_dialogues_that_lost_them(tiny_models):
    loaded = load_model(str(tiny_models.base))
    examples = ROWS[:3]
    limit = max(_zero_shot_tokens(loaded, e.dialogue) for e in examples)  # every dialogue fits, no shot does
    evaluation = evaluate_columns(
        loaded, examples, ROWS, column_configs((0, "first", 0), (1, "first", 0)), FAST, max_tokens=limit
    )
    zero, one = evaluation.summaries
    assert zero.label == "A · 0-shot" and (zero.mean_shots_used, zero.dialogues_short_of_shots) == (0, 0)
    assert one.label == "B · 1-shot first-k → 0.0 used (mean)"
    assert (one.shots_requested, one.mean_shots_used, one.dialogues_short_of_shots, one.shots_dropped) == (1, 0, 3, 3)
    headers = evaluation.SUMMARY_HEADERS
    row = dict(zip(headers, evaluation.table()[1], strict=True))
    assert (row["shots asked"], row["shots used (mean)"], row["dialogues that lost shots"]) == (1, 0, 3)
    assert evaluation.warnings[0].startswith("B · 1-shot first-k → 0.0 used (mean): 3 of 3 dialogue(s) lost shots")
    assert evaluation.to_dict()["warnings"] == evaluation.warnings
    assert all(r["shots_used"] == 0 for r in evaluation.rows if r["shots_requested"] == 1)


def test_evaluation_reports_progress_and_writes_every_prompt(tiny_models, tmp_path):
    loaded = load_model(str(tiny_models.base))
    configs = column_configs((0, "first", 0), (1, "random", 2))
    calls: list[tuple[int, int, str]] = []
    evaluation = evaluate_columns(
        loaded, ROWS[:3], ROWS, configs, FAST, batch_size=2, progress=lambda d, t, s: calls.append((d, t, s))
    )
    assert calls[-1] == (6, 6, "done")
    done = [d for d, _, _ in calls]
    assert done == sorted(done) and {t for _, t, _ in calls} == {6}
    assert [s.label for s in evaluation.summaries] == ["A · 0-shot", "B · 1-shot random (seed 2)"]
    path = evaluation.write_csv(tmp_path / "out" / "eval.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6 and rows[0]["prompt"].startswith(INSTRUCTION)
    assert all(r["example_id"] not in r["shot_ids"].split() for r in rows)
    assert evaluation.table()[0][:2] == ["A · 0-shot", 3]
    assert len(evaluation.chart().axes[0].patches) == 2 * 4  # two columns x four ROUGE types

    unreferenced = [DialogueExample("x", "#Person1#: Hi.", [])]
    with pytest.raises(DataError, match="needs reference summaries.*: x"):
        evaluate_columns(loaded, unreferenced, ROWS, configs, FAST)


# --- the lab: dataset sources, shot pool, models ------------------------------------------------------


def test_the_shot_pool_is_the_train_split_when_there_is_one(tiny_models, tmp_path):
    folder = tmp_path / "dialogsum"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", ROWS[4:])
    _jsonl(folder / "test.jsonl", ROWS[:4])
    lab = _lab(folder, tiny_models, shot_pool_size=3)
    pool = lab.shot_pool()
    assert [e.id for e in pool.examples] == ["synthetic_4", "synthetic_5", "synthetic_6"]
    assert "train split, first 3" in pool.description
    result = lab.compare(ROWS[0].dialogue, ROWS[0].summary, column_configs((0, "first", 0), (2, "first", 0)), FAST)
    assert result.columns[1].shot_ids == ["synthetic_4", "synthetic_5"]
    assert [e.id for e in lab.test_examples()] == [r.id for r in ROWS[:4]]


def test_without_a_train_split_the_pool_is_the_test_split_minus_the_dialogue(tiny_models, tmp_path):
    folder = tmp_path / "only-test"
    folder.mkdir()
    _jsonl(folder / "test.jsonl", ROWS[:4])
    lab = _lab(folder, tiny_models)
    result = lab.compare(ROWS[1].dialogue, "", column_configs((2, "first", 0)), FAST)
    assert result.columns[0].shot_ids == ["synthetic_0", "synthetic_2"]
    assert "test split minus the dialogue" in result.shot_pool
    with pytest.raises(PromptError, match="Asked for 4 shots but only 3"):
        lab.compare(ROWS[0].dialogue, "", column_configs((4, "first", 0)), FAST)

    single = _lab(_jsonl(tmp_path / "rows.jsonl", ROWS[:4]), tiny_models)
    assert "other dialogues of rows.jsonl" in single.shot_pool().description


def test_examples_by_id_topic_and_at_random(tiny_models, tmp_path):
    lab = _lab(_jsonl(tmp_path / "rows.jsonl", ROWS), tiny_models)
    assert lab.example("synthetic_3").id == "synthetic_3"
    topic = ROWS[2].topic
    same_topic = [r.id for r in ROWS if r.topic == topic]
    assert lab.example(topic=topic).id == same_topic[0]
    assert lab.example(topic=topic, pick_random=True, seed=1).id in same_topic
    assert lab.example(pick_random=True, seed=1).id == lab.example(pick_random=True, seed=1).id
    assert (f"synthetic_0 · {ROWS[0].topic}", "synthetic_0") in lab.example_choices()
    assert {value for _, value in lab.example_choices(topic)} == set(same_topic)
    assert lab.topics() == sorted({r.topic for r in ROWS})
    with pytest.raises(DataError, match="No test dialogue with id 'nope'.*ids look like 'synthetic_0'"):
        lab.example("nope")
    with pytest.raises(DataError, match="No test dialogue has the topic 'moon'"):
        lab.example(topic="moon")
    with pytest.raises(DataError, match="Choose a dialogue"):
        lab.example()


def test_a_missing_dataset_still_lets_zero_shot_prompts_run(tiny_models, tmp_path):
    lab = _lab(tmp_path / "nowhere.jsonl", tiny_models)
    with pytest.raises(DataError, match="no such file"):
        lab.test_examples()
    result = lab.compare(ROWS[0].dialogue, "", column_configs((0, "first", 0)), FAST)
    assert result.columns[0].summary and result.shot_pool.startswith("not needed")
    with pytest.raises(DataError, match="Columns with shots need examples from the dataset"):
        lab.compare(ROWS[0].dialogue, "", column_configs((0, "first", 0), (1, "first", 0)), FAST)


def test_failed_dataset_loads_are_remembered_for_a_while(tiny_models, tmp_path):
    source = tmp_path / "later.jsonl"
    lab = PromptingLab(AppSettings(base_model=str(tiny_models.base), dataset=str(source)), retry_after_s=3600)
    with pytest.raises(DataError):
        lab.test_examples()
    _jsonl(source, ROWS)
    with pytest.raises(DataError):  # still the remembered failure
        lab.test_examples()
    lab.retry_after_s = 0
    assert len(lab.test_examples()) == len(ROWS)


def test_the_lab_loads_offered_models_within_its_memory_bound(tiny_models, tmp_path):
    """The lab's settings reach the shared model cache: the offered models only, at most `max_models` of them.
    (The cache's own eviction is tested in test_sources.py.)"""
    from llmft.models import MODEL_CACHE

    lab = _lab(tmp_path / "none", tiny_models, extra_models=[str(tiny_models.lora)], max_models=1)
    MODEL_CACHE.clear()
    assert lab.model("").source == str(tiny_models.base)  # empty: the default model
    assert lab.model(str(tiny_models.base)) is lab.model(None)
    assert lab.model(str(tiny_models.lora)).kind == "adapter"
    assert len(MODEL_CACHE.keys()) == 1  # the base went when the adapter came
    with pytest.raises(ModelLoadError, match="is not offered here"):
        lab.model(str(tiny_models.other_base))
    with pytest.raises(ModelLoadError, match="is not offered here"):
        lab.model(str(tmp_path / "no-model"))


def test_the_embedded_demo_model_says_what_it_is(tiny_models, tmp_path):
    """The demo build's marker file in a model folder (or an adapter's base folder) adds the note to the result."""
    from types import SimpleNamespace

    demo = shutil.copytree(tiny_models.base, tmp_path / "demo-t5")
    (demo / DEMO_MARKER).write_text('{"built_by": "llmft.demo"}', encoding="utf-8")
    lab = _lab(tmp_path / "none", tiny_models, base_model=str(demo))
    result = lab.compare(ROWS[0].dialogue, "", column_configs((0, "first", 0)), FAST)
    assert result.model_note == DEMO_NOTE and result.to_dict()["model_note"] == DEMO_NOTE
    assert "embedded demo model" in DEMO_NOTE and "not meaningful" in DEMO_NOTE
    assert result.notes_markdown().startswith(f"ℹ️ **{DEMO_NOTE}**")
    plain = _lab(tmp_path / "none", tiny_models).compare(ROWS[0].dialogue, "", column_configs((0, "first", 0)), FAST)
    assert plain.model_note is None and "demo" not in plain.notes_markdown()
    adapter_on_demo = SimpleNamespace(source=str(tiny_models.lora), base_model=str(demo))
    assert loaded_model_note(adapter_on_demo) == DEMO_NOTE
    assert loaded_model_note(SimpleNamespace(source="google/flan-t5-base", base_model=None)) is None


def test_evaluate_checks_n_and_uses_the_first_dialogues(tiny_models, tmp_path):
    lab = _lab(_jsonl(tmp_path / "rows.jsonl", ROWS), tiny_models, max_eval_dialogues=5)
    with pytest.raises(ConfigError, match=r"^N test dialogues must be from 1 to 5, not 6\.$"):
        lab.evaluate(6, column_configs((0, "first", 0)), FAST)
    with pytest.raises(ConfigError, match=r"^N test dialogues must be a whole number, not 'all'\.$"):
        lab.evaluate("all", column_configs((0, "first", 0)), FAST)
    result = lab.evaluate(2, column_configs((0, "first", 0), (1, "similar", 0)), FAST)
    assert [r["example_id"] for r in result.rows[:2]] == ["synthetic_0", "synthetic_1"]
    assert result.to_dict()["dataset"].endswith("first 2") and len(result.rows) == 4


def test_similar_column_uses_the_labs_embedder(tiny_models, tmp_path):
    """A stand-in encoder makes the nearest example known: the shot is the one whose vector is closest."""
    import torch

    target = ROWS[0].dialogue
    near = ROWS[5].dialogue

    def encode(texts: list[str]) -> torch.Tensor:
        return torch.tensor([[1.0, 0.0] if t in (target, near) else [0.0, 1.0] for t in texts])

    lab = PromptingLab(
        AppSettings(base_model=str(tiny_models.base), dataset=str(_jsonl(tmp_path / "rows.jsonl", ROWS))),
        embedder=SimilarityIndex(encode=encode),
    )
    result = lab.compare(target, "", column_configs((1, "similar", 0)), FAST)
    assert result.columns[0].shot_ids == ["synthetic_5"]


# --- llmft.apps --------------------------------------------------------------------------------------


def test_settings_come_from_the_environment(monkeypatch):
    for name in ("LLMFT_BASE_MODEL", "LLMFT_MODELS", "LLMFT_DATASET", "LLMFT_CONCURRENCY", "LLMFT_SHOT_POOL"):
        monkeypatch.delenv(name, raising=False)
    assert AppSettings.from_env() == AppSettings()
    assert AppSettings().base_model == "google/flan-t5-base" and AppSettings().dataset == "knkarthick/dialogsum"
    monkeypatch.setenv("LLMFT_BASE_MODEL", "me/tuned")
    monkeypatch.setenv("LLMFT_MODELS", " me/lora , google/flan-t5-base,me/tuned")
    monkeypatch.setenv("LLMFT_CONCURRENCY", "3")
    settings = AppSettings.from_env()
    assert settings.model_choices == ["me/tuned", "me/lora", "google/flan-t5-base"] and settings.concurrency == 3
    monkeypatch.setenv("LLMFT_CONCURRENCY", "many")
    with pytest.raises(ConfigError, match="LLMFT_CONCURRENCY='many' is not a whole number"):
        AppSettings.from_env()
    monkeypatch.setenv("LLMFT_CONCURRENCY", "0")
    with pytest.raises(ConfigError, match="at least 1"):
        AppSettings.from_env()


def test_the_spaces_own_settings_are_not_in_what_every_space_shares(monkeypatch):
    monkeypatch.setenv("LLMFT_SHOT_POOL", "7")
    monkeypatch.setenv("LLMFT_MAX_EVAL", "3")
    monkeypatch.setenv("LLMFT_DATASET", "some/dataset")
    settings = PromptingSettings.from_env()
    assert (settings.shot_pool_size, settings.max_eval_dialogues, settings.dataset) == (7, 3, "some/dataset")
    assert not hasattr(AppSettings.from_env(), "shot_pool_size") and not hasattr(AppSettings(), "max_eval_dialogues")
    # A lab given only the shared settings keeps them and takes this Space's defaults for the rest.
    lab = PromptingLab(AppSettings(dataset="x.jsonl"))
    assert lab.settings.dataset == "x.jsonl" and lab.settings.shot_pool_size == 500
    monkeypatch.setenv("LLMFT_MAX_EVAL", "none")
    with pytest.raises(ConfigError, match="LLMFT_MAX_EVAL='none' is not a whole number"):
        PromptingSettings.from_env()


def test_errors_become_gradio_errors_without_secrets(monkeypatch):
    import gradio as gr

    monkeypatch.setenv("HF_TOKEN", "hf_secretvalue123456")
    assert redact("token hf_secretvalue123456 and hf_AbCdEf0123456789xyz") == "token *** and ***"

    @gradio_errors
    def fails(kind: str, progress: int = 0) -> None:
        """Docstring kept."""
        if kind == "ours":
            raise ModelLoadError("Model 'x' is gated: set HF_TOKEN (now hf_secretvalue123456).")
        raise KeyError("hf_secretvalue123456")

    with pytest.raises(gr.Error) as ours:
        fails("ours")
    assert ours.value.message == "Model 'x' is gated: set HF_TOKEN (now ***)."
    with pytest.raises(gr.Error) as other:
        fails("bug")
    assert other.value.message.startswith("Unexpected error (KeyError: '***')")
    assert "secretvalue" not in user_message(KeyError("hf_secretvalue123456"))
    import inspect

    assert list(inspect.signature(fails).parameters) == ["kind", "progress"] and fails.__doc__ == "Docstring kept."


def test_grouped_bar_chart_has_a_bar_per_group_and_metric():
    figure = grouped_bar_chart({"A": {"r1": 10.0, "r2": 5.0}, "B": {"r1": 20.0, "r2": 7.5}}, title="t", ylabel="%")
    axes = figure.axes[0]
    assert len(axes.patches) == 4 and [t.get_text() for t in axes.get_xticklabels()] == ["r1", "r2"]
    assert sorted(p.get_height() for p in axes.patches) == [5.0, 7.5, 10.0, 20.0]
