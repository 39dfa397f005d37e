"""The Prompting Space's controls: columns (shots and picker), generation settings, references, dialogue.

Everything a person can type or slide is checked here, with a message that names the field as the
page labels it ("Column B: shots", "Max new tokens", ...), so a bad value says which control is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llmft.errors import ConfigError, PromptError
from llmft.models import GenerationSettings
from llmft.prompts import MAX_SOURCE_TOKENS, SHOT_STRATEGIES

MAX_SHOTS = 5
# A guard against pasting a book: far past what the encoder reads (512 tokens is ~2,000 characters),
# yet small enough that tokenising it to report what was cut stays instant.
MAX_DIALOGUE_CHARS = 20_000
DECODING_CHOICES: tuple[str, ...] = ("greedy", "beam", "sample")
PICKER_NAMES = {"first": "first-k", "random": "random", "similar": "most similar"}
COLUMN_NAMES = "ABCDEFGH"


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
        """This config with whole-number fields, or a `PromptError` naming the column and the bad value."""
        where = f"Column {self.name}: " if self.name else ""
        try:
            shots, seed = int(self.shots), int(self.seed)
        except (TypeError, ValueError):
            raise PromptError(f"{where}shots and seed must be whole numbers.") from None
        if shots != self.shots or not 0 <= shots <= MAX_SHOTS:
            raise PromptError(
                f"{where}the number of shots must be a whole number from 0 to {MAX_SHOTS}, not {self.shots}."
            )
        if self.strategy not in SHOT_STRATEGIES:
            raise PromptError(
                f"{where}unknown shot picker '{self.strategy}'; choose one of {', '.join(SHOT_STRATEGIES)}."
            )
        return ColumnConfig(shots=shots, strategy=self.strategy, seed=seed, name=self.name)


def column_configs(*triples: tuple[Any, Any, Any]) -> list[ColumnConfig]:
    """Configs named A, B, C, ... from (shots, strategy, seed) triples, checked."""
    if len(triples) > len(COLUMN_NAMES):
        raise PromptError(f"At most {len(COLUMN_NAMES)} columns can be compared.")
    return [
        ColumnConfig(shots=_whole(shots), strategy=str(strategy or "first"), seed=_whole(seed), name=name).checked()
        for name, (shots, strategy, seed) in zip(COLUMN_NAMES, triples, strict=False)
    ]


def _whole(value: Any) -> Any:
    """Sliders and number boxes send 2.0 for 2; keep anything else as it is for `checked` to refuse."""
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def generation_settings(
    decoding: str = "greedy",
    num_beams: int = 4,
    temperature: float = 0.7,
    top_p: float = 0.9,
    max_new_tokens: int = 200,
    seed: int = 0,
) -> GenerationSettings:
    """`GenerationSettings` from the app's controls: greedy, beam search, or sampling (seeded)."""
    if decoding not in DECODING_CHOICES:
        raise ConfigError(f"Unknown decoding '{decoding}'; choose one of {', '.join(DECODING_CHOICES)}.")
    max_new_tokens = int(max_new_tokens)
    if not 1 <= max_new_tokens <= 512:
        raise ConfigError(f"Max new tokens must be from 1 to 512, not {max_new_tokens}.")
    if decoding == "greedy":
        return GenerationSettings(max_new_tokens=max_new_tokens)
    if decoding == "beam":
        beams = int(num_beams)
        if not 2 <= beams <= 8:
            raise ConfigError(f"Beam search needs 2 to 8 beams, not {beams}.")
        return GenerationSettings(max_new_tokens=max_new_tokens, num_beams=beams)
    temperature, top_p = float(temperature), float(top_p)
    if not 0.0 < temperature <= 2.0:
        raise ConfigError(f"Temperature must be above 0 and at most 2, not {temperature}.")
    if not 0.0 < top_p <= 1.0:
        raise ConfigError(f"Top-p must be above 0 and at most 1, not {top_p}.")
    return GenerationSettings(
        max_new_tokens=max_new_tokens, do_sample=True, temperature=temperature, top_p=top_p, seed=int(seed)
    )


def parse_references(text: str | Sequence[str] | None) -> list[str]:
    """References from a text box (one per line) or a list; blank ones dropped. Empty: no ROUGE."""
    if text is None:
        return []
    lines = text.splitlines() if isinstance(text, str) else [str(t) for t in text]
    return [line.strip() for line in lines if line and line.strip()]


def check_dialogue(dialogue: str | None) -> str:
    """The stripped dialogue, or a `PromptError` a person can act on."""
    dialogue = (dialogue or "").strip()
    if not dialogue:
        raise PromptError("The dialogue is empty: paste a conversation or pick one from the dataset.")
    if len(dialogue) > MAX_DIALOGUE_CHARS:
        raise PromptError(
            f"The dialogue is {len(dialogue):,} characters; this app takes at most {MAX_DIALOGUE_CHARS:,} "
            f"(the model reads only its first {MAX_SOURCE_TOKENS} tokens, about 2,000 characters)."
        )
    return dialogue
