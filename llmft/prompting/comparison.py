"""One dialogue, several columns: pick shots, fit the prompt, generate (timed), score.

Running a column is the one path the design asks for: `prompts.pick_shots` -> `prompts.fit_prompt`
(512 tokens, with a report of what was dropped) -> `models.generate` -> `metrics.score_one`.

What the Space shows is what happened: a column whose shots did not all fit is labelled with the number
it used ("C · 2-shot most similar → 0 used"), and its notes say why. ROUGE is on one scale everywhere in
this Space (tables, charts, JSON, CSV): F-measure in percent (`ROUGE_SCALE`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from llmft.charts import grouped_bar_chart
from llmft.data import DialogueExample
from llmft.faithfulness import METHOD
from llmft.faithfulness import check as check_facts
from llmft.faithfulness.render import marked
from llmft.metrics import ROUGE_TYPES, score_one
from llmft.models import GenerationSettings, LoadedModel, generate
from llmft.prompting.controls import ColumnConfig
from llmft.prompts import MAX_SOURCE_TOKENS, SimilarityIndex, check_dialogue, fit_prompt, pick_shots

ROUGE_SCALE = "ROUGE F-measure, %"
ROUGE_LABELS = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "rougeLsum": "ROUGE-Lsum"}
ROUGE_HEADERS = [f"{ROUGE_LABELS[k]} (F, %)" for k in ROUGE_TYPES]


def to_percent(scores: dict[str, float] | None) -> dict[str, float] | None:
    """`llmft.metrics` F-measures in [0, 1] on this Space's scale (percent); None stays None."""
    return None if scores is None else {name: 100 * value for name, value in scores.items()}


def rouge_cells(scores: dict[str, float] | None) -> list[Any]:
    """Table cells for percent scores, two decimals (empty without a reference)."""
    return [round(scores[k], 2) if scores else None for k in ROUGE_TYPES]


def used_label(label: str, asked: int, used: float, mean: bool = False) -> str:
    """`label`, plus the shots actually used when fewer than asked: 'C · 2-shot most similar → 0 used'."""
    if used >= asked:
        return label
    return f"{label} → {used:.1f} used (mean)" if mean else f"{label} → {used:g} used"


def why_shots_dropped(max_tokens: int) -> str:
    return (
        f"the model reads {max_tokens} tokens and the prompt with every shot was longer, so shots were dropped, "
        "the last first (the dialogue being summarised is kept before any shot)"
    )


@dataclass
class ColumnResult:
    """What one column shows: the exact prompt, how it was fitted, the summary, the time and ROUGE."""

    label: str  # says how many shots were used when fewer than asked
    shots_requested: int
    shots_used: int
    strategy: str
    seed: int
    shot_ids: list[str]
    dropped_shot_ids: list[str]
    dialogue_tokens_cut: int
    prompt: str
    prompt_tokens: int
    max_tokens: int
    fit_report: str
    summary: str
    seconds: float
    rouge: dict[str, float] | None  # F-measures in percent (ROUGE_SCALE); None without a reference
    faithfulness: dict[str, Any] | None = None  # llmft.faithfulness.check: unsupported facts, count per kind

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def markdown(self) -> str:
        """The column's details for the UI: tokens and fitting, shots, time, ROUGE."""
        shots = ", ".join(f"`{s}`" for s in self.shot_ids) or "none"
        fit = f"⚠️ {self.fit_report}" if self.dropped_shot_ids or self.dialogue_tokens_cut else self.fit_report
        used = f"**{self.shots_used} of {self.shots_requested}**" if self.dropped_shot_ids else str(self.shots_used)
        lines = [
            f"**{self.label}**",
            f"- Prompt: **{self.prompt_tokens}/{self.max_tokens}** tokens; {fit}",
            f"- Shots used: {used} ({shots})",
            f"- Time: **{self.seconds:.2f} s**",
        ]
        if self.rouge is None:
            lines.append("- ROUGE: no reference given")
        else:
            scores = " · ".join(f"{ROUGE_LABELS[k]} **{v:.1f}**" for k, v in self.rouge.items())
            lines.append(f"- {scores} ({ROUGE_SCALE})")
        if self.faithfulness is not None:
            count = self.faithfulness["unsupported_count"]
            lines.append(f"- Unsupported facts: **{count}**" + (
                f": {marked(self.summary, self.faithfulness['unsupported_facts'])}" if count else " (none flagged)"))
            score = self.faithfulness.get("consistency_score")
            lines.append(f"- Consistency: **{score:.2f}**" if score is not None
                         else f"- {self.faithfulness.get('consistency_note') or ''}")
        return "\n".join(lines)


