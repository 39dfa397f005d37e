"""Say so when the model answering is the embedded demo model, whose summaries mean nothing.

`scripts/run.sh` serves a tiny T5 trained for a minute on synthetic dialogues (`llmft.demo`) when the
Hub cannot be reached. Its build writes `DEMO_MARKER` into each model folder it makes; an app that
loads such a folder (or an adapter whose base is one) tells its user what they are looking at.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEMO_MARKER = "llmft_demo.json"
DEMO_NOTE = (
    "The model answering is the embedded demo model (a tiny T5 trained for a minute on synthetic "
    "dialogues), not FLAN-T5: its summaries and scores are not meaningful."
)


def demo_note(folders: Iterable[str | Path | None]) -> str | None:
    """`DEMO_NOTE` when one of `folders` (a model's folder, an adapter's base folder) is a demo build, else None.

    A marker may carry its own `"note"`; a Hub id or a missing folder is simply not a demo build.
    """
    for folder in folders:
        if not folder:
            continue
        try:
            marker = Path(folder).expanduser() / DEMO_MARKER
            if not marker.is_file():
                continue
        except (OSError, ValueError):  # a Hub id with odd characters, a name too long for a path
            continue
        try:
            content: Any = json.loads(marker.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            content = {}
        note = content.get("note") if isinstance(content, dict) else None
        return note if isinstance(note, str) and note.strip() else DEMO_NOTE
    return None


def loaded_model_note(loaded: Any) -> str | None:
    """`demo_note` for a `llmft.models.LoadedModel`: its own folder, then its base model's."""
    return demo_note([getattr(loaded, "source", None), getattr(loaded, "base_model", None)])
