"""Votes as JSONL rows in a folder, optionally pushed to a private Hub dataset by `huggingface_hub.CommitScheduler`.

- One file per process (`votes-<UTC time>-<random>.jsonl`): the scheduler uploads whole files, so a restarted Space
  (whose disk was wiped) never overwrites the file an earlier run pushed; a restart on a kept disk adds a file.
- A vote is one line: the file is opened for appending, the line written, flushed and fsync'ed under a lock (and
  under the scheduler's lock, so a push never reads half a line). A crash loses at most the line being written.
- The Hub is never on a vote's path: the scheduler is created in a background thread (its `create_repo` bounded by
  `LLMFT_HUB_TIMEOUT`), retried every interval while the Hub cannot be reached, and pushes in its own thread. A
  failed push leaves the files as they are; the next push sends them. Until then votes are only local.
- A row holds what was voted on, the vote, the comment, the time and the app's version. Nothing about the visitor
  (no IP address, no session id), and token-shaped text and this process's secrets are redacted.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import subprocess
import threading
import uuid
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llmft.apps.errors import redact
from llmft.errors import LlmftError
from llmft.settings import FeedbackSettings, secret_values

logger = logging.getLogger(__name__)

# The votes each app's page takes: a thumb on an answer or a summary; the best column of a comparison.
VOTES = {"shopbot": ("up", "down"), "summarizer": ("up", "down"), "prompting": ("best",)}
APPS = tuple(VOTES)
MAX_FIELD_CHARS = 20_000  # a long dialogue fits (the Summarizer reads at most its model's input anyway)
MAX_COMMENT_CHARS = 1_000
MAX_ROW_BYTES = 64 * 1024
# Never stored, whoever passes them: what identifies a visitor, and secrets.
FORBIDDEN_KEYS = frozenset({"ip", "client", "session", "session_hash", "session_id", "token", "password", "headers"})
_REPO_ROOT = Path(__file__).resolve().parents[2]


class FeedbackError(LlmftError, ValueError):
    """A vote that cannot be recorded (too long, an unknown vote); the message says why."""


@functools.cache
def app_version() -> str:
    """The git commit of a checkout, else the installed package's version, else 'unknown'."""
    if (_REPO_ROOT / ".git").exists():
        try:
            done = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=_REPO_ROOT, capture_output=True,
                                  text=True, timeout=5, check=False)
            if done.returncode == 0 and done.stdout.strip():
                return f"git:{done.stdout.strip()}"
        except (OSError, subprocess.TimeoutExpired):
            pass
    try:
        from importlib.metadata import version

        return f"llmft {version('llmft')}"
    except Exception:  # noqa: BLE001 - not installed (a Space copies the package): no version to give
        return "unknown"


