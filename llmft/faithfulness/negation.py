"""Statements a summary negates where the dialogue affirms them, or affirms where the dialogue negates them.

Both texts are read with spaCy's dependency parser. A predicate is a verb or adjective; it is negated when it
(or, for "is not happy", its copula) has a `neg` dependent ("not", "n't", "never"), or its subject or object is
"nobody", "nothing", "none" or has the determiner "no" ("has no money"). Light verbs (be, have, do, get, make,
take, give, go, come) are compared with their object or complement ("have money", not "have").

The summary's predicate is compared with every occurrence of the same lemma in the dialogue, outside questions
and "if" clauses (which state nothing). Flagged: a negated predicate the dialogue only affirms, and an affirmed
one the dialogue only negates. Occurrences both ways, or none (a paraphrase: "refuses" for "won't"), are not
judged. Who says or does it is not compared: "#Person1# doesn't like fish" passes if #Person2# said "I don't".
Only the dialogue's lines that contain a form of a summary predicate are parsed (the speed limit: 20 ms).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

LIGHT_VERBS = {"be", "have", "do", "get", "make", "take", "give", "go", "come", "let", "keep", "put", "seem"}
NEGATIVE_WORDS = {"nobody", "nothing", "none", "noone", "neither", "nowhere"}
CONDITION_MARKS = {"if", "unless", "whether"}
# "I don't think it's right" means "I think it's not right": the negation belongs to the clause below.
NEG_RAISERS = {"think", "believe", "suppose", "expect", "imagine", "guess", "reckon", "feel", "seem", "appear"}
OWN_CLAUSES = ("ccomp", "advcl", "relcl", "conj", "cc", "nsubj", "nsubjpass", "mark", "punct", "parataxis")
CONTENT = ("NOUN", "PROPN", "VERB", "ADJ", "NUM")
FIRST_PERSON = {"i", "we"}
NEGATION_CUE = re.compile(r"n't|n ' t|\b(?:not|never|no|nobody|nothing|none|cannot|neither|nor)\b", re.IGNORECASE)
TAG = re.compile(r"#[A-Za-z]+\d*#")
COMPLEMENTS = ("dobj", "acomp", "attr", "xcomp", "prt", "oprd", "ccomp")
CONTRACTION = re.compile(r"\b(\w+) ' ?(t|s|re|ve|ll|d|m)\b", re.IGNORECASE)  # DialogSum's "don ' t", "I ' Ve"


def normalise(text: str) -> str:
    return CONTRACTION.sub(r"\1'\2", text)


def is_negated(token: Any) -> bool:
    holders = [token]
    if token.dep_ in ("acomp", "attr", "oprd") and token.head is not token:
        holders.append(token.head)  # "is not happy": the negation hangs on the copula
    for holder in holders:
        for child in holder.children:
            if child.dep_ == "neg" or child.lower_ in NEGATIVE_WORDS:
                return True
            if child.dep_ in ("dobj", "nsubj", "nsubjpass", "attr") and any(
                g.dep_ == "det" and g.lower_ == "no" for g in child.children
            ):
                return True
    return False


def polarity(token: Any) -> bool:
    """True when negated, counting a negated 'think'/'believe' above the clause as this clause's negation."""
    raised = token.dep_ == "ccomp" and token.head.lemma_.lower() in NEG_RAISERS and is_negated(token.head)
    return is_negated(token) != raised


def arguments(token: Any) -> set[str]:
    """Content lemmas of what the predicate says of its subject (objects, complements), not other clauses."""
    found = set()
    for child in token.children:
        if child.dep_ not in OWN_CLAUSES:
            found |= {t.lemma_.lower() for t in child.subtree if t.pos_ in CONTENT and t.is_alpha}
    return found - LIGHT_VERBS


def subject(token: Any) -> Any | None:
    while token.dep_ == "conj" and token.head is not token and not any(c.dep_.startswith("nsubj")
                                                                        for c in token.children):
        token = token.head
    return next((c for c in token.children if c.dep_.startswith("nsubj")), None)


def predicate_key(token: Any) -> str | None:
    """What a predicate is compared by: its lemma, and for a light verb the lemma of its object or complement."""
    if token.pos_ not in ("VERB", "ADJ", "AUX") or not token.is_alpha:
        return None
    lemma = token.lemma_.lower()
    if lemma in NEG_RAISERS:
        return None
    if token.pos_ == "AUX" and token.dep_ not in ("ROOT", "conj", "ccomp", "advcl", "relcl"):
        return None
    if lemma in LIGHT_VERBS:
        complement = next((c for c in token.children if c.dep_ in COMPLEMENTS and c.is_alpha), None)
        if complement is None:
            return None
        return f"{lemma} {complement.lemma_.lower()}"
    return lemma


def states_nothing(token: Any) -> bool:
    """In a question or an 'if' clause: the dialogue neither affirms nor denies it."""
    if token.sent.text.rstrip().endswith("?"):
        return True
    head = token
    for _ in range(4):
        if any(c.dep_ == "mark" and c.lower_ in CONDITION_MARKS for c in head.children):
            return True
        if head.head is head:
            break
        head = head.head
    return False


