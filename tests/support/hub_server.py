"""LocalHub: a local test double of the Hugging Face Hub HTTP API.

It speaks the part of the Hub API that the real ``huggingface_hub`` client (1.33) uses to
create repos, commit and download, so tests can push and pull for real against
``http://127.0.0.1:PORT`` without network: the same idea as the staging Hub
(hub-ci.huggingface.co) that huggingface_hub's own tests use. Deliberate simplifications:

- every file is a plain git blob: ``preupload`` answers ``uploadMode: "regular"`` for all
  files, so no LFS/Xet transfer ever happens (fine for tiny test models);
- every commit keeps a full snapshot ``{path: blob oid}``: old commit shas stay downloadable;
- one user owns every token; any known token reads private repos, ``write_tokens`` write;
  no pull requests, tags, gating or pagination; ``validate-yaml`` checks a card's metadata as the
  Hub does for the fields our cards write (``tests.support.card_metadata``);
- new repos start with an "initial commit" holding ``.gitattributes``, as on the Hub.

Spaces: creating one needs its ``sdk`` (kept, answered by repo info); secrets and variables live on the paths
``HfApi.add_space_secret`` / ``add_space_variable`` use (``tests.support.hub_spaces``).

Test hooks: ``hub.requests`` lists every request received ("GET /api/models/me/x"), ``hub.space_secrets(id)`` and
``hub.space_variables(id)`` what a Space's settings hold (secret values included, which the Hub never answers), and
``hub.interrupt_downloads(filename, "stop" | "stall")`` makes the server go down or silent halfway
through sending that file.

Use ``with LocalHub() as hub: HfApi(endpoint=hub.url, token=DEFAULT_WRITE_TOKEN)...``, or
``python -m tests.support.hub_server --port 8900``. ``LOCALHUB_VERBOSE=1`` logs each request.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.hub_spaces import SETTINGS_ACTIONS, SPACE_SDKS, SpaceSettingError, handle_settings

DEFAULT_WRITE_TOKEN = "hf_test_write_token"
DEFAULT_READ_TOKEN = "hf_test_read_token"
# Where each repo type lives: web/download URLs use the prefix, /api/ URLs the plural.
_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_API_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
_GITATTRIBUTES = b"".join(
    b"*.%s filter=lfs diff=lfs merge=lfs -text\n" % ext for ext in (b"bin", b"safetensors", b"pt", b"h5", b"onnx")
)

Response = tuple[int, dict[str, str], bytes]


def _verbose() -> bool:
    return os.environ.get("LOCALHUB_VERBOSE") == "1"


def _now() -> str:
    # huggingface_hub's parse_datetime only accepts '%Y-%m-%dT%H:%M:%S.%fZ'.
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def git_blob_oid(data: bytes) -> str:
    """The git blob sha1. The client compares it with preupload's ``oid`` to skip
    unchanged files, and names cached blobs after the ETag we derive from it."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _json(obj: Any, status: int = 200) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(obj).encode()


class HubError(Exception):
    """An error answered the way the Hub does: ``hf_raise_for_status`` turns
    X-Error-Code into RepositoryNotFoundError, RevisionNotFoundError, ..."""

    def __init__(
        self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None, **body: Any
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers, self.body = status, message, code, headers or {}, body


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    message: str
    date: str
    author: str
    files: dict[str, str]  # full snapshot: path -> blob oid


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    created_at: str
    branches: dict[str, str] = field(default_factory=dict)  # branch -> commit oid
    commits: dict[str, Commit] = field(default_factory=dict)
    sdk: str | None = None  # Spaces only
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)  # Spaces only: key -> value, description, date
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)  # Spaces only

    def resolve(self, revision: str) -> Commit:
        """A branch name or a full commit sha -> the commit (RevisionNotFound otherwise)."""
        commit = self.commits.get(self.branches.get(revision, revision))
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit


@dataclass
class _Request:
    method: str
    parts: list[str]  # unquoted path segments; 'a%2Fb' stays one segment 'a/b'
    query: dict[str, list[str]]
    body: bytes
    token: str | None
    base_url: str