def _redact_all(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _redact_all(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_all(v, secrets) for v in value]
    return value


def _check_sizes(value: Any, name: str) -> None:
    if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
        raise FeedbackError(f"The {name} has {len(value):,} characters; a vote keeps at most {MAX_FIELD_CHARS:,} "
                            "per field. Nothing was recorded.")
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() in FORBIDDEN_KEYS:
                raise ValueError(f"feedback rows never hold '{key}'")  # a programming error, not a visitor's
            _check_sizes(item, f"{name}.{key}" if name != "row" else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_sizes(item, f"{name}[{index}]")


class FeedbackStore:
    """Appends votes to `settings.folder`; pushes the folder to `settings.dataset` when set (see the module)."""

    def __init__(self, settings: FeedbackSettings | None = None, connect: bool = True):
        self.settings = settings or FeedbackSettings.from_env()
        self.folder = self.settings.folder
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")  # sorts in start order
        self.path = self.folder / f"votes-{stamp}-{uuid.uuid4().hex[:8]}.jsonl"
        self.scheduler: Any = None
        self.hub_problem: str | None = None  # why votes are not (yet) pushed, secret-free
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._connected = threading.Event()
        if not self.enabled:
            return
        if self.settings.dataset and not self.settings.token:
            self.hub_problem = "no token (set LLMFT_FEEDBACK_TOKEN or HF_TOKEN, with write access)"
            logger.warning("feedback stays local in %s: %s", self.folder, self.hub_problem)
        elif self.settings.dataset and connect:
            threading.Thread(target=self._connect, name="feedback-hub", daemon=True).start()

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    # -- the Hub, in the background ------------------------------------------------------------------------
    def _connect(self) -> None:
        from huggingface_hub import CommitScheduler

        from llmft.hub.client import describe_hub_failure, hub_api

        dataset = self.settings.dataset
        while not self._stopped.is_set():
            try:
                self.scheduler = CommitScheduler(
                    repo_id=dataset, repo_type="dataset", folder_path=self.folder, every=self.settings.every_minutes,
                    private=True, allow_patterns=["*.jsonl"], hf_api=hub_api(self.settings.token),
                )
                self.hub_problem = None
                self._connected.set()
                logger.info("feedback: pushing %s to the dataset %s every %g min", self.folder, dataset,
                            self.settings.every_minutes)
                return
            except Exception as err:  # noqa: BLE001 - any failure: stay local, say why, try again later
                reason = describe_hub_failure(err, f"dataset '{dataset}'") or f"{type(err).__name__}: {err}"
                self.hub_problem = self._redact(reason)
                logger.warning("feedback stays local for now (%s); trying again in %g min", self.hub_problem,
                               self.settings.every_minutes)
            self._stopped.wait(self.settings.every_minutes * 60)

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def push_now(self, timeout: float = 30.0) -> Any:
        """Push the folder now and wait for it (tests, shutdown); raises what the push raised."""
        if self.scheduler is None:
            raise FeedbackError(f"Votes are not pushed: {self.hub_problem or 'no LLMFT_FEEDBACK_DATASET'}.")
        return self.scheduler.trigger().result(timeout=timeout)

    def close(self) -> None:
        self._stopped.set()
        if self.scheduler is not None:
            self.scheduler.stop()

    # -- votes --------------------------------------------------------------------------------------------
    def where(self) -> str:
        """One line for the page: where votes go ('' when feedback is off)."""
        if not self.enabled:
            return ""
        stored = ("Votes (what you voted on, your vote and comment, the time and the app's version; nothing "
                  "about you: no IP address, no session)")
        if self.settings.dataset:
            return (f"{stored} are saved in this Space's folder `{self.folder}` and pushed every "
                    f"{self.settings.every_minutes:g} min to the private dataset `{self.settings.dataset}`.")
        return f"{stored} are saved in the local folder `{self.folder}`."

    def _redact(self, text: str) -> str:
        return _redact_all(text, self._secrets())

    def _secrets(self) -> tuple[str, ...]:
        given = self.settings.token
        return tuple(dict.fromkeys([*([given] if given and len(given) >= 4 else []), *secret_values()]))

    def record(self, app: str, vote: str, fields: dict[str, Any], comment: str | None = "") -> dict[str, Any]:
        """Append one vote and return its row; `FeedbackError` (nothing written) for a vote over the limits."""
        if not self.enabled:
            raise FeedbackError("Feedback is off on this Space (LLMFT_FEEDBACK=0).")
        if app not in APPS:
            raise ValueError(f"unknown app {app!r}")
        if vote not in VOTES[app]:
            raise FeedbackError(f"A vote in the {app} is one of {', '.join(VOTES[app])}, not {str(vote)[:40]!r}. "
                                "Nothing was recorded.")
        comment = (comment or "").strip()
        if len(comment) > MAX_COMMENT_CHARS:
            raise FeedbackError(f"The comment has {len(comment):,} characters; at most {MAX_COMMENT_CHARS:,}. "
                                "Nothing was recorded.")
        _check_sizes(fields, "row")
        row = {"id": uuid.uuid4().hex, "time": datetime.now(UTC).isoformat(timespec="seconds"), "app": app,
               "app_version": app_version(), "vote": vote, "comment": comment, **fields}
        row = _redact_all(row, self._secrets())
        line = (json.dumps(row, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        if len(line) > MAX_ROW_BYTES:
            raise FeedbackError(f"This vote would take {len(line):,} bytes; a vote keeps at most {MAX_ROW_BYTES:,}. "
                                "Nothing was recorded.")
        scheduler = self.scheduler
        with self._lock, (scheduler.lock if scheduler is not None else nullcontext()):
            try:
                self.folder.mkdir(parents=True, exist_ok=True)  # at the first vote: an app start writes nothing
                handle = self.path.open("ab")
            except OSError as err:
                logger.error("feedback: cannot write to %s (%s)", self.folder, err.strerror)
                raise FeedbackError("Your vote could not be saved: the Space cannot write its feedback folder "
                                    "(LLMFT_FEEDBACK_DIR). Nothing was recorded.") from None
            with handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        return row


def read_rows(folder: Path) -> list[dict[str, Any]]:
    """Every row of every votes-*.jsonl under `folder` (a pulled dataset too), oldest file first.

    A last line cut by a crash is skipped, with a warning; every other line must be a JSON object.
    """
    rows = []
    for path in sorted(Path(folder).rglob("votes-*.jsonl")):
        lines = path.read_text(encoding="utf-8").split("\n")
        for number, text in enumerate(lines, 1):
            if not text.strip():
                continue
            try:
                rows.append(json.loads(text))
            except json.JSONDecodeError:
                if number == len(lines):  # no newline after it: the line a crash cut
                    logger.warning("%s: skipped an incomplete last line", path)
                    continue
                raise FeedbackError(f"{path}: line {number} is not a JSON row.") from None
    return rows
