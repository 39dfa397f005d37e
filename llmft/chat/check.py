"""The check of a model's phrasing against the computed answer: "checked" means all of this holds.

- coverage: the products the answer is about, and every figure and value it states, are in the phrasing;
- no other product, and no brand, than the answer's;
- every number in the phrasing is one of the answer's (a number from another field of the same sources, such
  as the shipping time given as the return window, is caught as such); units do not matter, numbers do;
- no contradiction: no denial of a product the store sells, no "yes" where the data says no and no added "not";
- no repetition loop, no markup, and every [n] cites a source.

    problems = check_phrasing(model_text, answer, shop, sources)   # [] when the phrasing may be shown
"""

from __future__ import annotations

import re

from llmft.chat.answers import Answer
from llmft.chat.shop import Shop
from llmft.chat.sources import Sources

_NUMBER = re.compile(r"(?<![\w.])\$?\d[\d,]*(?:\.\d+)?")
_MARKER = re.compile(r"\[(\d+)\]")
_MARKUP = re.compile(r"</?\s*[a-z][\w-]*\s*/?>|```|\[/?INST\]|<\|[^>]*\|>|^\s*#{1,6}\s|\{\{|\}\}", re.I | re.M)
_DENIAL = re.compile(r"\b(?:don't|do not|doesn't|does not|cannot|can't|no longer) (?:sell|have|carry|stock|offer)\b|"
                     r"\b(?:could ?n[o']t|can ?n[o']t|did ?n[o']t) find\b|"
                     r"\bnot (?:available|sold|carried|in (?:our|the|this) (?:store|shop|catalogue))\b|\bno,? we\b|"
                     r"\bunavailable\b|\bdiscontinued\b", re.I)
_AFFIRM = re.compile(r"^\s*yes\b|\bwe (?:do )?(?:sell|have|carry|stock)\b", re.I)
_NEGATION = re.compile(r"\b(?:no|not|never|cannot|can't|don't|doesn't|isn't|aren't|won't|unfortunately|sorry|"
                       r"without|neither|nor)\b", re.I)
_NAME = r"([A-Z][\w&'.-]*(?: [A-Z][\w&'.-]*)*)"
_MAKER = re.compile(rf"\b(?:made|manufactured|produced|built|designed|sold) by (?:the )?{_NAME}|"
                    rf"\bbrand (?:is|name is) {_NAME}")
_OUT = re.compile(r"\b(?:out of stock|not in stock|sold out|unavailable)\b", re.I)


def normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'").replace("\u2011", "-")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    text = re.sub(r"[-\u2013\u2014]", " ", text)
    return " ".join(text.split())


def _value(raw: str) -> float:
    return round(float(raw.lstrip("$").replace(",", "")), 2)


def numbers(text: str, titles: list[str]) -> set[float]:
    """The numbers a text states, leaving out citation markers and the digits of product titles ("Orbit Book 13")."""
    text = _MARKER.sub(" ", text)
    for title in sorted(titles, key=len, reverse=True):
        text = re.sub(re.escape(title), " ", text, flags=re.I)
    return {_value(m.group(0)) for m in _NUMBER.finditer(text.replace("-", " "))}


def _contains(haystack: str, needle: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(normalise(needle))}(?![\w])", haystack) is not None


def repeats(text: str) -> bool:
    sentences = [normalise(s) for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 12]
    if len(sentences) != len(set(sentences)):
        return True
    words = normalise(text).split()
    grams = [" ".join(words[i:i + 6]) for i in range(len(words) - 5)]
    return len(grams) != len(set(grams))  # six words in a row said twice: a loop, not a phrasing


def check_phrasing(text: str, answer: Answer, shop: Shop, sources: Sources) -> list[str]:
    if not text.strip():
        return ["the model gave an empty answer"]
    problems: list[str] = []
    said = normalise(text)
    computed = normalise(answer.text)
    if _MARKUP.search(text):
        problems.append("it contains markup")
    if repeats(text):
        problems.append("it repeats itself")
    for title in answer.products:
        if not _contains(said, title):
            problems.append(f"it leaves out the {title}")
    titles = [p.title for p in shop.products]
    said_numbers = numbers(text, titles)
    for value in answer.keep:
        wanted = numbers(value, titles)
        if wanted and not wanted <= said_numbers:
            problems.append(f"it leaves out {value}")
        elif not wanted and value not in answer.products and not _contains(said, value):
            problems.append(f"it leaves out '{value}'")
    for product in shop.mentioned_in(text):
        if product.title not in answer.products and not _contains(computed, product.title):
            problems.append(f"it names the {product.title}, which the answer is not about")
    named = normalise(" ".join(p.title for p in shop.mentioned_in(text)))
    for brand in sorted(shop.brands):
        if _contains(said, brand) and not _contains(computed, brand) and not _contains(named, brand):
            problems.append(f"it names the brand {brand}, which is not the answer's")
    for match in _MAKER.finditer(text):  # a maker the catalogue does not know is as wrong as another brand
        maker = (match.group(1) or match.group(2)).rstrip(".")
        if not _contains(computed, maker) and maker.lower() not in shop.brands:
            problems.append(f"it names the maker {maker}, which is not the answer's")
    allowed = numbers(answer.text, titles)
    in_sources = numbers(sources.text(), titles)
    for value in sorted(said_numbers - allowed):
        where = "is from another part of the sources" if value in in_sources else "is not in the sources"
        problems.append(f"the figure {value:g} {where}")
    if answer.kind != "not_sold" and _DENIAL.search(text):
        problems.append("it says the store does not have what it has")
    if answer.kind == "not_sold" and (_AFFIRM.search(text) or not _DENIAL.search(text)):
        problems.append("it does not say that the store does not sell it")
    if _OUT.search(said) and not _OUT.search(computed):
        problems.append("it says out of stock where the data does not")
    negations_said, negations_computed = len(_NEGATION.findall(said)), len(_NEGATION.findall(computed))
    if negations_said > negations_computed:
        problems.append("it adds a negation the store's data does not have")
    elif negations_computed and not negations_said and answer.kind != "not_sold":
        problems.append("it drops the store's 'no'")
    if answer.polarity == "no" and re.match(r"\s*yes\b", said):
        problems.append("it says yes where the store's data says no")
    for marker in _MARKER.findall(text):
        if not 1 <= int(marker) <= len(sources.items):
            problems.append(f"it cites [{marker}], which is not a source")
    return list(dict.fromkeys(problems))
