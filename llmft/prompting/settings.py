"""The Prompting Space's own settings: what every Space shares (`AppSettings`) plus two of its own.

| variable | default | meaning |
| --- | --- | --- |
| `LLMFT_SHOT_POOL` | `500` | examples the shot pickers choose from (the first N of the pool split) |
| `LLMFT_MAX_EVAL` | `100` | most dialogues one evaluation may run over |

A subclass rather than a wrapper, so code written against `AppSettings` (the model cache, the model
policy) reads a `PromptingSettings` the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from llmft.apps.settings import AppSettings, _env_int


@dataclass
class PromptingSettings(AppSettings):
    """`AppSettings` plus the shot pool's size and the largest evaluation."""

    # The first "most similar" request embeds the whole pool: about a minute for 500 dialogues on 2 CPUs.
    shot_pool_size: int = 500
    max_eval_dialogues: int = 100

    @classmethod
    def from_env(cls) -> PromptingSettings:
        return cls.from_app(
            AppSettings.from_env(),
            shot_pool_size=_env_int("LLMFT_SHOT_POOL", 500),
            max_eval_dialogues=_env_int("LLMFT_MAX_EVAL", 100),
        )

    @classmethod
    def from_app(cls, shared: AppSettings, **own: int) -> PromptingSettings:
        """These settings from shared ones (every field of `AppSettings` copied) and this Space's own."""
        if isinstance(shared, cls) and not own:
            return shared
        copied = {f.name: getattr(shared, f.name) for f in fields(AppSettings) if f.init}
        if isinstance(shared, cls):
            copied.update(shot_pool_size=shared.shot_pool_size, max_eval_dialogues=shared.max_eval_dialogues)
        return cls(**{**copied, **own})
