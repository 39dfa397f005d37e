"""Script arguments in the style of huggingface/alignment-handbook: dataclasses filled from a YAML recipe and flags.

Precedence: a field's dataclass default < the YAML recipe named by `--config` < a command-line flag.
Every dataclass field is a flag of the same name (`--learning_rate 1e-4`, `--push_to_hub`,
`--lora_target_modules q v`). A recipe key or flag that no dataclass has is an error that names the
file and suggests the closest known name, rather than being silently ignored: a typo in a recipe
(`learning_rat: 1e-3`) would otherwise train with the default and nobody would notice.

YAML values go through the same conversion as flags, so `learning_rate: 1e-3` (a *string* to PyYAML,
which wants `1.0e-3`) is read as the float it looks like.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from llmft.errors import ConfigError

_TRUE = {"true", "yes", "1", "on", "y"}
_FALSE = {"false", "no", "0", "off", "n"}
_NONE = {"none", "null", "~", ""}


@dataclasses.dataclass
class _FieldSpec:
    name: str
    owner: type
    base: Any  # the type without Optional / list
    optional: bool
    is_list: bool
    choices: tuple[Any, ...] | None
    help: str
    aliases: tuple[str, ...]


def _describe(spec: _FieldSpec) -> str:
    if spec.choices:
        return "one of " + ", ".join(map(str, spec.choices))
    name = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}.get(spec.base, "a value")
    return f"a list of {name}" if spec.is_list else name


def _field_specs(dataclass_types: Sequence[type]) -> dict[str, _FieldSpec]:
    specs: dict[str, _FieldSpec] = {}
    for cls in dataclass_types:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            if f.name in specs:
                raise TypeError(
                    f"field '{f.name}' is defined by both {specs[f.name].owner.__name__} and {cls.__name__}"
                )
            tp = hints[f.name]
            optional = False
            origin = typing.get_origin(tp)
            if origin in (typing.Union, types.UnionType):
                args = [a for a in typing.get_args(tp) if a is not type(None)]
                optional = len(args) < len(typing.get_args(tp))
                if len(args) != 1:
                    raise TypeError(f"{cls.__name__}.{f.name}: only `X | None` unions are supported")
                tp = args[0]
                origin = typing.get_origin(tp)
            is_list = origin in (list, Sequence)
            if is_list:
                tp = typing.get_args(tp)[0]
                origin = typing.get_origin(tp)
            choices = tuple(typing.get_args(tp)) if origin is Literal else None
            base = type(choices[0]) if choices else tp
            specs[f.name] = _FieldSpec(
                name=f.name,
                owner=cls,
                base=base,
                optional=optional,
                is_list=is_list,
                choices=choices,
                help=f.metadata.get("help", ""),
                aliases=tuple(f.metadata.get("aliases", ())),
            )
    return specs


def _scalar(spec: _FieldSpec, value: Any, where: str) -> Any:
    """Convert one YAML or command-line value to the field's type, or raise naming where it came from."""
    bad = ConfigError(f"{where}: '{spec.name}' must be {_describe(spec)}, not {value!r}.")
    if isinstance(value, str) and value.strip().lower() in _NONE and spec.optional:
        return None
    if value is None:
        if spec.optional:
            return None
        raise bad
    if spec.base is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise bad
    try:
        if spec.base is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise bad
            converted: Any = int(value) if not isinstance(value, str) else int(value.strip())
        elif spec.base is float:
            if isinstance(value, bool):
                raise bad
            converted = float(value)
        elif spec.base is str:
            if isinstance(value, (dict, list)):
                raise bad
            converted = str(value)
        else:
            converted = spec.base(value)
    except (TypeError, ValueError):
        raise bad from None
    if spec.choices and converted not in spec.choices:
        raise bad
    return converted


def _convert(spec: _FieldSpec, value: Any, where: str) -> Any:
    if spec.is_list:
        if value is None and spec.optional:
            return None
        if isinstance(value, str):  # "q,v" in YAML or one flag value
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, (list, tuple)):
            value = [value]
        return [_scalar(dataclasses.replace(spec, optional=False), item, where) for item in value]
    return _scalar(spec, value, where)


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def load_recipe(path: str | Path, specs: dict[str, _FieldSpec]) -> dict[str, Any]:
    """Read a YAML recipe: a flat mapping of field names to values; unknown keys are errors."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Recipe '{path}' does not exist.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"Recipe '{path}' is not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"Recipe '{path}' must be a mapping of settings (key: value), not a {type(raw).__name__}.")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        key = str(key)
        if key not in specs:
            raise ConfigError(
                f"Recipe '{path}' has an unknown key '{key}'.{_suggest(key, list(specs))} "
                f"Known keys: {', '.join(sorted(specs))}."
            )
        values[key] = _convert(specs[key], value, f"recipe '{path}'")
    return values


def build_parser(dataclass_types: Sequence[type], description: str | None = None) -> argparse.ArgumentParser:
    specs = _field_specs(dataclass_types)
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,  # so we can tell "given on the command line" from "default"
        allow_abbrev=False,
    )
    parser.add_argument("--config", help="YAML recipe; flags given here override its values")
    for cls in dataclass_types:
        group = parser.add_argument_group(cls.__name__)
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            spec = specs[f.name]
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            text = f"{spec.help} (default: {default!r})".strip()
            kwargs: dict[str, Any] = {"dest": f.name, "help": text, "type": str}
            if spec.base is bool and not spec.is_list:
                kwargs.update(nargs="?", const="true", metavar="BOOL")  # `--flag` alone means true
            elif spec.is_list:
                kwargs.update(nargs="+")
            if spec.choices:
                kwargs["metavar"] = "{" + ",".join(map(str, spec.choices)) + "}"
            group.add_argument(f"--{f.name}", *spec.aliases, **kwargs)
    return parser


def parse_args(
    dataclass_types: Sequence[type],
    argv: Sequence[str] | None = None,
    description: str | None = None,
) -> tuple[Any, ...]:
    """Instances of `dataclass_types` from defaults < `--config` YAML < flags in `argv` (sys.argv if None)."""
    specs = _field_specs(dataclass_types)
    parser = build_parser(dataclass_types, description)
    namespace, unknown = parser.parse_known_args(argv)
    if unknown:
        flag = next((u for u in unknown if u.startswith("--")), unknown[0])
        name = flag.lstrip("-").split("=", 1)[0]
        raise ConfigError(
            f"Unknown command-line option '{flag}'.{_suggest(name, list(specs))} Run with --help to see the options."
        )
    given = vars(namespace)
    values = load_recipe(given.pop("config"), specs) if given.get("config") else {}
    given.pop("config", None)
    for name, value in given.items():
        values[name] = _convert(specs[name], value, f"option --{name}")
    return tuple(
        _instantiate(cls, {k: v for k, v in values.items() if specs[k].owner is cls}) for cls in dataclass_types
    )


def _instantiate(cls: Callable[..., Any], values: dict[str, Any]) -> Any:
    try:
        return cls(**values)
    except ConfigError:
        raise
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{getattr(cls, '__name__', cls)}: {err}") from err


def as_flat_dict(*instances: Any) -> dict[str, Any]:
    """All fields of the instances in one mapping: what a recipe with these values would say."""
    flat: dict[str, Any] = {}
    for instance in instances:
        flat.update(dataclasses.asdict(instance))
    return flat
