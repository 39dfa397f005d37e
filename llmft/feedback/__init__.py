"""Visitors' votes as evaluation data: a vote -> a JSONL row -> CommitScheduler -> a private Hub dataset -> export.

- `settings`: `LLMFT_FEEDBACK*` from the environment.
- `store`: `FeedbackStore` appends rows crash-safely and pushes the folder in the background; `read_rows`.
- `rows`: what a vote in each Space holds.
- `export`: down-voted Shopbot answers as draft bench questions, summary votes as a batch CSV; stats.

    python -m llmft.feedback stats  [--from DIR]
    python -m llmft.feedback export [--from DIR] [--out DIR]
"""

from llmft.feedback.store import FeedbackError, FeedbackStore, read_rows
from llmft.settings import FeedbackSettings

__all__ = ["FeedbackError", "FeedbackSettings", "FeedbackStore", "read_rows"]
