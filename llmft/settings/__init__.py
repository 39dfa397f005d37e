"""The one home of settings: every `LLMFT_*` / `OPENAI_*` variable, its default and meaning, stated once.

    from llmft.settings import ChatSettings, SummarizerSettings
    settings = SummarizerSettings.from_env()        # read now, from the environment; bad values: ConfigError

One dataclass per area (`spaces`: every Space and the Prompting and Summarizer Spaces; `shop`: the Shopbot's
model, local server and store; `services`: the Hub, votes, the consistency model, the launcher), filled by one
parser (`env`). `python -m llmft.settings [AREA|VARIABLE ...]` prints the tables the READMEs carry (a test
checks they match).
Libraries' own variables (`HF_*`, `GRADIO_*`, `MALLOC_ARENA_MAX`) are read where they act.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from llmft.errors import ConfigError
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


def variables(*names: str) -> list[Variable]:
    """The variables `names` stand for: an area's (a Space's, inherited ones included) or a variable's own name,
    in order, without repeats or the internal ones. ConfigError for a name that is neither."""
    by_name = {v.name: v for cls in AREAS.values() for v in cls.variables()}
    chosen: dict[str, Variable] = {}
    for name in names:
        if name not in AREAS and name not in by_name:
            raise ConfigError(f"{name!r} is neither a settings area ({', '.join(AREAS)}) nor a variable of ours")
        for variable in AREAS[name].variables() if name in AREAS else [by_name[name]]:
            chosen.setdefault(variable.name, variable)
    return [v for v in chosen.values() if not v.internal]


def markdown_table(*names: str) -> str:
    """The README table of these areas' or variables' settings (`python -m llmft.settings NAME ...`)."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{v.name}` | {v.default} | {v.meaning} |" for v in variables(*names)]
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
