"""What every part reads beside its Space: the Hub's timeout, visitors' votes, the optional consistency model,
and the launcher's ports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from llmft.errors import ConfigError
from llmft.settings.env import EnvSettings, setting

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class HubSettings(EnvSettings):
    """How long the Hub may stay silent. Its endpoint and token are huggingface_hub's own `HF_ENDPOINT`,
    `HF_TOKEN`, read where they act (`llmft.hub.client`)."""

    timeout: float = setting("LLMFT_HUB_TIMEOUT", 10.0, "seconds the Hub may stay silent before a look-up, download "
                             "or upload gives up", positive=True)


@dataclass
class FeedbackSettings(EnvSettings):
    """Where visitors' votes go: a local folder, pushed to a private Hub dataset when one is named."""

    enabled: bool = setting("LLMFT_FEEDBACK", True, "`0`: no votes at all (no buttons, no files, the page says "
                            "nothing about feedback)")
    folder: Path = setting("LLMFT_FEEDBACK_DIR", Path("outputs/feedback"), "folder of the JSONL files, one row per "
                           "vote, one file per app start")
    dataset: str | None = setting("LLMFT_FEEDBACK_DATASET", None, "`owner/name`: a Hub dataset the folder is pushed "
                                  "to (created private if missing)")
    every_minutes: float = setting("LLMFT_FEEDBACK_EVERY_MINUTES", 5.0, "minutes between two pushes to that dataset",
                                   positive=True)
    token: str | None = setting("LLMFT_FEEDBACK_TOKEN", None, "write token for the dataset (a Space secret); never "
                                "logged or stored", shown="`HF_TOKEN`", fallback="HF_TOKEN", secret=True)

    def __post_init__(self) -> None:
        if self.dataset is not None and not _REPO_ID.match(self.dataset):
            raise ConfigError(f"LLMFT_FEEDBACK_DATASET={self.dataset!r} is not a Hub dataset id like owner/name.")


@dataclass(frozen=True)
class FaithfulnessSettings(EnvSettings):
    """The optional model beside the rules that flag unsupported facts (`llmft.faithfulness.consistency`)."""

    consistency_model: str | None = setting("LLMFT_CONSISTENCY_MODEL", None, "an NLI (sequence-classification) "
                                            "model's Hub id or folder; unset: the rules run alone")


@dataclass(frozen=True)
class LauncherSettings(EnvSettings):
    """`python -m llmft.launch` (what `scripts/run.sh` runs); `--ports` wins."""

    ports: str | None = setting("LLMFT_PORTS", None, "one port per app, comma-separated",
                                shown="`7860,7861,7862`")
