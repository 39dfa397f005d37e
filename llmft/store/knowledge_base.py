"""`KnowledgeBase`: one store (settings, Chroma collection, embedder, retriever) behind four calls.

    kb = KnowledgeBase.open(path="shop-store")          # or host="127.0.0.1", port=8000; or from LLMFT_* variables
    summary = kb.ingest("products.csv", ["policies/"])   # idempotent; sync=True also deletes what is gone
    result = kb.search("cheapest phone under $300")      # hits with reasons and citations
    docs = result.documents()                            # LangChain Documents for a chain
    retriever = kb.as_retriever(k=5)                     # or a LangChain retriever: retriever.invoke(question)

`KnowledgeBase.demo()` opens (and fills, the first time) a store of the small demo shop shipped in the package.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from llmft.settings import StoreSettings
from llmft.store.chroma import ChromaCollection
from llmft.store.embeddings import Embedder
from llmft.store.ingest import IngestSummary, ingest
from llmft.store.retrieval import Retriever, SearchMode, SearchResult

_DEMOS: dict[str, KnowledgeBase] = {}
_DEMO_LOCK = threading.Lock()


def demo_files() -> tuple[Path, list[Path]]:
    """The demo catalogue and its policy pages, inside the installed package."""
    root = Path(str(resources.files("llmft.store") / "demo"))
    documents = sorted(p for p in (root / "policies").iterdir() if p.is_file())
    return root / "catalogue.csv", documents


class KnowledgeBase:
    def __init__(self, settings: StoreSettings, embedder: Embedder | None = None):
        self.settings = settings
        self.collection = ChromaCollection(settings)
        self.embedder = embedder or Embedder(settings.embedding_model, settings.embedding_dtype,
                                             backend=settings.embedding_backend)
        self._retriever: Retriever | None = None

    @classmethod
    def open(cls, path: str | Path | None = None, host: str | None = None, port: int | None = None,
             collection: str | None = None, embedder: Embedder | None = None) -> KnowledgeBase:
        """A store from the `LLMFT_*` variables, with any argument given here winning over them."""
        return cls(StoreSettings.from_env(path=path, host=host, port=port, collection=collection), embedder)

    @classmethod
    def demo(cls, path: str | Path | None = None, progress: bool = False) -> KnowledgeBase:
        """The demo shop's store (by default under the store folder's `demo` sibling), filled on first use."""
        settings = StoreSettings.from_env()
        where = Path(path) if path is not None else settings.path.parent / "demo-store"
        with _DEMO_LOCK:
            key = str(where.resolve())
            if key not in _DEMOS:
                # Its own collection: a sync of the demo must never touch a real store on the same server.
                kb = cls(StoreSettings.from_env(path=where, collection="demo"))
                catalogue, documents = demo_files()
                kb.ingest([catalogue], documents, sync=True, progress=progress)
                _DEMOS[key] = kb
            return _DEMOS[key]

    def ingest(self, catalogues: Sequence[str | Path] | str | Path = (), documents: Sequence[str | Path] = (),
               sync: bool = False, progress: bool = True) -> IngestSummary:
        if isinstance(catalogues, (str, Path)):
            catalogues = [catalogues]
        summary = ingest(self.collection, self.embedder, catalogues, documents, sync=sync, progress=progress,
                         chunk_chars=self.settings.chunk_chars)
        if self._retriever is not None:
            self._retriever.refresh()
        return summary

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = Retriever(self.collection, self.embedder)
        return self._retriever

    def search(self, question: str, k: int = 5, history: Sequence[Any] = (), rewritten: str | None = None,
               mode: SearchMode = "hybrid") -> SearchResult:
        return self.retriever.search(question, k=k, history=history, rewritten=rewritten, mode=mode)

    def as_retriever(self, k: int = 5, mode: SearchMode = "hybrid") -> Any:
        """A LangChain retriever over this store (`llmft.store.lc_retriever.ShopRetriever`)."""
        from llmft.store.lc_retriever import ShopRetriever

        return ShopRetriever(knowledge_base=self, k=k, mode=mode)

    def count(self) -> int:
        return self.collection.count()
