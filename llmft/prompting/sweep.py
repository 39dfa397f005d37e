"""Evaluation over many dialogues: every column over the first N test dialogues, batched, with means.

`evaluate_columns` writes one row per column and dialogue (every prompt and prediction, for the CSV) and
a `StrategySummary` per column (means over the dialogues). Like a comparison, it says how many shots
were used (a mean per column, and how many dialogues lost shots to the 512-token limit), and its ROUGE
is F-measure in percent (`ROUGE_SCALE`) in the table, the chart, the JSON and the CSV (`rouge1_pct`, ...).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llmft.bootstrap import FEW_DIALOGUES, TOO_FEW_NOTE, DifferenceInterval, rouge_intervals
from llmft.charts import grouped_bar_chart
from llmft.data import DialogueExample
from llmft.errors import DataError
from llmft.faithfulness import METHOD
from llmft.faithfulness import check as check_facts
from llmft.metrics import ROUGE_TYPES, mean_scores, score_one
from llmft.models import GenerationSettings, LoadedModel, generate
from llmft.prompting.comparison import (
    ROUGE_HEADERS,
    ROUGE_LABELS,
    ROUGE_SCALE,
    notes_markdown,
    rouge_cells,
    to_percent,
    used_label,
    why_shots_dropped,
)
from llmft.prompting.controls import ColumnConfig, Decoding
from llmft.prompts import MAX_SOURCE_TOKENS, SimilarityIndex, fit_prompt, pick_shots

# progress(done, total, description): `gr.Progress` in the app, tqdm or nothing elsewhere.
ProgressFn = Callable[[int, int, str], None]


def no_progress(done: int, total: int, description: str) -> None:
    return None


CSV_FIELDS = [
    "column",
    "example_id",
    "topic",
    "shots_requested",
    "shots_used",
    "strategy",
    "seed",
    "shot_ids",
    "dropped_shot_ids",
    "dialogue_tokens_cut",
    "prompt_tokens",
    "prompt",
    "prediction",
    "references",
    *(f"{name}_pct" for name in ROUGE_TYPES),  # F-measure in percent, as everywhere in this Space
    "unsupported",  # how many facts of the prediction the dialogue does not support (llmft.faithfulness)
    "unsupported_facts",  # "kind: text" of each, separated by "; "
]
INTERVAL_TYPE = "rougeL"


@dataclass
class StrategySummary:
    """Means over the evaluated dialogues for one column."""

    label: str  # says how many shots were used on average when fewer than asked
    dialogues: int
    shots_requested: int
    mean_shots_used: float
    dialogues_short_of_shots: int  # dialogues whose prompt lost at least one shot to the token limit
    shots_dropped: int
    mean_prompt_tokens: float
    dialogues_cut: int
    seconds: float
    rouge: dict[str, float]  # mean F-measures in percent (ROUGE_SCALE)
    share_unsupported: float = 0.0  # share of the column's summaries with at least one unsupported fact (0 to 1)


@dataclass
class Evaluation:
    """Every prompt and prediction (`rows`, one per column and dialogue) and the means per column."""

    model: str
    dataset: str
    settings: dict[str, Any]
    shot_pool: str
    summaries: list[StrategySummary]
    rows: list[dict[str, Any]] = field(repr=False)
    model_note: str | None = None  # set when the model is the embedded demo model
    max_tokens: int = MAX_SOURCE_TOKENS

    SUMMARY_HEADERS = [
        "column",
        "dialogues",
        "shots asked",
        "shots used (mean)",
        "dialogues that lost shots",
        "mean prompt tokens",
        "dialogues cut",
        "seconds",
        *ROUGE_HEADERS,
        "summaries with an unsupported fact (%)",
        "ROUGE-L against the column before [95% interval]",
    ]

    @property
    def differences(self) -> list[tuple[str, str, dict[str, DifferenceInterval]]]:
        """(column, other, intervals per ROUGE type) for every pair, later column minus earlier, over the dialogues."""
        by_column: dict[str, list[dict[str, float]]] = {}
        for row in self.rows:
            by_column.setdefault(row["column"], []).append({k: row[f"{k}_pct"] for k in ROUGE_TYPES})
        names = list(by_column)
        return [
            (names[j], names[i], rouge_intervals(by_column[names[j]], by_column[names[i]], ROUGE_TYPES))
            for i in range(len(names)) for j in range(i + 1, len(names))
            if len(by_column[names[i]]) == len(by_column[names[j]]) and by_column[names[i]]
        ]

    def table(self) -> list[list[Any]]:
        """Rows under `SUMMARY_HEADERS`; mean ROUGE in percent."""
        return [
            [
                s.label,
                s.dialogues,
                s.shots_requested,
                round(s.mean_shots_used, 2),
                s.dialogues_short_of_shots,
                round(s.mean_prompt_tokens, 1),
                s.dialogues_cut,
                round(s.seconds, 2),
                *rouge_cells(s.rouge),
                round(100 * s.share_unsupported, 1),
                self._against_previous(index),
            ]
            for index, s in enumerate(self.summaries)
        ]

    def _against_previous(self, index: int) -> str:
        if index == 0:
            return ""
        names = list(dict.fromkeys(row["column"] for row in self.rows))
        for column, other, intervals in self.differences:
            if column == names[index] and other == names[index - 1]:
                return f"{column.split(' ')[0]} − {other.split(' ')[0]}: {intervals[INTERVAL_TYPE].label()}"
        return ""

    @property
    def warnings(self) -> list[str]:
        """Columns that ran with fewer shots than asked on some dialogues (and why), and dialogues cut."""
        notes = []
        for s in self.summaries:
            if s.dialogues_short_of_shots:
                notes.append(
                    f"{s.label}: {s.dialogues_short_of_shots} of {s.dialogues} dialogue(s) lost shots "
                    f"({s.shots_dropped} of {s.shots_requested * s.dialogues} dropped; {s.mean_shots_used:.2f} "
                    f"used on average): {why_shots_dropped(self.max_tokens)}."
                )
            if s.dialogues_cut:
                notes.append(
                    f"{s.label}: {s.dialogues_cut} of {s.dialogues} dialogue(s) are longer than the model reads "
                    f"and were cut to fit {self.max_tokens} tokens."
                )
        if len(self.summaries) > 1 and self.summaries[0].dialogues < FEW_DIALOGUES:
            notes.append(f"Differences between columns: {TOO_FEW_NOTE}.")
        return notes

    def notes_markdown(self) -> str:
        return notes_markdown(self.model_note, self.warnings, "Every prompt had the shots its column asked for.")

    def to_dict(self) -> dict[str, Any]:
        """The summary (not the rows: those are in the CSV)."""
        return {
            "model": self.model,
            "model_note": self.model_note,
            "dataset": self.dataset,
            "settings": self.settings,
            "shot_pool": self.shot_pool,
            "rouge_scale": ROUGE_SCALE,
            "faithfulness_method": METHOD,
            "warnings": self.warnings,
            "strategies": [asdict(s) for s in self.summaries],
            "differences": [
                {"column": column, "minus": other, **{k: i.to_dict() for k, i in intervals.items()}}
                for column, other, intervals in self.differences
            ],
        }

    def chart(self) -> Any:
        groups = {s.label: {ROUGE_LABELS[k]: v for k, v in s.rouge.items()} for s in self.summaries}
        dialogues = self.summaries[0].dialogues if self.summaries else 0
        differences = {
            f"{column.split(' ')[0]} − {other.split(' ')[0]}": {
                ROUGE_LABELS[k]: (i.difference, i.low, i.high) for k, i in intervals.items()
            }
            for column, other, intervals in self.differences
        }
        return grouped_bar_chart(groups, title=f"Mean ROUGE over {dialogues} dialogue(s)", ylabel=ROUGE_SCALE,
                                 differences=differences or None)

    def write_csv(self, path: str | Path) -> Path:
        """Every prompt and prediction, one row per column and dialogue (UTF-8, header row)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
            writer.writeheader()
            writer.writerows(self.rows)
        return path


