"""Varied DialogSum-shaped dialogues for the embedded demo model (`llmft.demo`): what it is trained on.

`llmft.demo.tiny.synthetic_dialogues` (four fixed turns, one summary pattern) is what the tests' tiny models use;
a model trained on it writes one sentence whatever it reads. These dialogues vary what a summary must
follow: twelve everyday scenarios (a table booked, a purchase, an invitation, directions, an interview, a
doctor's visit, a hotel, a ticket, the weekend, a flat, a lost item, a return), four to nine turns with
optional small talk, a few dozen names, and outcomes that change the summary (a table full at eight and
taken at nine, an invitation declined). The summaries name the speakers as DialogSum does (`#Person1#`).
Deterministic for a seed.
"""

from __future__ import annotations

import random

from llmft.data import DialogueExample
from llmft.demo.scenarios import SCENARIOS

OPENINGS = ["#Person1#: Hello.", "#Person1#: Hi there.", "#Person1#: Good morning."]


def demo_dialogues(count: int, seed: int = 0) -> list[DialogueExample]:
    """`count` dialogues, the scenarios taken in turn (so every split holds each one), deterministic for `seed`."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        turns, summary, topic = SCENARIOS[index % len(SCENARIOS)](rng)
        if rng.random() < 0.2:  # a greeting before the business, as real conversations often have
            turns = [rng.choice(OPENINGS), "#Person2#: Hello.", *turns]
        rows.append(DialogueExample(id=f"demo_{index}", dialogue="\n".join(turns), summaries=[summary], topic=topic))
    return rows
