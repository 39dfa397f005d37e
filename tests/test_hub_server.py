"""LocalHub against the real huggingface_hub client: what we push is what we pull, and errors
surface as the client's own exception classes."""

from __future__ import annotations

import os
from pathlib import Path

import huggingface_hub.constants as hf_constants
import pytest
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.support.hub_server import DEFAULT_READ_TOKEN, DEFAULT_WRITE_TOKEN, LocalHub

REPO = "local-user/tiny-model"


@pytest.fixture()
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    # No token from the environment or a saved login: every call below says which token it uses.
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "hf-token"))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    with LocalHub() as server:
        yield server


@pytest.fixture()
def api(hub: LocalHub) -> HfApi:
    return HfApi(endpoint=hub.url, token=DEFAULT_WRITE_TOKEN)


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "model"
    (root / "nested" / "deeper").mkdir(parents=True)
    (root / "config.json").write_text('{"d_model": 8}')
    (root / "nested" / "deeper" / "weights.bin").write_bytes(os.urandom(4096))
    (root / "README.md").write_text("---\nlicense: apache-2.0\n---\n# tiny\n")
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_upload_folder_then_snapshot_download_gives_identical_bytes(
    hub: LocalHub, api: HfApi, folder: Path, tmp_path: Path
) -> None:
    repo_url = api.create_repo("tiny-model")
    assert repo_url.repo_id == REPO and repo_url.endpoint == hub.url
    commit = api.upload_folder(repo_id=REPO, folder_path=folder, commit_message="add model")
    assert commit.oid in commit.commit_url and commit.repo_url.repo_id == REPO

    local = Path(snapshot_download(REPO, endpoint=hub.url, cache_dir=tmp_path / "cache", token=False))

    assert local.name == commit.oid  # cached under the commit the branch pointed to
    pulled = _files(local)
    assert pulled.pop(".gitattributes")  # the Hub seeds every new repo with it
    assert pulled == _files(folder)


def test_hf_hub_download_one_file(hub: LocalHub, api: HfApi, folder: Path, tmp_path: Path) -> None:
    api.create_repo(REPO)
    api.upload_folder(repo_id=REPO, folder_path=folder)

    path = hf_hub_download(REPO, "nested/deeper/weights.bin", endpoint=hub.url, cache_dir=tmp_path / "cache")

    assert Path(path).read_bytes() == (folder / "nested" / "deeper" / "weights.bin").read_bytes()


def test_old_commit_still_serves_old_bytes(hub: LocalHub, api: HfApi, folder: Path, tmp_path: Path) -> None:
    api.create_repo(REPO)
    first = api.upload_folder(repo_id=REPO, folder_path=folder, commit_message="v1")
    second = api.upload_file(path_or_fileobj=b'{"d_model": 16}', path_in_repo="config.json", repo_id=REPO)
    assert second.oid != first.oid

    def config_at(revision: str) -> bytes:
        path = hf_hub_download(REPO, "config.json", revision=revision, endpoint=hub.url, cache_dir=tmp_path / "c")
        return Path(path).read_bytes()

    assert config_at(first.oid) == b'{"d_model": 8}'
    assert config_at("main") == b'{"d_model": 16}'
    old = Path(snapshot_download(REPO, revision=first.oid, endpoint=hub.url, cache_dir=tmp_path / "c"))
    assert (old / "config.json").read_bytes() == b'{"d_model": 8}'
    assert api.model_info(REPO, revision=first.oid).sha == first.oid
    assert [c.commit_id for c in api.list_repo_commits(REPO)][:2] == [second.oid, first.oid]


def test_list_repo_files_and_tree(api: HfApi, folder: Path) -> None:
    api.create_repo(REPO)
    api.upload_folder(repo_id=REPO, folder_path=folder)

    assert api.list_repo_files(REPO) == [".gitattributes", "README.md", "config.json", "nested/deeper/weights.bin"]
    top = {entry.path: type(entry).__name__ for entry in api.list_repo_tree(REPO)}
    assert top == {
        ".gitattributes": "RepoFile",
        "README.md": "RepoFile",
        "config.json": "RepoFile",
        "nested": "RepoFolder",
    }
    (weights,) = [f for f in api.list_repo_tree(REPO, path_in_repo="nested/deeper")]
    assert weights.size == 4096 and len(weights.blob_id) == 40


def test_unchanged_files_are_not_recommitted(api: HfApi, folder: Path) -> None:
    api.create_repo(REPO)
    first = api.upload_folder(repo_id=REPO, folder_path=folder)
    again = api.upload_folder(repo_id=REPO, folder_path=folder)  # preupload's "oid" says nothing changed
    assert again.oid == first.oid


