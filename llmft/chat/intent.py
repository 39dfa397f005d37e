"""What a shopper asks: the kind of question, the attribute asked for, and the products it is about, with the
conversation's product in focus for follow-ups ("it", "that one", "the two", "cheaper ones?").

    ask = read_question("What's its return policy?", turns, shop, constraints)
    ask.kind, ask.attribute, [p.title for p in ask.products]    # "attribute", "returns", ["Samsung Galaxy S7"]

Rules, not a model: the local model cannot be trusted to rewrite a follow-up, and every rule here reads the
question's words against the store's own names (titles, brands, categories), so they carry to any catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from llmft.chat.shop import Product, Shop, singular
from llmft.store.filters import Constraints

AskKind = Literal["product", "attribute", "list", "superlative", "policy", "comparison", "not_sold"]
Attribute = Literal["size", "returns", "warranty", "shipping", "discount", "minimum_order", "stock", "rating",
                    "brand", "price", "detail"]
# First match wins: "how much does it weigh" is a size question before it is a price one.
_ATTRIBUTES: tuple[tuple[Attribute, re.Pattern[str]], ...] = (
    ("minimum_order", re.compile(r"\bmin(?:imum)? (?:order|quantity|purchase)")),
    ("size", re.compile(r"\b(?:weigh\w*|heav(?:y|ier|iest)|light(?:er|est)|dimensions?|how (?:big|large|tall|wide)|"
                        r"measure\w*)\b")),
    ("returns", re.compile(r"\b(?:return\w*|refund\w*|send (?:it |them |this |that )?back|exchang\w*|restocking)\b")),
    ("warranty", re.compile(r"\b(?:warrant\w*|guarantee\w*)\b")),
    ("shipping", re.compile(r"\b(?:ship\w*|deliver\w*|dispatch\w*|arriv\w*|faster|fastest)\b")),
    ("discount", re.compile(r"\b(?:discount\w*|on sale|percent off|reduced)\b|% off")),
    ("stock", re.compile(r"\b(?:in stock|stock|available|availability|sold out|how many)\b")),
    ("rating", re.compile(r"\b(?:rating|rated|stars?|reviews?|reviewed)\b")),
    ("brand", re.compile(r"\b(?:brand|who makes|who made|made by|maker|manufactur\w*|makes it)\b")),
    ("price", re.compile(r"\b(?:price\w*|cost\w*|how much (?:is|are|r|for|do|does|would|will|the|a|an|it|they)|"
                         r"how much'?s|pay|cheap\w*|expensive|pricier|affordable|free)\b|\bhow much\W*$")),
)
_COMPARE = re.compile(r"\b(?:compare\w*|comparison|vs\.?|versus|difference|better|cheaper|pricier|costs? (?:more|less)|"
                      r"more expensive|less expensive|lighter|heavier|longer|shorter|faster|slower|which (?:one|of)|"
                      r"or the|or)\b")
_FOLLOW_UP = re.compile(r"^(?:and|also|what about|how about|same for)\b|\b(?:it|its|it's|that one|this one|that|this|"
                        r"they|them|those|these|the two|both|either|the first|the second|the other|of them|"
                        r"of the two|which one)\b")
_PAIR = re.compile(r"\b(?:the two|both|of the two|either|which one)\b")
_GROUP = re.compile(r"\b(?:of them|of these|of those|among them|among these)\b")
_CHEAPER_ONES = re.compile(r"\b(?:cheaper|less expensive|more affordable)\s+(?:ones?|options?|alternatives?)\b|"
                           r"^(?:any(?:thing)?|something)\s+cheaper\b")
_LIST = re.compile(r"^(?:which|show|list|any|do you (?:have|sell|carry|stock)|have you got|are there|give me)\b|"
                   r"\b(?:options|all your|what kinds?|what \w+(?: \w+)? (?:do you|are there))\b")
# A question about the product as a whole; any other question about a named product asks for a detail of it.
_ABOUT = re.compile(r"^(?:tell me (?:more )?about|what about|describe|show me|info\w* (?:on|about)|"
                    r"do you (?:have|sell|carry|stock)|have you got|i'?m (?:looking for|interested in)|"
                    r"i am (?:looking for|interested in)|i (?:want|need|like)|any|is there|are there)\b")
_POLICY_WORDS = re.compile(r"\b(?:return\w*|refund\w*|ship\w*|deliver\w*|warrant\w*|pay|paying|payment\w*|contact|"
                           r"phone number|customer service|call you|e-?mail|price match|match prices|care\+?|"
                           r"instal+ments?|customs|parcel|opening hours)\b")
INJECTION = re.compile(r"ignore (?:all |your |the |any |my )?(?:previous |prior |above |earlier )?(?:instructions|"
                       r"rules|catalogue|catalog|prompt|data)|forget (?:your|all|the|about) (?:rules|instructions|"
                       r"prompt)|\bsystem\s*:|admin mode|developer mode|new (?:instruction|rule)s?\b|system prompt|"
                       r"pretend (?:you|to be)|you are now|jailbreak|approve (?:my|the|a|this) \$?\w*\s*(?:refund|"
                       r"discount|order)|</?\s*(?:sources|question|system)\s*>", re.I)


@dataclass
class Ask:
    kind: AskKind
    attribute: Attribute | None = None
    products: list[Product] = field(default_factory=list)
    constraints: Constraints = field(default_factory=Constraints)
    in_focus: bool = False  # the products come from the conversation, not the question
    injection: bool = False  # the message tries to give the bot rules; it is answered as data
    wants: Literal["lower", "higher"] | None = None  # what "wins" a comparison
    also: list[Attribute] = field(default_factory=list)  # more attributes asked in the same question


def attribute_of(text: str) -> Attribute | None:
    lowered = text.lower()
    return next((name for name, pattern in _ATTRIBUTES if pattern.search(lowered)), None)


def attributes_of(text: str) -> list[Attribute]:
    """Every attribute asked, in the question's order: "the price of the Orbit Pods and are they in stock?"."""
    lowered = text.lower()
    found = {name: match.start() for name, pattern in _ATTRIBUTES if (match := pattern.search(lowered))}
    if "size" in found:  # "how much does it weigh" asks the weight, not the price
        found.pop("price", None)
    return sorted(found, key=found.__getitem__)


