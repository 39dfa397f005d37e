"""ROUGE through Google's `rouge_score`, the package `evaluate`'s "rouge" wraps.

We call `rouge_score` directly: `evaluate.load("rouge")` downloads its script at run time, and we want
per-row scores and exact means rather than bootstrap estimates. Scores are F-measures in [0, 1].
With several references a row scores the best of them, per ROUGE type (`RougeScorer.score_multi`).
No text is changed before scoring, so every number equals what `rouge_score` gives on the same pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rouge_score import rouge_scorer

ROUGE_TYPES: tuple[str, ...] = ("rouge1", "rouge2", "rougeL", "rougeLsum")


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
    """F-measure per ROUGE type for one prediction; best reference per type when there are several."""
    scorer = get_scorer(tuple(rouge_types), use_stemmer)
    refs = [references] if isinstance(references, str) else list(references)
    if not refs:
        raise ValueError("score_one needs at least one reference")
    scores = scorer.score(refs[0], prediction) if len(refs) == 1 else scorer.score_multi(refs, prediction)
    return {name: scores[name].fmeasure for name in rouge_types}


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
