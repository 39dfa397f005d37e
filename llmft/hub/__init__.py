"""The Hugging Face Hub: one client set-up (`client`: timeouts, errors), publishing (`publish`: push, pull)
and model cards (`cards`)."""

from llmft.hub.cards import CardScores, as_hub_id, card_scores, model_card
from llmft.hub.publish import PushResult, publish_model, pull, push_folder, push_run

__all__ = [
    "CardScores",
    "PushResult",
    "as_hub_id",
    "card_scores",
    "model_card",
    "publish_model",
    "pull",
    "push_folder",
    "push_run",
]
