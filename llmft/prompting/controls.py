"""The Prompting Space's controls: columns (shots and picker), generation settings, references, dialogue.

Everything a person can type or slide is checked here, with a message that starts with the control's
label on the page ("B: shots", "Max new tokens", ...), so a bad value says which control is wrong. The
app lets these checks speak (its components do not refuse out-of-range values themselves).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

from llmft.errors import ConfigError, PromptError
from llmft.models import GenerationSettings
from llmft.prompts import SHOT_STRATEGIES

MAX_SHOTS = 5
DecodingName = Literal["greedy", "beam", "sample"]
DECODING_CHOICES: tuple[str, ...] = get_args(DecodingName)
PICKER_NAMES = {"first": "first-k", "random": "random", "similar": "most similar"}
COLUMN_NAMES = "ABCDEFGH"
MAX_SEED = 2**32 - 1
MAX_NEW_TOKENS = 512

# The page's labels for each control: app.py labels its components with these, and every message about a
# bad value starts with the same words, so a person sees which of the page's controls to change.
FIELD_LABELS = {
    "decoding": "Decoding",
    "num_beams": "Beams",
    "temperature": "Temperature",
    "top_p": "Top-p",
    "seed": "Sampling seed",
    "max_new_tokens": "Max new tokens",
    "n_dialogues": "N test dialogues",
}


def column_field_label(column: str, field: str) -> str:
    """The page's label of a column's control: 'B: shots', 'B: pick shots by', 'B: random seed'."""
    return f"{column}: " + {"shots": "shots", "strategy": "pick shots by", "seed": "random seed"}[field]


def checked_number(
    value: Any,
    field: str,
    low: float,
    high: float,
    whole: bool = False,
    above_low: bool = False,
    error: type[ConfigError] | type[PromptError] = ConfigError,
) -> Any:
    """`value` as an int (`whole`) or float within [low, high] (`above_low`: low excluded), or `error`
    with a message that starts with the field's label, e.g. "B: shots must be from 0 to 5, not 6."."""
    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise error(f"{field} must be {kind}, not {value!r}.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise error(f"{field} must be {kind}, not {value!r}.") from None
    if not math.isfinite(number) or (whole and not number.is_integer()):
        raise error(f"{field} must be {kind}, not {value}.")
    shown, lo, hi = (int(x) if float(x).is_integer() else x for x in (number, low, high))
    if above_low and not low < number <= high:
        raise error(f"{field} must be above {lo} and at most {hi}, not {shown}.")
    if not low <= number <= high:
        raise error(f"{field} must be from {lo} to {hi}, not {shown}.")
    return int(number) if whole else number


@dataclass(frozen=True)
class ColumnConfig:
    """One prompting strategy: how many shots, and how they are picked."""

    shots: int = 0
    strategy: str = "first"
    seed: int = 0
    name: str = "A"

    @property
    def label(self) -> str:
        """Short name for tables and charts, e.g. 'B · 2-shot most similar'."""
        if self.shots == 0:
            what = "0-shot"
        elif self.strategy == "random":
            what = f"{self.shots}-shot random (seed {self.seed})"
        else:
            what = f"{self.shots}-shot {PICKER_NAMES.get(self.strategy, self.strategy)}"
        return f"{self.name} · {what}" if self.name else what

    def checked(self) -> ColumnConfig:
        """This config with whole-number fields, or a `PromptError` naming the column's control and the bad value."""
        name = self.name or "Column"
        shots = checked_number(
            self.shots, column_field_label(name, "shots"), 0, MAX_SHOTS, whole=True, error=PromptError
        )
        seed = checked_number(self.seed, column_field_label(name, "seed"), 0, MAX_SEED, whole=True, error=PromptError)
        if self.strategy not in SHOT_STRATEGIES:
            raise PromptError(
                f"{column_field_label(name, 'strategy')}: unknown shot picker '{self.strategy}'; "
                f"choose one of {', '.join(SHOT_STRATEGIES)}."
            )
        return ColumnConfig(shots=shots, strategy=self.strategy, seed=seed, name=self.name)


# The page's three columns as they first are: zero-shot, one-shot, two most similar shots.
DEFAULT_COLUMNS = (ColumnConfig(0, "first", 0, "A"), ColumnConfig(1, "first", 0, "B"),
                   ColumnConfig(2, "similar", 0, "C"))


def column_configs(*triples: tuple[Any, Any, Any]) -> list[ColumnConfig]:
    """Configs named A, B, C, ... from (shots, strategy, seed) triples, checked."""
    if len(triples) > len(COLUMN_NAMES):
        raise PromptError(f"At most {len(COLUMN_NAMES)} columns can be compared.")
    # None (a control left empty) means the control's default: 0 shots, seed 0, first-k.
    return [
        ColumnConfig(
            shots=0 if shots is None else shots, strategy=str(strategy or "first"), seed=0 if seed is None else seed,
            name=name,
        ).checked()
        for name, (shots, strategy, seed) in zip(COLUMN_NAMES, triples, strict=False)
    ]


@dataclass(frozen=True)
class Decoding:
    """The page's generation controls, named as the API names them, with their defaults: the one place the
    endpoints' defaults and the controls' first values come from. `settings()` checks them."""

    decoding: DecodingName = "greedy"  # checked in settings(): it comes from the page or the API as any text
    num_beams: int = 4
    temperature: float = 0.7
    top_p: float = 0.9
    max_new_tokens: int = 200
    seed: int = 0

    def settings(self) -> GenerationSettings:
        """`GenerationSettings` for greedy, beam search, or sampling (seeded); only the controls the chosen
        decoding uses are checked (the page hides the others)."""
        if self.decoding not in DECODING_CHOICES:
            raise ConfigError(f"{FIELD_LABELS['decoding']}: unknown decoding '{self.decoding}'; choose one of "
                              f"{', '.join(DECODING_CHOICES)}.")
        tokens = checked_number(self.max_new_tokens, FIELD_LABELS["max_new_tokens"], 1, MAX_NEW_TOKENS, whole=True)
        if self.decoding == "greedy":
            return GenerationSettings(max_new_tokens=tokens)
        if self.decoding == "beam":
            beams = checked_number(self.num_beams, FIELD_LABELS["num_beams"], 2, 8, whole=True)
            return GenerationSettings(max_new_tokens=tokens, num_beams=beams)
        temperature = checked_number(self.temperature, FIELD_LABELS["temperature"], 0, 2, above_low=True)
        top_p = checked_number(self.top_p, FIELD_LABELS["top_p"], 0, 1, above_low=True)
        seed = checked_number(self.seed, FIELD_LABELS["seed"], 0, MAX_SEED, whole=True)
        return GenerationSettings(max_new_tokens=tokens, do_sample=True, temperature=temperature, top_p=top_p,
                                  seed=seed)
