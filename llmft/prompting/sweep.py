"""Evaluation over many dialogues: every column over the first N test dialogues, batched, with means.

`evaluate_columns` writes one row per column and dialogue (every prompt and prediction, for the CSV) and
a `StrategySummary` per column (means over the dialogues).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llmft.charts import grouped_bar_chart
from llmft.data import DialogueExample
from llmft.errors import DataError
from llmft.metrics import ROUGE_TYPES, mean_scores, score_one
from llmft.models import GenerationSettings, LoadedModel, generate
from llmft.prompting.comparison import ROUGE_LABELS, _percent_table
from llmft.prompting.controls import ColumnConfig
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
    "strategy",
    "seed",
    "shot_ids",
    "dropped_shot_ids",
    "dialogue_tokens_cut",
    "prompt_tokens",
    "prompt",
    "prediction",
    "references",
    *ROUGE_TYPES,
]


@dataclass
class StrategySummary:
    """Means over the evaluated dialogues for one column."""

    label: str
    dialogues: int
    mean_prompt_tokens: float
    shots_dropped: int
    dialogues_cut: int
    seconds: float
    rouge: dict[str, float]  # mean F-measures in [0, 1]


@dataclass
class Evaluation:
    """Every prompt and prediction (`rows`, one per column and dialogue) and the means per column."""

    model: str
    dataset: str
    settings: dict[str, Any]
    shot_pool: str
    summaries: list[StrategySummary]
    rows: list[dict[str, Any]] = field(repr=False)

    SUMMARY_HEADERS = [
        "column",
        "dialogues",
        "mean prompt tokens",
        "shots dropped",
        "dialogues cut",
        "seconds",
        *(ROUGE_LABELS[k] for k in ROUGE_TYPES),
    ]

    def table(self) -> list[list[Any]]:
        """Rows under `SUMMARY_HEADERS`; mean ROUGE in percent."""
        return [
            [
                s.label,
                s.dialogues,
                round(s.mean_prompt_tokens, 1),
                s.shots_dropped,
                s.dialogues_cut,
                round(s.seconds, 2),
                *_percent_table(s.rouge),
            ]
            for s in self.summaries
        ]

    def to_dict(self) -> dict[str, Any]:
        """The summary (not the rows: those are in the CSV)."""
        return {
            "model": self.model,
            "dataset": self.dataset,
            "settings": self.settings,
            "shot_pool": self.shot_pool,
            "strategies": [asdict(s) for s in self.summaries],
        }

    def chart(self) -> Any:
        groups = {s.label: {ROUGE_LABELS[k]: 100 * v for k, v in s.rouge.items()} for s in self.summaries}
        dialogues = self.summaries[0].dialogues if self.summaries else 0
        return grouped_bar_chart(groups, title=f"Mean ROUGE over {dialogues} dialogue(s)", ylabel="F-measure (%)")

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
    settings = settings or GenerationSettings()
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
        scores = [score_one(p, e.summaries) for p, e in zip(predictions, examples, strict=True)]
        for example, prompt, prediction, score in zip(examples, fitted, predictions, scores, strict=True):
            rows.append(
                {
                    "column": config.label,
                    "example_id": example.id,
                    "topic": example.topic or "",
                    "shots_requested": config.shots,
                    "strategy": config.strategy,
                    "seed": config.seed,
                    "shot_ids": " ".join(prompt.shot_ids),
                    "dropped_shot_ids": " ".join(prompt.dropped_shot_ids),
                    "dialogue_tokens_cut": prompt.dialogue_tokens_cut,
                    "prompt_tokens": prompt.token_count,
                    "prompt": prompt.text,
                    "prediction": prediction,
                    "references": "\n".join(example.summaries),
                    **{k: round(v, 6) for k, v in score.items()},
                }
            )
        summaries.append(
            StrategySummary(
                label=config.label,
                dialogues=len(examples),
                mean_prompt_tokens=sum(f.token_count for f in fitted) / max(len(fitted), 1),
                shots_dropped=sum(len(f.dropped_shot_ids) for f in fitted),
                dialogues_cut=sum(1 for f in fitted if f.dialogue_tokens_cut),
                seconds=seconds,
                rouge=mean_scores(scores),
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
    )
