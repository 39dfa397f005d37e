"""Numbers a text states, each normalised to the values it could mean: digits, number words, times, dates, money.

`mentions(text)` finds every number in a text and gives it a set of *keys*: "3:30 pm" is {t15:30, t3:30},
"two hundred dollars" and "$200" are both {n200}, "the fifth" and "5th" {n5}, "Friday" {wfriday}, "May 3"
{mmay} and {n3}. A summary's number is supported when one of its keys is among the dialogue's keys
(`dialogue_keys`): the same value written another way counts, a different value does not.

Deliberately lenient on the dialogue's side (every "one", "first" and "second" counts there) and strict on
the summary's ("the one he likes" and "for the first time" are not numbers). Units and currencies are not
compared: "5 km" against "5 miles", or "$5" against "5 yuan", pass. A value the summary computes (two
tickets at $5, "$10 in all") is flagged, since the dialogue never states it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if i > 1}
SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
ORDINALS = {w: i + 3 for i, w in enumerate(
    "third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth fifteenth "
    "sixteenth seventeenth eighteenth nineteenth twentieth".split())}
ORDINALS.update(thirtieth=30, hundredth=100)
LENIENT_ORDINALS = {"first": 1, "second": 2}  # on the dialogue's side only: "first time", "a second"
OTHER = {"dozen": 12, "twice": 2, "thrice": 3, "fortnight": 14}
MONTHS = {m: m for m in "january february march april may june july august september october november december".split()}
MONTHS.update({m[:3]: m for m in MONTHS}, sept="september")
WEEKDAYS = {d: d for d in "monday tuesday wednesday thursday friday saturday sunday".split()}
WEEKDAYS.update({d[:3]: d for d in WEEKDAYS}, tues="tuesday", thur="thursday", thurs="thursday")
AMBIGUOUS_MONTHS = {"may", "mar", "march", "jun", "sat", "sun", "wed", "dec", "jan", "aug", "oct", "nov", "feb",
                    "apr", "jul", "sep", "sept", "mon", "tue", "tues", "thu", "thur", "thurs", "fri"}
PRONOUN_ONE_BEFORE = {"the", "this", "that", "which", "each", "every", "any", "no", "another", "a", "one", "some",
                      "other", "last", "only", "right", "new", "old", "little", "big", "first"}
PRONOUN_ONE_AFTER = {"of", "another", "'s", "who", "that", "which", "day"}
TIME_WORDS = {"am", "a.m.", "pm", "p.m.", "o'clock", "oclock"}
DATE_PREPOSITIONS = {"in", "on", "of", "since", "until", "till", "by", "early", "late", "next", "last", "this", "mid",
                     "before", "after", "from", "to"}

TOKEN = re.compile(r"#\w+#|\d+(?:[.,:]\d+)*(?:st|nd|rd|th|s|k)?|[A-Za-z]+(?:'[a-z]+)?|[$£€¥%-]|[.](?:[mM][.])?")
WORDS = set(UNITS) | set(TENS) | set(SCALES) | set(ORDINALS) | set(OTHER)


@dataclass(frozen=True)
class NumberMention:
    """A number in a text: where, what it says, and the keys of the values it may mean."""

    start: int
    end: int
    text: str
    keys: frozenset[str]
    what: str  # "number", "time", "date", "money", "percent"


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]


def _number_key(value: float) -> str:
    return f"n{int(value)}" if float(value).is_integer() else f"n{value:g}"


def _digits(token: str) -> float | None:
    token = token.lower()
    multiplier = 1000 if token.endswith("k") else 1
    token = re.sub(r"(st|nd|rd|th|s|k)$", "", token).replace(",", "")
    try:
        return float(token) * multiplier
    except ValueError:
        return None


def _word_number(words: list[str]) -> tuple[int, int] | None:
    """The value of the number words at the start of `words` and how many words it took ("two hundred and five")."""
    total, current, used, seen = 0, 0, 0, False
    index = 0
    while index < len(words):
        word = words[index]
        if word in UNITS or word in TENS:
            value = UNITS.get(word, TENS.get(word, 0))
            if seen and current % 100 and (word in TENS or current % 10 or value >= 10):
                break  # "twenty five" goes on; "five six" is two numbers
            current += value
        elif word in SCALES and seen:
            scale = SCALES[word]
            if scale == 100:
                current = max(current, 1) * 100
            else:
                total, current = total + max(current, 1) * scale, 0
        elif word in ("-", "and") and seen and index + 1 < len(words) and words[index + 1] in UNITS | TENS:
            index += 1
            continue
        elif word == "a" and not seen and index + 1 < len(words) and words[index + 1] in ("hundred", "thousand",
                                                                                            "million", "dozen"):
            current, seen = 1, True
            index += 1
            if words[index] == "dozen":
                return 12, index + 1
            continue
        else:
            break
        seen = True
        index += 1
        used = index
    return (total + current, used) if seen and used else None


def mentions(text: str, lenient: bool = False) -> list[NumberMention]:
    """Every number in `text` with its keys; `lenient` (the dialogue's side) also counts 'one', 'first', 'second'."""
    tokens = _tokens(text)
    lower = [t.lower() for t, _, _ in tokens]
    found: list[NumberMention] = []
    i = 0
    while i < len(tokens):
        word, start, end = tokens[i]
        low = lower[i]
        nxt = lower[i + 1] if i + 1 < len(tokens) else ""
        prev = lower[i - 1] if i > 0 else ""
        taken, keys, what = 1, set(), "number"
        if word.startswith("#"):
            i += 1
            continue
        if low[0].isdigit():
            if ":" in low:
                hour, _, minute = low.partition(":")
                keys |= _time_keys(int(hour), int(minute.split(":")[0]) if minute[:2].isdigit() else 0, nxt)
                what = "time"
                taken += nxt in TIME_WORDS
            else:
                value = _digits(low)
                if value is None:
                    i += 1
                    continue
                taken, value, what = _scaled(lower, i, value)
                keys.add(_number_key(value))
                if lower[i + taken: i + taken + 1] and lower[i + taken] in TIME_WORDS and value <= 12:
                    keys |= _time_keys(int(value), 0, lower[i + taken])
                    taken += 1
                    what = "time"
            if prev in ("$", "£", "€", "¥"):
                start, what = tokens[i - 1][1], "money"
        elif low in WORDS or (low == "a" and nxt in ("hundred", "thousand", "million", "dozen")):
            parsed = _word_number(lower[i:])
            if low in ORDINALS:
                keys.add(_number_key(ORDINALS[low]))
            elif low in OTHER:
                keys.add(_number_key(OTHER[low]))
            elif parsed:
                value, taken = parsed
                if low == "one" and taken == 1 and not lenient and (prev in PRONOUN_ONE_BEFORE or
                                                                     nxt in PRONOUN_ONE_AFTER or not nxt):
                    i += 1
                    continue
                taken, value, what = _scaled(lower, i + taken - 1, value, taken)
                keys.add(_number_key(value))
                if value <= 12 and i + taken < len(tokens) and lower[i + taken] in TIME_WORDS:
                    keys |= _time_keys(int(value), 0, lower[i + taken])
                    taken, what = taken + 1, "time"
            else:
                i += 1
                continue
        elif low in ("half", "quarter") and nxt in ("past", "to") and i + 2 < len(tokens):
            hour = _word_or_digit(lower[i + 2])
            if hour is None:
                i += 1
                continue
            minute = 30 if low == "half" else 15
            keys |= _time_keys(hour - 1, 60 - minute, "") if nxt == "to" else _time_keys(hour, minute, "")
            taken, what = 3, "time"
        elif lenient and low in LENIENT_ORDINALS:
            keys.add(_number_key(LENIENT_ORDINALS[low]))
        elif low in MONTHS and _is_date_word(word, low, prev, nxt, lenient):
            keys.add("m" + MONTHS[low])
            what = "date"
        elif low in WEEKDAYS and _is_date_word(word, low, prev, nxt, lenient):
            keys.add("w" + WEEKDAYS[low])
            what = "date"
        else:
            i += 1
            continue
        last = tokens[min(i + taken, len(tokens)) - 1]
        if i + taken < len(tokens) and lower[i + taken] in ("%", "percent", "per"):
            what = "percent"
        found.append(NumberMention(start, last[2], text[start:last[2]], frozenset(keys), what))
        i += taken
    return found


def _scaled(lower: list[str], i: int, value: float, taken: int = 1) -> tuple[int, float, str]:
    """Digits or words followed by 'million'/'thousand' ('2.5 million'): the tokens taken, the value, the kind."""
    nxt = lower[i + 1] if i + 1 < len(lower) else ""
    if nxt in SCALES and nxt != "hundred" or (nxt == "hundred" and value < 100):
        return taken + 1, value * SCALES[nxt], "number"
    what = "money" if nxt in ("dollars", "dollar", "yuan", "pounds", "euros", "bucks", "cents", "rmb") else "number"
    return taken, value, what


def _word_or_digit(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    parsed = _word_number([word])
    return parsed[0] if parsed else None


def _time_keys(hour: int, minute: int, marker: str) -> set[str]:
    """A clock time's keys: both halves of the day unless am/pm says which, and the hour as a number."""
    keys = {f"n{hour}"}
    if marker.startswith("p") and hour < 12:
        hours = {hour + 12}
    elif marker.startswith("a"):
        hours = {hour % 12}
    else:
        hours = {hour % 24, (hour + 12) % 24} if hour <= 12 else {hour, hour - 12}
    keys |= {f"t{h % 24}:{minute:02d}" for h in hours} | {f"t{h % 12}:{minute:02d}" for h in hours}
    return keys


def _is_date_word(word: str, low: str, prev: str, nxt: str, lenient: bool) -> bool:
    """A month or weekday name, not the verb 'may' or the noun 'march': capitalised, and for ambiguous ones a
    number or a preposition next to it."""
    if lenient:
        return True
    if not word[0].isupper():
        return low in WEEKDAYS and len(low) > 4
    if low in AMBIGUOUS_MONTHS:
        return bool(re.match(r"\d", nxt)) or prev in DATE_PREPOSITIONS or nxt in ORDINALS
    return True


def dialogue_keys(dialogue: str) -> frozenset[str]:
    """Every key the dialogue's numbers have (leniently read), for `supported`."""
    return frozenset(key for mention in mentions(dialogue, lenient=True) for key in mention.keys)


def supported(mention: NumberMention, keys: frozenset[str]) -> bool:
    """One of the mention's values is in the dialogue; a time's hour and minute stated apart count too."""
    if mention.keys & keys:
        return True
    times = [k for k in mention.keys if k.startswith("t")]
    return any(f"n{int(t[1:].split(':')[0])}" in keys and f"n{int(t.split(':')[1])}" in keys for t in times)
