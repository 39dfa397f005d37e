"""Moved: `llmft.settings.SummarizerSettings` (kept importable here while its users move to `llmft.settings`)."""

from llmft.settings.env import split_items as split_sources
from llmft.settings.spaces import QUANTIZATIONS, SummarizerSettings, without_revision

__all__ = ["QUANTIZATIONS", "SummarizerSettings", "split_sources", "without_revision"]
