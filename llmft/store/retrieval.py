"""Hybrid retrieval: structured filters on the catalogue, BM25 (bm25s) and vectors (Chroma), fused by reciprocal rank.

`Retriever.search(question)` parses the question's constraints (`llmft.store.filters`). A superlative
("cheapest", "best rated") is answered by sorting the filtered catalogue; a price, rating or stock limit
restricts the ranking to the products that meet it; a category or brand alone restricts the products but keeps
the documents (a returns question may name a category). The ranking fuses BM25 and vector ranks
(score = sum of 1 / (60 + rank)). Every hit says why it was chosen and where it comes from.

Modes for comparison: `hybrid` (all of the above), `fusion` (BM25 + vectors, no filters), `bm25`, `vector`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np

from llmft.errors import StoreError
from llmft.settings.shop import MAX_QUESTION_CHARS
from llmft.store.chroma import ChromaCollection, Record
from llmft.store.embeddings import Embedder
from llmft.store.filters import Constraints, Vocabulary, apply_constraints, parse_constraints

logger = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each index build at DEBUG on its own handler

SearchMode = Literal["hybrid", "fusion", "bm25", "vector"]
HitKind = Literal["product", "document"]
MODES: tuple[str, ...] = get_args(SearchMode)
RRF_K = 60  # the constant of Cormack et al. (2009): damps the weight of the very first ranks
CANDIDATES = 50  # how deep each ranking goes before fusion
BM25_WEIGHT = 1.0  # plain RRF; bench/rag_eval.py --bm25-weight shows what another weight would do
_IDS_IN_QUERY = 500  # up to this many allowed ids go into Chroma's query; beyond, the result is filtered after
_FOLLOW_UP = re.compile(r"^(?:and|also|what about|how about|which|any|same|ok|okay|so)\b|\b(?:it|its|it's|that|this|"
                        r"those|these|them|they|one|ones|cheaper|instead|else|another|same)\b")


@dataclass
class Hit:
    """One retrieved product or document chunk, with its source and why it was chosen."""

    id: str
    kind: HitKind
    text: str
    score: float
    reason: str
    metadata: dict[str, Any]
    similarity: float | None = None  # cosine similarity to the question, when the vector search saw it

    @property
    def citation(self) -> str:
        meta = self.metadata
        if self.kind == "product":
            return f"product {meta.get('product_id')}: {meta.get('title')}"
        page = f", page {meta['page']}" if meta.get("page") is not None else ""
        return f"{meta.get('file')}, section {meta.get('heading') or meta.get('section')}{page}"

    def to_document(self) -> Any:
        """A LangChain `Document` carrying the text, the metadata, the citation and the reason."""
        from langchain_core.documents import Document

        return Document(page_content=self.text, id=self.id, metadata={
            **self.metadata, "id": self.id, "citation": self.citation, "reason": self.reason, "score": self.score})


@dataclass
class SearchResult:
    query: str  # what was searched: the question, or the question resolved against the conversation
    constraints: Constraints
    hits: list[Hit] = field(default_factory=list)
    note: str = ""  # e.g. "no product matches price <= 5, category = laptops"

    def documents(self) -> list[Any]:
        return [hit.to_document() for hit in self.hits]


def check_question(question: str) -> str:
    if not isinstance(question, str) or not question.strip():
        raise StoreError("the question is empty: ask about a product, a price or a store policy")
    if len(question) > MAX_QUESTION_CHARS:  # the length as typed: that is what the person can see and cut
        raise StoreError(f"the question has {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,} "
                         "(ask about one thing at a time)")
    return " ".join(question.split())


def conversation_turns(history: Sequence[Any]) -> list[tuple[str, str]]:
    """(role, text) from Gradio messages (text or content blocks), (role, text) pairs or LangChain messages;
    roles user/assistant, empty turns dropped. The store resolves follow-ups with it, the chatbot its history."""
    turns = []
    for message in history or ():
        if isinstance(message, dict):
            role, text = message.get("role"), message.get("content")
        elif isinstance(message, (tuple, list)) and len(message) == 2:
            role, text = message
        else:
            role, text = getattr(message, "type", None), getattr(message, "content", None)
        if isinstance(text, list):  # Gradio 6 messages: a list of content blocks
            text = " ".join(str(b.get("text", "")) for b in text if isinstance(b, dict))
        role = {"human": "user", "ai": "assistant"}.get(str(role), str(role))
        if role in ("user", "assistant") and isinstance(text, str) and text.strip():
            turns.append((role, text))
    return turns


def _user_turns(history: Sequence[Any]) -> list[str]:
    return [" ".join(text.split()) for role, text in conversation_turns(history) if role == "user"]


class Retriever:
    """Searches one collection; holds the BM25 index and the catalogue's metadata in memory."""

    def __init__(self, collection: ChromaCollection, embedder: Embedder):
        self.collection = collection
        self.embedder = embedder
        self._lock = threading.Lock()
        self.refresh()

    def refresh(self) -> None:
        """Reload records from Chroma and rebuild BM25 and the vocabulary (after an ingestion)."""
        import bm25s
        import Stemmer

        version = self.collection.version()  # read before the records: a concurrent ingestion means a reload later
        records = list(self.collection.records())
        with self._lock:
            self.version = version
            self.records: list[Record] = records
            self.position = {record.id: i for i, record in enumerate(records)}
            self.products = [r for r in records if r.metadata.get("kind") == "product"]
            self.document_ids = {r.id for r in records if r.metadata.get("kind") == "document"}
            self.vocabulary = Vocabulary.from_products(r.metadata for r in self.products)
            self._stemmer = Stemmer.Stemmer("english")
            self._bm25 = bm25s.BM25()
            if records:
                tokens = bm25s.tokenize([r.text for r in records], stopwords="en", stemmer=self._stemmer,
                                        show_progress=False)
                self._bm25.index(tokens, show_progress=False)
        logger.info("retriever: %d records (%d products)", len(records), len(self.products))

    def bm25_ranking(self, query: str, allowed: np.ndarray | None = None, n: int = CANDIDATES) -> list[int]:
        """Positions of the best BM25 matches (score > 0), among `allowed` when given."""
        import bm25s

        if not self.records:
            return []
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer, return_ids=False,
                                show_progress=False)[0]
        scores = self._bm25.get_scores(tokens) if tokens else np.zeros(len(self.records))
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        top = np.argsort(-scores, kind="stable")[:n]
        return [int(i) for i in top if scores[i] > 0]

    def vector_ranking(self, vector: list[float], allowed: set[str] | None = None,
                       n: int = CANDIDATES) -> list[tuple[str, float]]:
        """(id, cosine similarity) of the nearest records, among `allowed` when given."""
        if allowed is not None and len(allowed) <= _IDS_IN_QUERY:
            found = self.collection.query(vector, n, ids=sorted(allowed))
        else:
            found = self.collection.query(vector, n if allowed is None else n * 4)
            found = [(i, d) for i, d in found if allowed is None or i in allowed][:n]
        return [(record_id, 1.0 - distance) for record_id, distance in found]

    def _hit(self, record: Record, score: float, reason: str, similarity: float | None = None) -> Hit:
        return Hit(record.id, str(record.metadata.get("kind", "document")), record.text, score, reason,
                   dict(record.metadata), similarity)

    def _fused(self, query: str, k: int, allowed_ids: set[str] | None, mode: SearchMode, prefix: str = "") -> list[Hit]:
        allowed = None
        if allowed_ids is not None:
            allowed = np.array([r.id in allowed_ids for r in self.records], dtype=bool)
        keyword = self.bm25_ranking(query, allowed) if mode != "vector" else []
        meaning = self.vector_ranking(self.embedder.embed_query(query), allowed_ids) if mode != "bm25" else []
        scores: dict[str, float] = {}
        why: dict[str, list[str]] = {}
        similarity = dict(meaning)
        for rank, position in enumerate(keyword, start=1):
            record_id = self.records[position].id
            scores[record_id] = scores.get(record_id, 0.0) + BM25_WEIGHT / (RRF_K + rank)
            why.setdefault(record_id, []).append(f"keywords #{rank}")
        for rank, (record_id, _) in enumerate(meaning, start=1):
            scores[record_id] = scores.get(record_id, 0.0) + 1.0 / (RRF_K + rank)
            why.setdefault(record_id, []).append(f"meaning #{rank}")
        # Equal fused scores are common (#1 + #2 against #2 + #1): the better match by meaning goes first, so the
        # order never hangs on ids, which are content hashes and say nothing about relevance.
        meaning_rank = {record_id: rank for rank, (record_id, _) in enumerate(meaning)}
        best = sorted(scores, key=lambda i: (-round(scores[i], 12), meaning_rank.get(i, len(meaning)), i))[:k]
        return [self._hit(self.records[self.position[i]], scores[i], prefix + " + ".join(why[i]), similarity.get(i))
                for i in best if i in self.position]

    def search(self, question: str, k: int = 5, history: Sequence[Any] = (), rewritten: str | None = None,
               mode: SearchMode = "hybrid") -> SearchResult:
        """The `k` best hits for a question; `history` resolves a follow-up, `rewritten` (an LLM's) replaces both."""
        question = check_question(question)
        if mode not in MODES:
            raise StoreError(f"search mode {mode!r} is not one of {', '.join(MODES)}")
        if not 1 <= k <= 100:
            raise StoreError(f"k={k} is outside 1..100")
        earlier = _user_turns(history)
        constraints = parse_constraints(question, self.vocabulary)
        query = check_question(rewritten) if rewritten else question
        if rewritten:
            constraints = parse_constraints(query, self.vocabulary)
        elif earlier and _FOLLOW_UP.search(question.lower()):
            query = f"{earlier[-1]} {question}"
            constraints = constraints.merged_over(parse_constraints(earlier[-1], self.vocabulary))
        if self.collection.version() != self.version:  # another process (the CLI) ingested since the last load
            self.refresh()
        if not self.records:
            return SearchResult(query, constraints, [], f"the {self.collection.settings.where} is empty: ingest a "
                                                        "catalogue or documents first")
        with self._lock:
            if mode != "hybrid":
                return SearchResult(query, Constraints(), self._fused(query, k, None, mode))
            return self._hybrid(query, constraints, k)

    def _hybrid(self, query: str, constraints: Constraints, k: int) -> SearchResult:
        if not constraints:
            return SearchResult(query, constraints, self._fused(query, k, None, "fusion"))
        described = constraints.describe()
        chosen = apply_constraints(constraints, (r.metadata for r in self.products))
        if not chosen:
            note = f"no product matches {described}"
            if constraints.filters_products:
                return SearchResult(query, constraints, [], note)
            return SearchResult(query, constraints, self._fused(query, k, None, "fusion"), note + "; closest matches")
        by_product = {str(r.metadata.get("product_id")): r for r in self.products}
        chosen_ids = {by_product[str(m.get("product_id"))].id for m in chosen}
        if constraints.sort:
            hits = [self._hit(by_product[str(m.get("product_id"))], 1.0 / (RRF_K + rank), described)
                    for rank, m in enumerate(chosen[:k], start=1)]
            if len(hits) < k and self.document_ids:  # room left: the best documents, for the policy side
                hits += self._fused(query, k - len(hits), self.document_ids, "fusion")
            return SearchResult(query, constraints, hits)
        allowed = set(chosen_ids)
        if not constraints.filters_products:  # a category or brand alone: documents stay in play
            allowed |= self.document_ids
        hits = self._fused(query, k, allowed, "fusion")
        for hit in hits:
            if hit.kind == "product":
                hit.reason = f"{described}; {hit.reason}"
        return SearchResult(query, constraints, hits)
