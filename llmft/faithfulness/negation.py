"""Statements a summary negates where the dialogue affirms them, or affirms where the dialogue negates them.

The summary is read with spaCy's dependency parser. A predicate is a verb or adjective; it is negated when it
(or, for "is not happy", its copula) has a `neg` dependent ("not", "n't", "never"), or its subject or object is
"nobody", "nothing", "none" or has the determiner "no" ("has no money").

A negated predicate is compared by meaning words, not by its verb alone (summaries paraphrase): its content
lemmas are its own and those of its objects and complements ("doesn't want a table near the door": want,
table, door; light verbs such as have, get, make and stop words aside). A dialogue sentence states one of them
when it has any form of it ("bought" for "buy") or shares its first five letters ("decision" for "decide").
Flagged: the dialogue has a sentence stating part of it without a negation, and no sentence with a negation
(n't, not, never, no, nothing, ...) has at least half of it within 8 words after the negation, nor does a
question answered "no" or "I can't ..." state half of it. A paraphrased
denial ("I'd rather stay home" for "doesn't want to go") is therefore a false alarm, and a negation of something
the dialogue never mentions in the same words ("isn't hungry" for "I've just eaten") is not seen.

Only predicates the summary asserts are judged, negated or not (not "how to use", "asks him to exercise",
"decides not to divorce": advice and decisions are rarely a plain negation in the dialogue). An affirmed one is
compared with the parsed dialogue sentences that have a form of the same lemma (a light verb with its object:
"have money"), outside questions and "if" clauses, and flagged when every such occurrence is negated. Who says
or does it is compared only for "I"/"you" against the summary's #PersonN# subject. Static word vectors (MiniLM's
input embeddings) for synonyms were tried and gained nothing on the bench (a prototype of this rule: negation
recall 0.637 without, 0.642 with, at cosine 0.5); sentence embeddings cost about 100 ms per dialogue on a loaded
2-vCPU machine, over the 20 ms budget.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any, NamedTuple

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
WORDS = re.compile(r"[a-z]+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
NEGATIVE_REPLY = re.compile(r"\s*(?:no|not|nope|sorry|unfortunately|i'm afraid)\b", re.IGNORECASE)
CONTENT_POS = ("NOUN", "PROPN", "VERB", "ADJ", "ADV", "NUM")
NOT_CONTENT = ("nsubj", "nsubjpass", "neg", "punct", "mark", "cc", "conj", "advcl", "parataxis", "expl", "aux",
               "auxpass", "ccomp", "relcl")
STEM = 5
NEGATION_REACH = 8  # words after "not"/"never"/... that it denies: about a clause (bench, before negated claims
# were limited to asserted ones: 5 -> 12 words moved negation recall 0.635 -> 0.623, false alarms 6.2% -> 6.0%)
UNASSERTED = ("xcomp", "pcomp", "pobj", "acl", "amod", "csubj", "advcl", "relcl", "prep", "compound")
CONTRACTION = re.compile(r"\b(\w+) ' ?(t|s|re|ve|ll|d|m)\b", re.IGNORECASE)  # DialogSum's "don ' t", "I ' Ve"


class Sentence(NamedTuple):
    words: frozenset[str]
    question: bool
    negated: bool
    denied: frozenset[str]  # the words in reach of its negation


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


@lru_cache(maxsize=256)
def _sentences(dialogue: str) -> tuple[Sentence, ...]:
    """The dialogue's sentences, each with its words and whether it is a question or negated (cached: the
    variants or columns of one dialogue are checked one after another)."""
    lines = _lines(dialogue)
    found = []
    for i, (_, text) in enumerate(lines):
        reply = lines[i + 1][1] if i + 1 < len(lines) else ""
        for sentence in SENTENCE_END.split(text):
            if not sentence.strip():
                continue
            question = sentence.rstrip().endswith("?")
            # "Do you want tea?" answered "No." or "I can't, ..." denies what the question asks
            answer = SENTENCE_END.split(reply.strip(), maxsplit=1)[0]
            words = WORDS.findall(normalise(sentence).lower())
            if question and (NEGATIVE_REPLY.match(answer) or NEGATION_CUE.search(answer)):
                denied = frozenset(words)
            else:  # the words a negation can reach: "nobody knows it, so I'll move it" denies no moving
                cues = [m.end() for m in NEGATION_CUE.finditer(normalise(sentence).lower())]
                denied = frozenset(w for cue in cues
                                   for w in WORDS.findall(normalise(sentence).lower()[cue:])[:NEGATION_REACH])
            found.append(Sentence(frozenset(words), question, bool(NEGATION_CUE.search(sentence)) or bool(denied),
                                  denied))
    return tuple(found)


def asserted(token: Any) -> bool:
    """Whether the summary states the predicate happened or holds, not "how to use" or "asks him to exercise"."""
    if token.dep_ in UNASSERTED or any(c.dep_ == "aux" and c.lower_ == "to" for c in token.children):
        return False
    return not (token.tag_ == "VBG" and not any(c.dep_ == "aux" for c in token.children))


def content_lemmas(token: Any, tags: list[tuple[int, int]] = ()) -> set[str]:
    """What a negated predicate says: its own lemma and the content lemmas of its objects and complements
    ("doesn't want a table near the door": want, table, door), light verbs and stop words aside."""
    parts = [token]
    holders = [token, token.head] if token.dep_ in ("acomp", "attr", "oprd") and token.head is not token else [token]
    for holder in holders:
        for child in holder.children:
            if child is not token and child.dep_ not in NOT_CONTENT:
                parts.extend(child.subtree)
    # a speaker tag (parsed as a stand-in name) says who, not what
    return {t.lemma_.lower() for t in parts if t.pos_ in CONTENT_POS and t.is_alpha and not t.is_stop
            and not any(s <= t.idx < e for s, e in tags)} - LIGHT_VERBS


def _said(lemma: str, words: frozenset[str], irregular: dict[str, tuple[str, ...]]) -> bool:
    """`lemma` in any form among `words`; a shared 5-letter stem counts too ("decide", "decision")."""
    if forms(lemma, irregular.get(lemma, ())) & words:
        return True
    return len(lemma) >= STEM and any(w[:STEM] == lemma[:STEM] for w in words if len(w) >= STEM)


def negated_without_support(token: Any, dialogue: str, irregular: dict[str, tuple[str, ...]],
                            tags: list[tuple[int, int]] = ()) -> int:
    """For a negated predicate: the number of dialogue sentences that state part of it without a negation,
    or 0 when the dialogue supports the negation (a negated sentence, or a question answered "no", sharing
    at least half of its content lemmas) or states none of it."""
    lemmas = content_lemmas(token, tags)
    if not lemmas:
        return 0
    needed = max(1, math.ceil(len(lemmas) / 2))
    affirmed = 0
    for sentence in _sentences(dialogue):
        shared = sum(1 for lemma in lemmas if _said(lemma, sentence.words, irregular))
        if sentence.negated and sum(1 for lemma in lemmas if _said(lemma, sentence.denied, irregular)) >= needed:
            return 0
        affirmed += bool(shared) and not sentence.negated and not sentence.question
    return affirmed


def negation_facts(
    doc: Any, summary: str, dialogue: str, nlp: Any, irregular: dict[str, tuple[str, ...]]
) -> list[dict[str, Any]]:
    """Predicates of `summary` (parsed as `doc`) whose polarity the dialogue contradicts."""
    facts = []
    affirmed_claims = []
    tags = [(m.start(), m.end()) for m in TAG.finditer(summary)]
    for token in doc:
        key = predicate_key(token) if token.pos_ in ("VERB", "ADJ", "AUX") and token.is_alpha else None
        if token.pos_ in ("VERB", "ADJ", "AUX") and token.is_alpha and polarity(token) and asserted(token):
            count = negated_without_support(token, dialogue, irregular, tags)
            if count:
                start, end = _span(token, True)
                what = ", ".join(sorted(content_lemmas(token, tags)))
                facts.append({"start": start, "end": end, "text": summary[start:end],
                              "why": f"the summary negates this ({what}); {count} dialogue sentence(s) say it "
                                     "and none negates it"})
        elif key is not None and asserted(token):
            affirmed_claims.append((token, key, arguments(token), _summary_tag(summary, token)))
    facts += _affirmed_but_denied(affirmed_claims, summary, dialogue, nlp, irregular)
    return sorted(facts, key=lambda f: f["start"])


def _affirmed_but_denied(claims: list, summary: str, dialogue: str, nlp: Any,
                         irregular: dict[str, tuple[str, ...]]) -> list[dict[str, Any]]:
    """Affirmed predicates whose every comparable occurrence in the dialogue is negated (same lemma, or a light
    verb with the same object, sharing an argument when the summary gives one)."""
    if not claims:
        return []
    wanted = {key.split()[0] for _, key, _, _ in claims}
    shapes = {lemma: forms(lemma, irregular.get(lemma, ())) for lemma in wanted}
    sentences = [(who, text, frozenset(WORDS.findall(text.lower()))) for who, text in _dialogue_sentences(dialogue)]
    # Only a predicate the dialogue says in a negated sentence can be contradicted: parse nothing otherwise.
    denied = {lemma for lemma in wanted for _, text, words in sentences
              if shapes[lemma] & words and NEGATION_CUE.search(text)}
    if not denied:
        return []
    needed = frozenset().union(*(shapes[lemma] for lemma in denied))
    chosen = [(who, text) for who, text, words in sentences if needed & words]
    occurrences: dict[str, list[tuple[Any, str | None]]] = {}
    for (who, _), doc in zip(chosen, _parsed(nlp, tuple(text for _, text in chosen)), strict=True):
        for token in doc:
            key = predicate_key(token)
            if key is not None and not states_nothing(token):
                occurrences.setdefault(key, []).append((token, who))
    facts = []
    for token, key, args, tag in claims:
        if key.split()[0] not in denied:
            continue
        polarities = [polarity(other) for other, speaker in occurrences.get(key, [])
                      if _comparable(tag, speaker, other) and (not args or args & arguments(other))]
        if polarities and all(polarities):
            start, end = _span(token, False)
            facts.append({"start": start, "end": end, "text": summary[start:end],
                          "why": f"the summary affirms '{key}'; the dialogue only negates it ({len(polarities)}x)"})
    return facts


@lru_cache(maxsize=256)
def _dialogue_sentences(dialogue: str) -> tuple[tuple[str | None, str], ...]:
    """(speaker, sentence) for each sentence of each line."""
    return tuple((who, sentence) for who, text in _lines(dialogue)
                 for sentence in SENTENCE_END.split(text) if sentence.strip())


_PARSES: dict[str, Any] = {}  # sentence -> parse: the variants of one dialogue ask for the same sentences
_PARSES_KEPT = 512


def _parsed(nlp: Any, texts: tuple[str, ...]) -> list[Any]:
    """The sentences' parses (no NER), new ones in one batch, recent ones from the cache."""
    new = [text for text in dict.fromkeys(texts) if text not in _PARSES]
    if new:
        if len(_PARSES) + len(new) > _PARSES_KEPT:
            _PARSES.clear()
        _PARSES.update(zip(new, nlp.pipe(new, disable=["ner"]), strict=True))
    return [_PARSES[text] for text in texts]


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
