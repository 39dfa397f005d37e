"""Publishing, in one place: push a folder or a trained model (with its card) to the Hub, and pull one back.

Pushing reads the caller's folder and never writes into it: the card and any file changed for the Hub
(an adapter's `adapter_config.json` naming its base by Hub id) are sent from memory in the same commit.
Every call goes through `llmft.hub.client` (bounded timeouts; failures become `HubError` with a message
that says what happened). Tokens never appear in messages or logs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmft.errors import HubError, ModelLoadError
from llmft.hub.client import (
    _connection_problem,
    hub_api,
    hub_errors,
    hub_location,
    install_timeouts,
    resolve_token,
)

logger = logging.getLogger(__name__)

TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "spiece.model",
    "added_tokens.json",
)
FULL_MODEL_FILES = ("config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json")
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
# Never pushed by `push_folder`: training leftovers, and what huggingface_hub itself never uploads.
RUN_LEFTOVERS = ["checkpoint-*/**", "runs/**", "*.lock"]


@dataclass
class PushResult:
    repo_id: str
    commit_sha: str
    commit_url: str
    repo_url: str


def _files_in(folder: Path, ignore_patterns: Iterable[str]) -> dict[str, Path]:
    """`relative path -> file` under `folder`, as `upload_folder` would choose them."""
    from huggingface_hub.utils import filter_repo_objects
    from huggingface_hub.utils._paths import DEFAULT_IGNORE_PATTERNS

    files = {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()}
    kept = filter_repo_objects(files, ignore_patterns=[*DEFAULT_IGNORE_PATTERNS, *ignore_patterns])
    return {name: files[name] for name in kept}


def _commit(
    repo_id: str,
    files: Mapping[str, Path],
    contents: Mapping[str, bytes],
    token: str | None,
    private: bool,
    commit_message: str,
) -> PushResult:
    """Create `repo_id` if needed and commit `files` (read from disk) plus `contents` (from memory) at once."""
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.errors import HfHubHTTPError

    token = resolve_token(token)
    if not token:
        raise HubError(
            f"Pushing to '{repo_id}' needs a Hub token with write access: set HF_TOKEN or run `hf auth login`."
        )
    operations = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(path)) for name, path in files.items()]
    operations += [CommitOperationAdd(path_in_repo=name, path_or_fileobj=data) for name, data in contents.items()]
    api = hub_api(token)
    try:
        with hub_errors(f"repository '{repo_id}'"):
            repo_url = api.create_repo(repo_id, private=private, exist_ok=True)
            commit = api.create_commit(repo_id, operations, commit_message=commit_message)
    except HubError as err:
        # The client's messages speak of fetching; a push says what it could not do, and a 401/403 means
        # "check your token's write access" rather than "check HF_TOKEN".
        cause = err.__cause__
        status = cause.response.status_code if isinstance(cause, HfHubHTTPError) and cause.response else None
        if status in (401, 403):
            raise HubError(
                f"Could not push to '{repo_id}' (HTTP {status}). Check that your token has write access to it."
            ) from cause
        problem = _connection_problem(cause) if cause is not None else None
        if problem is not None:
            raise HubError(f"Could not push to '{repo_id}': the Hub at {hub_location()} {problem}.") from cause
        raise
    except ValueError as err:  # huggingface_hub: the Hub's validate-yaml refused the card's metadata
        raise HubError(f"The Hub refused the model card for '{repo_id}': {err}") from err
    return PushResult(repo_id, commit.oid, commit.commit_url, str(repo_url))


def push_folder(
    folder: str | Path,
    repo_id: str,
    token: str | None = None,
    private: bool = False,
    commit_message: str = "Upload with llmft",
    model_card: str | None = None,
    ignore_patterns: list[str] | None = None,
) -> PushResult:
    """Create `repo_id` if needed and commit the folder's files, with README.md = `model_card` if given.

    The card goes from memory: the folder is not changed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise HubError(f"Nothing to push: '{folder}' is not a folder.")
    files = _files_in(folder, [*(ignore_patterns or []), *RUN_LEFTOVERS])
    contents = {}
    if model_card is not None:
        files.pop("README.md", None)
        contents["README.md"] = model_card.encode("utf-8")
    return _commit(repo_id, files, contents, token, private, commit_message)


