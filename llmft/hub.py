"""Push model or adapter folders to the Hub with a model card, and pull a revision back.

Everything goes through `huggingface_hub`. The endpoint is `HF_ENDPOINT` (read at call time, so a test
or a private Hub can set it late) and the token `HF_TOKEN` or the one `hf auth login` saved.
Tokens never appear in messages or logs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmft.errors import HubError

DIALOGSUM_LICENSE = "cc-by-nc-sa-4.0"  # DialogSum's licence; a model trained on it carries the NC-SA terms
_DESCRIPTIONS = {
    "lora": "A LoRA adapter for",
    "lora-merged": "A LoRA adapter merged into",
    "full": "A fully fine-tuned",
}


def hub_endpoint() -> str | None:
    return os.environ.get("HF_ENDPOINT") or None


def _api(token: str | None = None):
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub_endpoint(), token=token)


def _token(token: str | None) -> str | None:
    from huggingface_hub import get_token

    return token or os.environ.get("HF_TOKEN") or get_token()


@dataclass
class PushResult:
    repo_id: str
    commit_sha: str
    commit_url: str
    repo_url: str


def push_folder(
    folder: str | Path,
    repo_id: str,
    token: str | None = None,
    private: bool = False,
    commit_message: str = "Upload with llmft",
    model_card: str | None = None,
    ignore_patterns: list[str] | None = None,
) -> PushResult:
    """Create `repo_id` if needed and commit the folder's files (plus README.md = `model_card`)."""
    from huggingface_hub.errors import HfHubHTTPError

    folder = Path(folder)
    if not folder.is_dir():
        raise HubError(f"Nothing to push: '{folder}' is not a folder.")
    token = _token(token)
    if not token:
        raise HubError(
            f"Pushing to '{repo_id}' needs a Hub token with write access: set HF_TOKEN or run `hf auth login`."
        )
    if model_card is not None:
        (folder / "README.md").write_text(model_card, encoding="utf-8")
    api = _api(token)
    try:
        repo_url = api.create_repo(repo_id, private=private, exist_ok=True)
        commit = api.upload_folder(
            repo_id=repo_id,
            folder_path=folder,
            commit_message=commit_message,
            ignore_patterns=(ignore_patterns or []) + ["checkpoint-*/**", "runs/**", "*.lock"],
        )
    except HfHubHTTPError as err:
        status = err.response.status_code if err.response is not None else "?"
        hint = " Check that your token has write access to it." if status in (401, 403) else ""
        raise HubError(f"Could not push to '{repo_id}' (HTTP {status}).{hint}") from err
    except OSError as err:
        where = hub_endpoint() or "huggingface.co"
        raise HubError(f"Could not reach the Hub at {where}: {type(err).__name__}.") from err
    return PushResult(repo_id, commit.oid, commit.commit_url, str(repo_url))


def pull(
    repo_id: str,
    revision: str | None = None,
    local_dir: str | Path | None = None,
    token: str | None = None,
) -> Path:
    """Download a repo at a revision (branch, tag or commit sha); returns the local folder."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError

    try:
        return Path(
            snapshot_download(
                repo_id, revision=revision, local_dir=local_dir, endpoint=hub_endpoint(), token=_token(token)
            )
        )
    except RevisionNotFoundError as err:
        raise HubError(f"'{repo_id}' has no revision '{revision}'.") from err
    except RepositoryNotFoundError as err:
        raise HubError(f"Repository '{repo_id}' not found (or private and no token given).") from err
    except HfHubHTTPError as err:
        raise HubError(f"Could not pull '{repo_id}': {err.response.status_code if err.response else err}.") from err
    except OSError as err:
        raise HubError(f"Could not reach the Hub for '{repo_id}': {type(err).__name__}.") from err


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
