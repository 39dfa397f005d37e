"""The Hugging Face Hub: one client set-up (`client`), publishing (`publish`: push, pull) and model cards (`cards`)."""

from llmft.hub.cards import model_card
from llmft.hub.publish import PushResult, pull, push_folder

__all__ = ["PushResult", "model_card", "pull", "push_folder"]
