"""Structured constraints from a question, answered from the catalogue's metadata rather than from embeddings.

`parse_constraints("cheapest phone under $300 in stock", vocabulary)` finds price limits, categories and brands
that the catalogue has, a minimum rating, "in stock", and a superlative (cheapest, most expensive, best rated);
`apply_constraints` filters and sorts product metadata by them; `Constraints.describe()` says why a product was
chosen: "price <= 300, category = smartphones, in stock, cheapest first".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

_NUMBER = r"(\d[\d,]*(?:\.\d+)?)"
# A number that is not part of a longer one and not followed by a unit other than money.
_UNITS = (r"stars?|%|percent|gb|tb|mb|mp|kg|g\b|lbs?|oz|ml|l\b|lit[er]{2}s?|inch|inches|cm|mm|m\b|people|persons?|"
          r"years?|months?|days?|hours?|hrs?|minutes?|mah|w\b|hz|cups?|degrees?|items?|pieces?")
_MONEY = rf"\$?\s*{_NUMBER}(?!\d|[.,]\d)(?!\s*(?:{_UNITS}))"
_PRICE_WORDS = re.compile(r"\$|\b(?:price[sd]?|cost[s]?|dollars?|usd|budget|spend|cheap\w*|expensive|afford\w*|pay)\b")
_BETWEEN = re.compile(rf"(?:between|from)\s+{_MONEY}\s*(?:and|to|-)\s*{_MONEY}|\${_NUMBER}\s*(?:-|to)\s*\$?{_NUMBER}")
# Words that mean a price limit on their own ("under 50"), and weaker ones that need a price word nearby.
_MAX_STRONG = re.compile(rf"(?:under|below|cheaper than|less than|lower than|at most|up to|no more than|max(?:imum)?"
                         rf"|within|<=?)\s*{_MONEY}|{_MONEY}\s*(?:dollars\s*)?(?:or less|or under|or cheaper|max)")
_MIN_STRONG = re.compile(rf"(?:over|above|more than|at least|greater than|min(?:imum)?|pricier than|"
                         rf"more expensive than|>=?)\s*{_MONEY}|{_MONEY}\s*(?:dollars\s*)?(?:or more|and up|plus)")
_WEAK = {"at most", "up to", "no more than", "max", "maximum", "within", "more than", "at least",
         "greater than", "min", "minimum"}
_OR_MORE = r"(?:\s*(?:or more|and up|or above|or better))?"
_RATING = re.compile(rf"(?:rated|rating)(?: of)?\s*(?:at least|above|over|>=?)?\s*(\d(?:\.\d)?)(?!\d)\s*\+?\s*"
                     rf"(?:stars?)?{_OR_MORE}|(\d(?:\.\d)?)\s*\+?\s*stars?{_OR_MORE}")
_SORTS = (  # first match wins: "best price" is a price question, not a rating one
    ("price_asc", re.compile(r"\b(?:cheapest|least expensive|lowest[- ]price[d]?|most affordable|best price|"
                             r"best deal|lowest cost)\b")),
    ("price_desc", re.compile(r"\b(?:most expensive|priciest|highest[- ]price[d]?|dearest|top of the line)\b")),
    ("rating_desc", re.compile(r"\b(?:best[- ]rated|highest[- ]rated|top[- ]rated|best[- ]reviewed|highest rating|"
                               r"best reviews|most popular|best)\b")),
)
_SORT_WORDS = {"price_asc": "cheapest first", "price_desc": "most expensive first", "rating_desc": "best rated first"}
_IN_STOCK = re.compile(r"\b(?:in[- ]stock|available now|available today|currently available|ready to ship)\b")
# Everyday words for categories that some catalogues use; applied only to categories the catalogue has.
_SYNONYMS = {
    "smartphones": ["phone", "phones", "smartphone", "mobile phone", "mobile phones", "cell phone", "cellphone"],
    "laptops": ["laptop", "notebook computer", "notebook computers"],
    "fragrances": ["perfume", "perfumes", "cologne", "colognes", "fragrance", "scent"],
    "beauty": ["makeup", "make-up", "cosmetics"],
    "skin-care": ["skincare", "skin care", "moisturizer", "lotion"],
    "groceries": ["grocery", "food"],
    "home-decoration": ["home decor", "decor"],
    "mobile-accessories": ["phone accessories", "charger", "chargers", "phone case"],
    "womens-jewellery": ["jewelry", "jewellery", "necklace", "earrings"],
    "motorcycle": ["motorbike", "motorbikes", "motorcycles"],
    "vehicle": ["car", "cars", "vehicles"],
    "headphones": ["headphone", "earbuds", "earphones", "headset"],
}
# Category words too common to mean the category alone ("top rated" is not about tops).
_GENERIC = {"top", "tops", "accessory", "accessories", "care", "decoration", "clothing", "gear", "equipment", "bags",
            "bag", "home", "sports"}


@dataclass
class Constraints:
    """What a question asks of the catalogue's metadata; empty when it asks nothing structured."""

    max_price: float | None = None
    min_price: float | None = None
    categories: list[str] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)
    min_rating: float | None = None
    in_stock: bool = False
    sort: str | None = None  # "price_asc", "price_desc" or "rating_desc"

    @property
    def filters_products(self) -> bool:
        """True when the question is clearly about products (a price, rating, stock or order was asked for)."""
        return (self.max_price is not None or self.min_price is not None or self.min_rating is not None
                or self.in_stock or self.sort is not None)

    def __bool__(self) -> bool:
        return self.filters_products or bool(self.categories or self.brands)

    def describe(self) -> str:
        parts = []
        if self.min_price is not None:
            parts.append(f"price >= {self.min_price:g}")
        if self.max_price is not None:
            parts.append(f"price <= {self.max_price:g}")
        for name, values in (("category", self.categories), ("brand", self.brands)):
            if values:
                parts.append(f"{name} = {values[0]}" if len(values) == 1 else f"{name} in ({', '.join(values)})")
        if self.min_rating is not None:
            parts.append(f"rating >= {self.min_rating:g}")
        if self.in_stock:
            parts.append("in stock")
        if self.sort:
            parts.append(_SORT_WORDS[self.sort])
        return ", ".join(parts)

    def merged_over(self, earlier: Constraints) -> Constraints:
        """A follow-up's constraints on top of the conversation's: what the follow-up says wins."""
        merged = replace(earlier)
        for name in ("max_price", "min_price", "min_rating", "sort"):
            if getattr(self, name) is not None:
                setattr(merged, name, getattr(self, name))
        merged.categories = self.categories or earlier.categories
        merged.brands = self.brands or earlier.brands
        merged.in_stock = self.in_stock or earlier.in_stock
        return merged


