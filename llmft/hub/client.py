"""The Hub client every part uses: endpoint, token, and an `HfApi` set up the same way everywhere.

The endpoint is `HF_ENDPOINT` (read at call time, so a test or a private Hub can set it late) and the
token `HF_TOKEN` or the one `hf auth login` saved. Tokens never appear in messages or logs.
"""

from __future__ import annotations

import os


def hub_endpoint() -> str | None:
    return os.environ.get("HF_ENDPOINT") or None


def hub_api(token: str | None = None):
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub_endpoint(), token=token)


def resolve_token(token: str | None) -> str | None:
    from huggingface_hub import get_token

    return token or os.environ.get("HF_TOKEN") or get_token()
