"""Constraints parsed from questions, and the demo catalogue filtered and sorted by them (answers written by hand)."""

from __future__ import annotations

import pytest

from llmft.store import Constraints, Vocabulary, apply_constraints, demo_files, load_catalogue, parse_constraints

PRODUCTS = [p.metadata() for p in load_catalogue(demo_files()[0])]
VOCABULARY = Vocabulary.from_products(PRODUCTS)


@pytest.mark.parametrize(
    ("question", "described"),
    [
        ("cheapest phone under $300", "price <= 300, category = smartphones, cheapest first"),
        ("laptops between 500 and 1200 dollars", "price >= 500, price <= 1200, category = laptops"),
        ("Nimbus phones from $100 to $250", "price >= 100, price <= 250, category = smartphones, brand = Nimbus"),
        ("best rated headphones in stock", "category = headphones, in stock, best rated first"),
        ("most expensive running shoes", "category = running-shoes, most expensive first"),
        ("a desk lamp for less than 50", "price <= 50, category = desk-lamps"),
        ("coffee makers rated 4.5 or more", "category = coffee-makers, rating >= 4.5"),
        ("a tent for more than 2 people", "category = tents"),  # 2 people is not a price
        ("a smartwatch with 7 days of battery", "category = smartwatches"),
        ("what is your return policy?", ""),
        ("Is the Orbit Lite in stock?", "brand = Orbit"),  # about one product: no stock filter to hide it
    ],
)
def test_parse(question: str, described: str) -> None:
    assert parse_constraints(question, VOCABULARY).describe() == described


def test_words_for_several_categories_keep_all_of_them() -> None:
    vocabulary = Vocabulary.from_products([{"category": "mens-shoes"}, {"category": "womens-shoes"}])
    assert parse_constraints("shoes under 80", vocabulary).categories == ["mens-shoes", "womens-shoes"]
    assert parse_constraints("women's shoes", vocabulary).categories == ["womens-shoes"]


def _titles(question: str) -> list[tuple[str, float]]:
    return [(m["title"], m["price"]) for m in apply_constraints(parse_constraints(question, VOCABULARY), PRODUCTS)]


def test_cheapest_phone_under_300() -> None:
    assert _titles("cheapest phone under $300") == [("Nimbus A5", 199.0), ("Kestrel Rugged X", 279.0)]


def test_most_expensive_laptop_first() -> None:
    assert _titles("most expensive laptop")[0] == ("Kestrel Workstation 16", 1899.0)


def test_in_stock_leaves_out_sold_out_items() -> None:
    # Brightline Sport Neckband ($39) is the cheapest pair of headphones but has none in stock.
    assert _titles("cheapest headphones")[0] == ("Brightline Sport Neckband", 39.0)
    assert _titles("cheapest headphones in stock")[0] == ("Lumo Buds", 49.0)


def test_best_rated_and_price_range() -> None:
    assert _titles("best rated headphones")[0] == ("Brightline Studio Over-Ear", 249.0)
    assert _titles("laptops between 500 and 1200 dollars") == [("Orbit Book 13", 1099.0), ("Nimbus Slim 15", 649.0)]


def test_cheapest_of_everything() -> None:
    assert _titles("what is the cheapest thing you sell?")[0] == ("Brightline Clamp Lamp", 25.0)


def test_follow_up_constraints_merge_over_the_earlier_ones() -> None:
    earlier = parse_constraints("show me tents under $400", VOCABULARY)
    merged = parse_constraints("which one is the cheapest?", VOCABULARY).merged_over(earlier)
    assert merged.describe() == "price <= 400, category = tents, cheapest first"
    assert not Constraints() and Constraints(in_stock=True).filters_products
