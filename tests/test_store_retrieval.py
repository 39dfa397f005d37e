"""Retrieval over the demo shop: answers written by hand from llmft/store/demo (catalogue.csv, policies/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmft.errors import StoreError
from llmft.store import KnowledgeBase, StoreSettings, demo_files
from llmft.store.embeddings import Embedder


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    catalogue, policies = demo_files()
    store = KnowledgeBase(StoreSettings(path=tmp_path_factory.mktemp("demo-store")), Embedder())
    store.ingest(catalogue, policies, progress=False)
    return store


def _top(kb: KnowledgeBase, question: str, **kwargs: object) -> list[str]:
    return [hit.citation for hit in kb.search(question, **kwargs).hits]  # type: ignore[arg-type]


def test_cheapest_phone_under_300_with_the_reason(kb: KnowledgeBase) -> None:
    result = kb.search("What's the cheapest phone under $300?", k=3)
    first = result.hits[0]
    assert first.citation == "product SP-101: Nimbus A5" and first.metadata["price"] == 199.0
    assert first.reason == "price <= 300, category = smartphones, cheapest first"
    assert result.hits[1].citation == "product SP-105: Kestrel Rugged X"  # $279, the only other phone under $300


def test_superlatives(kb: KnowledgeBase) -> None:
    assert _top(kb, "most expensive laptop", k=1) == ["product LP-203: Kestrel Workstation 16"]
    assert _top(kb, "best rated headphones", k=1) == ["product HP-303: Brightline Studio Over-Ear"]
    assert _top(kb, "cheapest headphones in stock", k=1) == ["product HP-301: Lumo Buds"]  # the $39 pair is sold out


def test_price_filter_restricts_the_ranking(kb: KnowledgeBase) -> None:
    result = kb.search("a tent under $200", k=5)
    assert [h.citation for h in result.hits] == ["product TN-701: Fjell Solo Tarp Tent"]
    assert result.hits[0].reason.startswith("price <= 200, category = tents; ")


def test_nothing_matches_gives_a_note_not_a_wrong_product(kb: KnowledgeBase) -> None:
    result = kb.search("laptops under $100")
    assert result.hits == [] and result.note == "no product matches price <= 100, category = laptops"


def test_lookup_by_description(kb: KnowledgeBase) -> None:
    assert _top(kb, "a phone I can drop in water", k=1) == ["product SP-105: Kestrel Rugged X"]
    assert _top(kb, "espresso machine with a milk frother", k=1) == ["product CM-503: Crema Espresso Duo"]


@pytest.mark.parametrize(
    ("question", "citation", "fact"),
    [
        ("How much does express delivery cost?", "shipping.md, section Express shipping", "$14.95"),
        ("How many days do I have to return an item?", "returns.html, section Returns and refunds | How to return an "
                                                       "item", "within 30 days of delivery"),
        ("How long is the warranty on a laptop?", "warranty.md, section Warranty | Warranty periods", "Laptops: 2"),
        ("Do you ship to the UK?", "shipping.md, section International shipping", "United Kingdom"),
        ("Which cards can I pay with?", "contact.txt, section CONTACT AND PAYMENT | Payment methods", "Mastercard"),
    ],
)
def test_policy_passages(kb: KnowledgeBase, question: str, citation: str, fact: str) -> None:
    hit = kb.search(question, k=3).hits[0]
    assert hit.citation == citation and fact in hit.text


def test_follow_up_is_resolved_against_the_history(kb: KnowledgeBase) -> None:
    history = [{"role": "user", "content": "Show me your tents"}, {"role": "assistant", "content": "We have three."}]
    result = kb.search("Which one is the cheapest?", k=1, history=history)
    assert result.query == "Show me your tents Which one is the cheapest?"
    assert result.hits[0].citation == "product TN-701: Fjell Solo Tarp Tent"
    # A rewritten question (the chat layer's LLM) replaces both.
    rewritten = kb.search("and that one?", k=1, history=history, rewritten="most expensive smartwatch")
    assert rewritten.hits[0].citation == "product SW-403: Pacer Trail Solar"


def test_hits_become_langchain_documents_with_their_source(kb: KnowledgeBase) -> None:
    [document] = kb.search("Lakeside Care+ price", k=1).documents()
    assert "It costs $49" in document.page_content
    assert document.metadata["citation"] == "warranty.md, section Lakeside Care+"
    assert document.metadata["file"] == "warranty.md" and document.metadata["reason"]


def test_langchain_retriever_with_a_follow_up(kb: KnowledgeBase) -> None:
    retriever = kb.as_retriever(k=2)
    [first, second] = retriever.invoke("Which one is the most expensive?", history=[("user", "Do you sell tents?")])
    assert first.metadata["citation"] == "product TN-703: Tundra Basecamp 4"  # $459, the dearest of the three tents
    assert second.metadata["title"] == "Fjell Ridge 2" and "most expensive first" in second.metadata["reason"]


@pytest.mark.parametrize("mode", ["bm25", "vector", "fusion"])
def test_plain_modes_ignore_filters(kb: KnowledgeBase, mode: str) -> None:
    result = kb.search("Orbit One flagship phone", k=3, mode=mode)
    assert result.hits[0].citation == "product SP-103: Orbit One" and not result.constraints


@pytest.mark.parametrize(
    ("question", "expected"),
    [("", "the question is empty"), ("   \n ", "the question is empty"),
     ("why? " * 4000, "the question has 20,000 characters; the limit is 2,000")],
)
def test_bad_questions(kb: KnowledgeBase, question: str, expected: str) -> None:
    with pytest.raises(StoreError, match=expected):
        kb.search(question)


def test_bad_mode_and_k(kb: KnowledgeBase) -> None:
    with pytest.raises(StoreError, match="search mode 'psychic' is not one of hybrid, fusion, bm25, vector"):
        kb.search("phones", mode="psychic")
    with pytest.raises(StoreError, match="k=0 is outside 1..100"):
        kb.search("phones", k=0)


def test_an_empty_store_says_so(tmp_path: Path) -> None:
    result = KnowledgeBase(StoreSettings(path=tmp_path / "empty"), Embedder()).search("cheapest phone")
    assert result.hits == [] and result.note == (f"the store folder {tmp_path / 'empty'} is empty: ingest a catalogue "
                                                 "or documents first")


def test_demo_store_fills_itself_once(tmp_path: Path) -> None:
    demo = KnowledgeBase.demo(tmp_path / "demo")
    assert demo.count() == 35 + 13 and demo.settings.collection == "demo"
    assert KnowledgeBase.demo(tmp_path / "demo") is demo


def test_follow_up_reads_gradio_content_blocks(kb: KnowledgeBase) -> None:
    """Gradio 6 chat history holds content blocks, not strings: the earlier question must still be found."""
    history = [
        {"role": "user", "content": [{"type": "text", "text": "Show me your tents"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "We have three."}]},
    ]
    result = kb.search("Which one is the cheapest?", k=1, history=history)
    assert result.query == "Show me your tents Which one is the cheapest?"