def _singular(word: str) -> str:
    for plural, single in (("ches", "ch"), ("shes", "sh"), ("sses", "ss"), ("xes", "x"), ("ies", "y")):
        if word.endswith(plural):
            return word[: -len(plural)] + single
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _category_variants(category: str) -> set[str]:
    base = re.sub(r"[-_]+", " ", category.lower()).strip()
    words = base.split()
    variants = {base, " ".join(words[:-1] + [_singular(words[-1])])}
    if words and words[0] in ("mens", "womens", "men", "women") and len(words) > 1:
        person = words[0].rstrip("s")
        tail = words[1:]
        for head in (f"{person}'s", f"{person}s", person):
            variants |= {" ".join([head, *tail]), " ".join([head, *tail[:-1], _singular(tail[-1])])}
        variants |= {" ".join(tail), " ".join(tail[:-1] + [_singular(tail[-1])])}
    elif len(words) > 1:
        variants |= {words[-1], _singular(words[-1])}
    variants |= set(_SYNONYMS.get(category.lower(), []))
    return {v for v in variants if v and v not in _GENERIC}


@dataclass
class Vocabulary:
    """The categories and brands a catalogue has, with the phrases that name them in a question."""

    phrases: list[tuple[str, str, str]] = field(default_factory=list)  # (phrase, "category"|"brand", value)

    @classmethod
    def from_products(cls, products: Iterable[Mapping[str, Any]]) -> Vocabulary:
        phrases: set[tuple[str, str, str]] = set()
        for meta in products:
            if category := meta.get("category"):
                phrases |= {(v, "category", str(category)) for v in _category_variants(str(category))}
            if brand := meta.get("brand"):
                phrases.add((str(brand).lower(), "brand", str(brand)))
        # Longest first, so "men's shoes" claims its words before "shoes" can.
        return cls(sorted(phrases, key=lambda p: (-len(p[0]), p)))


