"""One product's attribute as a sentence, straight from its catalogue fields: price, brand, stock, rating, discount,
minimum order, warranty, shipping, return policy, weight and size. Each sentence carries the values a phrasing
must keep. `None` when the catalogue has no such field (the answer then looks in the product's documents).

    field_claim(product, "returns")   # Claim("The Kawasaki Z800 has a 90-day return policy ...", keep=[...])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from llmft.chat.intent import Attribute
from llmft.chat.shop import Product

Polarity = Literal["yes", "no"]
_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


@dataclass
class Claim:
    """One sentence of an answer, before its citation marker is added, with what a phrasing must keep."""

    text: str
    keep: list[str] = field(default_factory=list)
    polarity: Polarity | None = None
    value: float | None = None  # a comparable amount: price, rating, days, weight


def money(value: float) -> str:
    return f"${value:,.2f}"


def number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def days(text: str) -> float | None:
    """A duration in days: "Ships overnight" 1, "3-5 business days" 5, "2 weeks" 14, "Lifetime" inf, "No ..." 0."""
    lowered = text.lower()
    if "lifetime" in lowered:
        return float("inf")
    if re.match(r"\s*no\b", lowered):
        return 0.0
    if "overnight" in lowered or "next business day" in lowered:
        return 1.0
    found = re.findall(r"(\d+(?:\.\d+)?)(?:\s*(?:-|to)\s*(\d+(?:\.\d+)?))?[\s-]*(?:business\s+)?"
                       r"(day|week|month|year)s?", lowered)
    if not found:
        return None
    low, high, unit = found[0]
    return float(high or low) * _DAYS[unit]


def weight_in_grams(text: str) -> float | None:
    match = re.search(r"(\d+(?:\.\d+)?)\s*(kg|g|lbs?|pounds?|oz)\b", text.lower())
    if not match:
        return None
    value, unit = float(match.group(1)), match.group(2)
    return value * {"kg": 1000, "g": 1, "oz": 28.35}.get(unit, 453.6)


def _stock(product: Product) -> Claim | None:
    stock, status = product.meta.get("stock"), product.field("availability")
    status_text = str(status[1]) if status else ""
    if stock is None and not status_text:
        return None
    title = product.title
    if stock == 0 or "out of stock" in status_text.lower():
        return Claim(f"The {title} is out of stock", [title, "out of stock"], "no", 0)
    if "low" in status_text.lower():
        return Claim(f"The {title} is in stock, but running low: {stock} left", [title, "in stock", str(stock)],
                     "yes", stock)
    return Claim(f"The {title} is in stock: {stock} available", [title, "in stock"], "yes", stock)


def _policy_text(product: Product, attribute: Attribute, key: str, value: str) -> Claim:
    title, lowered = product.title, value.lower()
    if attribute == "warranty":
        if re.match(r"\s*no\b", lowered):
            return Claim(f"The {title} comes with no warranty", [title, "no warranty"], "no", 0)
        words = value if "warranty" in lowered else f"{value} warranty"
        words = re.sub(r"(\d+)[ -](year|month|week|day)s?\b", r"\1-\2", words)  # "a 2-year warranty"
        return Claim(f"The {title} comes with a {words[0].lower()}{words[1:]}", [title, value.split(" warranty")[0]],
                     "yes", days(value))
    if attribute == "returns":
        if re.match(r"\s*no\b", lowered):
            return Claim(f"The {title} cannot be returned: it has no return policy", [title, "no return policy"],
                         "no", 0)
        period = re.search(r"(\d+)\s*days?", lowered)
        if period:
            n = period.group(1)
            return Claim(f"The {title} has a {n}-day return policy: it can be returned within {n} days",
                         [title, f"{n} days"], "yes", float(n))
        return Claim(f"The {title}'s return policy: {value}", [title, value], None, days(value))
    rest = re.sub(r"^\s*ships\s+", "", value, flags=re.I)  # shipping
    return Claim(f"The {title} ships {rest[0].lower()}{rest[1:]}" if rest != value else f"The {title}: {value}",
                 [title, rest], None, days(value))


def _size(product: Product) -> Claim | None:
    title = product.title
    weight = product.field("weight")
    dimensions = {k.split(".")[-1]: v for k, v in product.meta.items() if k.lower().startswith("dimensions.")}
    parts, keep = [], [title]
    if weight:
        unit_free = isinstance(weight[1], (int, float))
        no_unit = " (the catalogue gives no unit)" if unit_free else ""
        parts.append(f"a listed weight of {number(weight[1])}{no_unit}")
        keep.append(number(weight[1]))
    if dimensions:
        names = [n for n in ("width", "height", "depth") if n in dimensions]
        parts.append("dimensions of " + " x ".join(number(dimensions[n]) for n in names) + f" ({' x '.join(names)})")
        keep += [number(dimensions[n]) for n in names]
    if not parts:
        return None
    return Claim(f"The {title} has " + " and ".join(parts), keep, None,
                 float(weight[1]) if weight and isinstance(weight[1], (int, float)) else None)


def field_claim(product: Product, attribute: Attribute) -> Claim | None:
    """The attribute from the product's own fields, or None when the catalogue does not have it."""
    title = product.title
    if attribute == "price" and product.price is not None:
        return Claim(f"The {title} costs {money(product.price)}", [title, money(product.price)], None, product.price)
    if attribute == "brand":
        if product.brand:
            return Claim(f"The {title} is made by {product.brand}", [title, product.brand])
        return Claim(f"The catalogue lists no brand for the {title}", [title])
    if attribute == "stock":
        return _stock(product)
    if attribute == "rating" and product.meta.get("rating") is not None:
        rating = float(product.meta["rating"])
        return Claim(f"The {title} is rated {rating:g} out of 5", [title, f"{rating:g}"], None, rating)
    if attribute == "discount" and (found := product.field("discount")):
        return Claim(f"The {title} has a {number(found[1])}% discount", [title, f"{number(found[1])}%"], None,
                     float(found[1]))
    if attribute == "minimum_order" and (found := product.field("minimum")):
        return Claim(f"The minimum order for the {title} is {number(found[1])}", [title, number(found[1])])
    if attribute == "size":
        return _size(product)
    words = {"warranty": ("warranty",), "returns": ("return",), "shipping": ("shipping", "delivery")}.get(attribute)
    if words and (found := product.field(*words)) and isinstance(found[1], str):
        return _policy_text(product, attribute, found[0], found[1])
    return None
