"""Model cards for pushed models and adapters: metadata (`model-index` with ROUGE), usage, recipe, licence."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

DIALOGSUM_LICENSE = "cc-by-nc-sa-4.0"  # DialogSum's licence; a model trained on it carries the NC-SA terms
_DESCRIPTIONS = {
    "lora": "A LoRA adapter for",
    "lora-merged": "A LoRA adapter merged into",
    "full": "A fully fine-tuned",
}


def model_card(
    repo_id: str,
    base_model: str,
    method: str,
    dataset: str = "knkarthick/dialogsum",
    metrics: Mapping[str, float] | None = None,
    recipe: Mapping[str, Any] | None = None,
    trainable: tuple[int, int] | None = None,
) -> str:
    """A model card whose metadata names the base model, data licence and a `model-index` of ROUGE."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    is_lora = method == "lora"
    eval_results = [
        EvalResult(
            task_type="summarization",
            task_name="Dialogue summarisation",
            dataset_type=dataset,
            dataset_name="DialogSum",
            dataset_split="test",
            metric_type="rouge",
            metric_name=name,
            metric_value=round(float(value), 4),
        )
        for name, value in (metrics or {}).items()
    ]
    data = ModelCardData(
        language="en",
        license=DIALOGSUM_LICENSE,
        library_name="peft" if is_lora else "transformers",
        base_model=base_model,
        datasets=[dataset],
        tags=[
            "summarization",
            "dialogue-summarization",
            "flan-t5",
            *(["lora", "peft"] if is_lora else ["lora", "merged"] if method == "lora-merged" else []),
        ],
        pipeline_tag="summarization",
        model_name=repo_id.split("/")[-1],
        eval_results=eval_results or None,
    )
    scores = "\n".join(f"| {k} | {100 * v:.2f} |" for k, v in (metrics or {}).items()) or "| (not evaluated) | |"
    recipe_yaml = ""
    if recipe:
        import yaml

        recipe_yaml = yaml.safe_dump(dict(recipe), sort_keys=False).strip()
    share = ""
    if trainable:
        trained, total = trainable
        share = f"\nTrainable parameters: {trained:,} of {total:,} ({100 * trained / total:.2f}%).\n"
    usage = (
        "```python\nfrom llmft.models import load_model, generate\n"
        f'loaded = load_model("{repo_id}")  # loads the base model named in adapter_config.json\n'
        'print(generate(loaded, ["Summarize the following conversation.\\n\\n#Person1#: ...\\n\\nSummary:"]))\n```'
        if is_lora
        else "```python\nfrom transformers import AutoModelForSeq2SeqLM, AutoTokenizer\n"
        f'model = AutoModelForSeq2SeqLM.from_pretrained("{repo_id}")\n'
        f'tokenizer = AutoTokenizer.from_pretrained("{repo_id}")\n```'
    )
    dataset_url = f"https://huggingface.co/datasets/{dataset}" if "/" in dataset else dataset
    content = f"""---
{data.to_yaml()}
---

# {repo_id.split("/")[-1]}

{_DESCRIPTIONS.get(method, "A fully fine-tuned")} [{base_model}](https://huggingface.co/{base_model}),
trained to summarise dialogues on [DialogSum]({dataset_url})
with [llm-fine-tune](https://github.com/) (`llmft`).
{share}
## Evaluation (DialogSum test, ROUGE F-measure, %)

| metric | score |
|---|---|
{scores}

## Use

{usage}

## Training recipe

```yaml
{recipe_yaml or "# not recorded"}
```

## Data and licence

DialogSum is released under CC BY-NC-SA 4.0 (non-commercial, share-alike); this model is trained on it
and is shared under the same licence.
"""
    ModelCard(content)  # validates the metadata block; raises on malformed YAML
    return content


def rouge_for_card(results: Mapping[str, Any], model_name: str) -> dict[str, float]:
    """Model-index metrics from an evaluation's results.json: single-reference ROUGE, and multi-reference."""
    entry = results["models"][model_name]
    metrics = dict(entry["rouge"])
    for key, value in (entry.get("rouge_multi_ref") or {}).items():
        metrics[f"{key}_multi_ref"] = value
    return metrics


def dataset_label(dataset: str) -> str:
    """A dataset name for a model card: the Hub id, or a local folder's name (never a path on this machine)."""
    path = Path(dataset).expanduser()
    return path.name if path.exists() or dataset.startswith((".", "/", "~")) else dataset
