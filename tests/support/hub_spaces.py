"""LocalHub's Space settings endpoints, on the paths huggingface_hub 1.33's `HfApi` calls:

    POST/DELETE/GET /api/spaces/{repo_id}/secrets     add_space_secret, delete_space_secret, get_space_secrets
    POST/DELETE/GET /api/spaces/{repo_id}/variables   add_space_variable, delete_space_variable, get_space_variables

As on the Hub, a secret's value is write-only: GET answers names, descriptions and dates. Unlike the Hub, the
double keeps the values where a test can read them (`LocalHub.space_secrets(repo_id)`), to check that a deployment
sent a secret to this endpoint and nowhere else. Names must be environment variable names, and one name cannot be
both a secret and a variable (the Hub refuses both).
"""

from __future__ import annotations

import json
import re
from typing import Any

SPACE_SDKS = ("gradio", "docker", "static")
SETTINGS_ACTIONS = ("secrets", "variables")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SpaceSettingError(Exception):
    """Answered as HTTP `status` with `message` by the server (its HubError is built from it)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def handle_settings(repo: Any, action: str, method: str, body: bytes, now: str) -> dict[str, dict[str, Any]]:
    """Apply one request on `repo.secrets` / `repo.variables` (the caller checked the write token); returns the
    JSON the Hub answers."""
    if repo.repo_type != "space":
        raise SpaceSettingError(404, f"{action} exist for Spaces only, not for {repo.repo_type} repos")
    store, other = (repo.secrets, repo.variables) if action == "secrets" else (repo.variables, repo.secrets)
    if method in ("POST", "DELETE"):
        payload = json.loads(body or b"{}")
        key = payload.get("key") or ""
        if not _ENV_NAME.match(key):
            raise SpaceSettingError(400, f"Invalid key {key!r}: use letters, digits and '_', not starting with a digit")
        if method == "DELETE":
            store.pop(key, None)
        else:
            if key in other:
                used_by = "variable" if action == "secrets" else "secret"
                raise SpaceSettingError(409, f"{key} is already used by a {used_by}")
            if not isinstance(payload.get("value"), str):
                raise SpaceSettingError(400, "Missing value")
            store[key] = {"value": payload["value"], "description": payload.get("description"), "updatedAt": now}
    if action == "secrets":  # write-only values
        return {k: {"description": v["description"], "updatedAt": v["updatedAt"]} for k, v in store.items()}
    return {k: dict(v) for k, v in store.items()}