def focus(turns: Sequence[tuple[str, str]], shop: Shop) -> list[Product]:
    """The products of the conversation's latest turn that named any: the bot's answer, or the shopper's words."""
    for role, text in reversed(turns):
        products = shop.mentioned_in(text) if role == "assistant" else shop.named_in(text)
        if products:
            return products
    return []


def _winner_direction(lowered: str, attribute: Attribute | None) -> Literal["lower", "higher"]:
    if re.search(r"\b(?:more expensive|pricier|costs? more|heavier|longer|better|higher|bigger|larger)\b", lowered):
        return "higher"
    if attribute == "rating":
        return "higher"
    return "lower"  # cheaper, lighter, faster (a shorter time), costs less


def _asks_more(lowered: str, products: list[Product]) -> bool:
    """Whether the question has words beyond the product's name and filler ("Kawasaki Z800?" has none)."""
    names = {w for p in products for w in re.findall(r"[a-z0-9]+", p.title.lower())}
    filler = {"the", "a", "an", "is", "it", "do", "you", "have", "please", "and", "what", "about", "how", "tell", "me"}
    return any(w not in names and w not in filler for w in re.findall(r"[a-z0-9]+", lowered))


_LIST_WORDS = {"which", "what", "show", "list", "any", "do", "you", "have", "sell", "carry", "stock", "got", "are",
               "there", "give", "me", "all", "your", "the", "a", "an", "of", "in", "some", "products", "product",
               "items", "item", "things", "options", "kinds", "kind", "sort", "types", "from", "by", "made", "for",
               "to", "offer", "available", "buy", "can", "i", "is", "we", "ones", "one", "and", "or", "please"}


def _describes(lowered: str, shop: Shop) -> bool:
    """Whether a question about a category also describes what is wanted ("waterproof backpacks"): then the
    closest products by meaning answer it, not the whole category."""
    names = shop.name_words()
    words = re.findall(r"[a-z]+", lowered)
    return any(w not in _LIST_WORDS and w not in names and singular(w) not in names for w in words)


def read_question(question: str, turns: Sequence[tuple[str, str]], shop: Shop, constraints: Constraints,
                  own: Constraints | None = None) -> Ask:
    """`constraints`: the search's, merged over the conversation's; `own`: the question's alone, which decides
    whether this question asks for an order or a filter ("Does it come with a warranty?" after "the cheapest tent")."""
    own = constraints if own is None else own
    lowered = " ".join(question.lower().replace("\u2019", "'").split())
    injection = bool(INJECTION.search(question))
    attribute = attribute_of(lowered)
    named = shop.named_in(question)
    follow_up = bool(turns) and bool(_FOLLOW_UP.search(lowered))
    in_focus = False
    products = named
    if not named and turns and (follow_up or (attribute and not constraints.categories)):
        products, in_focus = focus(turns, shop), True
        if _PAIR.search(lowered):
            products = products[:2]
        elif not _GROUP.search(lowered) and not _CHEAPER_ONES.search(lowered) and not _COMPARE.search(lowered):
            products = products[:1]
    elif named and turns and attribute is None and re.match(r"(?:and|what about|how about|same for)\b", lowered):
        attribute = next((attribute_of(t) for r, t in reversed(turns) if r == "user" and attribute_of(t)), None)
    ask = Ask("product", attribute, products, constraints, in_focus, injection)
    if in_focus and products and _CHEAPER_ONES.search(lowered):
        ask.kind, ask.attribute = "list", "price"  # the focus product's category, below its price (or as asked)
        return ask
    if len(products) >= 2 and (_COMPARE.search(lowered) or in_focus) and not _GROUP.search(lowered):
        ask.kind, ask.products = "comparison", products[:2]
        ask.attribute = attribute if attribute != "stock" else None
        ask.wants = _winner_direction(lowered, ask.attribute)
        return ask
    if products and in_focus and _GROUP.search(lowered) and own.sort:
        ask.kind = "superlative"
        return ask
    if products and (not in_focus or not own.sort):
        about = _ABOUT.search(lowered) or not _asks_more(lowered, products)
        ask.kind = "attribute" if attribute or not about else "product"
        ask.attribute = attribute or (None if about else "detail")
        ask.also = [a for a in attributes_of(lowered) if a != ask.attribute][:2]
        return ask
    if own.sort:
        ask.kind = "superlative"
    elif own.filters_products or ((own.categories or own.brands) and _LIST.search(lowered)
                                  and not _describes(lowered, shop)):
        ask.kind = "list"
    elif attribute in ("returns", "shipping", "warranty"):
        ask.kind = "policy"
    elif _POLICY_WORDS.search(lowered):
        ask.kind = "policy"
    return ask
