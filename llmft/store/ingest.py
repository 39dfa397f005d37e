"""Idempotent ingestion: catalogue rows and document chunks -> embeddings -> Chroma.

Every record's id is a hash of its content (and its source), and every record carries its source key
(`product:<id>` or `doc:<path>`). Ingesting compares, per source, the new ids with the stored ones: equal sets
are left alone (nothing is embedded again), a changed source gets its new records added and its stale ones
deleted, and with `sync=True` a source that is no longer in the input is deleted. New records are written before
stale ones are deleted, and a file that cannot be read is skipped (its stored chunks kept), so a failure never
leaves the store with less than it had.

An ingestion killed half-way (`kill -9`, a lost server) loses nothing and duplicates nothing: ids are content
hashes, so running it again writes only what is missing and ends with the records of one uninterrupted run.
The collection's version stamp says "ingesting" from the first write to the last, so the next run finishes the
stamp even when nothing is left to write, and searching processes reload (tests/test_store_resilience.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from llmft.errors import StoreError
from llmft.store.catalogue import Product, load_catalogue
from llmft.store.chroma import ChromaCollection, Record
from llmft.store.documents import DOCUMENT_SUFFIXES, chunk_document
from llmft.store.embeddings import Embedder

logger = logging.getLogger(__name__)

EMBED_BATCH = 64
INGESTING = "ingesting-"  # the version stamp's prefix while records change


@dataclass
class IngestSummary:
    """What one ingestion did, per source (product ids and file names), with the reason for each skip."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    records_added: int = 0
    records_deleted: int = 0
    embed_seconds: float = 0.0
    seconds: float = 0.0
    total_records: int = 0
    chunks_split: int = 0  # chunks longer than the embedder reads, split into parts that fit
    embedder: str = ""  # the backend that embedded: `onnx-int8` or `torch <dtype>` (llmft.store.embeddings)

    def lines(self) -> list[str]:
        """A few lines for a person: counts, then every skipped file and why."""
        rate = f" ({self.records_added / self.embed_seconds:.1f} records/s embedded)" if self.embed_seconds else ""
        rate += f", embedded with {self.embedder}" if self.embedder else ""
        rate += f"; {self.chunks_split} chunks over the embedder's token limit split" if self.chunks_split else ""
        lines = [
            f"sources: {len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged "
            f"(skipped, already stored), {len(self.deleted)} deleted, {len(self.skipped)} skipped (unreadable)",
            f"records: {self.records_added} written, {self.records_deleted} deleted, {self.total_records} in the "
            f"store; {self.seconds:.1f} s{rate}",
        ]
        lines += [f"skipped {name}: {why}" for name, why in self.skipped]
        return lines


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def product_records(products: Sequence[Product], catalogue: Path) -> dict[str, list[Record]]:
    records: dict[str, list[Record]] = {}
    for product in products:
        key = f"product:{product.id}"
        text, meta = product.text(), product.metadata()
        digest = _hash(key, text, json.dumps(meta, sort_keys=True, default=str))
        meta.update(kind="product", source=catalogue.name, source_key=key, content_hash=digest)
        records[key] = [Record(f"p-{digest}", text, meta)]
    return records


