"""What a person types into the Summarizer, checked: the dialogue and its references."""

from __future__ import annotations

from collections.abc import Sequence

from llmft.errors import PromptError
from llmft.prompts import MAX_SOURCE_TOKENS

# A guard against pasting a book: the encoder reads 512 tokens (about 2,000 characters) of it anyway.
MAX_DIALOGUE_CHARS = 20_000


def check_dialogue(dialogue: str | None, reference: str | None = None) -> str:
    """The stripped dialogue, or a `PromptError` that says what to do."""
    dialogue = (dialogue or "").strip()
    if not dialogue:
        if (reference or "").strip():
            raise PromptError("A reference summary was given but no dialogue: paste the dialogue it summarises.")
        raise PromptError("The dialogue is empty: paste a conversation or pick one from the dataset.")
    if len(dialogue) > MAX_DIALOGUE_CHARS:
        raise PromptError(
            f"The dialogue is {len(dialogue):,} characters; this app takes at most {MAX_DIALOGUE_CHARS:,} "
            f"(the model reads only its first {MAX_SOURCE_TOKENS} tokens, about 2,000 characters)."
        )
    return dialogue


def parse_references(text: str | Sequence[str] | None) -> list[str]:
    """References from a text box (one per line) or a list; blank ones dropped."""
    lines = (text or "").splitlines() if isinstance(text, str) or text is None else [str(t) for t in text]
    return [line.strip() for line in lines if line.strip()]
