"""Unsupported facts (numbers, names, negations) and the paired bootstrap interval, on hand-written cases."""

from __future__ import annotations

import pytest

from llmft.bootstrap import paired_bootstrap
from llmft.errors import DataError
from llmft.faithfulness import check, unsupported_facts

BOOKING = """#Person1#: Good evening, I'd like to book a table for seven people, please.
#Person2#: Certainly. What name is it under?
#Person1#: Iris. We'll come at 8 o'clock. I don't want a table near the door.
#Person2#: Fine. We have one by the window for $45 a head. Do you want wine?
#Person1#: Yes, I like red wine. My friend from Boston doesn't drink, though."""


def flagged(summary: str, dialogue: str = BOOKING) -> list[tuple[str, str]]:
    facts = unsupported_facts(summary, dialogue)
    for fact in facts:  # every span is the summary's own text
        assert summary[fact.start:fact.end] == fact.text and fact.why
    return [(f.kind, f.text) for f in facts]


def test_a_faithful_summary_in_other_words_has_no_flag():
    summary = ("#Person1# books a table for 7 under the name Iris at 8 pm, $45 each. #Person1# doesn't want a table "
               "near the door and likes red wine; a friend from boston doesn't drink.")
    assert flagged(summary) == []


def test_the_issues_booking_error_flags_the_number_and_the_name():
    summary = "#Person1# books a table for 2 people at eight under the name Helen."
    assert flagged(summary) == [("number", "2"), ("name", "Helen")]


@pytest.mark.parametrize(("summary", "wrong"), [
    ("The table costs forty dollars a head.", "forty"),
    ("They will come at 9 o'clock.", "9 o'clock"),
    ("It is a table for twelve.", "twelve"),
    ("They come on Friday.", "Friday"),
])
def test_numbers_times_money_and_dates_the_dialogue_never_states(summary, wrong):
    assert flagged(summary) == [("number", wrong)]


@pytest.mark.parametrize("summary", ["They come at eight.", "A table for seven at 8:00 p.m.", "It is $45.00 a head.",
                                     "They come at 20:00.", "The one by the window is free."])
def test_the_same_value_spelled_another_way_is_supported(summary):
    assert flagged(summary) == []


def test_speaker_tags_and_places_the_dialogue_lacks_are_names():
    assert flagged("#Person3# calls Iris from Chicago.") == [("name", "#Person3#"), ("name", "Chicago")]
    assert flagged("#Person2# tells IRIS that BOSTON is far.") == []  # case does not matter


def test_a_negation_the_dialogue_contradicts_either_way():
    assert flagged("#Person1# doesn't like red wine.") == [("negation", "doesn't like")]
    assert flagged("#Person1# wants a table near the door.") == [("negation", "wants")]


REPORT = """#Person1#: Did you finish the report?
#Person2#: Yes, I finished it last night and sent it to the manager.
#Person1#: Great. Can you come to the meeting tomorrow?
#Person2#: I can't, I have a dentist appointment. My tooth hurts."""


def test_a_negation_is_compared_by_its_verb_and_object_in_any_form():
    # The dialogue says these without a negation ("finished", "sent", "hurts"): a summary denying them is flagged.
    assert flagged("#Person2# hasn't finished the report.", REPORT) == [("negation", "hasn't finished")]
    assert flagged("#Person2# never sent the report to the manager.", REPORT) == [("negation", "never sent")]
    assert flagged("#Person2#'s tooth doesn't hurt.", REPORT) == [("negation", "doesn't hurt")]
    # Denied in the dialogue: a question answered "I can't" supports the summary's "can't".
    assert flagged("#Person2# can't come to the meeting tomorrow because of a dentist appointment.", REPORT) == []
    assert flagged("#Person2# finished the report and sent it to the manager.", REPORT) == []


def test_questions_state_nothing_and_other_speakers_are_other_people():
    dialogue = "#Person1#: Do you want tea?\n#Person2#: No. Do you like it?\n#Person1#: I like it a lot."
    assert flagged("#Person2# doesn't want tea.", dialogue) == []  # the only "want" is a question
    dialogue = "#Person1#: I don't drive to work.\n#Person2#: I drive to work every day."
    assert flagged("#Person2# drives to work.", dialogue) == []  # #Person2#'s own "I drive"
    assert flagged("#Person1# drives to work.", dialogue) == [("negation", "drives")]


def test_check_counts_per_kind_and_bad_input_gets_a_message():
    result = check("#Person1# books for 2 under Helen.", BOOKING)
    assert result["unsupported_count"] == 2
    assert result["unsupported_by_kind"] == {"number": 1, "name": 1, "negation": 0}
    assert unsupported_facts("", BOOKING) == []
    with pytest.raises(DataError, match="must be text"):
        unsupported_facts(None, BOOKING)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="at most 20,000"):
        unsupported_facts("x" * 20_001, BOOKING)


def test_bootstrap_interval_matches_the_hand_computed_resampling_distribution():
    # Differences (0, 0, 3): a resample's mean is k, the number of times the 3 is drawn, k ~ Binomial(3, 1/3):
    # P(0) = 8/27, P(1) = 12/27, P(2) = 6/27, P(3) = 1/27 (3.7%). The 2.5th percentile is 0; the 97.5th is 3
    # (only 3.7% lie above 2 and 2.5% < 3.7%); the 95th is 2 (3.7% < 5%). The mean difference is 1.
    interval = paired_bootstrap([0, 0, 3], [0, 0, 0], resamples=20_000, seed=1)
    assert (interval.difference, interval.low, interval.high) == (1.0, 0.0, 3.0)
    assert not interval.excludes_zero and interval.too_few and "fewer than 10" in interval.note
    assert (paired_bootstrap([0, 0, 3], [0, 0, 0], 20_000, 1, confidence=0.90).high) == 2.0
    # Every dialogue better by 0.5: every resample's mean is 0.5, the interval is [0.5, 0.5] and excludes 0.
    same = paired_bootstrap([0.9] * 12, [0.4] * 12, resamples=1000)
    assert (same.low, same.high, same.excludes_zero, same.too_few) == (0.5, 0.5, True, False)
    assert same.label(scale=100) == "+50.0 [+50.0, +50.0] ≠ 0"


def test_bootstrap_is_seeded_and_refuses_unpaired_scores():
    a, b = [0.1, 0.5, 0.3, 0.9, 0.2, 0.4, 0.8, 0.6, 0.7, 0.0], [0.2] * 10
    assert paired_bootstrap(a, b, seed=7) == paired_bootstrap(a, b, seed=7)
    assert paired_bootstrap(a, b, seed=7).resamples >= 1000
    with pytest.raises(ValueError, match="one of each per dialogue"):
        paired_bootstrap([0.1], [0.1, 0.2])
    with pytest.raises(ValueError, match="no dialogues"):
        paired_bootstrap([], [])


def test_a_trained_models_card_carries_the_share_of_flagged_summaries_with_its_definition():
    from llmft.hub.cards import card_scores, model_card

    results = {"dataset": "knkarthick/dialogsum", "split": "test", "rows": 8, "generation": {"num_beams": 1},
               "models": {"lora": {"rouge": {"rouge1": 0.4}, "unsupported_share": 0.125}}}
    scores = card_scores(results)
    assert scores.unsupported_share == 0.125
    card = model_card("me/model", "google/flan-t5-base", "lora", "knkarthick/dialogsum", scores)
    assert "| summaries with an unsupported fact | 12.50 |" in card
    assert "states a number (digits, number words, times, dates, money), a name" in card
