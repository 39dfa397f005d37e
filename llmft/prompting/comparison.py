"""One dialogue, several columns: pick shots, fit the prompt, generate (timed), score.

Running a column is the one path the design asks for: `prompts.pick_shots` -> `prompts.fit_prompt`
(512 tokens, with a report of what was dropped) -> `models.generate` -> `metrics.score_one`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from llmft.charts import grouped_bar_chart
from llmft.data import DialogueExample
from llmft.metrics import ROUGE_TYPES, score_one
from llmft.models import GenerationSettings, LoadedModel, generate
from llmft.prompting.controls import ColumnConfig, check_dialogue
from llmft.prompts import MAX_SOURCE_TOKENS, SimilarityIndex, fit_prompt, pick_shots

ROUGE_LABELS = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "rougeLsum": "ROUGE-Lsum"}


def _percent_table(scores: dict[str, float] | None) -> list[Any]:
    return [round(100 * scores[k], 2) if scores else None for k in ROUGE_TYPES]


@dataclass
class ColumnResult:
    """What one column shows: the exact prompt, how it was fitted, the summary, the time and ROUGE."""

    label: str
    shots_requested: int
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
    rouge: dict[str, float] | None  # F-measures in [0, 1]; None without a reference

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def markdown(self) -> str:
        """The column's details for the UI: tokens and fitting, shots, time, ROUGE."""
        shots = ", ".join(f"`{s}`" for s in self.shot_ids) or "none"
        fit = f"⚠️ {self.fit_report}" if self.dropped_shot_ids or self.dialogue_tokens_cut else self.fit_report
        lines = [
            f"**{self.label}**",
            f"- Prompt: **{self.prompt_tokens}/{self.max_tokens}** tokens; {fit}",
            f"- Shots used: {shots}",
            f"- Time: **{self.seconds:.2f} s**",
        ]
        if self.rouge is None:
            lines.append("- ROUGE: no reference given")
        else:
            lines.append("- " + " · ".join(f"{ROUGE_LABELS[k]} **{100 * v:.1f}**" for k, v in self.rouge.items()))
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
        label=config.label,
        shots_requested=config.shots,
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
        rouge=score_one(summary, list(references)) if references else None,
    )


@dataclass
class Comparison:
    """The columns run on one dialogue, with what they were run with."""

    model: str
    settings: dict[str, Any]
    references: list[str]
    shot_pool: str
    columns: list[ColumnResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "settings": self.settings,
            "references": self.references,
            "shot_pool": self.shot_pool,
            "warnings": self.warnings,
            "columns": [c.to_dict() for c in self.columns],
        }

    @property
    def warnings(self) -> list[str]:
        """Things a person should know about the result: a dialogue cut to fit, shots dropped."""
        notes = []
        for column in self.columns:
            if column.dialogue_tokens_cut:
                notes.append(
                    f"{column.label}: the dialogue is longer than the model reads; the last "
                    f"{column.dialogue_tokens_cut} token(s) were cut to fit {column.max_tokens} tokens."
                )
            elif column.dropped_shot_ids:
                notes.append(
                    f"{column.label}: {len(column.dropped_shot_ids)} of {column.shots_requested} shot(s) "
                    f"dropped to fit {column.max_tokens} tokens."
                )
        return notes

    TABLE_HEADERS = ["column", "shots used", "prompt tokens", "seconds", *(ROUGE_LABELS[k] for k in ROUGE_TYPES)]

    def table(self) -> list[list[Any]]:
        """Rows under `TABLE_HEADERS`; ROUGE in percent (empty without a reference)."""
        return [
            [c.label, len(c.shot_ids), c.prompt_tokens, c.seconds, *_percent_table(c.rouge)] for c in self.columns
        ]

    def chart(self) -> Any | None:
        """ROUGE per column as grouped bars; None without a reference (nothing to compare)."""
        if not self.references:
            return None
        groups = {c.label: {ROUGE_LABELS[k]: 100 * v for k, v in (c.rouge or {}).items()} for c in self.columns}
        return grouped_bar_chart(groups, title="ROUGE against the reference", ylabel="F-measure (%)")
