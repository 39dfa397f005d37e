"""Push model or adapter folders to the Hub (with a model card), and pull a revision back.

Everything goes through `huggingface_hub`. The endpoint is `HF_ENDPOINT` (read at call time, so a test
or a private Hub can set it late) and the token `HF_TOKEN` or the one `hf auth login` saved.
Tokens never appear in messages or logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from llmft.errors import HubError
from llmft.hub.client import hub_api, hub_endpoint, resolve_token


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
