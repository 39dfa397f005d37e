"""One prompt path: a dialogue too long for the encoder reaches the model as the same ids in training,
evaluation and the Prompting Space, and those ids end with the prompt's `Summary:` suffix."""

from __future__ import annotations

import pytest

from llmft.data import DialogueExample
from llmft.demo.tiny import synthetic_dialogues
from llmft.evaluation import evaluate_model
from llmft.models import GenerationSettings, load_model
from llmft.prompting.comparison import run_column
from llmft.prompting.controls import ColumnConfig
from llmft.prompts import zero_shot_prompt
from llmft.training.batches import tokenize_examples

SETTINGS = GenerationSettings(max_new_tokens=4)


@pytest.fixture()
def loaded(tiny_models):
    return load_model(str(tiny_models.base), use_cache=False)


def _long_dialogue(tokenizer, tokens: int = 700) -> str:
    """Synthetic turns joined until the dialogue alone is about `tokens` tokens long."""
    turns: list[str] = []
    for row in synthetic_dialogues(200, seed=11):
        for turn in row.dialogue.splitlines():
            turns.append(turn)
            if len(tokenizer("\n".join(turns), add_special_tokens=False)["input_ids"]) >= tokens:
                return "\n".join(turns)
    raise AssertionError("the synthetic rows are too short to build a long dialogue")


def _record_generate_inputs(loaded, monkeypatch) -> list[list[int]]:
    """Every row of input ids the model's `generate` receives, in order."""
    seen: list[list[int]] = []
    real = loaded.model.generate

    def recording(*args, **kwargs):
        seen.extend(row.tolist() for row in kwargs["input_ids"])
        return real(*args, **kwargs)

    monkeypatch.setattr(loaded.model, "generate", recording)
    return seen


def test_a_700_token_dialogue_gives_the_same_ids_in_training_evaluation_and_the_space(loaded, monkeypatch):
    tokenizer = loaded.tokenizer
    dialogue = _long_dialogue(tokenizer)
    assert 700 <= len(tokenizer(dialogue, add_special_tokens=False)["input_ids"]) <= 760
    example = DialogueExample(id="long", dialogue=dialogue, summaries=["Person1 and Person2 talk for a long time."])

    training = tokenize_examples(tokenizer, [example], max_source_length=512, max_target_length=128)[0]["input_ids"]
    seen = _record_generate_inputs(loaded, monkeypatch)
    evaluate_model(loaded, [example], settings=SETTINGS, batch_size=1, max_input_tokens=512)
    run_column(loaded, dialogue, [], pool=[], config=ColumnConfig(shots=0), settings=SETTINGS, max_tokens=512)
    assert len(seen) == 2
    evaluation, space = seen

    assert training == evaluation == space
    assert len(training) == 512  # the budget, filled: the dialogue was cut to fit
    # The prompt ends "...\n\nSummary:" and the tokenizer adds </s>: those tokens close every copy.
    suffix = tokenizer("Summary:", add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    assert training[-len(suffix) :] == suffix
    # The instruction opens it, and the whole prompt would not have fitted: right-truncation would have cut
    # the suffix, which is what training and evaluation did before they fitted the prompt.
    instruction = tokenizer("Summarize the following conversation.", add_special_tokens=False)["input_ids"]
    assert training[: len(instruction)] == instruction
    untouched = tokenizer(zero_shot_prompt(dialogue))["input_ids"]
    assert len(untouched) > 512 and untouched[:511] + [tokenizer.eos_token_id] != training


def test_short_dialogues_are_not_changed_by_fitting(loaded):
    tokenizer = loaded.tokenizer
    example = synthetic_dialogues(1)[0]
    ids = tokenize_examples(tokenizer, [example], max_source_length=512, max_target_length=128)[0]
    assert ids["input_ids"] == tokenizer(zero_shot_prompt(example.dialogue))["input_ids"]
    assert ids["attention_mask"] == [1] * len(ids["input_ids"])
    assert ids["labels"] == tokenizer(text_target=example.summary)["input_ids"]
