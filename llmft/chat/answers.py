"""The direct answer: facts computed from the catalogue's records and quoted from the store's documents, each
sentence with its citation. It is what the shopper reads with no model, and what a model may only rephrase.

    answer = Answers(shop, picker).build(question, ask, search_result)
    answer.text        # "The Kawasaki Z800 has a 90-day return policy: it can be returned within 90 days [1]."
    answer.sources     # [Source(product 114 ...)]: [n] is the n-th source card under the answer
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from llmft.chat.extract import SentencePicker, Unit, has_figure, units
from llmft.chat.fields import Claim, Polarity, field_claim, money
from llmft.chat.intent import Ask, AskKind, Attribute
from llmft.chat.lists import ListAnswers
from llmft.chat.shop import Document, Product, Shop, tokens
from llmft.chat.sources import NOT_SOLD_SIMILARITY, Source
from llmft.store import SearchResult

REFUSAL = ("I can only answer from this store's catalogue and documents: I can't change prices, give discounts, "
           "approve refunds or follow instructions sent in a chat message")
_SECTIONS = {"warranty": r"warrant", "returns": r"return|refund", "shipping": r"ship|deliver"}
_NEEDS_FIGURE = ("warranty", "returns", "shipping", "size")
_OPINION = re.compile(r"review|testimonial|comment", re.I)  # shoppers' opinions are not the product's facts
MAX_POLICY_CHUNKS = 200  # up to this many store-wide chunks are all read for a policy, not only those retrieved
_YES_NO = re.compile(r"^(?:is|are|can|could|does|do|did|will|would|has|have|should)\b", re.I)
_THING = re.compile(r"(?:sell|have|carry|stock|buy|get|looking for|need|want|find|order)\s+"
                    r"(?:any\s+|some\s+|a\s+|an\s+|the\s+)?(.{2,60}?)[\s?.!]*$", re.I)


@dataclass
class Answer:
    kind: AskKind
    claims: list[Claim] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    products: list[str] = field(default_factory=list)  # the titles the answer is about, main one first
    polarity: Polarity | None = None
    assumption: str = ""

    @property
    def text(self) -> str:
        sentences = [c.text for c in self.claims]
        if self.assumption:
            sentences.append(self.assumption)
        return " ".join(s if s.rstrip(")").endswith((".", "!", "?")) else s + "." for s in sentences)

    @property
    def keep(self) -> list[str]:
        return [value for claim in self.claims for value in claim.keep]


class Answers:
    def __init__(self, shop: Shop, picker: SentencePicker):
        self.shop = shop
        self.picker = picker

    def build(self, question: str, ask: Ask, result: SearchResult) -> Answer:
        answer = _Draft(self.shop, self.picker, question, ask, result).run()
        if ask.injection:
            answer.claims.insert(0, Claim(REFUSAL))
            if answer.kind == "not_sold":  # "print your system prompt" asks for nothing the store sells
                answer.claims, answer.sources, answer.polarity = answer.claims[:1], [], None
        return answer


class _Draft:
    """One answer being written: the sources it cites, in citation order."""

    def __init__(self, shop: Shop, picker: SentencePicker, question: str, ask: Ask, result: SearchResult):
        self.shop, self.picker, self.question, self.ask, self.result = shop, picker, question, ask, result
        self.answer = Answer(ask.kind)
        self.lists = ListAnswers(shop, self.cite_product)

    # --- citations ---------------------------------------------------------------------------------------
    def cite(self, source: Source) -> str:
        """The marker of a source: its number if the answer cites it already, else the next one."""
        for n, cited in enumerate(self.answer.sources, start=1):
            if (cited.kind, cited.id) == (source.kind, source.id):
                return f"[{n}]"
        self.answer.sources.append(source)
        return f"[{len(self.answer.sources)}]"

    def cite_product(self, product: Product, reason: str) -> str:
        return self.cite(Source.of_product(product, reason))

    def cite_document(self, document: Document, reason: str) -> str:
        return self.cite(Source.of_document(document, reason))

    def add(self, claim: Claim, marker: str) -> None:
        claim.text = f"{claim.text} {marker}".strip()
        self.answer.claims.append(claim)
        if claim.polarity and self.answer.polarity is None:
            self.answer.polarity = claim.polarity

    # --- kinds -------------------------------------------------------------------------------------------
    def run(self) -> Answer:
        ask = self.ask
        handler = {"attribute": self.attribute, "product": self.product, "comparison": self.comparison,
                   "list": self.listing, "superlative": self.superlative, "policy": self.policy}[ask.kind]
        handler()
        if not self.answer.claims:
            self.not_sold()
        if ask.in_focus and ask.products and ask.kind in ("attribute", "product"):
            self.answer.assumption = f"(I took this to be about the {ask.products[0].title}, from our conversation.)"
        return self.answer

    def attribute(self) -> None:
        products = self.ask.products
        same_title = [p for p in products if p.title.lower() == products[0].title.lower()]
        if len(same_title) > 1:
            self.answer.assumption = (f"(The catalogue has {len(same_title)} products named {products[0].title}; "
                                      "this answers for each.)")
        for product in same_title:
            for attribute in [self.ask.attribute or "detail", *self.ask.also]:
                if self.attribute_of(product, attribute) is None:
                    self.not_listed(product, attribute)
        self.answer.products = [products[0].title]

    def not_listed(self, product: Product, attribute: Attribute) -> None:
        """An attribute the store's data does not give: say so, and what it does give (the price)."""
        price = money(product.price) if product.price is not None else "no listed price"
        words = attribute.replace("_", " ")
        self.add(Claim(f"The store's data does not list a {words} for the {product.title}; it costs {price}",
                       [product.title, price]), self.cite_product(product, "named in the question"))

    def attribute_of(self, product: Product, attribute: Attribute) -> Claim | None:
        claim = field_claim(product, attribute) if attribute != "detail" else None
        if claim is not None:
            self.add(claim, self.cite_product(product, f"its {attribute.replace('_', ' ')} field"))
            return claim
        claim = self.from_documents(product, attribute)
        if claim is None and attribute in ("warranty", "returns", "shipping"):
            return self.store_policy(f"{attribute} {self.question}", product)
        return claim

    def from_documents(self, product: Product, attribute: Attribute) -> Claim | None:
        """The best sentence of the product's own documents, else of its description."""
        documents = self.shop.documents_of(product)
        candidates = [u for d in documents for u in units(d.text, d, _header(d.text))
                      if not _OPINION.search(u.heading or d.heading)]
        pattern = _SECTIONS.get(attribute)
        if pattern:
            in_section = [u for u in candidates if re.search(pattern, u.heading or u.key.heading, re.I)]
            candidates = in_section
        if attribute in _NEEDS_FIGURE:
            candidates = [u for u in candidates if has_figure(u.text)] or candidates
        description = str(product.meta.get("description") or "")
        candidates += [u for u in units(description, product) if attribute in ("detail", "size")]
        if not candidates:
            return None
        names = set(tokens(" ".join([product.title, *(p.title for p in self.ask.products)])))
        best = self.picker.best(self.question, candidates, ignore=names, figures=attribute in _NEEDS_FIGURE)[0]
        best, note = self.one_case(best, candidates)
        quoted = best.quoted
        if not _YES_NO.match(self.question):  # an FAQ's "Yes, ..." answers its own question, not this one
            quoted = re.sub(r"^(?:yes|no)[,.!]\s+(\w)", lambda m: m.group(1).upper(), quoted, flags=re.I)
        text = quoted if product.title.lower() in best.text.lower() else f"The {product.title}: {quoted}"
        claim = Claim(text.rstrip("."), [product.title, *figures(best.text)], _polarity(self.question, best.text))
        marker = (self.cite_product(product, "its description") if isinstance(best.key, Product)
                  else self.cite_document(best.key, f"the {product.title} document, section {best.key.heading}"))
        self.add(claim, marker)
        if note:
            self.answer.assumption = note
        return claim

    def one_case(self, best: Unit, candidates: list[Unit]) -> tuple[Unit, str]:
        """A passage that gives terms case by case ('If Membership status "Gold": ...'): the case the question
        names, else the first one, saying so."""
        opening = " ".join(best.text.split()[:3])
        cases = [u for u in candidates if u.text.startswith(opening) and u.text.split()[:1] == ["If"]]
        if len(cases) < 2:
            return best, ""
        labels = [_case_label(u.text) for u in cases]
        asked = self.question.lower()
        named = [u for u, label in zip(cases, labels, strict=True) if label and label.lower() in asked]
        if named:
            return named[0], ""
        others = ", ".join(label for label in labels[1:] if label)
        return cases[0], (f"(The document gives different terms case by case; this is the first case it lists. "
                          f"Ask about another case by name: {others}.)" if others else "")

    def store_policy(self, question: str, product: Product | None = None) -> Claim | None:
        retrieved = {h.id for h in self.result.hits if h.kind == "document"}
        documents = [d for d in self.shop.store_documents if d.record_id in retrieved]
        if not documents or len(self.shop.store_documents) <= MAX_POLICY_CHUNKS:
            documents = self.shop.store_documents  # few enough to read all: sentences are ranked better than chunks
        candidates = [u for d in documents for u in units(d.text, d, _header(d.text))]
        if not candidates:
            return None
        names = set(tokens(product.title)) if product else set()
        best = self.picker.best(question, candidates, ignore=names, figures=self.ask.attribute in _NEEDS_FIGURE)[0]
        claim = Claim(best.quoted.rstrip("."), figures(best.text), _polarity(self.question, best.text))
        about = f" (the store's policy{f', for the {product.title}' if product else ''})"
        self.add(claim, self.cite_document(best.key, f"the store's documents, section {best.key.heading}") + about)
        if product:
            self.answer.products = [product.title]
        return claim

    def policy(self) -> None:
        if self.store_policy(self.question) is None:
            self.answer.claims.append(Claim("This store's documents do not say; ask about a product for its own terms"))

    def product(self) -> None:
        products = self.ask.products
        if products:
            self.describe(products[0], "named in the question", yes=bool(_YES_NO.match(self.question)))
            return
        if self.nothing_fits():
            return
        chosen = self.products_found()
        if not chosen:
            self.policy()
            return
        self.describe(chosen[0], "closest in meaning to the question", yes=bool(_YES_NO.match(self.question)))
        if len(chosen) > 1:
            others = [f"the {p.title} ({money(p.price or 0)}) {self.cite_product(p, 'also close in meaning')}"
                      for p in chosen[1:]]
            self.answer.claims.append(Claim("Also close: " + " and ".join(others), [p.title for p in chosen[1:]]))

    def products_found(self) -> list[Product]:
        """The products the search found, best first: a product hit, or the product whose manual a passage is
        from (a description may match what only the manual says: "burns twigs and leaves"); close ones only."""
        owners = {d.record_id: pid for pid, chunks in self.shop.manuals.items() for d in chunks}
        found: list[Product] = []
        top = None
        for hit in self.result.hits:
            product_id = str(hit.metadata.get("product_id")) if hit.kind == "product" else owners.get(hit.id)
            product = self.shop.by_id(product_id) if product_id else None
            if product is None or product in found:
                continue
            similarity = hit.similarity or 0.0
            top = similarity if top is None else top
            if similarity >= top - 0.08:
                found.append(product)
        categories = set(self.ask.constraints.categories)
        if not found and categories:  # the search found passages only: the asked category's best by meaning
            pool = [p for p in self.shop.products if p.category in categories]
            candidates = [Unit(f"{p.title}. {p.meta.get('description') or ''}", p) for p in pool]
            found = [u.key for u in self.picker.best(self.question, candidates, n=2)]
        return found[:3]

    def describe(self, product: Product, reason: str, yes: bool = False) -> None:
        description = str(product.meta.get("description") or "")
        first = next(iter(units(description, product)), None)
        lead = "Yes: the" if yes else "The"
        price = money(product.price) if product.price is not None else "price not listed"
        text = f"{lead} {product.title} costs {price}"
        if first is not None:
            text += f". {first.text.rstrip('.')}"
        stock = field_claim(product, "stock")
        if stock is not None and stock.polarity == "no":
            text += ". It is out of stock"
        self.add(Claim(text, [product.title, price], "yes" if yes else None), self.cite_product(product, reason))
        self.answer.products.append(product.title)

    def nothing_fits(self) -> bool:
        similarities = [h.similarity for h in self.result.hits if h.similarity is not None]
        if self.result.hits and (self.result.constraints or not similarities
                                 or max(similarities) >= NOT_SOLD_SIMILARITY):
            return False
        self.not_sold()
        return True

    def not_sold(self) -> None:
        self.answer.kind, self.answer.polarity = "not_sold", "no"
        thing = _THING.search(self.question)
        what = thing.group(1) if thing else "that"
        self.answer.claims = [Claim(f"Sorry, we don't sell {what}: nothing in this store's catalogue or documents "
                                    "matches", [what] if thing else [])]
        self.answer.sources = []

    def comparison(self) -> None:
        self.lists.compare(self, self.ask)

    def listing(self) -> None:
        self.lists.listing(self, self.ask, self.result)

    def superlative(self) -> None:
        self.lists.superlative(self, self.ask)


def _header(text: str) -> str:
    """The heading line that ingestion puts before a chunk's text for search ("Shipping > Express shipping")."""
    first = text.split("\n", 1)[0]
    return first if " > " in first else ""


def figures(text: str) -> list[str]:
    """The figures a quoted sentence states ("$14.95", "30 days", "2-year"): a phrasing must keep each."""
    return [m.group(0) for m in re.finditer(r"(?<![A-Za-z\d.])\$?\d[\d,]*(?:\.\d+)?", text)]


def _case_label(text: str) -> str:
    quoted = re.search(r"\"\s*([^\"]+?)\s*\"", text[:80])
    return quoted.group(1) if quoted else ""


def _polarity(question: str, text: str) -> Polarity | None:
    if not _YES_NO.match(question):
        return None
    lowered = text.lower()
    if re.match(r"\s*yes\b", lowered):
        return "yes"
    if re.match(r"\s*no\b", lowered) or re.search(r"\b(?:not|cannot|can't|only)\b", lowered):
        return "no"
    return "yes"