def publishable_files(folder: str | Path) -> list[Path]:
    """What goes to the Hub from a model folder: the adapter (LoRA) or the full weights, and the tokenizer.

    Only named files, so logs, checkpoints and evaluation outputs never ride along, and an adapter repo
    never carries base weights.
    """
    folder = Path(folder)
    is_adapter = (folder / "adapter_config.json").is_file()
    names: Iterable[str] = ADAPTER_FILES if is_adapter else FULL_MODEL_FILES
    files = [folder / name for name in names if (folder / name).is_file()]
    if not is_adapter:
        files += sorted(folder.glob("model-*-of-*.safetensors"))  # shards of a large model
    if not any(f.suffix == ".safetensors" for f in files):
        raise ModelLoadError(f"'{folder}' holds no model or adapter weights to push.")
    return files + [folder / name for name in TOKENIZER_FILES if (folder / name).is_file()]


def push_run(
    folder: str | Path,
    repo_id: str,
    card: str,
    private: bool = False,
    commit_message: str = "Upload with llmft",
    base_model_id: str | None = None,
    token: str | None = None,
) -> PushResult:
    """Push a trained (or merged) model folder's publishable files and its card; the folder is not changed.

    `base_model_id`: for an adapter, the Hub id its pushed `adapter_config.json` names as its base (the
    local one may name a folder on this machine, which nobody else can load).
    """
    folder = Path(folder)
    files = {path.name: path for path in publishable_files(folder)}
    contents = {"README.md": card.encode("utf-8")}
    if base_model_id and "adapter_config.json" in files:
        config = json.loads(files.pop("adapter_config.json").read_text(encoding="utf-8"))
        if config.get("base_model_name_or_path") != base_model_id:
            logger.info(
                "The pushed adapter names its base as %s (locally: %s).",
                base_model_id,
                config.get("base_model_name_or_path"),
            )
        config["base_model_name_or_path"] = base_model_id
        contents["adapter_config.json"] = (json.dumps(config, indent=2, sort_keys=True) + "\n").encode("utf-8")
    return _commit(repo_id, files, contents, token, private, commit_message)


def publish_model(
    folder: str | Path,
    repo_id: str,
    method: str,
    base_model: str | None,
    dataset: str,
    results: Mapping[str, Any] | None = None,
    recipe: Mapping[str, Any] | None = None,
    trainable: tuple[int, int] | None = None,
    training_rows: int | None = None,
    private: bool = False,
    commit_message: str = "Upload with llmft",
) -> PushResult:
    """What train.py and merge.py both do to publish: a card from what the run measured, then `push_run`.

    `base_model` must be a Hub id or None (the card leaves it out; an adapter then keeps the base its
    config names). `results`: the model's own evaluation (`eval/results.json`), or None for no scores.
    """
    from llmft.hub.cards import card_scores, model_card

    scores = card_scores(results) if results else None
    card = model_card(repo_id, base_model, method, dataset, scores, recipe, trainable, training_rows)
    pushed = push_run(folder, repo_id, card, private=private, commit_message=commit_message, base_model_id=base_model)
    logger.info("Pushed %s to %s (commit %s).", folder, pushed.repo_url, pushed.commit_sha[:10])
    return pushed


def pull(
    repo_id: str,
    revision: str | None = None,
    local_dir: str | Path | None = None,
    token: str | None = None,
) -> Path:
    """Download a repo at a revision (branch, tag or commit sha); returns the local folder."""
    from huggingface_hub import snapshot_download

    from llmft.hub.client import hub_endpoint

    install_timeouts()  # snapshot_download's requests are bounded like every other Hub call
    with hub_errors(f"repository '{repo_id}'", revision=revision):
        return Path(
            snapshot_download(
                repo_id, revision=revision, local_dir=local_dir, endpoint=hub_endpoint(), token=resolve_token(token)
            )
        )