def document_files(paths: Iterable[str | Path], summary: IngestSummary | None = None) -> list[Path]:
    """Files as given, and the supported files inside folders (recursively, sorted); an empty folder is noted."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES)
            if not found and summary is not None:
                summary.skipped.append((str(path), f"folder {path} holds no {', '.join(sorted(DOCUMENT_SUFFIXES))} "
                                                   "files"))
            files += found
        else:
            files.append(path)
    return files


def _document_records(files: Sequence[Path], chunk_chars: int, progress: bool, summary: IngestSummary,
                      embedder: Embedder | None = None) -> tuple[dict[str, list[Record]], set[str]]:
    """Records per document; unreadable files go to `summary.skipped`, their keys to the returned protected set."""
    records: dict[str, list[Record]] = {}
    protected: set[str] = set()
    for path in tqdm(files, desc="reading documents", unit="file", disable=not progress or not files):
        key = f"doc:{path.resolve()}"
        try:
            chunks = chunk_document(path, max_chars=chunk_chars, embedder=embedder)
        except StoreError as err:
            logger.warning("skipped %s: %s", path, err)
            summary.skipped.append((str(path), str(err)))
            protected.add(key)
            continue
        records[key] = []
        summary.chunks_split += sum(1 for chunk in chunks if chunk.part == 1)
        for chunk in chunks:
            text = chunk.search_text()
            meta = chunk.metadata()
            digest = _hash(key, str(chunk.index), text, json.dumps(meta, sort_keys=True))
            meta.update(kind="document", source=chunk.source, source_key=key, content_hash=digest)
            records[key].append(Record(f"d-{digest}", text, meta))
    return records, protected


def _display(key: str) -> str:
    kind, _, name = key.partition(":")
    return f"product {name}" if kind == "product" else Path(name).name


def ingest(collection: ChromaCollection, embedder: Embedder, catalogues: Sequence[str | Path] = (),
           documents: Sequence[str | Path] = (), sync: bool = False, progress: bool = True,
           chunk_chars: int = 1000) -> IngestSummary:
    """Bring the collection up to date with the catalogues and documents; see the module docstring."""
    started = time.perf_counter()
    summary = IngestSummary()
    wanted: dict[str, list[Record]] = {}
    # Catalogues are validated whole before anything is written: a bad row stops the run with nothing changed.
    for catalogue in map(Path, catalogues):
        for key, records in product_records(load_catalogue(catalogue), catalogue).items():
            if key in wanted:
                raise StoreError(f"catalogue {catalogue}: product id {key.split(':', 1)[1]!r} is also in "
                                 f"{wanted[key][0].metadata['source']}; product ids must be unique across catalogues")
            wanted[key] = records
    doc_records, protected = _document_records(document_files(documents, summary), chunk_chars, progress, summary,
                                               embedder)
    wanted.update(doc_records)

    interrupted = collection.version().startswith(INGESTING)  # an earlier run died between its writes
    stored: dict[str, set[str]] = {}
    for record_id, key in collection.index().items():
        stored.setdefault(key, set()).add(record_id)
    to_add: list[Record] = []
    to_delete: list[str] = []
    for key, records in wanted.items():
        new_ids, old_ids = {r.id for r in records}, stored.get(key, set())
        if new_ids == old_ids:
            summary.unchanged.append(_display(key))
            continue
        (summary.updated if old_ids else summary.added).append(_display(key))
        to_add += [r for r in records if r.id not in old_ids]
        to_delete += sorted(old_ids - new_ids)
    if sync:
        for key in sorted(set(stored) - set(wanted) - protected):
            summary.deleted.append(_display(key))
            to_delete += sorted(stored[key])

    if to_add or to_delete:
        collection.set_version(INGESTING + uuid.uuid4().hex)
    if to_add:
        to_add.sort(key=lambda r: len(r.text))  # batches of similar length pad less
        embed_started = time.perf_counter()
        bar = tqdm(total=len(to_add), desc="embedding", unit="record", disable=not progress)
        for start in range(0, len(to_add), EMBED_BATCH):
            part = to_add[start:start + EMBED_BATCH]
            collection.add(part, embedder.embed_documents([r.text for r in part]))
            bar.update(len(part))
        bar.close()
        summary.embed_seconds = time.perf_counter() - embed_started
        summary.embedder = embedder.backend
    collection.delete(to_delete)  # only after the new records are in
    if to_add or to_delete or interrupted:
        collection.set_version(uuid.uuid4().hex)
    summary.records_added, summary.records_deleted = len(to_add), len(to_delete)
    summary.total_records = collection.count()
    summary.seconds = time.perf_counter() - started
    logger.info("ingestion into %s: %s", collection.settings.where, " | ".join(summary.lines()))
    return summary
