"""Upload a built Space with huggingface_hub, through the project's one Hub client (`llmft.hub.client`).

Order matters: the Space repo is created (`space_sdk="gradio"`, `exist_ok=True`), then its secrets and variables
are set, then the folder is uploaded, so the build that the upload starts already sees them. Secret values are
read from the environment by the caller and sent only to the Space secrets endpoint: never written to a file,
never in a log line or an error message (the names are). The upload mirrors the folder: Space files the build no
longer has (a module the app stopped importing) are deleted in the same commit.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from llmft.deploy.build import SpacePlan, human_size
from llmft.errors import ConfigError, HubError, LlmftError
from llmft.hub.client import (
    _connection_problem,
    describe_hub_failure,
    hub_api,
    hub_location,
    hub_offline,
    resolve_token,
)

logger = logging.getLogger(__name__)

# What the Hub accepts as a Space secret or variable name: it becomes an environment variable of the app.
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]{0,95}/[A-Za-z0-9][\w.\-]{0,95}$")
# Shorter secret values are not searched for in the files: too likely to occur by chance.
_MIN_SCANNED_SECRET = 6


@dataclass(frozen=True)
class DeployResult:
    repo_id: str
    url: str
    commit: str | None
    files: int
    total_bytes: int


def check_repo_id(repo_id: str) -> str:
    """`OWNER/NAME` as the Hub accepts it, or a ConfigError saying what is wrong."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    problem = None
    if not _REPO_ID.match(repo_id or ""):
        problem = "it must be OWNER/NAME (letters, digits, '-', '_', '.'), like me/prompting-flan-t5"
    else:
        try:
            validate_repo_id(repo_id)
        except HFValidationError as err:
            problem = str(err).split("\n")[0]
    if problem:
        raise ConfigError(f"--repo-id {repo_id!r} is not a Space id: {problem}.")
    return repo_id


def check_env_name(name: str, what: str) -> str:
    if not ENV_NAME.match(name or ""):
        raise ConfigError(f"{what} name {name!r} is not an environment variable name (letters, digits and '_', "
                          "not starting with a digit).")
    return name


def secret_leaks(plan: SpacePlan, secrets: Mapping[str, str]) -> list[tuple[str, str]]:
    """(secret name, file) for every planned file that holds a secret's value: such a file must not be uploaded."""
    scanned = {name: value.encode() for name, value in secrets.items() if len(value) >= _MIN_SCANNED_SECRET}
    leaks = []
    for planned in plan.files if scanned else []:
        data = planned.read()
        leaks += [(name, planned.path) for name, value in scanned.items() if value in data]
    return leaks


def check_no_secret_in_files(plan: SpacePlan, secrets: Mapping[str, str]) -> None:
    """A ConfigError naming the secret and file (never the value) when a planned file holds a secret's value."""
    leaks = secret_leaks(plan, secrets)
    if leaks:
        where = ", ".join(f"secret {name} in {path}" for name, path in leaks)
        raise ConfigError(f"the built Space holds a secret's value ({where}): remove it from those files; "
                          "nothing was uploaded.")


@contextmanager
def _step(repo_id: str, step: str, done: list[str]) -> Iterator[None]:
    """Hub failures during `step` become a HubError naming the step and what was already done."""
    from huggingface_hub.errors import HfHubHTTPError

    try:
        yield
    except LlmftError:
        raise
    except Exception as err:
        where = f"The Hub at {hub_location()}"
        status = err.response.status_code if isinstance(err, HfHubHTTPError) and err.response is not None else None
        problem = _connection_problem(err)
        if status in (401, 403):
            message = (f"{where} refused to {step} (HTTP {status}): the token (HF_TOKEN, or the one `hf auth login` "
                       f"saved) must be a write token of {repo_id.split('/')[0]} or of a member of that organisation.")
        elif problem is not None:
            message = f"{where} {problem} while trying to {step}."
        else:
            message = describe_hub_failure(err, f"Space '{repo_id}'")
            if message is None:  # not a Hub failure: a bug, shown as one
                raise
        progress = f" Done before that: {'; '.join(done)}." if done else " Nothing was changed on the Hub."
        raise HubError(f"{message}{progress} Run the same command again once this is fixed.") from err
    done.append(step)


def deploy(
    plan: SpacePlan,
    folder: Path,
    repo_id: str,
    *,
    private: bool = False,
    secrets: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    token: str | None = None,
) -> DeployResult:
    """Create (or reuse) the Space `repo_id`, set its secrets and variables, and upload `folder` (`plan` written).

    `secrets` maps names to values (read from the environment by the caller); only their names are logged.
    """
    secrets, variables = dict(secrets or {}), dict(variables or {})
    check_repo_id(repo_id)
    for name in secrets:
        check_env_name(name, "secret")
    for name in variables:
        check_env_name(name, "variable")
    both = sorted(set(secrets) & set(variables))
    if both:
        raise ConfigError(f"{', '.join(both)} is given as both a secret and a variable: choose one.")
    check_no_secret_in_files(plan, secrets)
    if hub_offline():
        raise HubError("HF_HUB_OFFLINE=1 forbids talking to the Hub: unset it to deploy (a --dry-run needs no Hub); "
                       "nothing was uploaded.")
    token = resolve_token(token)
    if not token:
        raise HubError("no Hugging Face token: set HF_TOKEN to a write token (https://huggingface.co/settings/tokens)"
                       " or run `hf auth login`; nothing was uploaded.")
    api, done = hub_api(token=token), []
    with _step(repo_id, f"create the Space {repo_id}", done):
        url = str(api.create_repo(repo_id, repo_type="space", space_sdk="gradio", exist_ok=True, private=private))
    logger.info("Space %s is ready at %s", repo_id, url)
    for name, value in secrets.items():
        with _step(repo_id, f"set the secret {name}", done):
            api.add_space_secret(repo_id, name, value)
        logger.info("set the Space secret %s", name)
    for name, value in variables.items():
        with _step(repo_id, f"set the variable {name}", done):
            api.add_space_variable(repo_id, name, value)
        logger.info("set the Space variable %s", name)
    with _step(repo_id, f"upload {len(plan.files)} files", done):
        commit = api.upload_folder(
            repo_id=repo_id, repo_type="space", folder_path=str(folder), delete_patterns="*",
            commit_message=f"Deploy the {plan.name} Space (python -m llmft.deploy)",
        )
    logger.info("uploaded %d files (%s) to %s", len(plan.files), human_size(plan.total_bytes), url)
    return DeployResult(repo_id, url, getattr(commit, "oid", None), len(plan.files), plan.total_bytes)
