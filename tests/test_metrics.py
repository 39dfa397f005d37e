"""ROUGE: hand-computed values on small cases, and equality with rouge_score (Lsum on sentence-split text),
single- and multi-reference, per row and on average."""

import pysbd
import pytest
from rouge_score import rouge_scorer

from llmft.data import load_dialogues
from llmft.demo.tiny import synthetic_dialogues
from llmft.metrics import ROUGE_TYPES, comparison_rows, format_table, score_one, score_rouge, split_sentences
from tests.conftest import DIALOGSUM_DIR
from tests.support.require import require

SCORER = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)


def by_sentence(text: str) -> str:
    """The reference's own sentence split (pysbd, one sentence per line), written apart from llmft.metrics."""
    return "\n".join(s.strip() for s in pysbd.Segmenter(language="en", clean=False).segment(text) if s.strip())


def reference_score(ref: str, prediction: str) -> dict[str, float]:
    """rouge_score alone: plain text for ROUGE-1/2/L, sentence-split text for Lsum."""
    plain = SCORER.score(ref, prediction)
    split = SCORER.score(by_sentence(ref), by_sentence(prediction))
    return {name: (split if name == "rougeLsum" else plain)[name].fmeasure for name in ROUGE_TYPES}


def direct_mean(predictions, references):
    """The reference computation, written against rouge_score alone."""
    sums = dict.fromkeys(ROUGE_TYPES, 0.0)
    for prediction, refs in zip(predictions, references, strict=True):
        for name in ROUGE_TYPES:
            sums[name] += max(reference_score(ref, prediction)[name] for ref in refs)
    return {name: total / len(predictions) for name, total in sums.items()}


def check_equal(predictions, references):
    ours = score_rouge(predictions, references)
    for row, prediction, refs in zip(ours.per_row, predictions, references, strict=True):
        for name in ROUGE_TYPES:
            assert row[name] == max(reference_score(ref, prediction)[name] for ref in refs)
    assert ours.mean == pytest.approx(direct_mean(predictions, references), abs=1e-12)
    return ours


def test_hand_computed_single_sentence():
    # Tokens (lower case, punctuation dropped; no word here is long enough for the stemmer to change):
    #   reference  "the cat sat on the mat" (6)    prediction "the cat lay on a mat" (6)
    # ROUGE-1: common unigrams the, cat, on, mat = 4 -> P = R = 4/6 -> F = 2/3.
    # ROUGE-2: reference bigrams the-cat cat-sat sat-on on-the the-mat, prediction the-cat cat-lay lay-on
    #          on-a a-mat: only the-cat is shared -> P = R = 1/5 -> F = 0.2.
    # ROUGE-L: LCS "the cat on mat" = 4 -> F = 2/3. One sentence each, so ROUGE-Lsum is the same 2/3.
    scores = score_one("The cat lay on a mat.", "The cat sat on the mat.")
    assert scores == pytest.approx({"rouge1": 2 / 3, "rouge2": 0.2, "rougeL": 2 / 3, "rougeLsum": 2 / 3}, abs=1e-12)


def test_hand_computed_lsum_differs_from_l_on_reordered_sentences():
    # reference "the cat sat. the dog ran." vs prediction "the dog ran. the cat sat." (6 tokens each).
    # ROUGE-L over the whole text: the longest common subsequence is one sentence ("the cat sat" or
    #   "the dog ran"; after either, the other text has no token left in order) = 3 -> P = R = 3/6 -> F = 0.5.
    # ROUGE-Lsum, sentence by sentence: reference "the cat sat" against the predicted sentences
    #   ("the dog ran": {the}; "the cat sat": {the, cat, sat}) -> union 3 hits; "the dog ran" likewise 3
    #   -> 6 hits of 6 reference and 6 predicted tokens -> P = R = F = 1.
    # ROUGE-1 = 1 (same words); ROUGE-2: bigrams the-cat cat-sat sat-the the-dog dog-ran vs the-dog dog-ran
    #   ran-the the-cat cat-sat: 4 of 5 shared -> F = 0.8.
    scores = score_one("The dog ran. The cat sat.", "The cat sat. The dog ran.")
    assert scores == pytest.approx({"rouge1": 1.0, "rouge2": 0.8, "rougeL": 0.5, "rougeLsum": 1.0}, abs=1e-12)


def test_sentences_split_offline_and_keep_abbreviations():
    assert split_sentences("#Person1# asks Mr. Smith for help. He agrees.") == [
        "#Person1# asks Mr. Smith for help.",
        "He agrees.",
    ]
    assert split_sentences("#Person2# pays $3.50 at 5 p.m. today.\nThey leave!") == [
        "#Person2# pays $3.50 at 5 p.m. today.",
        "They leave!",
    ]
    assert split_sentences("no punctuation at all") == ["no punctuation at all"] and split_sentences(" \n ") == []


def test_fixture_rows_single_and_multi_reference():
    rows = synthetic_dialogues(30)
    # Predictions: another row's summary, so scores are spread between 0 and 1.
    predictions = [rows[(i + 1) % len(rows)].summary for i in range(len(rows))]
    single = check_equal(predictions, [[r.summary] for r in rows])
    assert 0.0 < single.mean["rouge1"] < 1.0
    multi = check_equal(predictions, [[r.summary, rows[(i + 1) % len(rows)].summary] for i, r in enumerate(rows)])
    assert multi.mean["rouge1"] == pytest.approx(1.0)  # the second reference is the prediction itself


def test_string_reference_equals_list_of_one():
    assert score_one("the cat sat", "a cat sat down") == score_one("the cat sat", ["a cat sat down"])


def test_real_dialogsum_rows_match_rouge_score():
    require(DIALOGSUM_DIR.is_dir(), f"the DialogSum copy at {DIALOGSUM_DIR}")
    test = load_dialogues(DIALOGSUM_DIR, split="test", limit=60)
    # Score reference 1 against references 2 and 3: real human text, real disagreement.
    predictions = [r.summaries[0] for r in test]
    check_equal(predictions, [r.summaries[1:] for r in test])
    ours = check_equal(predictions, [[r.summaries[1]] for r in test])
    # Real summaries have several sentences: with them split, Lsum is no longer L on every row.
    assert any(row["rougeLsum"] != row["rougeL"] for row in ours.per_row)


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        score_rouge(["a", "b"], ["a"])


def test_comparison_table_has_differences():
    results = {"original": dict.fromkeys(ROUGE_TYPES, 0.2), "peft": dict.fromkeys(ROUGE_TYPES, 0.35)}
    rows = comparison_rows(results, baseline="original")
    assert rows[-1]["model"] == "peft - original" and rows[-1]["rouge1"] == pytest.approx(0.15)
    table = format_table(rows)
    assert "+15.00" in table and "35.00" in table
