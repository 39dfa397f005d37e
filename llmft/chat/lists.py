"""Answers about several products, computed from the catalogue: a list under constraints, a superlative, and a
comparison of two products on the attribute asked (with the winner computed, never guessed).

    "2 headphones under $100.00: the Lumo Buds ($49.00) [1] and the Brightline Sport Neckband ($39.00, out of
     stock) [2]."
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from llmft.chat.fields import Claim, days, field_claim, money, weight_in_grams
from llmft.chat.intent import Ask
from llmft.chat.shop import Product, Shop, singular, tokens
from llmft.store import SearchResult
from llmft.store.filters import Constraints, apply_constraints

MAX_LISTED = 6
_SORT_WORDS = {"price_asc": "cheapest", "price_desc": "most expensive", "rating_desc": "best rated"}


def noun(constraints: Constraints, plural: bool = True) -> str:
    if len(constraints.categories) != 1:
        return "products" if plural else "product"
    words = constraints.categories[0].replace("-", " ").replace("_", " ").lower()
    last = words.split()[-1]
    return words if plural or last == "headphones" else " ".join([*words.split()[:-1], singular(last)])


def limits(constraints: Constraints) -> str:
    """The constraints as a shopper would say them: "from Apple under $100.00, in stock"."""
    parts = []
    if constraints.brands:
        parts.append("from " + " or ".join(constraints.brands))
    low, high = constraints.min_price, constraints.max_price
    if low is not None and high is not None:
        parts.append(f"between {money(low)} and {money(high)}")
    elif high is not None:
        parts.append(f"under {money(high)}")
    elif low is not None:
        parts.append(f"over {money(low)}")
    if constraints.min_rating is not None:
        parts.append(f"rated {constraints.min_rating:g} or more")
    if constraints.in_stock:
        parts.append("in stock")
    return " ".join(parts)


def _stock_note(product: Product) -> str:
    stock = field_claim(product, "stock")
    return ", out of stock" if stock is not None and stock.polarity == "no" else ""


class ListAnswers:
    def __init__(self, shop: Shop, cite: Callable[[Product, str], str]):
        self.shop = shop
        self.cite = cite

    def _products(self, constraints: Constraints) -> list[Product]:
        chosen = apply_constraints(constraints, (p.meta for p in self.shop.products))
        by_id = {p.id: p for p in self.shop.products}
        return [by_id[str(m.get("product_id"))] for m in chosen if str(m.get("product_id")) in by_id]

    def _item(self, product: Product, reason: str) -> str:
        price = money(product.price) if product.price is not None else "price not listed"
        return f"the {product.title} ({price}{_stock_note(product)}) {self.cite(product, reason)}"

    def listing(self, draft: Any, ask: Ask, result: SearchResult) -> None:
        constraints = result.constraints
        if ask.in_focus and ask.products and not constraints.filters_products:  # "any cheaper ones?"
            base = ask.products[0]
            found = sorted((p for p in self.shop.products if p.category == base.category and p.price is not None
                            and base.price is not None and p.price < base.price), key=lambda p: p.price or 0.0)
            kind = noun(Constraints(categories=[base.category]))
            what = f"{kind} cheaper than the {base.title} ({money(base.price or 0)})"
        else:
            found = self._products(constraints)
            if not constraints.sort:
                found.sort(key=lambda p: p.price if p.price is not None else float("inf"))
            what = " ".join(w for w in (noun(constraints), limits(constraints)) if w)
        reason = what
        if not found:
            draft.add(Claim(f"No {what} in the catalogue"), "")
            draft.answer.kind = "list"
            return
        shown = [self._item(p, reason) for p in found[:MAX_LISTED]]
        listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
        more = f"; {len(found) - MAX_LISTED} more match" if len(found) > MAX_LISTED else ""
        count = f"{len(found)} {what}" if len(found) > 1 else f"One {noun(constraints, plural=False)} matches"
        draft.add(Claim(f"{count}: {listed}{more}", [p.title for p in found[:MAX_LISTED]]), "")
        draft.answer.products = [p.title for p in found[:MAX_LISTED]]

    def superlative(self, draft: Any, ask: Ask) -> None:
        constraints = ask.constraints
        if ask.in_focus and ask.products:
            pool = apply_constraints(Constraints(sort=constraints.sort), (p.meta for p in ask.products))
            by_id = {p.id: p for p in ask.products}
            ranked = [by_id[str(m.get("product_id"))] for m in pool]
            scope = "of those"
        else:
            ranked = self._products(constraints)
            scope = " ".join(w for w in (noun(constraints, plural=False), limits(constraints)) if w)
            if not constraints.categories:  # "the cheapest jacket": the products whose title says what was asked
                named = [p for p in ranked if _title_words(p) & _asked_words(draft.question)]
                if named:
                    asked = " ".join(sorted(_title_words(named[0]) & _asked_words(draft.question)))
                    ranked, scope = named, " ".join(w for w in (asked, limits(constraints)) if w)
        if not ranked:
            draft.add(Claim(f"No {noun(constraints)} {limits(constraints)} in the catalogue".replace("  ", " ")), "")
            return
        if (count := _count(draft.question)) > 1:  # "the two cheapest tents": the first few, in order
            shown = [self._item(p, _SORT_WORDS.get(constraints.sort or "", "")) for p in ranked[:count]]
            listed = ", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0]
            word = _SORT_WORDS.get(constraints.sort or "", "first")
            draft.add(Claim(f"The {len(shown)} {word} {noun(constraints)}: {listed}",
                            [p.title for p in ranked[:count]]), "")
            draft.answer.products = [p.title for p in ranked[:count]]
            return
        top, word = ranked[0], _SORT_WORDS.get(constraints.sort or "", "first")
        detail = (f"rated {float(top.meta.get('rating') or 0):g} out of 5, at {money(top.price or 0)}"
                  if constraints.sort == "rating_desc" else f"at {money(top.price or 0)}")
        text = f"The {word} {scope} is the {top.title}, {detail}"
        keep = [top.title, money(top.price or 0)]
        draft.add(Claim(text, keep), self.cite(top, f"{word} {scope}"))
        draft.answer.products = [top.title]
        filtered = ask.attribute == "stock" and constraints.in_stock  # "in stock" was a filter, not a question
        if ask.attribute not in (None, "price", "rating") and not filtered:  # "the cheapest laptop's warranty"
            draft.attribute_of(top, ask.attribute)

    def compare(self, draft: Any, ask: Ask) -> None:
        first, second = ask.products[:2]
        attribute = ask.attribute
        draft.answer.products = [first.title, second.title]
        if attribute in (None, "price", "rating"):
            self._compare_numbers(draft, ask, first, second)
            return
        claims = []
        for product in (first, second):
            claim = draft.attribute_of(product, attribute)
            claims.append(claim)
        values = [_comparable(c, attribute) for c in claims]
        if None in values or values[0] == values[1]:
            return
        winner = first if (values[0] < values[1]) == (ask.wants == "lower") else second
        word = {"shipping": "ships faster", "size": "is lighter" if ask.wants == "lower" else "is heavier",
                "warranty": "has the longer warranty", "returns": "has the longer return window"}.get(attribute or "")
        if word:
            draft.add(Claim(f"So the {winner.title} {word}", [winner.title]), "")

    def _compare_numbers(self, draft: Any, ask: Ask, first: Product, second: Product) -> None:
        if ask.attribute is None and "differen" not in draft.question.lower():
            for product in (first, second):
                rating = product.meta.get("rating")
                rated = f" and is rated {float(rating):g} out of 5" if rating is not None else ""
                price = money(product.price or 0)
                draft.add(Claim(f"The {product.title} costs {price}{rated}", [product.title, price]),
                          self.cite(product, "named in the question"))
            return
        key = "rating" if ask.attribute == "rating" else "price"
        values = [float(p.meta.get(key) or 0) for p in (first, second)]
        shown = [money(v) if key == "price" else f"rated {v:g}" for v in values]
        cites = [self.cite(p, "named in the question") for p in (first, second)]
        keep = [first.title, second.title, *shown]
        if values[0] == values[1]:
            same = f"cost the same: {shown[0]}" if key == "price" else f"are rated the same: {values[0]:g} out of 5"
            draft.add(Claim(f"The {first.title} {cites[0]} and the {second.title} {cites[1]} {same}", keep), "")
            return
        wins = 0 if (values[0] < values[1]) == (ask.wants == "lower") else 1
        loses = 1 - wins
        products = (first, second)
        if key == "price":
            word = "cheaper" if ask.wants == "lower" else "more expensive"
        else:
            word = "better rated" if ask.wants == "higher" else "less well rated"
        text = (f"The {products[wins].title} ({shown[wins]}) {cites[wins]} is {word} than the "
                f"{products[loses].title} ({shown[loses]}) {cites[loses]}")
        if key == "price" and "differen" in draft.question.lower():
            text += f"; the difference is {money(abs(values[0] - values[1]))}"
        draft.add(Claim(text, keep), "")


_GENERIC_WORDS = {"product", "item", "thing", "one", "option", "the", "a", "an", "your", "you", "sell", "have", "what",
                  "which", "is", "are", "cheapest", "best", "most", "expensive", "rated", "least", "lowest", "highest",
                  "top", "price", "priced", "in", "stock", "do", "of"}


def _title_words(product: Product) -> set[str]:
    return {singular(w) for w in tokens(product.title)} - _GENERIC_WORDS


def _asked_words(question: str) -> set[str]:
    return {singular(w) for w in tokens(question)} - _GENERIC_WORDS


_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "2": 2, "3": 3, "4": 4, "5": 5}


def _count(question: str) -> int:
    """How many the question asks for: "the two cheapest", "3 best rated"; 1 when it does not say."""
    match = re.search(r"\b(two|three|four|five|[2-5])\s+(?:cheapest|most|best|least|highest|lowest|top)\b",
                      question.lower())
    return _COUNTS[match.group(1)] if match else 1


def _comparable(claim: Claim | None, attribute: str | None) -> float | None:
    if claim is None:
        return None
    if attribute == "size":
        return weight_in_grams(claim.text) if weight_in_grams(claim.text) is not None else claim.value
    return claim.value if claim.value is not None else days(claim.text)
