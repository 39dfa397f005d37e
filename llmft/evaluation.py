"""Score models on a split of dialogues: the same generate + ROUGE the apps use, and the files a run keeps.

`evaluate_model` generates a summary for every dialogue (the zero-shot prompt fitted to the encoder by
`llmft.prompts.fit_prompt`, as the apps do; batches) and scores it against the first reference
(single-reference, as the course lab) and, where rows have several references (the DialogSum test split
has three), against the best of them (multi-reference).
Given the processes of a distributed run (an Accelerate `Accelerator` or `PartialState`),
`generate_predictions` splits the dialogues into one contiguous shard per process, and gathers the
summaries back in input order; ROUGE is then scored once, on the main process.
Each summary is also checked for unsupported facts (`llmft.faithfulness`: numbers, names and negations its
dialogue does not support), and every model's ROUGE difference from the baseline gets the paired bootstrap
95% interval over the dialogues (`llmft.bootstrap`).
The writers produce `predictions.csv` (lab-style columns), `results.json`, and `rouge.png`.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from llmft.bootstrap import rouge_intervals
from llmft.data import DialogueExample
from llmft.faithfulness import KINDS, METHOD, unsupported_facts
from llmft.files import write_json_atomic
from llmft.metrics import ROUGE_TYPES, RougeResult, comparison_rows, format_table, score_rouge
from llmft.models import GenerationSettings, LoadedModel, generate
from llmft.models.loader import ModelKind
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
    kind: ModelKind
    base_model: str | None
    predictions: list[str]
    single: RougeResult  # against each row's first reference
    multi: RougeResult | None  # best of all references, when some row has more than one
    seconds: float
    rows_per_process: list[int] | None = None  # rows each process generated, in process order
    facts: list[list[dict[str, Any]]] | None = None  # per row, the unsupported facts of its summary

    @property
    def unsupported_share(self) -> float | None:
        """The share of summaries with at least one unsupported fact."""
        return sum(1 for row in self.facts if row) / len(self.facts) if self.facts else None

    def summary(self) -> dict[str, Any]:
        by_kind = {k: sum(1 for row in self.facts or [] for f in row if f["kind"] == k) for k in KINDS}
        return {
            "unsupported_share": self.unsupported_share,
            "unsupported_by_kind": by_kind if self.facts is not None else None,
            "source": self.source,
            "kind": self.kind,
            "base_model": self.base_model,
            "seconds": round(self.seconds, 2),
            "rows_per_process": self.rows_per_process or [len(self.predictions)],
            "rouge": self.single.mean,
            "rouge_multi_ref": self.multi.mean if self.multi else None,
        }


class Predictions(NamedTuple):
    """Summaries in input order, and how many rows each process generated (process order)."""

    texts: list[str]
    rows_per_process: list[int]


def generate_predictions(
    loaded: LoadedModel,
    examples: Sequence[DialogueExample],
    settings: GenerationSettings | None = None,
    batch_size: int = 16,
    max_input_tokens: int = MAX_SOURCE_TOKENS,
    progress: Callable[[int, int], None] | None = None,
    processes: Any | None = None,
) -> Predictions:
    """A summary for every example (batched), sharded across `processes` when they are several.

    `processes` is an Accelerate `Accelerator` or `PartialState`; every one of its processes must call this
    with the same `examples`. Each generates its contiguous shard (7 rows on 2 processes: rows 0-3 and 4-6),
    and every process gets all the summaries back, in input order. `progress(done, total)` counts this
    process's shard.
    """
    count = processes.num_processes if processes is not None else 1
    rows = list(examples)
    # Contiguous shards; the first len % count processes get one row more.
    with processes.split_between_processes(rows) if count > 1 else nullcontext(rows) as mine:
        # The apps' prompt fitting: a long dialogue is cut, the `Summary:` suffix kept (generate's own
        # truncation would cut the suffix instead).
        prompts = [fit_prompt(loaded.tokenizer, example.dialogue, max_tokens=max_input_tokens).text for example in mine]
        texts = generate(loaded, prompts, settings, batch_size, max_input_tokens, progress) if prompts else []
    per_process = [texts]
    if count > 1:
        from accelerate.utils import gather_object

        # One list per process, in process order (wrapped: gather_object flattens one level). Concatenated,
        # they are in input order, since the shards are contiguous.
        per_process = gather_object([texts])
        logger.info(
            "Generated %d summaries on %d processes: %s rows each", len(rows), count, [len(p) for p in per_process]
        )
    return Predictions([text for part in per_process for text in part], [len(part) for part in per_process])


def evaluate_model(
    loaded: LoadedModel,
    examples: Sequence[DialogueExample],
    name: str | None = None,
    settings: GenerationSettings | None = None,
    batch_size: int = 16,
    max_input_tokens: int = MAX_SOURCE_TOKENS,
    progress: Callable[[int, int], None] | None = None,
    processes: Any | None = None,
) -> ModelEvaluation | None:
    """Generate for every example (`generate_predictions`) and score single- and multi-reference ROUGE.

    With several `processes` (all must call it), generation is sharded and ROUGE is scored once, on the
    main process: it gets the evaluation and the others get None. Without, it always returns one.
    """
    missing = [e.id for e in examples if not e.summaries]
    if missing:
        raise ValueError(f"{len(missing)} example(s) have no reference summary (first: {missing[0]})")
    started = time.perf_counter()
    predictions = generate_predictions(
        loaded, examples, settings, batch_size, max_input_tokens, progress, processes=processes
    )
    seconds = time.perf_counter() - started  # on the main process: until the last shard is gathered
    if processes is not None and not processes.is_main_process:
        return None
    single = score_rouge(predictions.texts, [example.summaries[0] for example in examples])
    several = any(len(example.summaries) > 1 for example in examples)
    multi = score_rouge(predictions.texts, [example.summaries for example in examples]) if several else None
    facts = [[f.to_dict() for f in unsupported_facts(text, example.dialogue)]
             for text, example in zip(predictions.texts, examples, strict=True)]
    return ModelEvaluation(
        name=name or loaded.source,
        source=loaded.source,
        kind=loaded.kind,
        base_model=loaded.base_model,
        predictions=predictions.texts,
        single=single,
        multi=multi,
        seconds=seconds,
        rows_per_process=predictions.rows_per_process,
        facts=facts,
    )


@contextmanager
def progress_bar(description: str, processes: Any | None = None) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar as a `progress(done, total)` callback; shown on the main process only, over its shard."""
    from tqdm.auto import tqdm

    shown = processes is None or processes.is_main_process
    with tqdm(desc=description, disable=not shown) as bar:

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield update


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
        fields += [f"{name}_summary", *(f"{name}_{rouge}" for rouge in ROUGE_TYPES), f"{name}_unsupported",
                   f"{name}_unsupported_facts"]
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
                found = evaluation.facts[index] if evaluation.facts else []
                row[f"{name}_unsupported"] = len(found)
                row[f"{name}_unsupported_facts"] = "; ".join(f"{f['kind']}: {f['text']}" for f in found)
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
        "unsupported_definition": METHOD,
    }
    if baseline in evaluations:
        base = evaluations[baseline].single.mean
        payload["differences_from_baseline"] = {
            name: {k: v - base[k] for k, v in evaluation.single.mean.items()}
            for name, evaluation in evaluations.items()
            if name != baseline
        }
        payload["differences_from_baseline_interval"] = {
            name: {k: i.to_dict() for k, i in intervals.items()}
            for name, intervals in difference_intervals(evaluations, baseline).items()
        }
    return payload