def test_writes_need_a_write_token(hub: LocalHub, api: HfApi) -> None:
    api.create_repo(REPO)
    for token, status in ((False, 401), ("hf_not_a_real_token", 401), (DEFAULT_READ_TOKEN, 403)):
        with pytest.raises(HfHubHTTPError) as err:
            HfApi(endpoint=hub.url, token=token).upload_file(path_or_fileobj=b"x", path_in_repo="x", repo_id=REPO)
        assert err.value.response.status_code == status
    with pytest.raises(HfHubHTTPError) as err:
        HfApi(endpoint=hub.url, token=False).create_repo("other")
    assert err.value.response.status_code == 401
    assert api.list_repo_files(REPO) == [".gitattributes"]


def test_unknown_repo_raises_repository_not_found(hub: LocalHub, api: HfApi, tmp_path: Path) -> None:
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("local-user/missing")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("local-user/missing", "config.json", endpoint=hub.url, cache_dir=tmp_path / "cache")
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info("local-user/missing")


def test_unknown_revision_raises_revision_not_found(hub: LocalHub, api: HfApi, tmp_path: Path) -> None:
    api.create_repo(REPO)
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        snapshot_download(REPO, revision="no-such-branch", endpoint=hub.url, cache_dir=tmp_path / "cache")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(REPO, ".gitattributes", revision="0" * 40, endpoint=hub.url, cache_dir=tmp_path / "cache")


def test_missing_file_raises_entry_not_found(hub: LocalHub, api: HfApi, tmp_path: Path) -> None:
    api.create_repo(REPO)
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download(REPO, "nope.json", endpoint=hub.url, cache_dir=tmp_path / "cache")


def test_create_repo_twice(api: HfApi) -> None:
    first = api.create_repo(REPO)
    assert api.create_repo(REPO, exist_ok=True) == first
    with pytest.raises(HfHubHTTPError) as err:
        api.create_repo(REPO)
    assert err.value.response.status_code == 409


def test_private_repo_needs_a_token(hub: LocalHub, api: HfApi, tmp_path: Path) -> None:
    api.create_repo(REPO, private=True)
    api.upload_file(path_or_fileobj=b"secret", path_in_repo="a.txt", repo_id=REPO)
    anonymous = HfApi(endpoint=hub.url, token=False)

    with pytest.raises(RepositoryNotFoundError):
        anonymous.model_info(REPO)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(REPO, "a.txt", endpoint=hub.url, cache_dir=tmp_path / "anon", token=False)
    with pytest.raises(RepositoryNotFoundError):
        snapshot_download(REPO, endpoint=hub.url, cache_dir=tmp_path / "anon", token=False)

    assert HfApi(endpoint=hub.url, token=DEFAULT_READ_TOKEN).model_info(REPO).private is True
    path = hf_hub_download(REPO, "a.txt", endpoint=hub.url, cache_dir=tmp_path / "c", token=DEFAULT_READ_TOKEN)
    assert Path(path).read_bytes() == b"secret"


def test_datasets_branches_whoami_and_delete(hub: LocalHub, api: HfApi, tmp_path: Path) -> None:
    assert api.whoami()["name"] == "local-user"
    data = "local-user/tiny-data"
    api.create_repo(data, repo_type="dataset")
    api.upload_file(path_or_fileobj=b"a,b\n", path_in_repo="data/train.csv", repo_id=data, repo_type="dataset")
    path = hf_hub_download(data, "data/train.csv", repo_type="dataset", endpoint=hub.url, cache_dir=tmp_path / "c")
    assert Path(path).read_bytes() == b"a,b\n"

    api.create_branch(data, branch="v1", repo_type="dataset")
    api.create_branch(data, branch="v1", repo_type="dataset", exist_ok=True)
    assert {b.name for b in api.list_repo_refs(data, repo_type="dataset").branches} == {"main", "v1"}

    api.delete_repo(data, repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info(data)


def test_endpoint_from_patched_constants(hub: LocalHub, api: HfApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Code that passes no `endpoint=` (e.g. transformers' from_pretrained) reaches LocalHub only when
    both ENDPOINT and the download URL template are patched: the template is built at import."""
    api.create_repo(REPO)
    monkeypatch.setattr(hf_constants, "ENDPOINT", hub.url)
    monkeypatch.setattr(
        hf_constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.url + "/{repo_id}/resolve/{revision}/{filename}"
    )
    assert HfApi().endpoint == hub.url
    assert Path(hf_hub_download(REPO, ".gitattributes")).read_bytes().startswith(b"*.bin filter=lfs")


def test_storage_dir_survives_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "hf-token"))
    with LocalHub(storage_dir=tmp_path / "store") as first:
        HfApi(endpoint=first.url, token=DEFAULT_WRITE_TOKEN).create_repo(REPO)
        commit = HfApi(endpoint=first.url, token=DEFAULT_WRITE_TOKEN).upload_file(
            path_or_fileobj=b"kept", path_in_repo="k.txt", repo_id=REPO
        )
    with LocalHub(storage_dir=tmp_path / "store") as second:
        path = hf_hub_download(REPO, "k.txt", revision=commit.oid, endpoint=second.url, cache_dir=tmp_path / "c")
        assert Path(path).read_bytes() == b"kept"
