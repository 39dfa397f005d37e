"""Paired bootstrap intervals for differences in ROUGE: is model A better than B on these dialogues, or is it noise?

Both models summarise the same dialogues, so the difference is taken per dialogue (A's score minus B's) and the
dialogues are resampled with replacement, `resamples` times (seeded: the same inputs give the same interval).
The interval is the percentile interval of the resampled mean differences (2.5th and 97.5th percentiles for
95%). It excludes 0 when both ends have the same sign. With fewer than `FEW_DIALOGUES` dialogues the
resampling distribution is too coarse for the interval to mean much, and `DifferenceInterval.note` says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 0
FEW_DIALOGUES = 10
TOO_FEW_NOTE = (f"fewer than {FEW_DIALOGUES} dialogues: the interval is too wide (and too coarse) to mean much; "
                "evaluate more dialogues")


@dataclass(frozen=True)
class DifferenceInterval:
    """Mean per-dialogue difference (A - B) and its paired bootstrap interval, on the scores' own scale."""

    difference: float
    low: float
    high: float
    dialogues: int
    resamples: int
    confidence: float
    seed: int

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    @property
    def too_few(self) -> bool:
        return self.dialogues < FEW_DIALOGUES

    @property
    def note(self) -> str | None:
        return TOO_FEW_NOTE if self.too_few else None

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "excludes_zero": self.excludes_zero, "note": self.note}

    def label(self, scale: float = 1.0, digits: int = 1) -> str:
        """'+2.3 [+0.4, +4.1]', with '(≠ 0)' when the interval excludes 0."""
        d, lo, hi = (round(scale * v, digits) for v in (self.difference, self.low, self.high))
        mark = " ≠ 0" if self.excludes_zero else ""
        return f"{d:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]{mark}"


def paired_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> DifferenceInterval:
    """The paired bootstrap interval of mean(a - b): `a[i]` and `b[i]` are two models' scores on dialogue i."""
    if len(a) != len(b):
        raise ValueError(f"paired scores need one of each per dialogue: {len(a)} against {len(b)}")
    if not a:
        raise ValueError("no dialogues: a difference needs at least one scored dialogue")
    if resamples < 1 or not 0 < confidence < 1:
        raise ValueError(f"resamples must be at least 1 and confidence in (0, 1), not {resamples} and {confidence}")
    differences = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(differences), size=(resamples, len(differences)))
    means = differences[rows].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return DifferenceInterval(float(differences.mean()), float(low), float(high), len(differences), resamples,
                              confidence, seed)


def rouge_intervals(
    rows_a: Sequence[Mapping[str, float]],
    rows_b: Sequence[Mapping[str, float]],
    rouge_types: Sequence[str],
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> dict[str, DifferenceInterval]:
    """Per ROUGE type, the interval of A minus B over dialogues both scored (rows are per-dialogue scores)."""
    return {
        name: paired_bootstrap([r[name] for r in rows_a], [r[name] for r in rows_b], resamples, seed)
        for name in rouge_types
    }
