"""ROUGE through Google's `rouge_score`, the package `evaluate`'s "rouge" wraps.

We call `rouge_score` directly: `evaluate.load("rouge")` downloads its script at run time, and we want
per-row scores and exact means rather than bootstrap estimates. Scores are F-measures in [0, 1].
With several references a row scores the best of them, per ROUGE type (`RougeScorer.score_multi`).

ROUGE-1, ROUGE-2 and ROUGE-L score the texts as given. ROUGE-Lsum is the summary-level LCS: it matches
each reference sentence against every predicted sentence, so it needs sentence boundaries, which
`rouge_score` takes from newlines. Without them it equals ROUGE-L on every row. So, as transformers'
summarization examples do (there with `nltk.sent_tokenize`, which downloads its data at run time),
both texts are split into sentences first, here with `pysbd` (rule-based, pure Python, nothing to
download; "Mr. Smith" stays one sentence), and the sentences are joined with newlines for Lsum only.
Every number equals what `rouge_score` gives on the same pair (for Lsum: on the sentence-split pair).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import pysbd
from rouge_score import rouge_scorer

ROUGE_TYPES: tuple[str, ...] = ("rouge1", "rouge2", "rougeL", "rougeLsum")
SENTENCE_LEVEL = "rougeLsum"  # the one type scored on sentence-split text


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`: each line (a newline is already a boundary) split by pysbd's English rules."""
    # A Segmenter per call: cheap, and pysbd keeps per-text state on it, so sharing one across threads is unsafe.
    segmenter = pysbd.Segmenter(language="en", clean=False)
    sentences = []
    for line in text.split("\n"):
        if line.strip():
            sentences.extend(s.strip() for s in segmenter.segment(line) if s.strip())
    return sentences


def sentence_lines(text: str) -> str:
    """`text` with one sentence per line: the form `rouge_score` reads sentence boundaries from for Lsum."""
    return "\n".join(split_sentences(text))


@lru_cache(maxsize=4)
def get_scorer(rouge_types: tuple[str, ...] = ROUGE_TYPES, use_stemmer: bool = True) -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(list(rouge_types), use_stemmer=use_stemmer)


@dataclass
class RougeResult:
    """Per-row F-measures and their means."""

    per_row: list[dict[str, float]]
    mean: dict[str, float]

    def as_percent(self) -> dict[str, float]:
        return {name: round(100 * value, 2) for name, value in self.mean.items()}


def score_one(
    prediction: str,
    references: str | Sequence[str],
    rouge_types: tuple[str, ...] = ROUGE_TYPES,
    use_stemmer: bool = True,
) -> dict[str, float]:
    """F-measure per ROUGE type for one prediction; best reference per type when there are several.

    ROUGE-Lsum is scored on both texts split into sentences (`sentence_lines`); the other types on the texts as given.
    """
    refs = [references] if isinstance(references, str) else list(references)
    if not refs:
        raise ValueError("score_one needs at least one reference")
    scores: dict[str, float] = {}
    plain = tuple(t for t in rouge_types if t != SENTENCE_LEVEL)
    if plain:
        scores.update(_best(get_scorer(plain, use_stemmer), refs, prediction))
    if SENTENCE_LEVEL in rouge_types:
        split_refs = [sentence_lines(r) for r in refs]
        scores.update(_best(get_scorer((SENTENCE_LEVEL,), use_stemmer), split_refs, sentence_lines(prediction)))
    return {name: scores[name] for name in rouge_types}


def _best(scorer: rouge_scorer.RougeScorer, refs: list[str], prediction: str) -> dict[str, float]:
    scores = scorer.score(refs[0], prediction) if len(refs) == 1 else scorer.score_multi(refs, prediction)
    return {name: score.fmeasure for name, score in scores.items()}


def score_rouge(
    predictions: Sequence[str],
    references: Sequence[str] | Sequence[Sequence[str]],
    rouge_types: tuple[str, ...] = ROUGE_TYPES,
    use_stemmer: bool = True,
) -> RougeResult:
    """Score aligned predictions and references (each reference a string or a list of strings)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    per_row = [score_one(p, r, rouge_types, use_stemmer) for p, r in zip(predictions, references, strict=True)]
    return RougeResult(per_row=per_row, mean=mean_scores(per_row, rouge_types))


def mean_scores(per_row: Sequence[dict[str, float]], rouge_types: tuple[str, ...] = ROUGE_TYPES) -> dict[str, float]:
    if not per_row:
        return {name: 0.0 for name in rouge_types}
    return {name: sum(row[name] for row in per_row) / len(per_row) for name in rouge_types}


def comparison_rows(results: dict[str, dict[str, float]], baseline: str | None = None) -> list[dict[str, object]]:
    """Rows of a table comparing models' mean scores, plus absolute differences against `baseline`.

    `results` maps a model name to its mean scores. The lab prints exactly this: each model, then
    "Absolute percentage improvement of X over ORIGINAL MODEL".
    """
    rows: list[dict[str, object]] = [{"model": name, **scores} for name, scores in results.items()]
    if baseline is not None and baseline in results:
        for name, scores in results.items():
            if name == baseline:
                continue
            diff = {k: scores[k] - results[baseline][k] for k in scores if k in results[baseline]}
            rows.append({"model": f"{name} - {baseline}", **diff})
    return rows


def format_table(rows: Sequence[dict[str, object]], percent: bool = True) -> str:
    """Plain-text table for scripts and logs."""
    if not rows:
        return ""
    columns = list(rows[0].keys())
    cells = [
        [
            f"{100 * v:+.2f}" if percent and isinstance(v, float) and " - " in str(row["model"])
            else f"{100 * v:.2f}" if percent and isinstance(v, float)
            else str(v)
            for v in (row.get(c, "") for c in columns)
        ]
        for row in rows
    ]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, "-" * len(line), *body])
