"""Model cards that say only what was measured: metadata (`model-index` of ROUGE), usage, recipe, licence.

- The dataset, split and number of rows in the card come from the evaluation the run wrote
  (`eval/results.json`, read by `card_scores`); a model that was not evaluated gets no scores.
- `base_model` is a Hub id or is left out (a folder on this machine is nobody else's base model).
- The usage snippet needs only transformers (full models) or transformers + peft (adapters).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmft.errors import ConfigError

DIALOGSUM_LICENSE = "cc-by-nc-sa-4.0"  # DialogSum's licence; a model trained on it carries the NC-SA terms
ROUGE_NOTE = "ROUGE-Lsum is computed on summaries split into sentences (pysbd), ROUGE-L on each summary as a whole."
_DESCRIPTIONS = {
    "lora": "A LoRA adapter for",
    "lora-merged": "A LoRA adapter merged into",
    "full": "A fully fine-tuned",
}
_PATH_KEYS = ("model_name_or_path", "dataset_name", "output_dir", "merged_from", "base_model")


@dataclass
class CardScores:
    """What an evaluation measured: on which data, split and number of rows, and the mean ROUGE."""

    dataset: str  # as the run named it: a Hub id or a local path
    split: str
    rows: int
    metrics: dict[str, float]  # rouge1 ... rougeLsum (first reference), and *_multi_ref (best of several)
    generation: dict[str, Any] = field(default_factory=dict)
    unsupported_share: float | None = None  # share of summaries with an unsupported fact (llmft.faithfulness)


def card_scores(results: Mapping[str, Any], model_name: str | None = None) -> CardScores:
    """The scores of `model_name` (default: the only or first model) in an evaluation's results.json."""
    models = results["models"]
    entry = models[model_name] if model_name else next(iter(models.values()))
    metrics = dict(entry["rouge"])
    for key, value in (entry.get("rouge_multi_ref") or {}).items():
        metrics[f"{key}_multi_ref"] = value
    return CardScores(
        dataset=str(results["dataset"]),
        split=str(results["split"]),
        rows=int(results["rows"]),
        metrics=metrics,
        generation=dict(results.get("generation") or {}),
        unsupported_share=entry.get("unsupported_share"),
    )


def as_hub_id(name: str | None) -> str | None:
    """`name` if it can be a Hub id (`owner/name`), None for a path on this machine."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    if not name or name.startswith((".", "/", "~")) or "\\" in name or Path(name).expanduser().exists():
        return None
    try:
        validate_repo_id(name)
    except HFValidationError:
        return None
    return name


def dataset_label(dataset: str) -> str:
    """A dataset name for a model card: the Hub id, or a local folder's name (never a path on this machine)."""
    return as_hub_id(dataset) or Path(dataset.rstrip("/")).name or dataset


def _data_text(dataset: str) -> str:
    """The dataset in the card's prose: a link for a Hub id, the folder name for local data."""
    hub_id = as_hub_id(dataset)
    return f"[{hub_id}](https://huggingface.co/datasets/{hub_id})" if hub_id else f"`{dataset_label(dataset)}`"


def _is_dialogsum(dataset: str) -> bool:
    hub_id = as_hub_id(dataset)
    return bool(hub_id) and hub_id.lower().split("/")[-1] == "dialogsum"


def _public_recipe(recipe: Mapping[str, Any]) -> dict[str, Any]:
    """The recipe with local paths reduced to their last part: a card never shows this machine's folders."""
    return {
        key: (dataset_label(value) if key in _PATH_KEYS and isinstance(value, str) and value else value)
        for key, value in recipe.items()
    }


def usage_snippet(repo_id: str, is_adapter: bool) -> str:
    """Python that loads the pushed repo and summarises a dialogue; imports only transformers (and peft)."""
    if is_adapter:
        load = (
            "from peft import AutoPeftModelForSeq2SeqLM\nfrom transformers import AutoTokenizer\n\n"
            f'model = AutoPeftModelForSeq2SeqLM.from_pretrained("{repo_id}")  # the base named in adapter_config.json\n'
        )
    else:
        load = (
            "from transformers import AutoModelForSeq2SeqLM, AutoTokenizer\n\n"
            f'model = AutoModelForSeq2SeqLM.from_pretrained("{repo_id}")\n'
        )
    return (
        "```python\n"
        + load
        + f'tokenizer = AutoTokenizer.from_pretrained("{repo_id}")\n'
        + 'dialogue = "#Person1#: Shall we meet at noon?\\n#Person2#: Yes, at the bank."\n'
        + "# The training prompt. Over 512 tokens, shorten the dialogue: never cut the Summary: line.\n"
        + 'prompt = f"Summarize the following conversation.\\n\\n{dialogue}\\n\\nSummary:"\n'
        + 'inputs = tokenizer(prompt, return_tensors="pt")\n'
        + "outputs = model.generate(**inputs, max_new_tokens=64)\n"
        + "print(tokenizer.decode(outputs[0], skip_special_tokens=True))\n"
        + "```"
    )


