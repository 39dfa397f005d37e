r"""Merge a LoRA adapter into its base model and save a full checkpoint (optionally score it and push it).

    python training/merge.py --adapter outputs/flan-t5-base-lora --output_dir outputs/flan-t5-base-lora-merged
    python training/merge.py --adapter you/flan-t5-base-dialogsum-lora --output_dir merged --evaluate \
        --push_to_hub --hub_model_id you/flan-t5-base-dialogsum-lora-merged

The merged model generates what the adapter on its base does, loads without peft, and runs a little
faster (no adapter branch). The base comes from the adapter's adapter_config.json unless --base_model
names it (it must be the same model). `--evaluate` scores the merged model itself on the test split
(`--dataset_name`, default the adapter's training data) and writes `<output_dir>/eval/`; only then does
its card carry scores (an adapter's scores are not copied: they were measured on other weights).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from llmft.data import DEFAULT_DATASET, load_dialogues
from llmft.errors import ConfigError, run_cli
from llmft.models import load_model, resolve_source
from llmft.prompts import MAX_SOURCE_TOKENS
from llmft.recipes import parse_args
from llmft.training import RUN_CONFIG, check_output_dir, check_push_settings, count_parameters, prepare_output_dir
from llmft.training.arguments import EvalArguments, PushArguments, check_base_model_id
from llmft.training.logs import setup_logging
from llmft.training.publishing import ModelToPublish, evaluate_and_publish

logger = logging.getLogger("llmft.merge")


@dataclass
class MergeArguments:
    adapter: str = field(default="", metadata={"help": "LoRA adapter: Hub id or folder"})
    base_model: str | None = field(default=None, metadata={"help": "its base (default: from adapter_config.json)"})
    output_dir: str | None = field(default=None, metadata={"help": "folder for the merged model"})
    overwrite_output_dir: bool = field(
        default=False, metadata={"help": "empty output_dir first", "aliases": ("--overwrite",)}
    )
    dtype: Literal["float32", "bfloat16", "float16"] = field(
        default="float32", metadata={"help": "saved weights' type"}
    )
    evaluate: bool = field(
        default=False, metadata={"help": "score the merged model with ROUGE on test_split (its card's scores)"}
    )
    dataset_name: str | None = field(
        default=None, metadata={"help": "data to score on (default: the adapter's training data, else DialogSum)"}
    )


def adapter_recipe(folder: Path) -> dict[str, Any]:
    """What the adapter's run recorded: train.py's run_config.json, or the `datasets` of its pushed card."""
    recipe_file = folder / RUN_CONFIG
    if recipe_file.is_file():
        return json.loads(recipe_file.read_text(encoding="utf-8"))
    if (folder / "README.md").is_file():
        from huggingface_hub import ModelCard

        datasets = ModelCard.load(folder / "README.md").data.datasets or []
        return {"dataset_name": datasets[0]} if datasets else {}
    return {}


def main(argv: list[str] | None = None) -> int:
    # The evaluation and push flags are train.py's own (the same dataclasses), next to the merge's.
    args, evaluation, push = parse_args((MergeArguments, EvalArguments, PushArguments), argv, __doc__)
    setup_logging()
    if not args.adapter or not args.output_dir:
        raise ConfigError("Give --adapter (a LoRA adapter folder or Hub id) and --output_dir.")
    check_push_settings(push)
    run_config = {"merged_from": args.adapter, "base_model": args.base_model, "dtype": args.dtype}
    check_output_dir(args.output_dir, run_config, args.overwrite_output_dir, resume=None, resumable=False)

    import torch

    loaded = load_model(args.adapter, base_model=args.base_model, device="cpu", use_cache=False,  # fp32 on CPU
                        want="adapter", hint="There is nothing to merge.")  # refused before any weights load
    base_id = (
        check_base_model_id(loaded.base_model, push.hub_base_model_id, "lora-merged") if push.push_to_hub else None
    )
    recipe = adapter_recipe(resolve_source(args.adapter))
    dataset = args.dataset_name or recipe.get("dataset_name") or DEFAULT_DATASET
    # Loaded before merging, so that a missing split fails first. Grouped: several references per dialogue.
    test_rows = (
        load_dialogues(dataset, evaluation.test_split, limit=evaluation.max_test_samples, group_references=True)
        if args.evaluate
        else None
    )

    merged = loaded.model.merge_and_unload()  # W + (alpha / r) * B @ A, folded into each target weight
    merged.to(getattr(torch, args.dtype))
    output_dir = prepare_output_dir(args.output_dir, run_config, args.overwrite_output_dir)
    merged.save_pretrained(output_dir, safe_serialization=True)
    loaded.tokenizer.save_pretrained(output_dir)
    logger.info(
        f"Merged {args.adapter} into {loaded.base_model}: {count_parameters(merged)[1]:,} parameters -> {output_dir}"
    )
    del merged, loaded

    merged_model = ModelToPublish(
        folder=output_dir,
        name="merged",
        method="lora-merged",
        base_model=base_id,
        dataset=dataset,
        recipe={**recipe, **run_config},
        commit_message=f"Merge LoRA adapter {args.adapter} into {base_id or 'its base model'}",
    )
    evaluate_and_publish(merged_model, test_rows, evaluation, push,
                         max_input_tokens=int(recipe.get("max_source_length") or MAX_SOURCE_TOKENS))
    return 0


if __name__ == "__main__":
    run_cli(main)
