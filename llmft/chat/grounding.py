"""Facts from code, words from the model: the sources an answer may use, the grounded answer built from them
alone, and the check that an answer's prices, product names and policy figures all appear in its sources.

    sources = Sources.from_result(kb.search(question), catalogue_titles)
    problems = check_answer(model_text, sources)     # [] when every figure and name is in the sources
    text = grounded_answer(sources)                   # what the store's data says, with citations
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from llmft.store import Hit, SearchResult

# A price ($199, $1,099.00, 199 dollars) and a policy figure (30 days, 2 years, 15%, 10 percent).
_PRICE = re.compile(r"\$\s?(\d[\d,]*(?:\.\d+)?)|(\d[\d,]*(?:\.\d+)?)\s?(?:dollars|usd)\b", re.I)
_FIGURE = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?(%|percent|per cent|days?|business days?|weeks?|months?|years?|"
                     r"hours?|minutes?|am|pm)(?!\w)", re.I)
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
NOT_SOLD_SIMILARITY = 0.5  # below this best cosine similarity nothing fits (bench/rag_eval.py's "not sold" line)
MAX_PASSAGE_CHARS = 600  # a passage quoted to the model or the shopper; chunks are short already


def _value(text: str) -> float:
    return round(float(text.replace(",", "")), 2)


def _figures(text: str) -> set[tuple[float, str]]:
    """(value, unit) pairs: "30 days" and "30-day" count alike; a bare number is not a policy figure."""
    found = set()
    for match in _FIGURE.finditer(text.replace("-", " ")):
        unit = match.group(2).lower().replace("business ", "").replace("per cent", "%").replace("percent", "%")
        found.add((_value(match.group(1)), unit.rstrip("s") or unit))
    return found


@dataclass
class Source:
    """One hit as the UI shows it: a product card or a document passage."""

    kind: str
    id: str
    title: str
    text: str
    citation: str
    reason: str
    price: float | None = None
    file: str | None = None
    section: str | None = None
    similarity: float | None = None

    @classmethod
    def from_hit(cls, hit: Hit) -> Source:
        meta = hit.metadata
        if hit.kind == "product":
            price = meta.get("price")
            return cls("product", str(meta.get("product_id")), str(meta.get("title")), hit.text, hit.citation,
                       hit.reason, float(price) if price is not None else None,
                       similarity=hit.similarity)
        section = str(meta.get("heading") or meta.get("section") or "")
        return cls("document", hit.id, str(meta.get("file")), hit.text[:MAX_PASSAGE_CHARS], hit.citation,
                   hit.reason, file=str(meta.get("file")), section=section, similarity=hit.similarity)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Sources:
    """What one answer may draw on, and the catalogue's titles (to catch a product named from memory)."""

    question: str
    items: list[Source] = field(default_factory=list)
    note: str = ""
    catalogue_titles: frozenset[str] = frozenset()
    constrained: bool = False  # the question had a filter or a sort the catalogue answered

    @classmethod
    def from_result(cls, result: SearchResult, catalogue_titles: Iterable[str] = ()) -> Sources:
        return cls(result.query, [Source.from_hit(h) for h in result.hits], result.note, frozenset(catalogue_titles),
                   bool(result.constraints))

    @property
    def nothing_fits(self) -> bool:
        """No hit is close in meaning and no filter chose them: the store likely does not have it."""
        if not self.items:
            return True
        if self.constrained:
            return False
        return all(s.similarity is not None and s.similarity < NOT_SOLD_SIMILARITY for s in self.items)

    @property
    def products(self) -> list[Source]:
        return [s for s in self.items if s.kind == "product"]

    @property
    def passages(self) -> list[Source]:
        return [s for s in self.items if s.kind == "document"]

    def text(self) -> str:
        return "\n".join(s.text for s in self.items)

    def context(self) -> str:
        """The sources as the model sees them: numbered, fenced, one product per line with its price."""
        lines = []
        for n, s in enumerate(self.items, start=1):
            if s.kind == "product":
                lines.append(f"[{n}] PRODUCT {s.title} (id {s.id}), price ${s.price:.2f}: {s.text}")
            else:
                lines.append(f"[{n}] DOCUMENT {s.citation}: {s.text}")
        if self.note:
            lines.append(f"NOTE: {self.note}")
        return "\n".join(lines) if lines else "NOTE: nothing in the store matches this question."


def _names(text: str, title: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(title)}(?!\w)", text) is not None


def check_answer(answer: str, sources: Sources) -> list[str]:
    """What in `answer` is not in the sources: prices, policy figures, and catalogue products not among them."""
    source_text = sources.text() + "\n" + sources.note
    known_numbers = {_value(n) for n in _NUMBER.findall(source_text)}
    known_numbers |= {s.price for s in sources.products if s.price is not None}
    problems = []
    for match in _PRICE.finditer(answer):
        raw = match.group(1) or match.group(2)
        if _value(raw) not in known_numbers:
            problems.append(f"price ${raw} is not in the sources")
    known_figures = _figures(source_text)
    for match in _FIGURE.finditer(answer.replace("-", " ")):
        if not _figures(match.group(0)) <= known_figures:
            problems.append(f"figure '{match.group(0)}' is not in the sources")
    # A catalogue product named in the answer must be in the sources: as a product hit, or named by a passage
    # (a manual that names its product). Whole words only: "Glass" is not named by "Sun Glasses".
    shown = " ".join([s.title for s in sources.products] + [source_text]).lower()
    lowered = answer.lower()
    for title in sorted(sources.catalogue_titles):
        if _names(lowered, title.lower()) and not _names(shown, title.lower()):
            problems.append(f"product '{title}' is not among the sources")
    return problems


def _quote(source: Source, limit: int = 320) -> str:
    """The passage without its heading lines, cut at a sentence end (never inside a figure like $14.95)."""
    paragraphs = [p for p in source.text.split("\n\n") if p.strip()]
    body = [p for p in paragraphs if " > " not in p and p.strip() != (source.section or "").split(" | ")[-1]]
    text = " ".join(" ".join(body or paragraphs).split())
    if len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit)
    return text[: cut + 1] if cut > 0 else text[:limit].rsplit(" ", 1)[0] + " ..."


def grounded_answer(sources: Sources) -> str:
    """The answer built from the sources alone: what the shopper would get with no model at all."""
    if sources.nothing_fits:
        note = f" ({sources.note})" if sources.note else ""
        return (f"I could not find that in this store's catalogue or policies{note}. "
                "We may not sell it; try another product name or category.")
    parts = []
    if sources.note:
        parts.append(f"Note: {sources.note}.")
    if sources.products:
        parts.append("Products from the catalogue:")
        parts += [f"- {s.title} (id {s.id}): ${s.price:.2f}" for s in sources.products]
    if sources.passages:
        parts.append("From the store's documents:")
        parts += [f"- {s.citation}: \"{_quote(s)}\"" for s in sources.passages]
    return "\n".join(parts)
