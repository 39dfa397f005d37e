"""Extractive answers: the sentence(s) of a passage that answer a question, never text of our own.

A chunk is cut into units a shopper can read alone: sentences, "Key: Value" pairs of a spec sheet, and the
question-and-answer pairs of an FAQ (matched on the FAQ's question, answered with its answer). Units are ranked
by the embedding model's cosine similarity to the question plus the share of the question's content words they
contain, so "money back" finds the refund sentence and "Gold member" the Gold clause.

    picker = SentencePicker(kb.embedder)
    best = picker.best(question, [Unit(text, source_key), ...], n=1)
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmft.chat.shop import tokens

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')]?\s+(?=[A-Z0-9\"(])")
# "Weight: 12 lbs Waterproof: Yes" (a spec sheet flattened to one line): a run of capitalised words before ": "
_SPEC_KEY = re.compile(r"(?:(?<=\s)|^)((?:[A-Z][\w()/&+-]*\s){0,3}[A-Z][\w()/&+-]*):\s")
_FAQ = re.compile(r"(?:^|\s)(?:\d+\)\s*)([^?\n]{8,240}\?)\s+(.+?)(?=\s+\d+\)\s|\s*$)", re.S)
_LEAD = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")
_WEAK_WORDS = {"the", "a", "an", "and", "or", "of", "for", "with", "in", "on", "to", "by", "is", "it", "my", "your",
               "do", "you", "i", "me", "what", "which", "how", "does", "are", "be", "can", "this", "that", "there",
               "any", "if", "we", "our", "us", "get", "have", "has", "will", "would", "should", "tell", "about",
               "please", "its", "much", "many", "long", "when", "where", "who", "why"}
# Everyday words for the store's words: the question's side is widened, never the passage's.
_ALIASES = {"money": {"refund", "refunds", "refunded"}, "back": {"refund", "return"},
            "delivery": {"shipping", "ship", "delivers"}, "deliver": {"shipping", "ship"},
            "cost": {"costs", "price", "fee", "$"}, "costs": {"cost", "price", "fee"}, "price": {"cost", "costs"},
            "phone": {"phone", "call"}, "number": {"phone"}, "pay": {"payment", "accept"},
            "storage": {"gb", "tb", "ssd"}, "battery": {"mah", "hours", "battery"}, "screen": {"display", "inch"},
            "weigh": {"weight", "weighing", "lbs", "kg", "g"}, "heavy": {"weight", "weighing"},
            "match": {"cheaper", "difference"}, "shops": {"retailer"}, "sleep": {"person", "people", "accommodate"},
            "lighter": {"weight", "lbs", "kg"}, "heavier": {"weight", "lbs", "kg"}, "light": {"weight"}}
MAX_UNIT_CHARS = 700  # a case paragraph ('If Membership status "Gold": ...') is quoted whole
_CACHE_SIZE = 20_000


@dataclass(frozen=True)
class Unit:
    """A piece of a passage that can be quoted alone; `key` says which source it came from."""

    text: str
    key: Any
    match: str = ""  # what is compared with the question when it is not the text itself (an FAQ's question)
    heading: str = ""  # the section it is in: compared too, and shown before a sentence that starts "It ..."
    lead: bool = False  # the first sentence of its passage, which usually states the general rule

    @property
    def quoted(self) -> str:
        """The text as an answer quotes it: with its section's name when it opens with a pronoun."""
        if self.heading and re.match(r"(?:it|they|this|these|that|those)\b", self.text, re.I):
            return f"{self.heading}: {self.text}"
        return self.text

    @property
    def compared(self) -> str:
        return f"{self.heading} {self.match or self.text}".strip()


def _clean(text: str) -> str:
    return " ".join(_LEAD.sub("", text).split())


def has_figure(text: str) -> bool:
    """A number standing alone ("2-year", "$4.95", "30 days"), not a digit inside a name ("X4", "A7")."""
    return re.search(r"(?<![A-Za-z])\d", text) is not None


def units(text: str, key: Any, header: str = "") -> list[Unit]:
    """The quotable units of a chunk, section by section: FAQ pairs, spec pairs, else sentences. `header` (the
    chunk's heading line, which search saw) is dropped from the text, and names the sections a chunk that merged
    small sections holds ("... > Technical Specs | Return Policy | FAQ")."""
    body = text[len(header):] if header and text.startswith(header) else text
    names = [part.rsplit(" > ", 1)[-1].strip() for part in header.split(" | ")] if header else []
    sections: list[tuple[str, list[str]]] = [(names[-1] if len(names) == 1 else (names[0] if names else ""), [])]
    for paragraph in (p.strip() for p in re.split(r"\n\s*\n|\n", body) if p.strip()):
        clean = _clean(paragraph)
        if clean.rstrip(":") in names:  # a merged chunk's next section starts here
            sections.append((clean.rstrip(":"), []))
        elif not (header and clean.rstrip(",.;: ") in header):  # the header again, or the document's title line
            sections[-1][1].append(paragraph)
    found: list[Unit] = []
    for heading, paragraphs in sections:
        found += _section_units(paragraphs, key, heading)
    return found


