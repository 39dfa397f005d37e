r"""Merge a LoRA adapter into its base model and save a full checkpoint (optionally push it).

    python training/merge.py --adapter outputs/flan-t5-base-lora --output_dir outputs/flan-t5-base-lora-merged
    python training/merge.py --adapter you/flan-t5-base-dialogsum-lora --output_dir merged \
        --push_to_hub --hub_model_id you/flan-t5-base-dialogsum-lora-merged

The merged model generates what the adapter on its base does, loads without peft, and runs a little
faster (no adapter branch). The base comes from the adapter's adapter_config.json unless --base_model
names it (it must be the same model). If the adapter folder holds evaluation results (eval/results.json,
written by train.py), the merged model's card reports them.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from llmft.errors import ConfigError, run_cli
from llmft.hub import model_card, push_folder
from llmft.hub.cards import dataset_label, rouge_for_card
from llmft.hub.publish import stage_for_push
from llmft.models import load_model, resolve_source
from llmft.recipes import parse_args
from llmft.training import RUN_CONFIG, check_output_dir, check_push_settings, count_parameters, prepare_output_dir


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
    push_to_hub: bool = field(default=False, metadata={"help": "push the merged model and a card"})
    hub_model_id: str | None = field(default=None, metadata={"help": "repository to push to"})
    hub_private: bool = field(default=False, metadata={"help": "create the repository as private"})


def adapter_scores(folder: Path) -> dict[str, float] | None:
    """The adapter's measured ROUGE: from train.py's eval/results.json, or from its model card's model-index."""
    results_file = folder / "eval" / "results.json"
    if results_file.is_file():
        results = json.loads(results_file.read_text(encoding="utf-8"))
        return rouge_for_card(results, next(iter(results["models"])))
    if (folder / "README.md").is_file():
        from huggingface_hub import ModelCard

        eval_results = ModelCard.load(folder / "README.md").data.eval_results or []
        return {result.metric_name: result.metric_value for result in eval_results} or None
    return None


def main(argv: list[str] | None = None) -> int:
    (args,) = parse_args((MergeArguments,), argv, __doc__)
    if not args.adapter or not args.output_dir:
        raise ConfigError("Give --adapter (a LoRA adapter folder or Hub id) and --output_dir.")
    check_push_settings(args)  # type: ignore[arg-type]  (same push fields as TrainArguments)
    run_config = {"merged_from": args.adapter, "base_model": args.base_model, "dtype": args.dtype}
    check_output_dir(args.output_dir, run_config, args.overwrite_output_dir, resume=None, resumable=False)

    import torch

    loaded = load_model(args.adapter, base_model=args.base_model, device="cpu", use_cache=False)  # fp32 on CPU
    if loaded.kind != "adapter":
        raise ConfigError(f"'{args.adapter}' is a full model, not a LoRA adapter: there is nothing to merge.")
    merged = loaded.model.merge_and_unload()  # W + (alpha / r) * B @ A, folded into each target weight
    merged.to(getattr(torch, args.dtype))
    output_dir = prepare_output_dir(args.output_dir, run_config, args.overwrite_output_dir)
    merged.save_pretrained(output_dir, safe_serialization=True)
    loaded.tokenizer.save_pretrained(output_dir)
    print(f"Merged {args.adapter} into {loaded.base_model}: {count_parameters(merged)[1]:,} parameters -> {output_dir}")

    if args.push_to_hub:
        adapter_folder = resolve_source(args.adapter)
        recipe_file = adapter_folder / RUN_CONFIG
        recipe = json.loads(recipe_file.read_text()) if recipe_file.is_file() else run_config
        metrics = adapter_scores(adapter_folder)
        card = model_card(
            args.hub_model_id,
            loaded.base_model,
            "lora-merged",
            dataset=dataset_label(recipe.get("dataset_name", "knkarthick/dialogsum")),
            metrics=metrics,
            recipe=recipe,
        )
        (output_dir / "README.md").write_text(card, encoding="utf-8")
        staging = stage_for_push(output_dir, output_dir / ".push")
        try:
            pushed = push_folder(
                staging,
                args.hub_model_id,
                private=args.hub_private,
                model_card=card,
                commit_message=f"Merge LoRA adapter {args.adapter} into {loaded.base_model}",
            )
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        print(f"Pushed to {pushed.repo_url} (commit {pushed.commit_sha[:10]}).")
    return 0


if __name__ == "__main__":
    run_cli(main)
