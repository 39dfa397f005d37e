"""The shop knowledge base: catalogue and documents -> Chroma, searched by filters, BM25 and vectors.

    from llmft.store import KnowledgeBase
    kb = KnowledgeBase.open(path="shop-store")             # or host=/port= for a `chroma run` server
    print(kb.ingest("products.csv", ["policies/"]).lines())
    for hit in kb.search("cheapest phone under $300").hits:
        print(hit.citation, hit.reason)

Modules: `settings` (paths, server, embedder; LLMFT_* variables), `catalogue` (CSV/JSON -> typed products),
`documents` (unstructured partitions -> section chunks), `embeddings` (sentence-transformers, LangChain-compatible),
`chroma` (embedded or HTTP Chroma), `ingest` (idempotent, content-hash ids, sync), `filters` (constraints from the
question), `retrieval` (hybrid search), `knowledge_base` (the facade above). CLI: `python -m llmft.store --help`.
"""

from llmft.settings import StoreSettings
from llmft.store.catalogue import Product, load_catalogue
from llmft.store.documents import Chunk, chunk_document
from llmft.store.filters import Constraints, Vocabulary, apply_constraints, parse_constraints
from llmft.store.ingest import IngestSummary
from llmft.store.knowledge_base import KnowledgeBase, demo_files
from llmft.store.retrieval import Hit, Retriever, SearchResult

__all__ = [
    "Chunk",
    "Constraints",
    "Hit",
    "IngestSummary",
    "KnowledgeBase",
    "Product",
    "Retriever",
    "SearchResult",
    "StoreSettings",
    "Vocabulary",
    "apply_constraints",
    "chunk_document",
    "demo_files",
    "load_catalogue",
    "parse_constraints",
]
