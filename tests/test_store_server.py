"""The store on a Chroma server (`chroma run` on 127.0.0.1, started by a fixture): the same ingestion and search
over HTTP, an index that outlives a server restart, LangChain reading the same collection, and a clear error
when no server answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmft.errors import StoreError
from llmft.store import KnowledgeBase, StoreSettings
from llmft.store.embeddings import Embedder
from tests.support.chroma_server import ChromaServer, chroma_server, free_port  # noqa: F401 (a fixture)
from tests.support.store_docs import SHIPPING_MD, write_small_shop


@pytest.fixture(scope="module")
def server(chroma_server: ChromaServer) -> ChromaServer:  # noqa: F811 (the imported fixture)
    return chroma_server


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture()
def shop(tmp_path: Path) -> Path:
    return write_small_shop(tmp_path)


def _kb(server: ChromaServer, embedder: Embedder, collection: str) -> KnowledgeBase:
    return KnowledgeBase(StoreSettings(host=server.host, port=server.port, collection=collection), embedder)


def test_ingest_twice_and_search_over_http(server: ChromaServer, embedder: Embedder, shop: Path) -> None:
    kb = _kb(server, embedder, "twice")
    first = kb.ingest(shop / "products.csv", [shop / "delivery.md"], progress=False)
    assert first.records_added == 5 and kb.settings.where == f"Chroma server 127.0.0.1:{server.port}"
    second = kb.ingest(shop / "products.csv", [shop / "delivery.md"], progress=False)
    assert second.records_added == 0 and len(second.unchanged) == 4
    hit = kb.search("cheapest kitchen item", k=1).hits[0]
    assert hit.citation == "product K-2: Granite Mortar" and hit.reason == "category = kitchen, cheapest first"
    courier = kb.search("can I get my order tomorrow morning?", k=1).hits[0]
    assert courier.citation == "delivery.md, section Courier"


def test_a_changed_file_replaces_its_chunks_over_http(server: ChromaServer, embedder: Embedder, shop: Path) -> None:
    kb = _kb(server, embedder, "changes")
    kb.ingest(shop / "products.csv", [shop / "delivery.md"], progress=False)
    (shop / "delivery.md").write_text(SHIPPING_MD.replace("for 12 euros", "for 15 euros"))
    summary = kb.ingest(shop / "products.csv", [shop / "delivery.md"], progress=False)
    assert summary.updated == ["delivery.md"] and (summary.records_added, summary.records_deleted) == (1, 1)
    texts = [r.text for r in kb.collection.records() if "Courier" in r.text]
    assert len(texts) == 1 and "15 euros" in texts[0]


def test_a_searching_process_sees_another_ones_ingestion(server: ChromaServer, embedder: Embedder,
                                                          shop: Path) -> None:
    bot, admin = _kb(server, embedder, "shared"), _kb(server, embedder, "shared")  # two clients, as two processes
    admin.ingest(shop / "products.csv", [shop / "delivery.md"], progress=False)
    assert "12 euros" in bot.search("courier price", k=1).hits[0].text
    (shop / "delivery.md").write_text(SHIPPING_MD.replace("for 12 euros", "for 15 euros"))
    admin.ingest(shop / "products.csv", [shop / "delivery.md"], progress=False)  # same number of records
    assert "15 euros" in bot.search("courier price", k=1).hits[0].text


def test_the_index_outlives_a_server_restart(embedder: Embedder, shop: Path, tmp_path: Path) -> None:
    data = tmp_path / "restart-data"
    with ChromaServer(data) as first:
        _kb(first, embedder, "kept").ingest(shop / "products.csv", [shop / "delivery.md"], progress=False)
    with ChromaServer(data) as second:
        kb = _kb(second, embedder, "kept")
        assert kb.count() == 5
        assert kb.search("Reading Lantern", k=1).hits[0].citation == "product L-1: Reading Lantern"


def test_langchain_reads_the_same_collection(server: ChromaServer, embedder: Embedder, shop: Path) -> None:
    from langchain_chroma import Chroma

    kb = _kb(server, embedder, "langchain")
    kb.ingest(shop / "products.csv", [shop / "delivery.md"], progress=False)
    vectors = Chroma(client=kb.collection.client, collection_name="langchain", embedding_function=embedder)
    [document] = vectors.similarity_search("a kettle that whistles", k=1)
    assert document.metadata["product_id"] == "K-1" and document.metadata["price"] == 39.5


def test_no_server_is_a_clear_error(embedder: Embedder) -> None:
    port = free_port()
    with pytest.raises(StoreError, match=rf"Chroma server 127.0.0.1:{port} does not answer .*chroma run --host "
                                         rf"127.0.0.1 --port {port}"):
        KnowledgeBase(StoreSettings(host="127.0.0.1", port=port), embedder)
