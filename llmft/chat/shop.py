"""What the bot knows of the store, in the shape answers need: products by id with their fields, the documents
about each product (a manual that names the product in its title), the store-wide documents, and the names a
question can use for a product, a brand or a category.

    shop = Shop.from_retriever(kb.retriever)
    shop.named_in("Is the Rolex Datejust in stock?")    # [the Rolex Datejust]: whole titles beat partial ones
    shop.documents_of(product)                          # the chunks of its manual, in document order
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
_STOP = {"the", "a", "an", "and", "or", "of", "for", "with", "in", "on", "to", "by", "de", "is", "it", "my", "your",
         "do", "you", "i", "me", "what", "which", "how", "much", "does", "are", "be", "can", "this", "that", "one",
         "ones"}
MIN_COVERAGE = 0.6  # share of a title's weight (idf) a question must contain for the title to count as named
MIN_COVERAGE_OWN_WORD = 0.3  # ... or this share, when one of the words is the title's own ("Dell XPS")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("\u2019", "'"))


def singular(token: str) -> str:
    """"boxes" -> "box", "batteries" -> "battery", "tents" -> "tent": enough to match a title's words."""
    for plural, single in (("ches", "ch"), ("shes", "sh"), ("xes", "x"), ("ies", "y")):
        if token.endswith(plural) and len(token) > len(plural) + 1:
            return token[: -len(plural)] + single
    return token[:-1] if len(token) > 3 and token.endswith("s") and not token.endswith("ss") else token


@dataclass
class Stored:
    """One stored record as answers read it: its id (for citations), text and metadata."""

    record_id: str
    text: str
    meta: dict[str, Any]

    def text_of(self, *keys: str) -> str:
        """The first of these metadata fields that is set, as text ("" when none is)."""
        return next((str(self.meta[key]) for key in keys if self.meta.get(key) not in (None, "")), "")


class Product(Stored):
    """One catalogue product with its typed fields."""

    @property
    def id(self) -> str:
        return str(self.meta.get("product_id"))

    @property
    def title(self) -> str:
        return str(self.meta.get("title"))

    @property
    def price(self) -> float | None:
        price = self.meta.get("price")
        return float(price) if price is not None else None

    @property
    def category(self) -> str:
        return self.text_of("category")

    @property
    def brand(self) -> str:
        return self.text_of("brand")

    def field(self, *words: str) -> tuple[str, Any] | None:
        """The first field whose name contains one of `words` (case-insensitive): ("returnPolicy", "No return ...")."""
        for key, value in self.meta.items():
            if any(w in key.lower() for w in words) and value not in (None, ""):
                return key, value
        return None


class Document(Stored):
    """One stored chunk of a document, with its place in the file."""

    @property
    def file(self) -> str:
        return self.text_of("file")

    @property
    def heading(self) -> str:
        return self.text_of("heading", "section")

    @property
    def chunk(self) -> int:
        return int(self.meta.get("chunk") or 0)


