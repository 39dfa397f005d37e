"""Score models on a split of dialogues: the same generate + ROUGE the apps use, and the files a run keeps.

`evaluate_model` generates a summary for every dialogue (the zero-shot prompt fitted to the encoder by
`llmft.prompts.fit_prompt`, as the apps do; batches) and scores it against the first reference
(single-reference, as the course lab) and, where rows have several references (the DialogSum test split
has three), against the best of them (multi-reference).
The writers produce `predictions.csv` (lab-style columns), `results.json`, and `rouge.png`.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmft.data import DialogueExample
from llmft.files import write_json_atomic
from llmft.metrics import ROUGE_TYPES, RougeResult, comparison_rows, format_table, score_rouge
from llmft.models import GenerationSettings, LoadedModel, generate
from llmft.prompts import MAX_SOURCE_TOKENS, fit_prompt

PREDICTIONS_CSV = "predictions.csv"
RESULTS_JSON = "results.json"
CHART_PNG = "rouge.png"
logger = logging.getLogger(__name__)


@dataclass
class ModelEvaluation:
    """One model's summaries for a split and their ROUGE."""

    name: str
    source: str
    kind: str
    base_model: str | None
    predictions: list[str]
    single: RougeResult  # against each row's first reference
    multi: RougeResult | None  # best of all references, when some row has more than one
    seconds: float

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "base_model": self.base_model,
            "seconds": round(self.seconds, 2),
            "rouge": self.single.mean,
            "rouge_multi_ref": self.multi.mean if self.multi else None,
        }


def evaluate_model(
    loaded: LoadedModel,
    examples: Sequence[DialogueExample],
    name: str | None = None,
    settings: GenerationSettings | None = None,
    batch_size: int = 16,
    max_input_tokens: int = MAX_SOURCE_TOKENS,
    progress: Callable[[int, int], None] | None = None,
) -> ModelEvaluation:
    """Generate for every example (batched) and score single- and multi-reference ROUGE."""
    missing = [e.id for e in examples if not e.summaries]
    if missing:
        raise ValueError(f"{len(missing)} example(s) have no reference summary (first: {missing[0]})")
    started = time.perf_counter()
    # The apps' prompt fitting: a long dialogue is cut, the `Summary:` suffix kept (generate's own
    # truncation would cut the suffix instead).
    prompts = [fit_prompt(loaded.tokenizer, example.dialogue, max_tokens=max_input_tokens).text for example in examples]
    predictions = generate(loaded, prompts, settings, batch_size, max_input_tokens, progress)
    seconds = time.perf_counter() - started
    single = score_rouge(predictions, [example.summaries[0] for example in examples])
    several = any(len(example.summaries) > 1 for example in examples)
    multi = score_rouge(predictions, [example.summaries for example in examples]) if several else None
    return ModelEvaluation(
        name=name or loaded.source,
        source=loaded.source,
        kind=loaded.kind,
        base_model=loaded.base_model,
        predictions=predictions,
        single=single,
        multi=multi,
        seconds=seconds,
    )


def mean_scores_by_model(
    evaluations: Mapping[str, ModelEvaluation], multi: bool = False
) -> dict[str, dict[str, float]]:
    return {
        name: (evaluation.multi if multi and evaluation.multi else evaluation.single).mean
        for name, evaluation in evaluations.items()
    }


def results_table(evaluations: Mapping[str, ModelEvaluation], baseline: str | None = None, multi: bool = False) -> str:
    """The lab's printout: ROUGE per model (percent), then each model's absolute difference from the baseline."""
    return format_table(comparison_rows(mean_scores_by_model(evaluations, multi), baseline))