class LocalHub:
    """An in-process Hub double. ``start()`` returns the endpoint URL (also in ``.url``)."""

    def __init__(
        self,
        storage_dir: Path | None = None,
        write_tokens: Iterable[str] = (DEFAULT_WRITE_TOKEN,),
        read_tokens: Iterable[str] = (DEFAULT_READ_TOKEN,),
        user: str = "local-user",
    ) -> None:
        self.storage_dir = Path(storage_dir) if storage_dir is not None else None
        self.write_tokens = frozenset(write_tokens)
        self.read_tokens = frozenset(read_tokens) | self.write_tokens  # a write token can read too
        self.user = user
        self.url: str | None = None
        # One lock around all repo state: handlers run in parallel threads.
        self._lock = threading.RLock()
        self._repos: dict[tuple[str, str], Repo] = {}
        self._blobs: dict[str, bytes] = {}
        self._seq = 0  # makes commit oids unique even for identical commits in the same millisecond
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[str] = []  # "GET /api/models/me/x", in order: lets a test see what reached the Hub
        self._interrupt: tuple[str, str, threading.Event] | None = None
        if self.storage_dir is not None:
            self._load()

    # -- lifecycle ---------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._server is not None:
            raise RuntimeError("LocalHub is already running")
        self._server = _Server((host, port), self)
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        self.url = f"http://{shown}:{self._server.server_port}"
        # A short poll interval keeps stop() (and so each test fixture) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="LocalHub", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> LocalHub:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every repo (handy with a session-scoped server)."""
        with self._lock:
            self._repos.clear()
            self._save()

    # -- test hooks: what a Space's settings hold ----------------------------
    def space_secrets(self, repo_id: str) -> dict[str, str]:
        with self._lock:
            return {k: v["value"] for k, v in self._repos[("space", repo_id)].secrets.items()}

    def space_variables(self, repo_id: str) -> dict[str, str]:
        with self._lock:
            return {k: v["value"] for k, v in self._repos[("space", repo_id)].variables.items()}

    # -- test hooks: a Hub that fails midway through a download --------------
    def interrupt_downloads(self, filename: str | None, mode: str = "stop") -> threading.Event:
        """From now on, a GET of a file named `filename` sends half the file and then, with mode "stop", stops
        the server (later connections are refused: the Hub went down), or with "stall" keeps the connection
        open and silent until the returned event is set (at most a minute). `None`: serve downloads whole again."""
        if mode not in ("stop", "stall"):
            raise ValueError(f"mode must be 'stop' or 'stall', not {mode!r}")
        release = threading.Event()
        self._interrupt = None if filename is None else (filename, mode, release)
        return release

    def _interrupts(self, method: str, path: str, status: int) -> tuple[str, threading.Event] | None:
        if self._interrupt is None or method != "GET" or status != 200 or "/resolve/" not in path:
            return None
        filename, mode, release = self._interrupt
        return (mode, release) if unquote(path).rsplit("/", 1)[-1] == filename else None

    # -- storage -----------------------------------------------------------
    def _put_blob(self, data: bytes) -> str:
        oid = git_blob_oid(data)
        self._blobs[oid] = data
        if self.storage_dir is not None:
            path = self.storage_dir / "blobs" / oid
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        return oid

    def _blob(self, oid: str) -> bytes:
        if oid not in self._blobs and self.storage_dir is not None:  # after a restart
            self._blobs[oid] = (self.storage_dir / "blobs" / oid).read_bytes()
        return self._blobs[oid]

    def _save(self) -> None:
        if self.storage_dir is None:
            return
        self.storage_dir.mkdir(parents=True, exist_ok=True)
        state = {"seq": self._seq, "repos": [asdict(repo) for repo in self._repos.values()]}
        tmp = self.storage_dir / "repos.json.tmp"
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self.storage_dir / "repos.json")  # atomic: a crash never leaves half a file

    def _load(self) -> None:
        assert self.storage_dir is not None
        state_file = self.storage_dir / "repos.json"
        if not state_file.exists():
            return
        state = json.loads(state_file.read_text())
        self._seq = state["seq"]
        for raw in state["repos"]:
            repo = Repo(**raw)
            repo.commits = {oid: Commit(**c) for oid, c in raw["commits"].items()}
            self._repos[(repo.repo_type, repo.repo_id)] = repo

    def _add_commit(self, repo: Repo, branch: str, files: dict[str, str], title: str, message: str = "") -> Commit:
        self._seq += 1
        parent, date = repo.branches.get(branch), _now()
        seed = [repo.repo_type, repo.repo_id, parent, sorted(files.items()), title, message, date, self._seq]
        oid = hashlib.sha1(json.dumps(seed).encode()).hexdigest()
        commit = Commit(oid, parent, title, message, date, self.user, files)
        repo.commits[oid] = commit
        repo.branches[branch] = oid
        self._save()
        return commit

    # -- auth --------------------------------------------------------------
    def _token(self, authorization: str | None) -> str | None:
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in self.read_tokens:
            # The Hub's exact wording: the client then keeps it a plain 401 HfHubHTTPError.
            raise HubError(401, "Invalid credentials in Authorization header")
        return token.strip()

    def _require_write(self, token: str | None) -> None:
        if token is None:
            raise HubError(401, "Authentication required: pass a write token (Authorization: Bearer <token>)")
        if token not in self.write_tokens:
            raise HubError(403, "This token is read-only; a write token is required")

    def _get_repo(self, repo_type: str, repo_id: str, token: str | None) -> Repo:
        repo = self._repos.get((repo_type, repo_id))
        if repo is None:
            raise HubError(404, "Repository not found", "RepoNotFound")
        if repo.private and token is None:
            raise HubError(401, "Repository not found", "RepoNotFound")  # the Hub hides private repos
        return repo

    # -- routing -----------------------------------------------------------
    def handle(self, req: _Request) -> Response:
        p, method = req.parts, req.method
        if p == ["api", "whoami-v2"]:
            return self._whoami(req.token)
        if p == ["api", "validate-yaml"] and method == "POST":  # create_commit checks README.md with it
            from tests.support.card_metadata import validate_card_metadata

            errors = validate_card_metadata(json.loads(req.body or b"{}").get("content", ""))
            return _json({"errors": [{"message": e} for e in errors], "warnings": []}, 400 if errors else 200)
        if p == ["api", "repos", "create"] and method == "POST":
            return self._create_repo(req)
        if p == ["api", "repos", "delete"] and method == "DELETE":
            return self._delete_repo(req)
        if len(p) >= 4 and p[0] == "api" and p[1] in _API_TYPES:
            return self._repo_api(req, _API_TYPES[p[1]], f"{p[2]}/{p[3]}", p[4:])
        repo_type = "model"  # downloads: /{repo_id}/resolve/{rev}/{path}, /datasets/{repo_id}/resolve/...
        if p and p[0] in ("datasets", "spaces"):
            repo_type, p = _API_TYPES[p[0]], p[1:]
        if len(p) >= 5 and p[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve(req, repo_type, f"{p[0]}/{p[1]}", p[3], "/".join(p[4:]))
        raise HubError(404, f"LocalHub does not implement {method} /{'/'.join(req.parts)}")

    def _repo_api(self, req: _Request, repo_type: str, repo_id: str, rest: list[str]) -> Response:
        action, method = (rest[0] if rest else ""), req.method
        arg = rest[1] if len(rest) > 1 else "main"  # the revision, or the branch name
        if method in ("POST", "DELETE") and action in ("preupload", "commit", "branch"):
            self._require_write(req.token)
        repo = self._get_repo(repo_type, repo_id, req.token)
        if action in SETTINGS_ACTIONS and method in ("GET", "POST", "DELETE"):
            self._require_write(req.token)  # the Hub shows a Space's settings to those who may change them
            try:
                answer = handle_settings(repo, action, method, req.body, _now())
            except SpaceSettingError as err:
                raise HubError(err.status, err.message) from err
            self._save()
            return _json(answer)
        if method == "GET" and action in ("", "revision"):
            return self._info(repo, arg)
        if method == "GET" and action == "tree":
            recursive = req.query.get("recursive", ["false"])[0].lower() in ("true", "1")
            return self._tree(repo, arg, "/".join(rest[2:]), recursive)
        if method == "POST" and action == "paths-info":
            wanted = parse_qs(req.body.decode()).get("paths", [])
            return _json(self._entries(repo.resolve(arg).files, wanted))
        if method == "POST" and action == "preupload":
            return self._preupload(req, repo, arg)
        if method == "POST" and action == "commit":
            return self._commit(req, repo, arg)
        if method == "GET" and action == "commits":
            return self._commits(repo, arg)
        if method == "GET" and action == "refs":
            refs = [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": oid} for b, oid in repo.branches.items()]
            return _json({"branches": refs, "converts": [], "tags": [], "pullRequests": []})
        if action == "branch" and method in ("POST", "DELETE"):
            return self._branch(req, repo, arg)
        raise HubError(404, f"LocalHub does not implement {method} {action or 'info'} on {repo_id}")

    # -- endpoints ---------------------------------------------------------
    def _whoami(self, token: str | None) -> Response:
        if token is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        role = "write" if token in self.write_tokens else "read"
        return _json({
            "type": "user", "id": hashlib.sha1(self.user.encode()).hexdigest()[:24], "name": self.user,
            "fullname": self.user, "email": None, "isPro": False, "orgs": [],
            "auth": {"type": "access_token", "accessToken": {"displayName": f"localhub-{role}", "role": role}},
        })  # fmt: skip

    def _create_repo(self, req: _Request) -> Response:
        self._require_write(req.token)
        payload = json.loads(req.body or b"{}")
        repo_type = payload.get("type") or "model"
        if repo_type not in _URL_PREFIX:
            raise HubError(400, f"LocalHub does not support repo type {repo_type!r}")
        repo_id = f"{payload.get('organization') or self.user}/{payload['name']}"
        url = f"{req.base_url}/{_URL_PREFIX[repo_type]}{repo_id}"
        if (repo_type, repo_id) in self._repos:  # 409 lets create_repo(exist_ok=True) pass; it then reads "url"
            raise HubError(409, f"You already created this {repo_type} repo", url=url)
        private = payload.get("visibility") == "private" or payload.get("private") is True
        if repo_type == "space" and payload.get("sdk") not in SPACE_SDKS:  # create_repo sends space_sdk as "sdk"
            raise HubError(400, f"A Space needs an sdk, one of {', '.join(SPACE_SDKS)}; got {payload.get('sdk')!r}")
        repo = Repo(repo_type, repo_id, private, _now(), sdk=payload.get("sdk"))
        self._repos[(repo_type, repo_id)] = repo
        self._add_commit(repo, "main", {".gitattributes": self._put_blob(_GITATTRIBUTES)}, "initial commit")
        return _json({"url": url, "name": repo_id, "id": hashlib.sha1(url.encode()).hexdigest()[:24]})

    def _delete_repo(self, req: _Request) -> Response:
        self._require_write(req.token)
        payload = json.loads(req.body or b"{}")
        key = (payload.get("type") or "model", f"{payload.get('organization') or self.user}/{payload['name']}")
        if self._repos.pop(key, None) is None:
            raise HubError(404, "Repository not found", "RepoNotFound")
        self._save()
        return _json({})

    def _info(self, repo: Repo, revision: str) -> Response:
        commit = repo.resolve(revision)
        siblings = [
            {"rfilename": path, "size": len(self._blob(oid)), "blobId": oid}
            for path, oid in sorted(commit.files.items())
        ]
        return _json({
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24], "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0], "sha": commit.oid, "lastModified": commit.date,
            "createdAt": repo.created_at, "private": repo.private, "gated": False, "disabled": False,
            "downloads": 0, "likes": 0, "tags": [], "siblings": siblings,
            **({"sdk": repo.sdk} if repo.sdk else {}),
        })  # fmt: skip

    def _entries(self, files: dict[str, str], paths: Iterable[str]) -> list[dict[str, Any]]:
        """Tree entries, shaped like /tree and /paths-info answer them, for files or folders."""
        out = []
        for path in paths:
            if path in files:
                out.append({"type": "file", "oid": files[path], "size": len(self._blob(files[path])), "path": path})
                continue
            inside = sorted((p, oid) for p, oid in files.items() if p.startswith(path + "/"))
            if inside:  # a folder's oid only has to change when its content does
                tree_oid = hashlib.sha1(json.dumps(inside).encode()).hexdigest()
                out.append({"type": "directory", "oid": tree_oid, "size": 0, "path": path})
        return out

    def _tree(self, repo: Repo, revision: str, folder: str, recursive: bool) -> Response:
        files = repo.resolve(revision).files
        prefix = folder.strip("/") + "/" if folder.strip("/") else ""
        paths: set[str] = set()
        for path in files:
            if not path.startswith(prefix):
                continue
            parts = path[len(prefix) :].split("/")
            depth = len(parts) if recursive else 1  # recursive lists every folder level and file
            paths.update(prefix + "/".join(parts[:i]) for i in range(1, min(depth, len(parts)) + 1))
        if prefix and not paths:
            raise HubError(404, f"{folder} does not exist on {revision}", "EntryNotFound")
        return _json(self._entries(files, sorted(paths)))

    def _preupload(self, req: _Request, repo: Repo, revision: str) -> Response:
        if req.query.get("create_pr"):
            raise HubError(400, "LocalHub does not support pull requests (create_pr=True)")
        head = repo.resolve(revision)
        files = json.loads(req.body or b"{}").get("files", [])
        # "regular" for everything: the commit then carries base64 content, no LFS/Xet upload.
        # "oid" of the current file lets the client skip files that did not change.
        answer = [
            {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": head.files.get(f["path"])}
            for f in files
        ]
        return _json({"files": answer, "commitOid": head.oid})

    def _commit(self, req: _Request, repo: Repo, branch: str) -> Response:
        if req.query.get("create_pr"):
            raise HubError(400, "LocalHub does not support pull requests (create_pr=True)")
        if branch not in repo.branches:  # a commit must land on a branch, not on a sha
            raise HubError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
        head = repo.commits[repo.branches[branch]]
        files, header = dict(head.files), {}
        for line in req.body.splitlines():
            if not line.strip():
                continue
            op = json.loads(line)
            key, value = op.get("key"), op.get("value", {})
            if key == "header":
                header = value
            elif key == "file":
                raw = value["content"]
                data = base64.b64decode(raw) if value.get("encoding") == "base64" else raw.encode()
                files[value["path"]] = self._put_blob(data)
            elif key == "deletedFile":
                if files.pop(value["path"], None) is None:
                    msg = f"A file with this name doesn't exist: {value['path']}"  # the client matches this text
                    raise HubError(404, msg, "EntryNotFound")
            elif key == "deletedFolder":
                folder = value["path"].strip("/") + "/"
                doomed = [p for p in files if p.startswith(folder)]
                if not doomed:
                    raise HubError(404, f"A folder with this name doesn't exist: {value['path']}", "EntryNotFound")
                for path in doomed:
                    del files[path]
            else:  # lfsFile (we never ask for LFS), copyFile or anything newer
                raise HubError(400, f"LocalHub does not support '{key}' commit operations (only regular files)")
        if header.get("parentCommit") and header["parentCommit"] != head.oid:
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        commit = self._add_commit(repo, branch, files, header.get("summary", ""), header.get("description", ""))
        url = f"{req.base_url}/{_URL_PREFIX[repo.repo_type]}{repo.repo_id}/commit/{commit.oid}"
        return _json({"success": True, "commitOid": commit.oid, "commitUrl": url, "pullRequestUrl": None})

    def _commits(self, repo: Repo, revision: str) -> Response:
        out, commit = [], repo.resolve(revision)
        while True:
            out.append({
                "id": commit.oid, "title": commit.title, "message": commit.message,
                "date": commit.date, "authors": [{"user": commit.author}],
            })  # fmt: skip
            if commit.parent is None:
                return _json(out)  # newest first, like git log
            commit = repo.commits[commit.parent]

    def _branch(self, req: _Request, repo: Repo, branch: str) -> Response:
        if req.method == "DELETE":
            if branch == "main" or branch not in repo.branches:
                raise HubError(403 if branch == "main" else 404, f"Cannot delete branch {branch}")
            del repo.branches[branch]
        else:
            if branch in repo.branches:  # 409 lets create_branch(exist_ok=True) pass
                raise HubError(409, f"Reference already exists: refs/heads/{branch}")
            start = json.loads(req.body or b"{}").get("startingPoint") or "main"
            repo.branches[branch] = repo.resolve(start).oid
        self._save()
        return _json({})

    def _resolve(self, req: _Request, repo_type: str, repo_id: str, revision: str, path: str) -> Response:
        commit = self._get_repo(repo_type, repo_id, req.token).resolve(revision)
        oid = commit.files.get(path)
        if oid is None:  # X-Repo-Commit lets the client cache the miss under .no_exist/<commit>
            raise HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": commit.oid})
        data = self._blob(oid)
        # What get_hf_file_metadata reads: X-Repo-Commit, ETag (names the cached blob), Content-Length.
        # No X-Xet-* headers, so the client downloads with a plain GET.
        headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{oid}"', "Content-Type": "application/octet-stream"}
        return 200, headers, data


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # never wait on a client's idle connection at shutdown

    def __init__(self, address: tuple[str, int], hub: LocalHub) -> None:
        super().__init__(address, _Handler)
        self.hub = hub

    def handle_error(self, request: Any, client_address: Any) -> None:
        if _verbose():  # e.g. a client hanging up mid-download; not worth a traceback in test output
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "LocalHub/1.0"
    # HTTP/1.0 (the default): one request per connection, so no keep-alive threads outlive stop().

    def _serve(self) -> None:
        hub, method = self.server.hub, self.command
        url = urlsplit(self.path)
        hub.requests.append(f"{method} {unquote(url.path)}")
        try:
            # huggingface_hub always sends a Content-Length (never a chunked body).
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            req = _Request(
                method=method,
                parts=[unquote(part) for part in url.path.split("/")[1:]],
                query=parse_qs(url.query),
                body=body,
                token=hub._token(self.headers.get("Authorization")),
                base_url=f"http://{self.headers['Host']}" if self.headers.get("Host") else str(hub.url),
            )
            with hub._lock:  # the response is sent after the lock is released
                status, headers, payload = hub.handle(req)
        except HubError as err:
            status, headers, payload = _json({"error": err.message, **err.body}, err.status)
            # Headers are latin-1 on the wire: keep the message ASCII there, intact in the JSON body.
            headers.update(err.headers, **{"X-Error-Message": err.message.encode("ascii", "replace").decode()})
            if err.code:
                headers["X-Error-Code"] = err.code
        except Exception as err:  # a bug in the double: say so instead of dropping the connection
            status, headers, payload = _json({"error": f"LocalHub internal error: {err!r}"}, 500)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))  # for HEAD too: it is the file size
        self.end_headers()
        interrupt = hub._interrupts(method, url.path, status)
        if interrupt is not None:  # test hook: half the file, then the Hub goes down or silent
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            mode, release = interrupt
            if mode == "stop":
                hub.stop()
            else:
                release.wait(60)
            self.close_connection = True
            return
        if method != "HEAD":
            self.wfile.write(payload)

    do_GET = do_HEAD = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        if _verbose():
            super().log_message(format, *args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve LocalHub, a Hugging Face Hub test double.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--storage", type=Path, help="folder that keeps repos across restarts")
    parser.add_argument("--write-token", action="append", help=f"repeatable; default {DEFAULT_WRITE_TOKEN}")
    args = parser.parse_args(argv)
    hub = LocalHub(args.storage, write_tokens=args.write_token or (DEFAULT_WRITE_TOKEN,))
    url = hub.start(args.host, args.port)
    print(f"LocalHub serving at {url}  (HF_ENDPOINT={url}, write token: {sorted(hub.write_tokens)[0]})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()


if __name__ == "__main__":
    main()
