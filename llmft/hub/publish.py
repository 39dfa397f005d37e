"""Push model or adapter folders to the Hub (with a model card), and pull a revision back.

Everything goes through `huggingface_hub`. The endpoint is `HF_ENDPOINT` (read at call time, so a test
or a private Hub can set it late) and the token `HF_TOKEN` or the one `hf auth login` saved.
Tokens never appear in messages or logs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from llmft.errors import HubError, ModelLoadError
from llmft.hub.client import hub_api, hub_endpoint, resolve_token

TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "spiece.model",
    "added_tokens.json",
)
FULL_MODEL_FILES = ("config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json")
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


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
    token = resolve_token(token)
    if not token:
        raise HubError(
            f"Pushing to '{repo_id}' needs a Hub token with write access: set HF_TOKEN or run `hf auth login`."
        )
    if model_card is not None:
        (folder / "README.md").write_text(model_card, encoding="utf-8")
    api = hub_api(token)
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
                repo_id, revision=revision, local_dir=local_dir, endpoint=hub_endpoint(), token=resolve_token(token)
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


def publishable_files(folder: str | Path) -> list[Path]:
    """What goes to the Hub from a model folder: the adapter (LoRA) or the full weights, and the tokenizer.

    Only named files, so logs, checkpoints and evaluation outputs never ride along, and an adapter repo
    never carries base weights.
    """
    folder = Path(folder)
    names: Iterable[str] = ADAPTER_FILES if (folder / "adapter_config.json").is_file() else FULL_MODEL_FILES
    files = [folder / name for name in names if (folder / name).is_file()]
    if not (folder / "adapter_config.json").is_file():
        files += sorted(folder.glob("model-*-of-*.safetensors"))  # shards of a large model
    if not any(f.suffix == ".safetensors" for f in files):
        raise ModelLoadError(f"'{folder}' holds no model or adapter weights to push.")
    return files + [folder / name for name in TOKENIZER_FILES if (folder / name).is_file()]


def stage_for_push(folder: str | Path, staging: str | Path) -> Path:
    """Hard-link (or copy) the publishable files into `staging`, an empty folder to push from."""
    staging = Path(staging)
    staging.mkdir(parents=True, exist_ok=True)
    for path in publishable_files(folder):
        target = staging / path.name
        try:
            os.link(path, target)
        except OSError:  # another file system, or links not allowed
            shutil.copy2(path, target)
    return staging


def push_run(
    folder: str | Path, repo_id: str, card: str, private: bool = False, commit_message: str = "Upload with llmft"
):
    """Push a trained model folder's publishable files and its card; the card is also kept in the folder."""
    folder = Path(folder)
    (folder / "README.md").write_text(card, encoding="utf-8")
    staging = stage_for_push(folder, folder / ".push")  # a dot folder: run-folder checks ignore it
    try:
        return push_folder(staging, repo_id, private=private, model_card=card, commit_message=commit_message)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