@dataclass
class Shop:
    products: list[Product] = field(default_factory=list)
    store_documents: list[Document] = field(default_factory=list)  # about no one product: policies, FAQ pages
    manuals: dict[str, list[Document]] = field(default_factory=dict)  # product id -> its document chunks
    brands: set[str] = field(default_factory=set)  # lower-case brand names
    _idf: dict[str, float] = field(default_factory=dict)
    _title_tokens: list[list[str]] = field(default_factory=list)
    _brand_tokens: set[str] = field(default_factory=set)
    _frequency: dict[str, int] = field(default_factory=dict)  # title word -> how many titles have it
    _category_tokens: set[str] = field(default_factory=set)

    @classmethod
    def from_records(cls, records: Iterable[Any]) -> Shop:
        products, documents = [], []
        for record in records:
            kind = record.metadata.get("kind")
            if kind == "product" and record.metadata.get("title"):
                products.append(Product(record.id, record.text, dict(record.metadata)))
            elif kind == "document":
                documents.append(Document(record.id, record.text, dict(record.metadata)))
        products.sort(key=lambda p: p.record_id)
        shop = cls(products, brands={p.brand.lower() for p in products if p.brand})
        shop._index_titles()
        by_file: dict[str, list[Document]] = defaultdict(list)
        for document in documents:
            by_file[document.file].append(document)
        for chunks in by_file.values():
            chunks.sort(key=lambda d: d.chunk)
            owner = shop._owner(chunks)
            if owner is None:
                shop.store_documents.extend(chunks)
            else:
                shop.manuals.setdefault(owner.id, []).extend(chunks)
        return shop

    def _index_titles(self) -> None:
        self._title_tokens = [[singular(t) for t in tokens(p.title)] for p in self.products]
        frequency = Counter(t for title in self._title_tokens for t in set(title))
        self._frequency = dict(frequency)
        n = max(len(self.products), 1)
        self._idf = {t: math.log(1 + n / c) for t, c in frequency.items()}
        self._brand_tokens = {singular(t) for b in self.brands for t in tokens(b)}
        self._category_tokens = {singular(t) for p in self.products for t in tokens(p.category.replace("-", " "))}

    def _owner(self, chunks: Sequence[Document]) -> Product | None:
        """The product a document is about: the one whose whole title its first line (its title) names."""
        first_line = chunks[0].text.split("\n", 1)[0].lower()
        named = [p for p in self.products if re.search(rf"(?<![\w]){re.escape(p.title.lower())}(?![\w])", first_line)]
        return max(named, key=lambda p: len(p.title)) if named else None

    def by_id(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)

    def documents_of(self, product: Product) -> list[Document]:
        return self.manuals.get(product.id, [])

    def named_in(self, text: str) -> list[Product]:
        """Products the text names, best first: a whole title, or most of a title's distinctive words.

        A title is claimed by its words: when two titles match, the one that matches more of the text's words wins
        ("Selfie Stick Monopod" over "Monopod"), and one whose matched words are all a brand name ("Apple" the
        grocery in "Apple products") or all claimed already does not count."""
        words = [singular(t) for t in tokens(text)]
        present = set(words)
        whole = {p.id for p in self.mentioned_in(text)}  # "Orbit One" typed out in full counts its "One" too
        scored = []
        for product, title in zip(self.products, self._title_tokens, strict=True):
            matched = {t for t in title if t in present and (t not in _STOP or product.id in whole)}
            if not matched:
                continue
            weight = sum(self._idf.get(t, 0.0) for t in set(title) if t not in _STOP) or 1.0
            mass = sum(self._idf.get(t, 0.0) for t in matched)
            coverage = mass / weight
            if matched <= self._brand_tokens or matched <= self._category_tokens:
                continue  # "Apple products" names a brand, "most expensive sleeping bag" a category
            own_word = any(self._frequency.get(t) == 1 and t not in self._brand_tokens | self._category_tokens
                           for t in matched)  # "Jordan", "XPS": a word no other title has
            if coverage < MIN_COVERAGE and not (own_word and coverage >= MIN_COVERAGE_OWN_WORD):
                continue
            scored.append((mass, coverage, self._position(words, matched), product, matched))
        scored.sort(key=lambda s: (-round(s[0], 6), -s[1], s[2]))  # most of the question's words, then coverage
        chosen: list[tuple[Product, set[str]]] = []
        claimed: set[str] = set()
        for _, coverage, _, product, matched in scored:
            if matched <= claimed and coverage < 1.0:
                continue
            if any(matched <= other and product.title.lower() != p.title.lower() for p, other in chosen):
                continue
            chosen.append((product, matched))
            claimed |= matched
        chosen.sort(key=lambda c: self._position(words, c[1]))
        return [product for product, _ in chosen]

    @staticmethod
    def _position(words: list[str], matched: set[str]) -> int:
        return min((i for i, w in enumerate(words) if w in matched), default=len(words))

    def name_words(self) -> set[str]:
        """The words of the store's brand and category names (and their everyday synonyms' words)."""
        from llmft.store.filters import Vocabulary

        phrases = Vocabulary.from_products(p.meta for p in self.products).phrases
        return set(self._brand_tokens) | set(self._category_tokens) | {w for phrase, _, _ in phrases
                                                                       for w in tokens(phrase)}

    def mentioned_in(self, text: str) -> list[Product]:
        """Products whose whole title appears in the text (an answer the bot gave), in order of appearance."""
        lowered = text.lower()
        found = []
        for product in self.products:
            match = re.search(rf"(?<![\w]){re.escape(product.title.lower())}(?![\w])", lowered)
            if match:
                found.append((match.start(), -len(product.title), product))
        found.sort(key=lambda f: (f[0], f[1]))
        result: list[Product] = []
        covered: list[tuple[int, int]] = []
        for start, negative_length, product in found:
            end = start - negative_length
            if any(s <= start < e for s, e in covered):
                continue  # "Lumo Buds" inside "Lumo Buds Pro ANC"
            covered.append((start, end))
            result.append(product)
        return result
