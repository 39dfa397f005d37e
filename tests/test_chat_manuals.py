"""Answers quoted from a product's own manual: a spec line, an FAQ answer (with its yes or no), a policy given
case by case, and a comparison of figures two manuals state. The store is written here by hand: a two-product
catalogue and one Markdown manual each, in the shape of the Contoso manuals (title line, Technical Specs,
Return Policy by membership, Reviews, FAQ)."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from llmft.chat import ShopBot
from llmft.store import KnowledgeBase, StoreSettings
from llmft.store.embeddings import Embedder

CATALOGUE = """id,name,price,category,brand,description
1,Trail Stove,80.0,Camping Stoves,EmberCo,"A compact stove for backpacking trips."
2,Camp Kettle,35.0,Camping Stoves,EmberCo,"A kettle for boiling water at camp."
"""


def manual(number: int, title: str, weight: str, indoors: str) -> str:
    return f"""# Information about product item_number: {number}
{title}, price $80,

## Technical Specs
**Material**: Stainless Steel
**Weight**: {weight}
**Color**: Silver

## Return Policy
- **If Membership status "None":** Returns are accepted within 30 days of purchase, with a 10% restocking fee.
- **If Membership status "Gold":** Returns are accepted within 60 days of purchase, with free return shipping.

## Reviews
1) Rating: 2 Review: I wish the {title} weighed 9 lbs less, it feels like 11 lbs in my pack.

## FAQ
1) Can the {title} be used indoors?
   {indoors}

2) How long does the {title} take to boil water?
   The {title} boils 1 liter of water in about 5 minutes.
"""


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    root = tmp_path_factory.mktemp("manuals")
    (root / "products.csv").write_text(CATALOGUE)
    (root / "manuals").mkdir()
    (root / "manuals" / "stove.md").write_text(manual(
        1, "Trail Stove", "2 lbs", "No, the Trail Stove is designed for outdoor use only."))
    (root / "manuals" / "kettle.md").write_text(manual(
        2, "Camp Kettle", "1.5 lbs", "Yes, the Camp Kettle can be used on an indoor gas hob."))
    store = KnowledgeBase(StoreSettings(path=root / "store"), Embedder())
    store.ingest(root / "products.csv", [root / "manuals"], progress=False)
    return store


def fake(text: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(text)]))


def test_a_spec_line_of_the_manual_and_not_a_review(kb: KnowledgeBase) -> None:
    reply = ShopBot(kb).answer("How much does the Trail Stove weigh?")
    assert "Weight: 2 lbs" in reply.text and "9 lbs" not in reply.text and "11 lbs" not in reply.text
    assert reply.sources.items[0].file == "stove.md" and "Technical Specs" in reply.sources.items[0].citation


def test_a_policy_given_case_by_case(kb: KnowledgeBase) -> None:
    reply = ShopBot(kb).answer("What's the return policy for the Trail Stove?")
    assert "within 30 days of purchase" in reply.text and "60 days" not in reply.text
    assert "first case it lists" in reply.text and "Gold" in reply.text  # it says what it assumed
    reply = ShopBot(kb).answer("As a Gold member, how long do I have to return the Trail Stove?")
    assert "within 60 days of purchase" in reply.text and "30 days" not in reply.text


def test_an_faq_answer_keeps_its_no(kb: KnowledgeBase) -> None:
    reply = ShopBot(kb).answer("Can I use the Trail Stove indoors?")
    assert "outdoor use only" in reply.text
    flipped = ShopBot(kb, fake("Yes, the Trail Stove can be used indoors [1]."), "fake").answer(
        "Can I use the Trail Stove indoors?")
    assert flipped.status == "replaced" and "outdoor use only" in flipped.text
    assert any("yes where the store's data says no" in p or "drops the store's 'no'" in p for p in flipped.problems)
    reply = ShopBot(kb).answer("How long does the Camp Kettle take to boil water?")
    assert "about 5 minutes" in reply.text and "Camp Kettle" in reply.text


def test_a_comparison_of_figures_from_two_manuals(kb: KnowledgeBase) -> None:
    reply = ShopBot(kb).answer("Which is lighter, the Trail Stove or the Camp Kettle?")
    assert "2 lbs" in reply.text and "1.5 lbs" in reply.text
    assert reply.text.endswith("So the Camp Kettle is lighter.")
    assert {s.file for s in reply.sources.items} == {"stove.md", "kettle.md"}


def test_the_manual_is_tied_to_its_product(kb: KnowledgeBase, tmp_path: Path) -> None:
    bot = ShopBot(kb)
    shop = bot.shop()
    assert {p.title: len(shop.documents_of(p)) > 0 for p in shop.products} == {"Trail Stove": True,
                                                                              "Camp Kettle": True}
    assert shop.store_documents == []  # both files are manuals: no store-wide policy
