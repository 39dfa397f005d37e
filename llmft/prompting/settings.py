"""Moved: `llmft.settings.PromptingSettings` (kept importable here while its users move to `llmft.settings`)."""

from llmft.settings.spaces import PromptingSettings

__all__ = ["PromptingSettings"]
