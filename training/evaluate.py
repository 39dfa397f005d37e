r"""Score models on the DialogSum test split with ROUGE and compare them, as the course lab does.

    python training/evaluate.py \
        --models original=google/flan-t5-base full=outputs/flan-t5-base-full lora=outputs/flan-t5-base-lora \
        --output_dir outputs/eval

Each model is `name=source`, the source being anything `llmft.models.load_model` loads: a Hub id, a full
checkpoint folder, or a LoRA adapter (on the base its adapter_config.json names, or on --base_model).
Writes `predictions.csv` (one row per dialogue: the human summary and each model's, with its unsupported
facts), `results.json` (mean ROUGE single- and multi-reference, differences from the baseline with their
paired bootstrap 95% intervals, and each model's share of summaries with an unsupported fact), and
`rouge.png` (with the intervals as error bars), and prints the lab's table and the intervals.
A YAML file of these settings can be given with --config.
One process is enough (generation is batched). Under `accelerate launch --num_processes N` (one per GPU;
`ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes 2` on a CPU) each process generates
its shard of the dialogues, and the main process scores them all, in input order, and writes the files:
the same predictions and scores as one process.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmft.data import DEFAULT_DATASET, DialogueExample, load_dialogues
from llmft.errors import ConfigError, run_cli
from llmft.evaluation import (
    ModelEvaluation,
    evaluate_model,
    intervals_table,
    progress_bar,
    results_table,
    write_evaluation,
)
from llmft.models import GenerationSettings, load_model
from llmft.prompts import MAX_SOURCE_TOKENS
from llmft.recipes import parse_args
from llmft.training.logs import setup_logging

logger = logging.getLogger("llmft.evaluate")


@dataclass
class EvaluateArguments:
    models: list[str] = field(
        default_factory=list, metadata={"help": "models to score, each name=source (Hub id, folder or adapter)"}
    )
    base_model: str | None = field(default=None, metadata={"help": "base for adapters (default: the adapter's own)"})
    baseline: str | None = field(default=None, metadata={"help": "name differences are taken from (default: first)"})
    dataset_name: str = field(default=DEFAULT_DATASET, metadata={"help": "Hub dataset id, local folder or file"})
    split: str = field(default="test", metadata={"help": "split to score"})
    max_samples: int | None = field(default=None, metadata={"help": "score only the first N dialogues"})
    batch_size: int = field(default=16, metadata={"help": "dialogues per generate call"})
    max_input_tokens: int = field(default=MAX_SOURCE_TOKENS, metadata={"help": "prompt tokens kept"})
    max_new_tokens: int = field(default=200, metadata={"help": "summary length limit"})
    num_beams: int = field(default=1, metadata={"help": "1: greedy, as the lab"})
    device: str | None = field(default=None, metadata={"help": "cuda or cpu (default: cuda when present)"})
    output_dir: str = field(default="outputs/eval", metadata={"help": "where the CSV, JSON and PNG go"})


def parse_models(specs: list[str]) -> dict[str, str]:
    """`name=source` pairs (a bare source is named after its last path part), in the order given."""
    if not specs:
        raise ConfigError("Name at least one model: --models original=google/flan-t5-base lora=outputs/my-lora")
    models: dict[str, str] = {}
    for spec in specs:
        name, sep, source = spec.partition("=")
        name, source = (name.strip(), source.strip()) if sep else (Path(spec.rstrip("/")).name, spec.strip())
        if not name or not source:
            raise ConfigError(f"'{spec}' is not name=source.")
        if name in models:
            raise ConfigError(f"Two models are called '{name}'; give each a different name (name=source).")
        models[name] = source
    return models


def start_processes(device: str | None) -> Any:
    """Accelerate's state: one process, or those `accelerate launch` started (on CPUs: gloo, as the Accelerator)."""
    from accelerate import PartialState
    from accelerate.utils import parse_flag_from_env

    processes = PartialState(cpu=device == "cpu" or parse_flag_from_env("ACCELERATE_USE_CPU"))
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if processes.num_processes != launched:
        # Each process would score every dialogue and all would write the same files.
        raise ConfigError(
            f"Started as {launched} processes, but they could not join one run (no GPU for each?). On CPUs "
            "launch with ACCELERATE_USE_CPU=true or pass --device cpu; or run a single process."
        )
    return processes


def process_device(requested: str | None, processes: Any) -> str | None:
    """The device this process loads models on: its own GPU when there are several processes, unless `cpu`."""
    if processes.num_processes == 1 or requested == "cpu":
        return requested
    return str(processes.device)


def main(argv: list[str] | None = None) -> int:
    (args,) = parse_args((EvaluateArguments,), argv, __doc__)
    models = parse_models(args.models)
    baseline = args.baseline or next(iter(models))
    if baseline not in models:
        raise ConfigError(f"baseline '{baseline}' is not one of the models ({', '.join(models)}).")
    processes = start_processes(args.device)
    setup_logging(processes.is_main_process)
    device = process_device(args.device, processes)

    # Grouped: the DialogSum test split has three human summaries per dialogue (multi-reference ROUGE).
    examples = load_dialogues(args.dataset_name, args.split, limit=args.max_samples, group_references=True)
    settings = GenerationSettings(max_new_tokens=args.max_new_tokens, num_beams=args.num_beams)
    evaluations: dict[str, ModelEvaluation] = {}
    for name, source in models.items():
        # Not cached: one model in memory at a time, and each loaded the way the apps load it. The main
        # process first: a Hub download happens once, the others then read the cache.
        with processes.main_process_first():
            loaded = load_model(source, base_model=args.base_model, device=device, use_cache=False)
        with progress_bar(name, processes) as progress:
            scored = evaluate_model(
                loaded,
                examples,
                name=name,
                settings=settings,
                batch_size=args.batch_size,
                max_input_tokens=args.max_input_tokens,
                progress=progress,
                processes=processes,
            )
        if scored is not None:  # scored on the main process only
            evaluations[name] = scored
        del loaded
    if processes.is_main_process:
        report(args, examples, evaluations, settings, baseline)
    processes.destroy_process_group()  # a no-op for one process
    return 0


def report(
    args: EvaluateArguments,
    examples: list[DialogueExample],
    evaluations: dict[str, ModelEvaluation],
    settings: GenerationSettings,
    baseline: str,
) -> None:
    """The files (CSV, JSON, PNG) and the lab's tables: once, from the main process."""
    write_evaluation(args.output_dir, examples, evaluations, args.dataset_name, args.split, settings, baseline)
    print(f"\nROUGE on {len(examples)} dialogues of {args.dataset_name} [{args.split}], first reference (%):")
    print(results_table(evaluations, baseline))
    print(f"\nDifferences from {baseline} (points) with their paired bootstrap 95% intervals over the "
          f"{len(examples)} dialogues ('≠ 0': the interval excludes 0); unsupported facts (numbers, names, negations "
          "the dialogue does not support):")
    print(intervals_table(evaluations, baseline))
    if len(examples) < 10 and len(evaluations) > 1:
        print("With fewer than 10 dialogues these intervals are too wide to mean much.")
    if any(e.multi for e in evaluations.values()):
        print("\nBest of all references (multi-reference ROUGE, %):")
        print(results_table(evaluations, baseline, multi=True))
    logger.info(f"Wrote {Path(args.output_dir) / 'predictions.csv'}, results.json and rouge.png")


if __name__ == "__main__":
    run_cli(main)
