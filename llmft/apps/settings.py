"""Moved: `llmft.settings.AppSettings` (kept importable here while the Spaces move to `llmft.settings`)."""

from llmft.settings.spaces import AppSettings

__all__ = ["AppSettings"]
