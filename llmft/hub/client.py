"""The Hub client every part uses: endpoint, token, bounded timeouts, and one translation of Hub failures.

- The endpoint is `HF_ENDPOINT` and the token `HF_TOKEN` or the one `hf auth login` saved, both read at
  call time (a test or a private Hub can set them late). Tokens never appear in messages or logs.
- `LLMFT_HUB_TIMEOUT` (seconds, default 10) bounds how long the Hub may stay silent: to connect, and
  between two bytes of an answer. huggingface_hub 1.x creates its `httpx` client with no timeout and
  many calls (`list_repo_files`, `repo_info`, `upload_folder`, ...) pass none, so a server that accepts a
  connection and never answers would hang them forever. `install_timeouts()` sets huggingface_hub's
  client factory (its documented hook, `set_client_factory`) to one whose request hook fills every
  missing timeout with this bound and caps the ones huggingface_hub sets itself (`HF_HUB_ETAG_TIMEOUT`,
  `HF_HUB_DOWNLOAD_TIMEOUT`). Everything that goes through huggingface_hub's session is bounded by it:
  our calls, and transformers' and datasets' downloads.
- `hub_errors(subject)` turns what huggingface_hub and httpx raise (httpx errors in 1.x, not `OSError`)
  into the package's own error with a message that says what happened and what to do.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from llmft.errors import HubError, LlmftError
from llmft.settings.services import HubSettings

logger = logging.getLogger(__name__)

TIMEOUT_VARIABLE = "LLMFT_HUB_TIMEOUT"  # named in messages: what to set to wait longer
_TRUE = {"1", "ON", "YES", "TRUE"}
_INSTALL_LOCK = threading.Lock()
_installed = False


def hub_endpoint() -> str | None:
    return os.environ.get("HF_ENDPOINT") or None


def hub_location() -> str:
    """Where the Hub is, for messages: the `HF_ENDPOINT` URL or huggingface.co."""
    return hub_endpoint() or "https://huggingface.co"


def hub_offline() -> bool:
    """`HF_HUB_OFFLINE` as set now (huggingface_hub reads it once, at import)."""
    from huggingface_hub import constants

    return constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in _TRUE


def hub_timeout() -> float:
    """Seconds the Hub may stay silent before a call gives up (`LLMFT_HUB_TIMEOUT`, read now)."""
    return HubSettings.value_of("timeout")


def _bound_timeouts(request: Any) -> None:
    """httpx request hook: no phase of a Hub request may wait longer than `hub_timeout()`."""
    limit = hub_timeout()
    given = request.extensions.get("timeout") or {}
    request.extensions["timeout"] = {
        phase: limit if given.get(phase) is None else min(given[phase], limit)
        for phase in ("connect", "read", "write", "pool")
    }


def _client_factory() -> Any:
    """huggingface_hub's own default client (its offline check, request ids), plus the bound."""
    from huggingface_hub.utils import _http  # no public way to extend the default client; pinned in requirements

    client = _http.default_client_factory()
    hooks = client.event_hooks
    client.event_hooks = {**hooks, "request": [*hooks.get("request", []), _bound_timeouts]}
    return client


def install_timeouts() -> None:
    """Make every huggingface_hub request in this process time out (idempotent, thread-safe)."""
    global _installed
    if _installed:
        return
    with _INSTALL_LOCK:
        if not _installed:
            from huggingface_hub import set_client_factory

            set_client_factory(_client_factory)
            _installed = True


def hub_api(token: str | None = None) -> Any:
    """An `HfApi` on `HF_ENDPOINT` whose requests all time out (see the module docstring)."""
    from huggingface_hub import HfApi

    install_timeouts()
    return HfApi(endpoint=hub_endpoint(), token=token)


def resolve_token(token: str | None) -> str | None:
    from huggingface_hub import get_token

    return token or os.environ.get("HF_TOKEN") or get_token()