@lru_cache(maxsize=4096)
def forms(lemma: str, irregular: tuple[str, ...] = ()) -> frozenset[str]:
    """Surface forms a lemma may take: regular inflections plus the lemmatizer's irregular ones."""
    stem = lemma[:-1] if lemma[-1:] in "ey" else lemma
    regular = {lemma, lemma + "s", lemma + "es", lemma + "ed", lemma + "d", lemma + "ing", stem + "ing",
               stem + "ied", stem + "ies", lemma + lemma[-1:] + "ed", lemma + lemma[-1:] + "ing", lemma + "er"}
    return frozenset(regular | set(irregular))


def _summary_tag(summary: str, token: Any) -> str | None:
    """The speaker tag (#Person1#) the predicate is said of, when its subject is one."""
    subj = subject(token)
    if subj is None:
        return None
    for match in TAG.finditer(summary):
        if match.start() <= subj.idx < match.end():
            return match.group()
    return None


def _comparable(tag: str | None, speaker: str | None, token: Any) -> bool:
    """Whether a dialogue occurrence is about the summary's subject: "I" from another speaker is not."""
    subj = subject(token)
    if tag is None or speaker is None or subj is None:
        return True
    who = subj.lower_
    if who in FIRST_PERSON:
        return speaker == tag
    return speaker != tag if who == "you" else True


def _lines(dialogue: str) -> list[tuple[str | None, str]]:
    """(speaker tag or None, text) per dialogue line."""
    found = []
    for line in dialogue.splitlines():
        match = re.match(r"\s*(#[A-Za-z]+\d*#)\s*:\s*", line)
        speaker, text = (match.group(1), line[match.end():]) if match else (None, line)
        if text.strip():
            found.append((speaker, normalise(text)))
    return found


def negation_facts(
    doc: Any, summary: str, dialogue: str, nlp: Any, irregular: dict[str, tuple[str, ...]]
) -> list[dict[str, Any]]:
    """Predicates of `summary` (parsed as `doc`) whose polarity the dialogue contradicts."""
    claims = []
    for token in doc:
        key = predicate_key(token)
        if key is not None:
            claims.append((token, key, polarity(token), arguments(token), _summary_tag(summary, token)))
    if not claims:
        return []
    wanted = set()
    for claim in claims:
        lemma = claim[1].split()[0]
        wanted |= forms(lemma, irregular.get(lemma, ()))
    any_negated = any(claim[2] for claim in claims)
    chosen = [(who, text) for who, text in _lines(dialogue)
              if wanted & set(re.findall(r"[a-z]+", text.lower())) or (any_negated and NEGATION_CUE.search(text))]
    occurrences: dict[str, list[tuple[Any, str | None]]] = {}
    denied: set[str] = set()  # lemmas of what the dialogue negates, and of its arguments
    for (speaker, _), line_doc in zip(chosen, nlp.pipe([text for _, text in chosen], disable=["ner"]), strict=True):
        for token in line_doc:
            key = predicate_key(token)
            if token.pos_ in ("VERB", "ADJ", "AUX") and polarity(token) and not states_nothing(token):
                denied |= {token.lemma_.lower(), *(key or "").split()[1:], *arguments(token)}
            if key is not None and not states_nothing(token):
                occurrences.setdefault(key, []).append((token, speaker))
    facts = []
    for token, key, negated, args, tag in claims:
        polarities = [
            polarity(other) for other, speaker in occurrences.get(key, [])
            if _comparable(tag, speaker, other) and (not args or args & arguments(other))
        ]
        if negated and not polarities and occurrences.get(key) and key.split()[0] not in denied and not args & denied:
            start, end = _span(token, negated)
            facts.append({"start": start, "end": end, "text": summary[start:end],
                          "why": f"the summary negates '{key}'; the dialogue says it and negates nothing like it"})
            continue
        if not polarities or (negated and any(polarities)) or (not negated and not all(polarities)):
            continue
        start, end = _span(token, negated)
        said = "negates" if negated else "affirms"
        other = "affirms" if negated else "negates"
        facts.append({"start": start, "end": end, "text": summary[start:end],
                      "why": f"the summary {said} '{key}'; the dialogue only {other} it ({len(polarities)}x)"})
    return facts


def _span(token: Any, negated: bool) -> tuple[int, int]:
    """The predicate, with its negation and auxiliaries when they come before it ("doesn't want")."""
    parts = [token]
    if negated:
        holders = [token, token.head] if token.dep_ in ("acomp", "attr", "oprd") else [token]
        parts += [c for h in holders for c in h.children if c.dep_ in ("neg", "aux") or c.lower_ in NEGATIVE_WORDS]
        parts += [h for h in holders]
    start = min(p.idx for p in parts)
    end = max(p.idx + len(p.text) for p in parts)
    return start, end
