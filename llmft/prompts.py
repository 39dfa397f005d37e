"""Zero-, one- and few-shot summarisation prompts for FLAN-T5, fitted to the encoder's token budget.

The zero-shot prompt is the instruction format of the FLAN-T5 course labs::

    Summarize the following conversation.

    <dialogue>

    Summary:

A k-shot prompt puts k solved examples (dialogue + reference summary) in the same format before it.
FLAN-T5's encoder was trained on 512 tokens. A prompt that does not fit is made to fit by a stated
rule, and the result says what was done: drop shots from the end (the pickers put the most useful
first), then, if the bare prompt still does not fit, cut the end of the dialogue. The instruction and the
`Summary:` suffix are never cut.

`fit_prompt` is the one way a dialogue becomes model input: the apps, training (`llmft.training.batches`)
and evaluation (`llmft.evaluation`) all call it, so a model is trained, scored and used on the same ids.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from llmft.data import DialogueExample
from llmft.embedding_model import default_embedding_model
from llmft.errors import PromptError

MAX_SOURCE_TOKENS = 512  # FLAN-T5's encoder context
INSTRUCTION = "Summarize the following conversation."
ShotStrategy = Literal["first", "random", "similar"]
SHOT_STRATEGIES: tuple[str, ...] = ("first", "random", "similar")


# A guard against pasting a book: far past what the encoder reads (512 tokens is ~2,000 characters),
# yet small enough that tokenising it to report what was cut stays instant.
MAX_DIALOGUE_CHARS = 20_000


def check_dialogue(dialogue: str | None, reference: str | None = None) -> str:
    """A dialogue a person typed, stripped, or a `PromptError` that says what to do (every Space uses it)."""
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
    """References from a text box (one per line) or a list; blank ones dropped. Empty: no ROUGE."""
    if text is None:
        return []
    lines = text.splitlines() if isinstance(text, str) else [str(t) for t in text]
    return [line.strip() for line in lines if line and line.strip()]


def zero_shot_prompt(dialogue: str) -> str:
    """The course-lab prompt; training uses the same text so tuned models see what they were taught."""
    return f"{INSTRUCTION}\n\n{dialogue}\n\nSummary:"


def _shot_block(example: DialogueExample) -> str:
    return f"{zero_shot_prompt(example.dialogue)} {example.summary}\n\n\n"


def build_prompt(dialogue: str, shots: Sequence[DialogueExample] = ()) -> str:
    """k-shot prompt: each shot as a solved zero-shot prompt, then the dialogue to summarise."""
    return "".join(_shot_block(shot) for shot in shots) + zero_shot_prompt(dialogue)


@dataclass
class FittedPrompt:
    """A prompt that fits the budget, and a report of what was changed to make it fit."""

    text: str
    token_count: int
    max_tokens: int
    shot_ids: list[str]
    dropped_shot_ids: list[str] = field(default_factory=list)
    dialogue_tokens_cut: int = 0
    input_ids: list[int] = field(default_factory=list)  # the encoder ids of `text`, end-of-sequence included

    @property
    def changed(self) -> bool:
        return bool(self.dropped_shot_ids or self.dialogue_tokens_cut)

    @property
    def report(self) -> str:
        """One human-readable sentence about fitting; says so when nothing was dropped."""
        parts = []
        if self.dropped_shot_ids:
            parts.append(
                f"dropped {len(self.dropped_shot_ids)} shot(s) ({', '.join(self.dropped_shot_ids)}) to fit "
                f"{self.max_tokens} tokens"
            )
        if self.dialogue_tokens_cut:
            parts.append(f"cut the last {self.dialogue_tokens_cut} token(s) of the dialogue")
        if not parts:
            return f"fits: {self.token_count}/{self.max_tokens} tokens, nothing dropped"
        return f"{'; '.join(parts)} ({self.token_count}/{self.max_tokens} tokens)"


def encode_prompt(tokenizer: Any, text: str) -> list[int]:
    """The encoder ids of `text`, with the end-of-sequence token the model will see."""
    return list(tokenizer(text, add_special_tokens=True)["input_ids"])


def count_tokens(tokenizer: Any, text: str) -> int:
    """Encoder tokens, counting the end-of-sequence token the model will see."""
    return len(encode_prompt(tokenizer, text))


def _cut_dialogue(tokenizer: Any, dialogue: str, keep_tokens: int) -> tuple[str, int]:
    """Keep the first `keep_tokens` tokens of `dialogue`, cutting the original text at a token edge."""
    encoded = tokenizer(dialogue, add_special_tokens=False, return_offsets_mapping=True)
    offsets = encoded["offset_mapping"]
    if keep_tokens >= len(offsets):
        return dialogue, 0
    if keep_tokens <= 0:
        return "", len(offsets)
    end = offsets[keep_tokens - 1][1]
    return dialogue[:end].rstrip(), len(offsets) - keep_tokens


def fit_prompt(
    tokenizer: Any,
    dialogue: str,
    shots: Sequence[DialogueExample] = (),
    max_tokens: int = MAX_SOURCE_TOKENS,
) -> FittedPrompt:
    """Build the k-shot prompt and make it fit `max_tokens`: drop shots from the end, then cut the dialogue."""
    if not dialogue or not dialogue.strip():
        raise PromptError("The dialogue is empty: paste a conversation or pick one from the dataset.")
    dialogue = dialogue.strip()
    kept = list(shots)
    dropped: list[str] = []
    text = build_prompt(dialogue, kept)
    ids = encode_prompt(tokenizer, text)
    while len(ids) > max_tokens and kept:
        dropped.insert(0, kept.pop().id)
        text = build_prompt(dialogue, kept)
        ids = encode_prompt(tokenizer, text)
    tokens = len(ids)

    cut_total = 0
    if tokens > max_tokens:
        dialogue_tokens = len(tokenizer(dialogue, add_special_tokens=False)["input_ids"])
        overhead = tokens - dialogue_tokens
        keep = max_tokens - overhead
        if keep <= 0:
            raise PromptError(f"The prompt template alone takes {overhead} tokens; the budget is {max_tokens}.")
        # Tokens do not always add up across a cut (merges at the edge), so tighten until it fits.
        while True:
            cut_text, cut_total = _cut_dialogue(tokenizer, dialogue, keep)
            text = build_prompt(cut_text, kept)
            ids = encode_prompt(tokenizer, text)
            tokens = len(ids)
            if tokens <= max_tokens or keep <= 1:
                break
            keep -= tokens - max_tokens
    return FittedPrompt(
        text=text,
        token_count=tokens,
        max_tokens=max_tokens,
        shot_ids=[shot.id for shot in kept],
        dropped_shot_ids=dropped,
        dialogue_tokens_cut=cut_total,
        input_ids=ids,
    )


# --- shot pickers -------------------------------------------------------------------------------


def _candidates(pool: Sequence[DialogueExample], dialogue: str, exclude_ids: set[str]) -> list[DialogueExample]:
    """Examples with a summary, never the dialogue being summarised (that would leak its answer)."""
    target = dialogue.strip()
    return [e for e in pool if e.summary and e.id not in exclude_ids and e.dialogue.strip() != target]


def pick_shots(
    pool: Sequence[DialogueExample],
    k: int,
    strategy: str = "first",
    dialogue: str = "",
    seed: int = 0,
    exclude_ids: Sequence[str] = (),
    embedder: SimilarityIndex | None = None,
) -> list[DialogueExample]:
    """Choose k examples from `pool`: the first k, k at random (seeded), or the k most similar by embedding."""
    if k < 0:
        raise PromptError(f"The number of shots must be 0 or more, not {k}.")
    if k == 0:
        return []
    if strategy not in SHOT_STRATEGIES:
        raise PromptError(f"Unknown shot strategy '{strategy}'; choose one of {', '.join(SHOT_STRATEGIES)}.")
    candidates = _candidates(pool, dialogue, set(exclude_ids))
    if k > len(candidates):
        raise PromptError(f"Asked for {k} shots but only {len(candidates)} example(s) with summaries are available.")
    if strategy == "first":
        return candidates[:k]
    if strategy == "random":
        return random.Random(seed).sample(candidates, k)
    if not dialogue.strip():
        raise PromptError("The 'similar' strategy needs the dialogue to compare examples with.")
    index = embedder or SimilarityIndex()
    return index.most_similar(dialogue, candidates, k)


class SimilarityIndex:
    """Ranks examples by cosine similarity of sentence-transformers embeddings; caches pool embeddings."""

    def __init__(self, model_name_or_path: str | None = None, encode: Callable[[list[str]], Any] | None = None):
        self.model_name_or_path = model_name_or_path or default_embedding_model()
        self._encode = encode
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> Any:
        with self._lock:
            if self._encode is None:
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(self.model_name_or_path, device="cpu")
                self._encode = lambda batch: model.encode(batch, normalize_embeddings=True, convert_to_tensor=True)
            return self._encode(texts)

    def most_similar(self, dialogue: str, candidates: Sequence[DialogueExample], k: int) -> list[DialogueExample]:
        import torch

        missing = [c.dialogue for c in candidates if c.dialogue not in self._cache]
        if missing:
            for text, vector in zip(missing, self.encode(missing), strict=True):
                self._cache[text] = vector
        pool = torch.stack([self._cache[c.dialogue] for c in candidates])
        query = self.encode([dialogue])[0]
        similarity = pool @ query
        order = torch.argsort(similarity, descending=True, stable=True)[:k]
        return [candidates[int(i)] for i in order]
