"""Chroma, embedded on disk or as a server (`chroma run`): opening the collection and moving records in and out.

Telemetry is off in both modes, and the collection is created without an embedding function: the store always
hands Chroma its own vectors (Chroma's default function would download a model at run time). The HTTP client
gets a timeout (chromadb's has none) so a hung server gives a message instead of a hang.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from llmft.errors import StoreError
from llmft.store.settings import StoreSettings

logger = logging.getLogger(__name__)

HTTP_TIMEOUT_S = 30.0
_PAGE = 2000  # records per `get` page when reading the whole collection back


@dataclass
class Record:
    """One stored item: a product or a document chunk."""

    id: str
    text: str
    metadata: dict[str, Any]


def _client(settings: StoreSettings) -> Any:
    import chromadb
    from chromadb.config import Settings

    chroma_settings = Settings(anonymized_telemetry=False, allow_reset=False)
    if settings.host:
        try:
            client = chromadb.HttpClient(host=settings.host, port=settings.port, settings=chroma_settings)
            session = getattr(getattr(client, "_server", None), "_session", None)
            if session is not None:
                import httpx

                session.timeout = httpx.Timeout(HTTP_TIMEOUT_S, connect=5.0)
            client.heartbeat()
        except Exception as err:  # httpx.ConnectError, ValueError, chromadb errors: all mean "not reachable"
            raise StoreError(f"Chroma server {settings.host}:{settings.port} does not answer ({type(err).__name__}: "
                             f"{err}); start it with `chroma run --host {settings.host} --port {settings.port}` "
                             "or unset LLMFT_CHROMA_HOST to use a store folder") from err
        return client
    try:
        settings.path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.path), settings=chroma_settings)
    except Exception as err:
        raise StoreError(f"store folder {settings.path} cannot be opened as a Chroma store: {err}") from err


class ChromaCollection:
    """The store's one collection: products and document chunks side by side, told apart by `kind`."""

    def __init__(self, settings: StoreSettings):
        self.settings = settings
        self.client = _client(settings)
        try:
            self.collection = self.client.get_or_create_collection(
                settings.collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        except Exception as err:
            raise StoreError(f"collection {settings.collection!r} in {settings.where} cannot be opened: {err}") from err
        self.max_batch = max(1, min(5000, int(self.client.get_max_batch_size())))

    def count(self) -> int:
        return int(self.collection.count())

    def version(self) -> str:
        """The stamp the last ingestion that changed anything left on the collection ('' before any)."""
        metadata = self.client.get_collection(self.settings.collection).metadata or {}
        return str(metadata.get("llmft_version", ""))

    def bump_version(self) -> None:
        """Tell every process searching this collection (through `version`) that its records changed."""
        import uuid

        self.collection.modify(metadata={"llmft_version": uuid.uuid4().hex})

    def records(self) -> Iterator[Record]:
        """Every record, page by page."""
        offset = 0
        while True:
            page = self.collection.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            for record_id, text, meta in zip(page["ids"], page["documents"], page["metadatas"], strict=True):
                yield Record(record_id, text or "", dict(meta or {}))
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE

    def index(self) -> dict[str, str]:
        """id -> source key, for every record: what ingestion compares new content against."""
        keys: dict[str, str] = {}
        offset = 0
        while True:
            page = self.collection.get(include=["metadatas"], limit=_PAGE, offset=offset)
            keys.update({i: str((m or {}).get("source_key", "")) for i, m in zip(page["ids"], page["metadatas"],
                                                                                  strict=True)})
            if len(page["ids"]) < _PAGE:
                return keys
            offset += _PAGE

    def add(self, records: Sequence[Record], embeddings: Sequence[Sequence[float]]) -> None:
        for start in range(0, len(records), self.max_batch):
            part = records[start:start + self.max_batch]
            self.collection.upsert(ids=[r.id for r in part], documents=[r.text for r in part],
                                   metadatas=[r.metadata for r in part],
                                   embeddings=[list(e) for e in embeddings[start:start + self.max_batch]])

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), self.max_batch):
            self.collection.delete(ids=ids[start:start + self.max_batch])

    def query(self, embedding: Sequence[float], n: int, ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """(id, cosine distance) of the `n` nearest records, among `ids` when given."""
        n = min(n, len(ids)) if ids is not None else n
        if n <= 0:
            return []
        result = self.collection.query(query_embeddings=[list(embedding)], n_results=n, include=["distances"],
                                       ids=list(ids) if ids is not None else None)
        return list(zip(result["ids"][0], result["distances"][0], strict=True))