def write_predictions_csv(
    path: str | Path, examples: Sequence[DialogueExample], evaluations: Mapping[str, ModelEvaluation]
) -> Path:
    """One row per dialogue: id, dialogue, the human reference(s), and each model's summary and ROUGE."""
    path = Path(path)
    fields = ["id", "dialogue", "human_baseline_summary", "all_references"]
    for name in evaluations:
        fields += [f"{name}_summary", *(f"{name}_{rouge}" for rouge in ROUGE_TYPES)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for index, example in enumerate(examples):
            row: dict[str, Any] = {
                "id": example.id,
                "dialogue": example.dialogue,
                "human_baseline_summary": example.summaries[0],
                "all_references": json.dumps(example.summaries, ensure_ascii=False),
            }
            for name, evaluation in evaluations.items():
                row[f"{name}_summary"] = evaluation.predictions[index]
                row.update({f"{name}_{k}": round(v, 6) for k, v in evaluation.single.per_row[index].items()})
            writer.writerow(row)
    return path


def results_payload(
    evaluations: Mapping[str, ModelEvaluation],
    dataset: str,
    split: str,
    rows: int,
    settings: GenerationSettings,
    baseline: str | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "dataset": dataset,
        "split": split,
        "rows": rows,
        "generation": settings.to_dict(),
        "baseline": baseline,
        "models": {name: evaluation.summary() for name, evaluation in evaluations.items()},
    }
    if baseline in evaluations:
        base = evaluations[baseline].single.mean
        payload["differences_from_baseline"] = {
            name: {k: v - base[k] for k, v in evaluation.single.mean.items()}
            for name, evaluation in evaluations.items()
            if name != baseline
        }
    return payload


def write_chart(path: str | Path, evaluations: Mapping[str, ModelEvaluation], title: str = "") -> Path:
    """PNG bar chart: ROUGE (%) per metric, one bar per model. Renders off-screen (no display needed)."""
    from llmft.charts import grouped_bar_chart

    groups = {
        name: {k: 100 * v for k, v in scores.items()} for name, scores in mean_scores_by_model(evaluations).items()
    }
    figure = grouped_bar_chart(groups, title=title, ylabel="ROUGE F-measure (%)")
    figure.savefig(path, dpi=120)  # a bare Figure draws with the Agg canvas for PNG
    return Path(path)


def write_evaluation(
    output_dir: str | Path,
    examples: Sequence[DialogueExample],
    evaluations: Mapping[str, ModelEvaluation],
    dataset: str,
    split: str,
    settings: GenerationSettings,
    baseline: str | None = None,
) -> dict[str, Any]:
    """Write predictions.csv, results.json and rouge.png into `output_dir`; return the results payload."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    write_predictions_csv(output_dir / PREDICTIONS_CSV, examples, evaluations)
    payload = results_payload(evaluations, dataset, split, len(examples), settings, baseline)
    write_json_atomic(output_dir / RESULTS_JSON, payload)
    write_chart(output_dir / CHART_PNG, evaluations, title=f"ROUGE on {Path(dataset).name or dataset} [{split}]")
    return payload


def evaluate_saved_model(
    folder: str | Path,
    name: str,
    examples: Sequence[DialogueExample],
    dataset: str,
    split: str,
    settings: GenerationSettings,
    batch_size: int = 16,
    max_input_tokens: int = MAX_SOURCE_TOKENS,
    device: str | None = None,
    output_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Load `folder` as the apps do, score it on `examples`, write `<folder>/eval/`, log the table."""
    from tqdm.auto import tqdm

    from llmft.models import load_model

    loaded = load_model(str(folder), device=device, use_cache=False)
    with tqdm(total=len(examples), desc=f"{name} [{split}]") as bar:
        scored = evaluate_model(
            loaded,
            examples,
            name=name,
            settings=settings,
            batch_size=batch_size,
            max_input_tokens=max_input_tokens,
            progress=lambda done, _total: bar.update(done - bar.n),
        )
    evaluations = {name: scored}
    results = write_evaluation(output_dir or Path(folder) / "eval", examples, evaluations, dataset, split, settings)
    logger.info("ROUGE on %d dialogues of %s [%s] (%%):\n%s", len(examples), dataset, split, results_table(evaluations))
    return results
