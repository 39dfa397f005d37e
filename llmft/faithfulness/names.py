"""Names a summary uses that its dialogue never does: people, places and organisations.

Candidates come from spaCy's English NER (`en_core_web_sm`: PERSON, GPE, LOC, ORG, FAC) and, for the names it
misses, from proper nouns its tagger finds outside any entity. A name is supported when the dialogue contains it,
case-insensitively, or contains each of its words ("Mr. Smith" against "Mr Smith", "Tom Smith" against "Tom ...
Smith"), titles ("Mr.", "Dr.") and a possessive "'s" aside. DialogSum's speaker tags (`#Person1#`) are names too:
a tag the dialogue has is supported, one it lacks (#Person3# in a two-person dialogue) is not.
"""

from __future__ import annotations

import re
from typing import Any

NAME_LABELS = {"PERSON", "GPE", "LOC", "ORG", "FAC"}
OTHER_LABELS = {"DATE", "TIME", "MONEY", "QUANTITY", "CARDINAL", "ORDINAL", "PERCENT", "NORP", "LANGUAGE"}
SPEAKER_TAG = re.compile(r"#[A-Za-z]+\d*#")
TITLES = {"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam", "mister", "doctor", "professor", "the", "s"}
WORD = re.compile(r"[a-z0-9]+")
CAPITALISED = re.compile(r"[\w'’.-]*[A-Z][\w'’.-]*")  # a word with a capital anywhere ("iPhone", "McDonald")


def words(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


def _core_words(name: str) -> list[str]:
    """The words that make it a name: those with a capital ("Bank of China": bank, china), titles aside. NER
    spans that run into lowercase words ("Walter and Sterling", "Mirella formal") are judged by their names."""
    return [w for m in CAPITALISED.finditer(name) for w in WORD.findall(m.group().lower()) if w not in TITLES]


def supported(name: str, dialogue_lower: str, dialogue_words: set[str]) -> bool:
    """The name, or each of its words (titles aside), appears in the dialogue, whatever the case."""
    core = _core_words(name)
    if not core:
        return True
    phrase = r"\W+".join(map(re.escape, core))
    return bool(re.search(rf"\b{phrase}\b", dialogue_lower)) or all(w in dialogue_words for w in core)


def all_capitalised_said(summary: str, dialogue: str) -> bool:
    """Whether every capitalised word of `summary` (speaker tags aside) is a word of `dialogue`, in any case.

    Then no name can be flagged (a name is supported when its capitalised words are the dialogue's), so the
    caller may skip spaCy's NER: half of the parse time. The bench checks that the flags are the same either
    way."""
    spoken = words(dialogue)
    return all(words(m.group()) <= spoken for m in CAPITALISED.finditer(SPEAKER_TAG.sub(" ", summary)))


def _spans(doc: Any, summary: str) -> list[tuple[int, int, str]]:
    """(start, end, label) of every name candidate: NER entities, then proper nouns outside any entity."""
    tags = [(m.start(), m.end()) for m in SPEAKER_TAG.finditer(summary)]

    def in_tag(start: int, end: int) -> bool:
        return any(s < end and start < e for s, e in tags)

    spans = []
    for ent in doc.ents:
        start, end = ent.start_char, ent.end_char
        if ent.label_ in NAME_LABELS and not in_tag(start, end) and re.search(r"[A-Za-z]", ent.text):
            spans.append((start, end, ent.label_))
    for token in doc:
        if token.ent_type_ in NAME_LABELS | OTHER_LABELS or not token.is_alpha or len(token.text) < 2:
            continue
        if token.pos_ == "PROPN" and token.text[0].isupper() and not token.is_sent_start:
            if not in_tag(token.idx, token.idx + len(token.text)):
                spans.append((token.idx, token.idx + len(token.text), "PROPN"))
    return spans


LABEL_WORDS = {"PERSON": "person", "GPE": "place", "LOC": "place", "FAC": "place", "ORG": "organisation",
               "PROPN": "proper noun"}


def name_facts(doc: Any, summary: str, dialogue: str) -> list[dict[str, Any]]:
    """Speaker tags and names in `summary` (parsed as `doc`, tags standing in as names) that `dialogue` lacks."""
    facts = []
    for match in SPEAKER_TAG.finditer(summary):
        if match.group() not in dialogue:
            facts.append({"start": match.start(), "end": match.end(), "text": match.group(),
                          "why": f"{match.group()} is not one of the dialogue's speakers"})
    lower, vocabulary = dialogue.lower(), words(dialogue)
    for start, end, label in _spans(doc, summary):
        text = re.sub(r"(?:'s|’s|')$", "", summary[start:end]).strip()
        if text and not supported(text, lower, vocabulary):
            facts.append({"start": start, "end": start + len(text), "text": text,
                          "why": f"the dialogue never names '{text}' ({LABEL_WORDS[label]})"})
    return facts