def difference_intervals(evaluations: Mapping[str, ModelEvaluation], baseline: str) -> dict[str, dict[str, Any]]:
    """Per model, the paired bootstrap interval of its ROUGE minus the baseline's (first reference, [0, 1])."""
    base = evaluations[baseline].single.per_row
    return {
        name: rouge_intervals(evaluation.single.per_row, base, ROUGE_TYPES)
        for name, evaluation in evaluations.items()
        if name != baseline
    }


def intervals_table(evaluations: Mapping[str, ModelEvaluation], baseline: str) -> str:
    """Each model minus the baseline per ROUGE type, in points, with its 95% interval; and the share flagged."""
    lines = [f"{name} - {baseline}: " + ", ".join(f"{k} {i.label(scale=100)}" for k, i in intervals.items())
             for name, intervals in difference_intervals(evaluations, baseline).items()]
    lines += [f"{name}: {100 * e.unsupported_share:.1f}% of summaries with an unsupported fact"
              for name, e in evaluations.items() if e.unsupported_share is not None]
    return "\n".join(lines)


def write_chart(
    path: str | Path, evaluations: Mapping[str, ModelEvaluation], title: str = "", baseline: str | None = None
) -> Path:
    """PNG bar chart: ROUGE (%) per metric, one bar per model; with a baseline, a panel of differences with their
    95% intervals as error bars. Renders off-screen (no display needed)."""
    from llmft.charts import grouped_bar_chart

    groups = {
        name: {k: 100 * v for k, v in scores.items()} for name, scores in mean_scores_by_model(evaluations).items()
    }
    differences = {
        f"{name} - {baseline}": {k: (100 * i.difference, 100 * i.low, 100 * i.high) for k, i in intervals.items()}
        for name, intervals in (difference_intervals(evaluations, baseline) if baseline in evaluations else {}).items()
    }
    figure = grouped_bar_chart(groups, title=title, ylabel="ROUGE F-measure (%)", differences=differences or None)
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
    write_chart(output_dir / CHART_PNG, evaluations, title=f"ROUGE on {Path(dataset).name or dataset} [{split}]",
                baseline=baseline)
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
    processes: Any | None = None,
) -> dict[str, Any] | None:
    """Load `folder` as the apps do, score it on `examples`, write `<folder>/eval/`, log the table.

    With several `processes` (all must call it, each with its own `device`), generation is sharded; the main
    process scores, writes the files and returns the results, the others return None.
    """
    from llmft.models import load_model

    loaded = load_model(str(folder), device=device, use_cache=False)
    with progress_bar(f"{name} [{split}]", processes) as progress:
        scored = evaluate_model(
            loaded,
            examples,
            name=name,
            settings=settings,
            batch_size=batch_size,
            max_input_tokens=max_input_tokens,
            progress=progress,
            processes=processes,
        )
    if scored is None:
        return None
    evaluations = {name: scored}
    results = write_evaluation(output_dir or Path(folder) / "eval", examples, evaluations, dataset, split, settings)
    logger.info("ROUGE on %d dialogues of %s [%s] (%%):\n%s", len(examples), dataset, split, results_table(evaluations))
    return results
