"""The one reader of the project's environment variables.

A settings dataclass states each of its variables once, on the field it fills:

    concurrency: int = setting("LLMFT_CONCURRENCY", 1, "requests that generate at the same time", minimum=1)

`EnvSettings.from_env()` fills every such field from the environment (read when called, not at import, so a
test or a launcher can set variables late), parsing by the field's type: `str`, `int`, `float`, `bool`
(1/0, true/false, yes/no, on/off), `Path`, `list[str]` / `list[Path]` (comma- or newline-separated), a
`Literal` of choices, or `X | None` for "unset". An unset or blank variable leaves the field's default.
`variables()` lists them for the READMEs' tables (`python -m llmft.settings`).
"""

from __future__ import annotations

import os
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args, get_origin, get_type_hints

from llmft.errors import ConfigError, LlmftError

_ON = {"1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Variable:
    """One environment variable: its name, its default as a person reads it, and what it chooses."""

    name: str
    default: str
    meaning: str
    fallback: str | None = None  # read when `name` is unset (an older name, or a library's own variable)
    minimum: float = 0  # the smallest value allowed: no setting of ours takes a negative number
    positive: bool = False  # the value must be more than 0
    secret: bool = False  # never printed: repr, logs, errors (see `llmft.settings.secret_values`)
    internal: bool = False  # set by the package for a child process, not by a person: left out of the tables


def setting(name: str, default: Any = MISSING, meaning: str = "", *, factory: Any = MISSING,
            shown: str | None = None, fallback: str | None = None, minimum: float = 0,
            positive: bool = False, secret: bool = False, internal: bool = False) -> Any:
    """A dataclass field filled from the environment variable `name` (see the module docstring)."""
    if shown is None:
        shown = "(none)" if default in (None, "", MISSING) else f"`{_shown(default)}`"
    variable = Variable(name, shown, meaning, fallback, minimum, positive, secret, internal)
    if factory is not MISSING:
        return field(default_factory=factory, metadata={"variable": variable}, repr=not secret)
    return field(default=default, metadata={"variable": variable}, repr=not secret)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return f"{value:g}" if isinstance(value, float) else str(value)


def split_items(text: str | None) -> list[str]:
    """Comma- or newline-separated items, stripped, blanks and repeats dropped."""
    parts = (text or "").replace("\n", ",").split(",")
    return list(dict.fromkeys(part.strip() for part in parts if part.strip()))


def variable_of(item: Field) -> Variable | None:
    return item.metadata.get("variable")


def parse(variable: Variable, raw: str, kind: Any, error: type[LlmftError] = ConfigError) -> Any:
    """`raw` (stripped, not blank) as a value of type `kind`, or `error` naming the variable and what it takes."""
    name = variable.name
    args = [arg for arg in get_args(kind) if arg is not type(None)]
    if get_origin(kind) in (typing.Union, types.UnionType):  # `X | None`: the value is an X
        return parse(variable, raw, args[0], error)
    if get_origin(kind) is Literal:
        value = raw.lower()
        if value not in args:
            raise error(f"{name}={value!r}: use one of {', '.join(map(str, args))}.")
        return value
    if get_origin(kind) is list:
        return [parse(variable, item, args[0], error) for item in split_items(raw)]
    if kind is bool:
        if raw.lower() in _ON | _OFF:
            return raw.lower() in _ON
        raise error(f"{name}={raw!r}: use 1 (on) or 0 (off).")
    if kind is Path:
        return Path(raw).expanduser()
    if kind in (int, float):
        try:
            value = kind(raw)
        except ValueError:
            raise error(f"{name}={raw!r} is not {'a whole number' if kind is int else 'a number'}.") from None
        if variable.positive and not value > 0:
            raise error(f"{name}={raw!r} must be greater than 0.")
        if value < variable.minimum:
            raise error(f"{name}={value} is too small; it must be at least {_shown(variable.minimum)}.")
        return value
    return raw


def read(variable: Variable, kind: Any, environ: Mapping[str, str] | None = None,
         error: type[LlmftError] = ConfigError) -> Any:
    """The variable's parsed value, or MISSING when it (and its fallback) is unset or blank."""
    environ = os.environ if environ is None else environ
    for name in filter(None, (variable.name, variable.fallback)):
        raw = (environ.get(name) or "").strip()
        if raw:
            return parse(variable, raw, kind, error)
    return MISSING


class EnvSettings:
    """Base of every settings dataclass: `from_env()` and `variables()` from the fields' `setting(...)`."""

    error: ClassVar[type[LlmftError]] = ConfigError  # the error a bad value raises (the store's own for its)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Any:
        """Settings from the environment; keyword arguments that are not None win over it."""
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for item in fields(cls):  # type: ignore[arg-type]
            variable = variable_of(item)
            if variable is not None and item.init:
                value = read(variable, hints[item.name], environ, cls.error)
                if value is not MISSING:
                    values[item.name] = value
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)

    @classmethod
    def value_of(cls, name: str, environ: Mapping[str, str] | None = None) -> Any:
        """One field's value from the environment (its default when unset), without reading the others."""
        item = next(f for f in fields(cls) if f.name == name)  # type: ignore[arg-type]
        value = read(variable_of(item), get_type_hints(cls)[name], environ, cls.error)  # type: ignore[arg-type]
        if value is not MISSING:
            return value
        return item.default_factory() if item.default_factory is not MISSING else item.default

    def to_env(self) -> dict[str, str]:
        """These settings as environment variables (the unset ones left out), for a child process to read."""
        pairs = ((variable_of(f), getattr(self, f.name)) for f in fields(self))  # type: ignore[arg-type]
        return {v.name: _shown(value) for v, value in pairs if v is not None and value is not None}

    @classmethod
    def variables(cls) -> list[Variable]:
        """The variables this class reads, in field order."""
        return [v for f in fields(cls) if (v := variable_of(f)) is not None]  # type: ignore[arg-type]
