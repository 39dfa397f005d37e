"""The sources of one answer, numbered as the answer cites them: [1] is the first card under the answer.

    sources = Sources(question, [Source.of_product(product, "named in the question")])
    sources.context()    # "[1] Kawasaki Z800 (product 114): $8,999.99 ...": what a model may see
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmft.chat.shop import Document, Product
from llmft.store import Hit
from llmft.store.retrieval import HitKind

SourceKind = HitKind
NOT_SOLD_SIMILARITY = 0.5  # below this best cosine similarity nothing fits (bench/rag_eval.py's "not sold" line)
MAX_PASSAGE_CHARS = 600  # a passage shown on a card; chunks are short already


@dataclass
class Source:
    """A product card or a document passage, as the page and the API show it."""

    kind: SourceKind
    id: str
    title: str
    text: str
    citation: str
    reason: str
    price: float | None = None
    file: str | None = None
    section: str | None = None
    similarity: float | None = None  # the search's cosine similarity, on `/sources` cards

    @classmethod
    def of_product(cls, product: Product, reason: str) -> Source:
        return cls("product", product.id, product.title, product.text, f"product {product.id}: {product.title}",
                   reason, product.price)

    @classmethod
    def of_document(cls, document: Document, reason: str) -> Source:
        section = str(document.meta.get("section") or document.heading)
        page = f", page {document.meta['page']}" if document.meta.get("page") is not None else ""
        return cls("document", document.record_id, document.file, document.text[:MAX_PASSAGE_CHARS],
                   f"{document.file}, section {document.heading}{page}", reason, file=document.file,
                   section=section)

    @classmethod
    def of_hit(cls, hit: Hit) -> Source:
        """A retrieval hit as a card (the `/sources` endpoint: what the store found, before any answer)."""
        meta = hit.metadata
        if hit.kind == "product":
            price = meta.get("price")
            return cls("product", str(meta.get("product_id")), str(meta.get("title")), hit.text, hit.citation,
                       hit.reason, float(price) if price is not None else None, similarity=hit.similarity)
        return cls("document", hit.id, str(meta.get("file")), hit.text[:MAX_PASSAGE_CHARS], hit.citation, hit.reason,
                   file=str(meta.get("file")), section=str(meta.get("heading") or meta.get("section") or ""),
                   similarity=hit.similarity)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Sources:
    """What one answer cites, in citation order, and the retriever's note (e.g. "no product matches ...")."""

    question: str
    items: list[Source] = field(default_factory=list)
    note: str = ""

    @property
    def products(self) -> list[Source]:
        return [s for s in self.items if s.kind == "product"]

    @property
    def passages(self) -> list[Source]:
        return [s for s in self.items if s.kind == "document"]

    def text(self) -> str:
        return "\n".join(s.text for s in self.items)

    def context(self, limit: int = 160) -> str:
        """The sources as the model sees them: one short numbered line each."""
        lines = []
        for n, source in enumerate(self.items, start=1):
            if source.kind == "product":
                price = f"${source.price:,.2f}" if source.price is not None else "no price"
                lines.append(f"[{n}] {source.title} (product {source.id}), {price}")
            else:
                lines.append(f"[{n}] {source.citation}")
        return "\n".join(line[:limit] for line in lines)