def hub_reachable(repo_id: str, repo_type: str = "model", timeout: float | None = None) -> bool:
    """True when the Hub answers for `repo_id` now (never when HF_HUB_OFFLINE=1); never raises."""
    if hub_offline():
        return False
    try:
        hub_api().repo_info(repo_id, repo_type=repo_type, timeout=timeout or hub_timeout())
        return True
    except Exception as err:  # noqa: BLE001 - DNS, refused, 404, timeout: all mean "not usable now"
        logger.info("the Hub does not answer for %s %s: %s", repo_type, repo_id, type(err).__name__)
        return False


def _connection_problem(err: BaseException) -> str | None:
    """What went wrong on the wire, in words, or None when `err` is not a connection problem."""
    import httpx

    if isinstance(err, httpx.TimeoutException):
        return f"did not answer within {hub_timeout():g} s (set {TIMEOUT_VARIABLE} to wait longer)"
    if isinstance(err, httpx.ConnectError):
        return "cannot be reached (connection refused or no network)"
    if isinstance(err, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.CloseError)):
        return "closed the connection midway"
    if isinstance(err, (httpx.TransportError, ConnectionError)):
        return f"cannot be reached ({type(err).__name__})"
    return None


def describe_hub_failure(err: BaseException, subject: str, revision: str | None = None) -> str | None:
    """A message for a Hub failure about `subject` ("model 'me/x'"), or None if `err` is no Hub failure.

    Callers with more specific advice (a push's "does your token have write access") catch first.
    """
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"The Hub at {hub_location()}"
    Subject = subject[:1].upper() + subject[1:]  # noqa: N806 - where the subject starts a sentence
    if isinstance(err, HFValidationError):
        return f"{Subject} is not a valid Hub id (like owner/name)."
    if isinstance(err, OfflineModeIsEnabled) or (isinstance(err, LocalEntryNotFoundError) and hub_offline()):
        return (
            f"{Subject} is not in the local cache, and HF_HUB_OFFLINE=1 forbids downloading it. "
            "Give a local folder, or unset HF_HUB_OFFLINE and try again."
        )
    if isinstance(err, LocalEntryNotFoundError):  # the Hub failed and the cache had no complete copy
        cause = err.__cause__ or err.__context__
        problem = (_connection_problem(cause) if cause else None) or "could not be used"
        return f"{Subject} is not in the local cache, and the Hub at {hub_location()} {problem}. Try again later."
    if isinstance(err, RevisionNotFoundError):
        return f"{Subject} has no revision '{revision}' on the Hub ({hub_location()})."
    if isinstance(err, GatedRepoError):
        return f"{Subject} is gated on the Hub ({hub_location()}): accept its terms on its page and set HF_TOKEN."
    if isinstance(err, RepositoryNotFoundError):
        return f"{Subject} was not found on the Hub ({hub_location()}), or it is private and HF_TOKEN is not set."
    if isinstance(err, RemoteEntryNotFoundError):
        return f"{Subject} lacks a file it needs on the Hub ({hub_location()})."
    if isinstance(err, HfHubHTTPError):
        status = err.response.status_code if err.response is not None else None
        if status in (401, 403):
            return f"{where} refused access to {subject} (HTTP {status}): check HF_TOKEN."
        if status == 429:
            return f"{where} is rate-limiting requests for {subject} (HTTP 429): wait a minute and try again."
        return f"{where} answered HTTP {status} for {subject}. Try again later."
    problem = _connection_problem(err)
    if problem is not None:
        return f"{where} {problem} while fetching {subject}. Try again later, or use a local copy."
    return None


@contextmanager
def hub_errors(
    subject: str, error: type[LlmftError] = HubError, revision: str | None = None
) -> Iterator[None]:
    """Inside, Hub and connection failures become `error(message)`; the package's own errors pass through.

    `with hub_errors(f"model '{repo_id}'", ModelLoadError): snapshot_download(...)` (`subject` in lower case:
    it is capitalised where it starts a sentence). Entering it also installs the timeouts, so the calls
    inside are bounded even when they build no `hub_api()` (snapshot_download, hf_hub_download, ...).
    """
    install_timeouts()
    try:
        yield
    except LlmftError:
        raise
    except Exception as err:
        message = describe_hub_failure(err, subject, revision)
        if message is None:
            raise
        raise error(message) from err
