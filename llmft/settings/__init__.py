"""The one home of settings: every `LLMFT_*` / `OPENAI_*` variable, its default and meaning, stated once.

    from llmft.settings import ChatSettings, SummarizerSettings
    settings = SummarizerSettings.from_env()        # read now, from the environment; bad values: ConfigError

One dataclass per area (`spaces`: every Space and the Prompting and Summarizer Spaces; `shop`: the Shopbot's
model, local server and store; `services`: the Hub, votes, the consistency model, the launcher), filled by one
parser (`env`). `python -m llmft.settings` prints the tables the READMEs carry (a test checks they match).
Libraries' own variables (`HF_*`, `GRADIO_*`, `MALLOC_ARENA_MAX`) are read where they act.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from llmft.settings.env import EnvSettings, Variable, setting, split_items
from llmft.settings.services import FaithfulnessSettings, FeedbackSettings, HubSettings, LauncherSettings
from llmft.settings.shop import ChatSettings, LocalServerChild, StoreSettings, SupervisorSettings
from llmft.settings.spaces import AppSettings, PromptingSettings, SummarizerSettings

# Each area once, in the order the READMEs list them; the Spaces' subclasses list only their own variables.
AREAS: dict[str, type[EnvSettings]] = {
    "apps": AppSettings, "prompting": PromptingSettings, "summarizer": SummarizerSettings, "chat": ChatSettings,
    "local-llm": SupervisorSettings, "store": StoreSettings, "hub": HubSettings, "feedback": FeedbackSettings,
    "faithfulness": FaithfulnessSettings, "launcher": LauncherSettings, "local-server": LocalServerChild,
}


def variables(area: str) -> list[Variable]:
    """The variables an area states (a Space's subclass: only those it adds or changes), for a table."""
    cls = AREAS[area]
    inherited = {v.name for base in cls.__mro__[1:] if issubclass(base, EnvSettings) and base is not EnvSettings
                 for v in base.variables()}
    return [v for v in cls.variables() if v.name not in inherited and not v.internal]


def markdown_table(*areas: str) -> str:
    """The README table of these areas' variables."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{v.name}` | {v.default} | {v.meaning} |" for area in areas for v in variables(area)]
    return "\n".join(rows)


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """The values of the secret variables set now (keys, tokens, passwords), to redact from anything shown."""
    environ = os.environ if environ is None else environ
    names = {name for cls in AREAS.values() for v in cls.variables() if v.secret for name in (v.name, v.fallback)}
    return [value for name in sorted(n for n in names if n) if len(value := environ.get(name) or "") >= 4]


__all__ = ["AREAS", "AppSettings", "ChatSettings", "EnvSettings", "FaithfulnessSettings", "FeedbackSettings",
           "HubSettings", "LauncherSettings", "LocalServerChild", "PromptingSettings", "StoreSettings",
           "SummarizerSettings", "SupervisorSettings", "Variable", "markdown_table", "secret_values", "setting",
           "split_items", "variables"]