def _evaluation_section(scores: CardScores | None, method: str) -> str:
    if scores is None:
        why = (
            " The adapter's scores do not carry over to the merged weights: `training/merge.py --evaluate` scores them."
            if method == "lora-merged"
            else ""
        )
        return f"## Evaluation\n\nThis model was not evaluated, so this card reports no scores.{why}\n"
    rows = "\n".join(f"| {name} | {100 * value:.2f} |" for name, value in scores.metrics.items())
    beams = scores.generation.get("num_beams")
    decoding = f", {'greedy decoding' if beams == 1 else f'beam search ({beams} beams)'}" if beams else ""
    return (
        f"## Evaluation\n\nROUGE F-measure (%) on {scores.rows} dialogues of the `{scores.split}` split of "
        f"{_data_text(scores.dataset)}{decoding}, against the first human summary"
        " (`_multi_ref`: the best of all of a dialogue's summaries, where it has several). "
        f"{ROUGE_NOTE}\n\n| metric | score |\n|---|---|\n{rows}\n" + _unsupported_text(scores)
    )


UNSUPPORTED_NOTE = (
    "A summary has an unsupported fact when it states a number (digits, number words, times, dates, money), a name "
    "(a person, place or organisation found by spaCy's English NER, or a `#PersonN#` tag) that its dialogue never "
    "states, or a negation its dialogue contradicts (it negates what dialogue sentences state in the same words and "
    "never negate, or affirms what the dialogue only negates); `llmft.faithfulness`: rules, not a model; lower is "
    "better, and 0 is no proof of faithfulness."
)


def _unsupported_text(scores: CardScores) -> str:
    if scores.unsupported_share is None:
        return ""
    return (f"| summaries with an unsupported fact | {100 * scores.unsupported_share:.2f} |\n\n"
            f"{UNSUPPORTED_NOTE}\n")


def model_card(
    repo_id: str,
    base_model: str | None,
    method: str,
    dataset: str,
    scores: CardScores | None = None,
    recipe: Mapping[str, Any] | None = None,
    trainable: tuple[int, int] | None = None,
    training_rows: int | None = None,
) -> str:
    """A model card whose metadata names the base model (a Hub id, or none), the data, and measured ROUGE."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    if base_model is not None and as_hub_id(base_model) is None:
        raise ConfigError(f"The card's base_model must be a Hub id like google/flan-t5-base, not '{base_model}'.")
    is_adapter = method == "lora"
    label = dataset_label(dataset)
    eval_results = [
        EvalResult(
            task_type="summarization",
            task_name="Dialogue summarisation",
            dataset_type=dataset_label(scores.dataset),
            dataset_name=dataset_label(scores.dataset),
            dataset_split=scores.split,
            metric_type="rouge",
            metric_name=name,
            metric_value=round(float(value), 4),
        )
        for name, value in (scores.metrics.items() if scores else ())
    ]
    data = ModelCardData(
        language="en",
        license=DIALOGSUM_LICENSE if _is_dialogsum(dataset) else None,
        library_name="peft" if is_adapter else "transformers",
        base_model=base_model,
        datasets=[dataset] if as_hub_id(dataset) else None,
        tags=[
            "summarization",
            "dialogue-summarization",
            *(["lora", "peft"] if is_adapter else ["lora", "merged"] if method == "lora-merged" else []),
        ],
        pipeline_tag="summarization",
        model_name=repo_id.split("/")[-1],
        eval_results=eval_results or None,
    )
    base_text = (
        f"[{base_model}](https://huggingface.co/{base_model})" if base_model else "a base model from a local folder"
    )
    data_text = _data_text(dataset)
    split = (recipe or {}).get("train_split")
    trained_on = f"{training_rows} dialogues of the `{split}` split of " if training_rows and split else ""
    share = ""
    if trainable:
        trained, total = trainable
        share = f"\nTrainable parameters: {trained:,} of {total:,} ({100 * trained / total:.2f}%).\n"
    recipe_yaml = "# not recorded"
    if recipe:
        import yaml

        recipe_yaml = yaml.safe_dump(_public_recipe(recipe), sort_keys=False).strip()
    licence = (
        "DialogSum is released under CC BY-NC-SA 4.0 (non-commercial, share-alike); this model is trained on it\n"
        "and is shared under the same licence."
        if _is_dialogsum(dataset)
        else f"This card sets no licence: the model's terms follow those of its training data ({label}) and of its"
        " base model."
    )
    content = f"""---
{data.to_yaml()}
---

# {repo_id.split("/")[-1]}

{_DESCRIPTIONS.get(method, "A fully fine-tuned")} {base_text},
trained to summarise dialogues on {trained_on}{data_text} with [llm-fine-tune](https://github.com/) (`llmft`).
{share}
{_evaluation_section(scores, method)}
## Use

{usage_snippet(repo_id, is_adapter)}

## Training recipe

```yaml
{recipe_yaml}
```

## Data and licence

{licence}
"""
    ModelCard(content)  # parses the metadata block; raises on malformed YAML
    return content