def _normalise(question: str) -> str:
    return re.sub(r"\s+", " ", question.lower().replace("\u2019", "'")).strip()


def _price(text: str, pattern: re.Pattern[str], price_context: bool) -> float | None:
    for match in pattern.finditer(text):
        number = next(g for g in match.groups() if g)
        weak = any(match.group(0).startswith(w) for w in _WEAK) and "$" not in match.group(0)
        if not weak or price_context:
            return float(number.replace(",", ""))
    return None


def parse_constraints(question: str, vocabulary: Vocabulary) -> Constraints:
    text = _normalise(question)
    found = Constraints()
    if rating := _RATING.search(text):
        value = float(next(g for g in rating.groups() if g))
        found.min_rating = value if value <= 5 else None
        text = text[: rating.start()] + " " + text[rating.end():]  # "4.5 or more" is then not read as a price
    price_context = bool(_PRICE_WORDS.search(text))
    if between := _BETWEEN.search(text):
        low, high = (float(g.replace(",", "")) for g in between.groups() if g)
        found.min_price, found.max_price = min(low, high), max(low, high)
        text_rest = text[: between.start()] + " " + text[between.end():]
    else:
        text_rest = text
    if found.max_price is None:
        found.max_price = _price(text_rest, _MAX_STRONG, price_context)
    if found.min_price is None:
        found.min_price = _price(text_rest, _MIN_STRONG, price_context)
    # "Is the Galaxy S8 in stock?" asks about one product: filtering on stock would hide the very product asked about.
    found.in_stock = bool(_IN_STOCK.search(text)) and not re.match(r"(?:is|are|was|were)\b", text)
    found.sort = next((name for name, pattern in _SORTS if pattern.search(text)), None)
    claimed = [False] * len(text)
    spans: list[tuple[int, int]] = []
    for position, (phrase, kind, value) in enumerate(vocabulary.phrases):
        for match in re.finditer(rf"(?<![\w']){re.escape(phrase)}(?![\w'])", text):
            if any(claimed[match.start():match.end()]):
                continue
            spans.append(match.span())
            values = found.categories if kind == "category" else found.brands
            if value not in values:
                values.append(value)
        following = vocabulary.phrases[position + 1][0] if position + 1 < len(vocabulary.phrases) else None
        if following != phrase:  # one phrase may name several categories ("shoes"): all of them get it
            for start, end in spans:
                claimed[start:end] = [True] * (end - start)
            spans = []
    return found


def apply_constraints(constraints: Constraints, products: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The products that meet every constraint, in the asked order (catalogue order when none was asked)."""
    categories = {c.lower() for c in constraints.categories}
    brands = {b.lower() for b in constraints.brands}

    def keep(meta: Mapping[str, Any]) -> bool:
        price = meta.get("price")
        if constraints.max_price is not None and (price is None or price > constraints.max_price):
            return False
        if constraints.min_price is not None and (price is None or price < constraints.min_price):
            return False
        if categories and str(meta.get("category", "")).lower() not in categories:
            return False
        if brands and str(meta.get("brand", "")).lower() not in brands:
            return False
        if constraints.min_rating is not None and float(meta.get("rating") or 0) < constraints.min_rating:
            return False
        return not constraints.in_stock or int(meta.get("stock") or 0) > 0

    kept = [meta for meta in products if keep(meta)]
    if constraints.sort == "price_asc":
        kept.sort(key=lambda m: (m.get("price", float("inf")), -float(m.get("rating") or 0)))
    elif constraints.sort == "price_desc":
        kept.sort(key=lambda m: (-m.get("price", 0.0), -float(m.get("rating") or 0)))
    elif constraints.sort == "rating_desc":
        kept.sort(key=lambda m: (-float(m.get("rating") or 0), m.get("price", float("inf"))))
    return kept
