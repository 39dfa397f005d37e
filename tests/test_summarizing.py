"""llmft.summarizing in-process: one base shared by its adapters (object identity), switching under concurrency,
refusals naming both models, the allowlist, cross-attention evidence, settings and the course table.

Batch files have their own module (tests/test_summarizing_batch.py); the app is tests/test_summarizer_app.py.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from llmft.apps.demo_note import DEMO_MARKER, DEMO_NOTE
from llmft.demo.tiny import build_tiny_lora, build_tiny_t5
from llmft.errors import AdapterMismatchError, ConfigError, ModelLoadError, PromptError
from llmft.models import GenerationSettings, generate, load_model
from llmft.prompts import fit_prompt
from llmft.sources import ModelPolicy
from llmft.summarizing import Summarizer, SummarizerSettings, VariantModels, variant_specs
from llmft.summarizing.explain import explain_summary, summary_sentences, turn_spans
from llmft.summarizing.results import comparison_table, models_note
from llmft.summarizing.variants import parse_source

SETTINGS = GenerationSettings(max_new_tokens=10)
DIALOGUE = (
    "#Person1#: Hello Anna, are you going to the bank today?\n"
    "#Person2#: Yes, I need to get a ticket there.\n"
    "#Person1#: Can I come with you?"
)


@pytest.fixture(scope="module")
def second_lora(tiny_models, tmp_path_factory) -> Path:
    """Another adapter on the same tiny base (other rank and weights): it must give other summaries."""
    return build_tiny_lora(tiny_models.base, tmp_path_factory.mktemp("lora-b") / "lora-b", r=8, seed=7)


@pytest.fixture(scope="module")
def full_model(tmp_path_factory) -> Path:
    return build_tiny_t5(tmp_path_factory.mktemp("full") / "full", seed=5)


def direct(source: Path | str, dialogue: str = DIALOGUE) -> str:
    """What the shared package gives for this model on its own (its own load, no shared base)."""
    loaded = load_model(str(source), use_cache=False)
    return generate(loaded, [fit_prompt(loaded.tokenizer, dialogue).text], SETTINGS)[0]


def summary_of(models: VariantModels, specs, name: str, dialogue: str = DIALOGUE) -> str:
    spec = next(s for s in specs if s.name == name)
    with models.variant(spec, specs[0]).active() as loaded:
        return generate(loaded, [fit_prompt(loaded.tokenizer, dialogue).text], SETTINGS)[0]


def test_the_base_and_its_adapters_share_one_model_and_switch_back_and_forth(tiny_models, second_lora, full_model):
    specs = variant_specs(str(tiny_models.base), str(full_model), [str(tiny_models.lora), str(second_lora)])
    expected = {
        "base": direct(tiny_models.base),
        "full": direct(full_model),
        "lora-1": direct(tiny_models.lora),
        "lora-2": direct(second_lora),
    }
    assert len(set(expected.values())) == 4  # otherwise a wrong switch could go unnoticed
    models = VariantModels()
    order = ["lora-2", "base", "lora-1", "full", "lora-2", "lora-1", "base", "lora-1"]
    assert [summary_of(models, specs, name) for name in order] == [expected[name] for name in order]

    ready = {s.name: models.variant(s, specs[0]) for s in specs}
    shared = ready["base"].base_module
    assert ready["lora-1"].base_module is shared and ready["lora-2"].base_module is shared
    assert ready["lora-1"].base.model.get_base_model() is shared  # the PeftModel wraps that very object
    assert ready["full"].base_module is not shared
    assert models.base_loads == 1
    assert sorted(ready["base"].base.model.peft_config) == ["adapter_0", "adapter_1"]


def test_concurrent_requests_each_get_their_own_variant(tiny_models, second_lora):
    specs = variant_specs(str(tiny_models.base), "", [str(tiny_models.lora), str(second_lora)])
    expected = {"base": direct(tiny_models.base), "lora-1": direct(tiny_models.lora), "lora-2": direct(second_lora)}
    models = VariantModels()
    names = ["base", "lora-1", "lora-2"] * 6
    with ThreadPoolExecutor(max_workers=6) as pool:
        outputs = list(pool.map(lambda name: summary_of(models, specs, name), names))
    assert outputs == [expected[name] for name in names]
    assert models.base_loads == 1


def test_an_adapter_for_another_base_is_refused_naming_both(tiny_models):
    specs = variant_specs(str(tiny_models.base), "", [str(tiny_models.other_lora)])
    models = VariantModels()
    with pytest.raises(AdapterMismatchError) as caught:
        models.variant(specs[1], specs[0])
    assert f"trained on base model '{tiny_models.other_base}'" in str(caught.value)
    assert f"this Space's base is '{tiny_models.base}'" in str(caught.value)
    assert summary_of(models, specs, "base") == direct(tiny_models.base)  # the base still works


@pytest.mark.parametrize("position", ["first", "second"])
def test_an_adapter_that_claims_the_base_but_does_not_fit_leaves_the_others_working(tiny_models, tmp_path, position):
    """An adapter whose config names our base but whose weights have another shape (`other_lora` relabelled)."""
    liar = shutil.copytree(tiny_models.other_lora, tmp_path / "liar")
    config = json.loads((liar / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = str(tiny_models.base)
    (liar / "adapter_config.json").write_text(json.dumps(config))
    adapters = [str(liar), str(tiny_models.lora)] if position == "first" else [str(tiny_models.lora), str(liar)]
    specs = variant_specs(str(tiny_models.base), "", adapters)
    liar_spec = next(s for s in specs if s.source == str(liar))
    good = next(s for s in specs if s.source == str(tiny_models.lora))
    models = VariantModels()
    if position == "second":
        assert summary_of(models, specs, good.name) == direct(tiny_models.lora)
    with pytest.raises(AdapterMismatchError, match=f"does not fit base model '{tiny_models.base}'"):
        models.variant(liar_spec, specs[0])
    # Whatever peft left half-loaded is gone: the base and the good adapter give their own outputs.
    assert summary_of(models, specs, "base") == direct(tiny_models.base)
    assert summary_of(models, specs, good.name) == direct(tiny_models.lora)


def test_kinds_are_checked_and_the_allowlist_applies(tiny_models):
    models = VariantModels(policy=ModelPolicy(allowed=(str(tiny_models.base), str(tiny_models.lora))))
    as_base = variant_specs(str(tiny_models.lora))
    with pytest.raises(ConfigError, match="is a LoRA adapter"):
        models.variant(as_base[0], as_base[0])
    as_full = variant_specs(str(tiny_models.base), str(tiny_models.lora))
    with pytest.raises(ConfigError, match="is a LoRA adapter .*, not a full model. The .full. box takes"):
        models.variant(as_full[1], as_full[0])
    not_offered = variant_specs(str(tiny_models.base), "", [str(tiny_models.other_lora)])
    with pytest.raises(ModelLoadError, match="is not offered here"):
        models.variant(not_offered[1], not_offered[0])
    assert models.base_loads == 0  # the refusals came before any weights were read


def test_a_variant_that_cannot_load_is_reported_and_the_others_still_summarise(tiny_models, tmp_path):
    settings = SummarizerSettings(
        base_model=str(tiny_models.base), full_model=str(tmp_path / "missing"), adapters=[str(tiny_models.lora)],
        allow_any_model=True,
    )
    summarizer = Summarizer(settings)
    specs = summarizer.specs()
    status = {row["variant"]: row for row in summarizer.status(specs)}
    assert status["full"]["available"] is False and "no such local folder" in status["full"]["reason"]
    assert status["lora-1"]["available"] and status["lora-1"]["base"] == str(tiny_models.base)
    assert status["lora-1"]["base_object"] == status["base"]["base_object"]
    result = summarizer.summarize(DIALOGUE, "", specs, max_new_tokens=10)
    by_name = {r.variant: r for r in result.results}
    assert by_name["lora-1"].summary == direct(tiny_models.lora) and by_name["base"].summary == direct(tiny_models.base)
    assert by_name["full"].summary is None and "no such local folder" in by_name["full"].error
    assert any(w.startswith("full is unavailable") for w in result.warnings)
    note = models_note(summarizer.status(specs))
    assert f"on base `{tiny_models.base}`" in note and "- **full** (full)" in note and "**unavailable**: Model" in note
    assert "Note:" not in note


def test_the_demo_model_is_announced(tiny_models, tmp_path):
    demo = shutil.copytree(tiny_models.base, tmp_path / "demo-base")
    (demo / DEMO_MARKER).write_text("{}")
    summarizer = Summarizer(SummarizerSettings(base_model=str(demo)))
    status = summarizer.status(summarizer.specs())
    assert status[0]["demo_note"] == DEMO_NOTE
    assert models_note(status).startswith(f"**Note: {DEMO_NOTE}**")


def test_bad_dialogues_and_unknown_variants_get_clear_messages(tiny_models):
    summarizer = Summarizer(SummarizerSettings(base_model=str(tiny_models.base)))
    specs = summarizer.specs()
    with pytest.raises(PromptError, match="The dialogue is empty"):
        summarizer.summarize(" \n\t ", "", specs)
    with pytest.raises(PromptError, match="A reference summary was given but no dialogue"):
        summarizer.summarize("", "Anna goes to the bank.", specs)
    with pytest.raises(ConfigError, match="Unknown variant\\(s\\) lora-9; this Space has base"):
        summarizer.summarize(DIALOGUE, "", specs, ["lora-9"])


def test_turn_spans_and_sentences_by_hand():
    prompt = "Summarize the following conversation.\n\n#A#: Hi there.\n#B#: Bye now.\n\nSummary:"
    dialogue = "#A#: Hi there.\n\n#B#: Bye now.\n#A#: Gone."  # a blank line, and a last turn the prompt lacks
    assert turn_spans(prompt, dialogue) == [(39, 53), (54, 67)]
    assert prompt[39:53] == "#A#: Hi there." and prompt[54:67] == "#B#: Bye now."
    assert turn_spans("Intro\n\n#A#: Hi th\n\nSummary:", dialogue) == [(7, 17)]  # cut inside the first turn
    assert summary_sentences("Anna goes. Ben stays!  Then what") == [(0, 10), (11, 21), (23, 32)]


def test_explanation_weights_cover_the_turns_and_sum_to_one(tiny_models):
    loaded = load_model(str(tiny_models.lora))
    explanation = explain_summary(loaded, DIALOGUE, "Anna goes to the bank. Ben asks to come!", "lora-1")
    assert explanation.turns == DIALOGUE.splitlines() and explanation.turns_cut == 0
    assert [s.sentence for s in explanation.sentences] == ["Anna goes to the bank.", "Ben asks to come!"]
    for sentence in explanation.sentences:
        assert len(sentence.turn_weights) == 3 and sum(sentence.turn_weights) == pytest.approx(1.0, abs=1e-5)
        assert 0 < sentence.dialogue_share < 1  # some attention goes to the instruction and </s>
        assert sentence.top_turn == max(range(3), key=sentence.turn_weights.__getitem__)
    # The explanation pass does not leave the shared model in eager attention.
    assert loaded.model.get_base_model().config._attn_implementation != "eager"


def test_a_dialogue_cut_to_fit_explains_only_the_turns_the_model_read(tiny_models):
    loaded = load_model(str(tiny_models.base))
    turns = [f"#Person{1 + i % 2}#: Turn number {i} says something about the bank and a ticket." for i in range(80)]
    explanation = explain_summary(loaded, "\n".join(turns), "They talk.")
    kept = len(explanation.turns)
    assert 0 < kept < 80 and explanation.turns_cut == 80 - kept
    assert explanation.turns[:-1] == turns[: kept - 1]  # whole turns, the last one possibly cut
    assert sum(explanation.sentences[0].turn_weights) == pytest.approx(1.0, abs=1e-5)


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("LLMFT_SUMMARIZER_BASE", "me/base")
    monkeypatch.setenv("LLMFT_BASE_MODEL", "me/not-the-summarizer-base")
    monkeypatch.setenv("LLMFT_FULL_MODEL", "me/full@v2")
    monkeypatch.setenv("LLMFT_LORA_ADAPTER", "me/ignored-when-the-plural-is-set")
    monkeypatch.setenv("LLMFT_LORA_ADAPTERS", " me/a , me/b@abc123,, me/a ")
    monkeypatch.setenv("LLMFT_BATCH_MAX_ROWS", "7")
    settings = SummarizerSettings.from_env()
    assert settings.base_model == "me/base" and settings.adapters == ["me/a", "me/b@abc123"]
    assert settings.batch_max_rows == 7 and settings.model_choices == ["me/base", "me/full", "me/a", "me/b"]
    specs = Summarizer(settings).specs()
    assert [(s.name, s.source, s.revision) for s in specs] == [
        ("base", "me/base", None), ("full", "me/full", "v2"), ("lora-1", "me/a", None), ("lora-2", "me/b", "abc123"),
    ]
    monkeypatch.delenv("LLMFT_LORA_ADAPTERS")
    assert SummarizerSettings.from_env().adapters == ["me/ignored-when-the-plural-is-set"]
    monkeypatch.setenv("LLMFT_BATCH_MAX_BYTES", "lots")
    with pytest.raises(ConfigError, match="LLMFT_BATCH_MAX_BYTES='lots' is not a whole number"):
        SummarizerSettings.from_env()


def test_a_local_folder_with_an_at_sign_is_not_a_revision(tmp_path):
    folder = tmp_path / "model@v1"
    folder.mkdir()
    assert parse_source(str(folder)) == (str(folder), None)
    assert parse_source("me/model@v1") == ("me/model", "v1")


def test_the_course_table_has_improvements_over_the_base_in_points():
    means = {
        "base": {"rouge1": 20.0, "rouge2": 5.0, "rougeL": 18.0, "rougeLsum": 18.5},
        "lora-1": {"rouge1": 35.5, "rouge2": 12.25, "rougeL": 30.0, "rougeLsum": 30.0},
    }
    assert comparison_table(means) == [
        ["base", 20.0, 5.0, 18.0, 18.5],
        ["lora-1", 35.5, 12.25, 30.0, 30.0],
        ["lora-1 - base", 15.5, 7.25, 12.0, 11.5],
    ]


def test_an_empty_summary_says_so_in_the_table_and_stays_empty_in_the_json():
    from llmft.summarizing.results import EMPTY_SUMMARY, SingleResult, VariantSummary

    result = SingleResult([], [VariantSummary("base", "base", "me/base", summary="", seconds=0.1)])
    assert result.table()[0][2] == EMPTY_SUMMARY and result.to_dict()["results"][0]["summary"] == ""