def run_column(
    loaded: LoadedModel,
    dialogue: str,
    references: Sequence[str],
    pool: Sequence[DialogueExample],
    config: ColumnConfig,
    settings: GenerationSettings | None = None,
    embedder: SimilarityIndex | None = None,
    max_tokens: int = MAX_SOURCE_TOKENS,
) -> ColumnResult:
    """Pick shots, fit the prompt, generate (timed), score: one column of the comparison."""
    dialogue = check_dialogue(dialogue)
    shots = pick_shots(
        pool, config.shots, config.strategy, dialogue=dialogue, seed=config.seed, embedder=embedder
    )
    fitted = fit_prompt(loaded.tokenizer, dialogue, shots, max_tokens=max_tokens)
    start = time.perf_counter()
    summary = generate(loaded, [fitted.text], settings, max_input_tokens=max_tokens)[0]
    seconds = time.perf_counter() - start
    return ColumnResult(
        label=used_label(config.label, config.shots, len(fitted.shot_ids)),
        shots_requested=config.shots,
        shots_used=len(fitted.shot_ids),
        strategy=config.strategy,
        seed=config.seed,
        shot_ids=fitted.shot_ids,
        dropped_shot_ids=fitted.dropped_shot_ids,
        dialogue_tokens_cut=fitted.dialogue_tokens_cut,
        prompt=fitted.text,
        prompt_tokens=fitted.token_count,
        max_tokens=fitted.max_tokens,
        fit_report=fitted.report,
        summary=summary,
        seconds=round(seconds, 3),
        rouge=to_percent(score_one(summary, list(references))) if references else None,
        faithfulness=check_facts(summary, dialogue),
    )


def notes_markdown(model_note: str | None, warnings: Sequence[str], fine: str) -> str:
    """The page's persistent note: the demo-model note and every warning, or `fine` when there are none."""
    lines = [f"ℹ️ **{model_note}**"] if model_note else []
    lines += [f"- ⚠️ {warning}" for warning in warnings]
    return "\n".join(lines) if lines else f"✅ {fine}"


@dataclass
class Comparison:
    """The columns run on one dialogue, with what they were run with."""

    model: str
    settings: dict[str, Any]
    references: list[str]
    shot_pool: str
    columns: list[ColumnResult]
    model_note: str | None = None  # set when the model is the embedded demo model

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "model_note": self.model_note,
            "settings": self.settings,
            "references": self.references,
            "shot_pool": self.shot_pool,
            "rouge_scale": ROUGE_SCALE,
            "faithfulness_method": METHOD,
            "warnings": self.warnings,
            "columns": [c.to_dict() for c in self.columns],
        }

    @property
    def warnings(self) -> list[str]:
        """Things a person should know about the result: shots dropped (and why), a dialogue cut to fit."""
        notes = []
        for column in self.columns:
            if column.dropped_shot_ids:
                notes.append(
                    f"{column.label}: asked for {column.shots_requested} shot(s), used {column.shots_used}: "
                    f"{why_shots_dropped(column.max_tokens)}."
                )
            if column.dialogue_tokens_cut:
                notes.append(
                    f"{column.label}: the dialogue is longer than the model reads; the last "
                    f"{column.dialogue_tokens_cut} token(s) were cut to fit {column.max_tokens} tokens."
                )
        return notes

    def notes_markdown(self) -> str:
        fine = "Every column used the shots it asked for; nothing was cut."
        return notes_markdown(self.model_note, self.warnings, fine)

    TABLE_HEADERS = ["column", "shots asked", "shots used", "prompt tokens", "seconds", *ROUGE_HEADERS,
                     "unsupported facts"]

    def table(self) -> list[list[Any]]:
        """Rows under `TABLE_HEADERS`; ROUGE in percent (empty without a reference)."""
        return [
            [c.label, c.shots_requested, c.shots_used, c.prompt_tokens, c.seconds, *rouge_cells(c.rouge),
             c.faithfulness["unsupported_count"] if c.faithfulness else None]
            for c in self.columns
        ]

    def chart(self) -> Any | None:
        """ROUGE per column as grouped bars; None without a reference (nothing to compare)."""
        if not self.references:
            return None
        groups = {c.label: {ROUGE_LABELS[k]: v for k, v in (c.rouge or {}).items()} for c in self.columns}
        return grouped_bar_chart(groups, title="ROUGE against the reference", ylabel=ROUGE_SCALE)
