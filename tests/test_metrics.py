"""Our ROUGE equals rouge_score's, single- and multi-reference, per row and on average."""

import pytest
from rouge_score import rouge_scorer

from llmft.data import load_dialogues
from llmft.metrics import ROUGE_TYPES, comparison_rows, format_table, score_one, score_rouge
from llmft.tiny import synthetic_dialogues
from tests.conftest import DIALOGSUM_DIR

SCORER = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)


def direct_mean(predictions, references):
    """The reference computation, written against rouge_score alone."""
    sums = dict.fromkeys(ROUGE_TYPES, 0.0)
    for prediction, refs in zip(predictions, references, strict=True):
        for name in ROUGE_TYPES:
            sums[name] += max(SCORER.score(ref, prediction)[name].fmeasure for ref in refs)
    return {name: total / len(predictions) for name, total in sums.items()}


def check_equal(predictions, references):
    ours = score_rouge(predictions, references)
    for row, prediction, refs in zip(ours.per_row, predictions, references, strict=True):
        for name in ROUGE_TYPES:
            assert row[name] == max(SCORER.score(ref, prediction)[name].fmeasure for ref in refs)
    assert ours.mean == pytest.approx(direct_mean(predictions, references), abs=1e-12)
    return ours


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


@pytest.mark.skipif(not DIALOGSUM_DIR.is_dir(), reason="../shared/data/dialogsum not present")
def test_real_dialogsum_rows_match_rouge_score():
    test = load_dialogues(DIALOGSUM_DIR, split="test", limit=60)
    # Score reference 1 against references 2 and 3: real human text, real disagreement.
    predictions = [r.summaries[0] for r in test]
    check_equal(predictions, [r.summaries[1:] for r in test])
    check_equal(predictions, [[r.summaries[1]] for r in test])


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        score_rouge(["a", "b"], ["a"])


def test_comparison_table_has_differences():
    results = {"original": dict.fromkeys(ROUGE_TYPES, 0.2), "peft": dict.fromkeys(ROUGE_TYPES, 0.35)}
    rows = comparison_rows(results, baseline="original")
    assert rows[-1]["model"] == "peft - original" and rows[-1]["rouge1"] == pytest.approx(0.15)
    table = format_table(rows)
    assert "+15.00" in table and "35.00" in table
