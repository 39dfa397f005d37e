"""Temporary: the settings classes under their future home (being moved here; issue 18)."""

from llmft.apps.settings import AppSettings
from llmft.chat.settings import ChatSettings
from llmft.feedback.settings import FeedbackSettings
from llmft.prompting.settings import PromptingSettings
from llmft.store.settings import StoreSettings
from llmft.summarizing.settings import SummarizerSettings

__all__ = ["AppSettings", "ChatSettings", "FeedbackSettings", "PromptingSettings", "StoreSettings",
           "SummarizerSettings"]
