"""Feedback settings, from environment variables (read when `FeedbackSettings.from_env()` is called).

| variable | default | meaning |
| --- | --- | --- |
| `LLMFT_FEEDBACK` | `1` | `0`: no votes at all (no buttons, no files, the page says nothing about feedback) |
| `LLMFT_FEEDBACK_DIR` | `outputs/feedback` | folder of the JSONL files, one row per vote |
| `LLMFT_FEEDBACK_DATASET` | (none) | `owner/name`: a Hub dataset the folder is pushed to (created private if missing) |
| `LLMFT_FEEDBACK_EVERY_MINUTES` | `5` | minutes between two pushes to that dataset |
| `LLMFT_FEEDBACK_TOKEN` | `HF_TOKEN` | write token for the dataset (a Space secret); never logged or stored |
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from llmft.errors import ConfigError

DEFAULT_DIR = Path("outputs/feedback")
DEFAULT_EVERY_MINUTES = 5.0
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _flag_on_by_default(name: str) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw in ("", "1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r}: use 1 (on) or 0 (off).")


def _minutes(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number of minutes.") from None
    if not value > 0:
        raise ConfigError(f"{name}={raw} must be more than 0 minutes.")
    return value


@dataclass
class FeedbackSettings:
    enabled: bool = True
    folder: Path = DEFAULT_DIR
    dataset: str | None = None
    every_minutes: float = DEFAULT_EVERY_MINUTES
    token: str | None = field(default=None, repr=False)  # never printed

    @classmethod
    def from_env(cls) -> FeedbackSettings:
        dataset = os.environ.get("LLMFT_FEEDBACK_DATASET", "").strip() or None
        if dataset is not None and not _REPO_ID.match(dataset):
            raise ConfigError(f"LLMFT_FEEDBACK_DATASET={dataset!r} is not a Hub dataset id like owner/name.")
        token = os.environ.get("LLMFT_FEEDBACK_TOKEN", "").strip() or os.environ.get("HF_TOKEN", "").strip() or None
        return cls(
            enabled=_flag_on_by_default("LLMFT_FEEDBACK"),
            folder=Path(os.environ.get("LLMFT_FEEDBACK_DIR", "").strip() or DEFAULT_DIR).expanduser(),
            dataset=dataset,
            every_minutes=_minutes("LLMFT_FEEDBACK_EVERY_MINUTES", DEFAULT_EVERY_MINUTES),
            token=token,
        )
