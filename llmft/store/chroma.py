"""Chroma, embedded on disk or as a server (`chroma run`): opening the collection and moving records in and out.

Telemetry is off in both modes, and the collection is created without an embedding function: the store always
hands Chroma its own vectors (Chroma's default function would download a model at run time).

A server can go away and come back. The HTTP client gets a timeout, `LLMFT_CHROMA_TIMEOUT` seconds (default 10;
chromadb's has none), so a silent server gives a message instead of a hang; every call on the collection turns
a failure into a `StoreError` saying which server did not answer and what to do, never a traceback. Nothing is
cached across a failure: httpx opens a new connection for the next call, so a server that is back is used again
with no restart (a server restarted on the same data keeps its collection ids).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from llmft.errors import StoreError
from llmft.settings import StoreSettings

logger = logging.getLogger(__name__)

_PAGE = 2000  # records per `get` page when reading the whole collection back


@dataclass
class Record:
    """One stored item: a product or a document chunk."""

    id: str
    text: str
    metadata: dict[str, Any]


def _unreachable(settings: StoreSettings, err: BaseException, doing: str) -> str:
    """What to say when the server failed `doing`: timed out, refused, or answered with an error."""
    import httpx

    where = f"Chroma server {settings.host}:{settings.port}"
    start = (f"start it with `chroma run --host {settings.host} --port {settings.port}` or unset LLMFT_CHROMA_HOST "
             "to use a store folder")
    if isinstance(err, httpx.TimeoutException):
        return f"{where} did not answer within {settings.timeout:g} s (LLMFT_CHROMA_TIMEOUT) while {doing}; is it busy?"
    if isinstance(err, httpx.TransportError):  # refused, reset, closed: nothing listens there now
        return f"{where} does not answer ({type(err).__name__}) while {doing}; {start}"
    return f"{where} failed while {doing} ({type(err).__name__}: {str(err)[:200]})"


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

                timeout = settings.timeout
                session.timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
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
        with self._calling(f"opening collection {settings.collection!r}"):
            self.collection = self.client.get_or_create_collection(
                settings.collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
            self.max_batch = max(1, min(5000, int(self.client.get_max_batch_size())))

    @contextmanager
    def _calling(self, doing: str) -> Iterator[None]:
        """Any failure of Chroma inside becomes a StoreError naming the store and what it was doing."""
        try:
            yield
        except StoreError:
            raise
        except Exception as err:  # httpx and chromadb errors alike: the message says which
            if self.settings.host:
                raise StoreError(_unreachable(self.settings, err, doing)) from err
            raise StoreError(f"{self.settings.where} failed while {doing} ({type(err).__name__}: "
                             f"{str(err)[:200]})") from err

    def count(self) -> int:
        with self._calling("counting records"):
            return int(self.collection.count())

    def version(self) -> str:
        """The stamp the last ingestion that changed anything left on the collection ('' before any)."""
        with self._calling("checking for new records"):
            metadata = self.client.get_collection(self.settings.collection).metadata or {}
        return str(metadata.get("llmft_version", ""))

    def set_version(self, version: str) -> None:
        """Tell every process searching this collection (through `version`) that its records changed."""
        with self._calling("marking the collection changed"):
            self.collection.modify(metadata={"llmft_version": version})

    def _pages(self, include: list[str]) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            with self._calling("reading records"):
                page = self.collection.get(include=include, limit=_PAGE, offset=offset)
            yield page
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE

    def records(self) -> Iterator[Record]:
        """Every record, page by page."""
        for page in self._pages(["documents", "metadatas"]):
            for record_id, text, meta in zip(page["ids"], page["documents"], page["metadatas"], strict=True):
                yield Record(record_id, text or "", dict(meta or {}))

    def index(self) -> dict[str, str]:
        """id -> source key, for every record: what ingestion compares new content against."""
        keys: dict[str, str] = {}
        for page in self._pages(["metadatas"]):
            keys.update({i: str((m or {}).get("source_key", "")) for i, m in zip(page["ids"], page["metadatas"],
                                                                                  strict=True)})
        return keys

    def add(self, records: Sequence[Record], embeddings: Sequence[Sequence[float]]) -> None:
        for start in range(0, len(records), self.max_batch):
            part = records[start:start + self.max_batch]
            with self._calling("writing records"):
                self.collection.upsert(ids=[r.id for r in part], documents=[r.text for r in part],
                                       metadatas=[r.metadata for r in part],
                                       embeddings=[list(e) for e in embeddings[start:start + self.max_batch]])

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), self.max_batch):
            with self._calling("deleting records"):
                self.collection.delete(ids=ids[start:start + self.max_batch])

    def query(self, embedding: Sequence[float], n: int, ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """(id, cosine distance) of the `n` nearest records, among `ids` when given."""
        n = min(n, len(ids)) if ids is not None else n
        if n <= 0:
            return []
        with self._calling("searching"):
            result = self.collection.query(query_embeddings=[list(embedding)], n_results=n, include=["distances"],
                                           ids=list(ids) if ids is not None else None)
        return list(zip(result["ids"][0], result["distances"][0], strict=True))