def _section_units(paragraphs: list[str], key: Any, heading: str) -> list[Unit]:
    found: list[Unit] = []
    faq_text = " ".join(paragraphs)
    pairs = list(_FAQ.finditer(faq_text))
    numbered = faq_text.lstrip().startswith(tuple(f"{n})" for n in range(1, 30)))
    if (pairs and numbered) or len(pairs) >= 2:
        for pair in pairs:
            question, answer = _clean(pair.group(1)), _clean(pair.group(2))
            found.append(Unit(answer[:MAX_UNIT_CHARS], key, match=f"{question} {answer}", heading=heading))
        return found
    for paragraph in (_clean(p) for p in paragraphs):
        if len(paragraph.split()) < 4 and not re.search(r"[\d:]", paragraph):
            continue  # a heading line ("Return Policy"), not an answer
        keys = list(_SPEC_KEY.finditer(paragraph))
        if len(keys) >= 2 or (keys and keys[0].start() == 0 and len(paragraph.split()) <= 8):  # "Key: Value"s
            for this, following in zip(keys, [*keys[1:], None], strict=True):
                end = following.start() if following else len(paragraph)
                pair = paragraph[this.start():end].strip()
                if len(pair) > len(this.group(0)) + 1:
                    found.append(Unit(pair[:MAX_UNIT_CHARS], key, heading=heading))
            continue
        if re.match(r"if\b", paragraph, re.I):  # one case of a policy given case by case: kept whole
            found.append(Unit(paragraph[:MAX_UNIT_CHARS], key, heading=heading))
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            sentence = sentence.strip()
            if len(sentence) >= 12 and not sentence.endswith(":"):
                found.append(Unit(sentence[:MAX_UNIT_CHARS], key, heading=heading, lead=not found))
    return found


def _stems(words: set[str]) -> set[str]:
    import Stemmer  # PyStemmer, which the store's BM25 uses too

    return set(Stemmer.Stemmer("english").stemWords(sorted(words)))


def content_words(text: str, ignore: set[str] = frozenset()) -> list[set[str]]:
    """Each content word of the text, stemmed, with its everyday aliases: {"money", "refund", ...}."""
    words = [w for w in dict.fromkeys(tokens(text)) if w not in _WEAK_WORDS and w not in ignore and len(w) > 1]
    return [_stems({w} | _ALIASES.get(w, set())) for w in words]


class SentencePicker:
    """Ranks units by meaning and words; the embeddings of units seen before are kept (bounded)."""

    def __init__(self, embedder: Any):
        self.embedder = embedder
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            vectors = np.asarray(self.embedder.embed_documents(missing), dtype=np.float32)
            with self._lock:
                for text, vector in zip(missing, vectors, strict=True):
                    self._vectors[text] = vector
                while len(self._vectors) > _CACHE_SIZE:
                    self._vectors.popitem(last=False)
        with self._lock:
            return np.stack([self._vectors[t] for t in texts])

    def scores(self, question: str, candidates: Sequence[Unit], ignore: set[str] = frozenset(),
               figures: bool = False) -> list[float]:
        """Cosine similarity plus half the share of the question's content words (or an alias) a unit has;
        `ignore`: words every candidate shares (the product's own name, in its own manual); `figures`: a unit
        that states a figure gets a little more (a question about a period wants the period)."""
        if not candidates:
            return []
        vectors = self._embed([question, *[c.compared for c in candidates]])
        similarity = vectors[1:] @ vectors[0]
        asked = content_words(question, ignore)
        scores = []
        for unit, cosine in zip(candidates, similarity, strict=True):
            words = _stems(set(tokens(unit.compared)))
            if "$" in unit.compared:
                words.add("$")
            overlap = sum(1 for word in asked if word & words) / len(asked) if asked else 0.0
            bonus = (0.15 if figures and has_figure(unit.text) else 0.0) + (0.05 if unit.lead else 0.0)
            scores.append(float(cosine) + 0.5 * overlap + bonus)
        return scores

    def best(self, question: str, candidates: Sequence[Unit], n: int = 1, ignore: set[str] = frozenset(),
             figures: bool = False) -> list[Unit]:
        scored = self.scores(question, candidates, ignore, figures)
        ranked = sorted(zip(scored, range(len(candidates)), strict=True), reverse=True)
        return [candidates[i] for _, i in ranked[:n]]