def evaluate_columns(
    loaded: LoadedModel,
    examples: Sequence[DialogueExample],
    pool: Sequence[DialogueExample],
    configs: Sequence[ColumnConfig],
    settings: GenerationSettings | None = None,
    embedder: SimilarityIndex | None = None,
    progress: ProgressFn | None = None,
    batch_size: int = 8,
    max_tokens: int = MAX_SOURCE_TOKENS,
    model_name: str = "",
    dataset_name: str = "",
    pool_description: str = "",
) -> Evaluation:
    """Run each column over `examples` (which need references), generating in batches per column."""
    progress = progress or no_progress
    settings = settings or Decoding().settings()  # the page's defaults
    missing = [e.id for e in examples if not e.summaries]
    if missing:
        raise DataError(f"Evaluation needs reference summaries; these dialogues have none: {', '.join(missing[:5])}")
    total = len(examples) * len(configs)
    rows: list[dict[str, Any]] = []
    summaries: list[StrategySummary] = []
    for index, config in enumerate(configs):
        done_before = index * len(examples)
        progress(done_before, total, f"{config.label}: picking shots, fitting prompts")
        fitted = []
        for example in examples:
            shots = pick_shots(
                pool, config.shots, config.strategy, dialogue=example.dialogue, seed=config.seed,
                exclude_ids=[example.id], embedder=embedder,
            )
            fitted.append(fit_prompt(loaded.tokenizer, example.dialogue, shots, max_tokens=max_tokens))

        def on_batch(done: int, _total: int, label: str = config.label, offset: int = done_before) -> None:
            progress(offset + done, total, f"{label}: generating")

        start = time.perf_counter()
        predictions = generate(
            loaded, [f.text for f in fitted], settings, batch_size=batch_size, max_input_tokens=max_tokens,
            progress=on_batch,
        )
        seconds = time.perf_counter() - start
        scores = [to_percent(score_one(p, e.summaries)) or {} for p, e in zip(predictions, examples, strict=True)]
        progress(done_before + len(examples), total, f"{config.label}: checking facts")
        facts = [check_facts(p, e.dialogue)["unsupported_facts"] for p, e in zip(predictions, examples, strict=True)]
        for example, prompt, prediction, score, found in zip(examples, fitted, predictions, scores, facts,
                                                            strict=True):
            rows.append(
                {
                    "column": config.label,
                    "example_id": example.id,
                    "topic": example.topic or "",
                    "shots_requested": config.shots,
                    "shots_used": len(prompt.shot_ids),
                    "strategy": config.strategy,
                    "seed": config.seed,
                    "shot_ids": " ".join(prompt.shot_ids),
                    "dropped_shot_ids": " ".join(prompt.dropped_shot_ids),
                    "dialogue_tokens_cut": prompt.dialogue_tokens_cut,
                    "prompt_tokens": prompt.token_count,
                    "prompt": prompt.text,
                    "prediction": prediction,
                    "references": "\n".join(example.summaries),
                    **{f"{k}_pct": round(v, 4) for k, v in score.items()},
                    "unsupported": len(found),
                    "unsupported_facts": "; ".join(f"{f['kind']}: {f['text']}" for f in found),
                }
            )
        used = [len(f.shot_ids) for f in fitted]
        mean_used = sum(used) / max(len(used), 1)
        summaries.append(
            StrategySummary(
                label=used_label(config.label, config.shots, mean_used, mean=True),
                dialogues=len(examples),
                shots_requested=config.shots,
                mean_shots_used=mean_used,
                dialogues_short_of_shots=sum(1 for f in fitted if f.dropped_shot_ids),
                shots_dropped=sum(len(f.dropped_shot_ids) for f in fitted),
                mean_prompt_tokens=sum(f.token_count for f in fitted) / max(len(fitted), 1),
                dialogues_cut=sum(1 for f in fitted if f.dialogue_tokens_cut),
                seconds=seconds,
                rouge=mean_scores(scores),
                share_unsupported=sum(1 for found in facts if found) / max(len(facts), 1),
            )
        )
    progress(total, total, "done")
    return Evaluation(
        model=model_name or loaded.source,
        dataset=dataset_name,
        settings=settings.to_dict(),
        shot_pool=pool_description,
        summaries=summaries,
        rows=rows,
        max_tokens=max_tokens,
    )
