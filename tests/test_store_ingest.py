"""Ingestion into an embedded (on-disk) Chroma store: idempotent, replaces changed files, syncs deletions,
skips unreadable files, refuses bad catalogues without losing anything, and survives a restart."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from llmft.errors import StoreError
from llmft.store import KnowledgeBase, StoreSettings
from llmft.store.embeddings import Embedder
from tests.support.store_docs import SHIPPING_MD, SMALL_CATALOGUE


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()  # the packaged all-MiniLM-L6-v2; loaded once per process


@pytest.fixture()
def shop(tmp_path: Path) -> Path:
    """A small shop: a catalogue of three products and a folder with one delivery page."""
    (tmp_path / "products.csv").write_text(SMALL_CATALOGUE)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "delivery.md").write_text(SHIPPING_MD)
    return tmp_path


def _kb(path: Path, embedder: Embedder) -> KnowledgeBase:
    return KnowledgeBase(StoreSettings(path=path), embedder)


def _ids(kb: KnowledgeBase) -> set[str]:
    return {record.id for record in kb.collection.records()}


def test_ingesting_twice_adds_nothing(shop: Path, embedder: Embedder) -> None:
    kb = _kb(shop / "store", embedder)
    first = kb.ingest(shop / "products.csv", [shop / "docs"], progress=False)
    assert sorted(first.added) == ["delivery.md", "product K-1", "product K-2", "product L-1"]
    assert first.records_added == first.total_records == 3 + 2  # three products, two delivery sections
    before = _ids(kb)
    second = kb.ingest(shop / "products.csv", [shop / "docs"], progress=False)
    assert (second.added, second.updated, second.records_added, second.records_deleted) == ([], [], 0, 0)
    assert len(second.unchanged) == 4 and _ids(kb) == before
    assert "0 added, 0 updated, 4 unchanged" in second.lines()[0]


def test_a_changed_file_replaces_its_chunks_and_a_changed_row_its_record(shop: Path, embedder: Embedder) -> None:
    kb = _kb(shop / "store", embedder)
    kb.ingest(shop / "products.csv", [shop / "docs"], progress=False)
    courier_before = {r.id for r in kb.collection.records() if "Courier" in r.text}
    (shop / "docs" / "delivery.md").write_text(SHIPPING_MD.replace("for 12 euros", "for 15 euros"))
    (shop / "products.csv").write_text(SMALL_CATALOGUE.replace("39.50", "34.00"))
    summary = kb.ingest(shop / "products.csv", [shop / "docs"], progress=False)
    assert sorted(summary.updated) == ["delivery.md", "product K-1"]
    assert summary.records_added == 2 and summary.records_deleted == 2  # the courier section and the kettle
    courier = [r for r in kb.collection.records() if "Courier" in r.text]
    assert len(courier) == 1 and "15 euros" in courier[0].text and courier[0].id not in courier_before
    kettle = kb.search("Alpine Kettle", k=1).hits[0]
    assert kettle.metadata["price"] == 34.0 and kb.count() == 5
    parcel = kb.search("how long does parcel post take", k=1).hits[0]
    assert parcel.metadata["file"] == "delivery.md" and "4 working days" in parcel.text


def test_sync_deletes_what_is_gone_and_keeps_unreadable_files(shop: Path, embedder: Embedder) -> None:
    kb = _kb(shop / "store", embedder)
    (shop / "docs" / "faq.txt").write_text("GIFT WRAP\n\nEvery order can be gift wrapped for 3 euros.\n")
    kb.ingest(shop / "products.csv", [shop / "docs"], progress=False)
    (shop / "products.csv").write_text("\n".join(line for line in SMALL_CATALOGUE.splitlines()
                                                 if not line.startswith("L-1,")))
    (shop / "docs" / "faq.txt").unlink()
    (shop / "docs" / "delivery.md").write_bytes(b"")  # now unreadable: its chunks must stay
    summary = kb.ingest(shop / "products.csv", [shop / "docs"], sync=True, progress=False)
    assert sorted(summary.deleted) == ["faq.txt", "product L-1"]
    assert summary.skipped == [(str(shop / "docs" / "delivery.md"), f"{shop / 'docs' / 'delivery.md'} is empty")]
    files = {r.metadata.get("file") for r in kb.collection.records()}
    assert files == {None, "delivery.md"} and kb.count() == 2 + 2
    assert any("skipped" in line and "delivery.md is empty" in line for line in summary.lines())


def test_unreadable_file_is_skipped_and_named_while_the_rest_goes_on(shop: Path, embedder: Embedder) -> None:
    (shop / "docs" / "broken.docx").write_bytes(b"not a zip")
    (shop / "docs" / "notes.txt").write_text("")
    kb = _kb(shop / "store", embedder)
    summary = kb.ingest(shop / "products.csv", [shop / "docs"], progress=False)
    assert sorted(Path(name).name for name, _ in summary.skipped) == ["broken.docx", "notes.txt"]
    assert "cannot be read as docx" in dict(summary.skipped)[str(shop / "docs" / "broken.docx")]
    assert sorted(summary.added) == ["delivery.md", "product K-1", "product K-2", "product L-1"]


@pytest.mark.parametrize(
    ("catalogue", "expected"),
    [
        ("id,title,cost\n1,Mug,3\n", "no 'price' column"),
        ("id,title,price\n1,Mug,three\n", "line 2: price 'three' is not a number"),
        ("id,title,price\n1,Mug,3\n1,Cup,4\n", "product id '1' is also used at line 2"),
    ],
)
def test_bad_catalogue_loses_nothing(shop: Path, embedder: Embedder, catalogue: str, expected: str) -> None:
    kb = _kb(shop / "store", embedder)
    kb.ingest(shop / "products.csv", [shop / "docs"], progress=False)
    before = _ids(kb)
    (shop / "products.csv").write_text(catalogue)
    with pytest.raises(StoreError, match=expected):
        kb.ingest(shop / "products.csv", [shop / "docs"], sync=True, progress=False)
    assert _ids(kb) == before


def test_a_folder_without_documents_is_named(shop: Path, embedder: Embedder) -> None:
    (shop / "images").mkdir()
    (shop / "images" / "logo.png").write_bytes(b"\x89PNG")
    summary = _kb(shop / "store", embedder).ingest([], [shop / "images"], progress=False)
    folder = shop / "images"
    assert summary.skipped == [(str(folder), f"folder {folder} holds no .docx, .htm, .html, .markdown, .md, .pdf, "
                                             ".text, .txt files")]


def test_duplicate_ids_across_catalogues_are_refused(shop: Path, embedder: Embedder) -> None:
    (shop / "more.csv").write_text("id,title,price\nK-2,Stone Mortar,19\n")
    kb = _kb(shop / "store", embedder)
    with pytest.raises(StoreError, match=r"more.csv: product id 'K-2' is also in products.csv"):
        kb.ingest([shop / "products.csv", shop / "more.csv"], progress=False)
    assert kb.count() == 0


def test_a_restart_keeps_the_index(shop: Path, embedder: Embedder, subprocess_env: dict[str, str]) -> None:
    store = shop / "store"
    _kb(store, embedder).ingest(shop / "products.csv", [shop / "docs"], progress=False)
    moved = shop / "moved-store"
    shutil.copytree(store, moved)  # a fresh process on the files alone: nothing shared in memory
    search = subprocess.run(
        [sys.executable, "-m", "llmft.store", "search", "urgent delivery tomorrow", "--store", str(moved), "-k", "1"],
        env=subprocess_env, capture_output=True, text=True, timeout=240,
    )
    assert search.returncode == 0, search.stderr[-2000:]
    assert "1. delivery.md, section Courier" in search.stdout
    again = _kb(moved, embedder).ingest(shop / "products.csv", [shop / "docs"], progress=False)
    assert (again.records_added, len(again.unchanged), again.total_records) == (0, 4, 5)
