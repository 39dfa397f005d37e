"""Which modules of the `llmft` package a Space's `app.py` needs: the import closure, read with `ast`.

Why `ast` and not `modulefinder` or importing the app: importing an app builds its models and servers, and
`modulefinder` follows every third-party import too (torch, gradio: seconds and thousands of modules) when only
our own package matters. The package imports itself statically only (`import llmft.x`, `from llmft.x import y`,
also inside functions, which `ast.walk` sees as well; no `importlib.import_module` of our own modules), so
following those statements from `app.py` finds every module the app can import. A module found is shipped with
every package `__init__.py` above it, since importing `llmft.a.b` runs `llmft/__init__.py` and
`llmft/a/__init__.py` first.
"""

from __future__ import annotations

import ast
from pathlib import Path

from llmft.errors import ConfigError


def module_file(package_parent: Path, module: str) -> Path | None:
    """`llmft.a.b` -> `<parent>/llmft/a/b.py` or `<parent>/llmft/a/b/__init__.py`, or None when neither exists."""
    base = package_parent.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every dotted name an `import` or `from ... import` in `tree` may load (submodules included)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the importing module's package
                package = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{node.module}" if node.module else package
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import submodule`
    return names


def _with_parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def import_closure(script: Path, package_parent: Path, package: str = "llmft") -> dict[str, Path]:
    """{module name: file} of every module of `package` (under `package_parent`) that `script` imports, directly
    or through other modules of the package, with their parent packages; sorted by name."""
    found: dict[str, Path] = {}
    pending: list[tuple[str, Path]] = [("__main__", script)]
    while pending:
        module, path = pending.pop()
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (OSError, SyntaxError) as err:
            raise ConfigError(f"cannot read {path} to find the modules it imports: {err}") from err
        for name in _imported_names(tree, module, path.name == "__init__.py"):
            if name != package and not name.startswith(package + "."):
                continue
            for candidate in _with_parents(name):
                if candidate in found:
                    continue
                file = module_file(package_parent, candidate)
                if file is None:  # `from llmft.x import SomeClass`: a name, not a module
                    continue
                found[candidate] = file
                pending.append((candidate, file))
    return dict(sorted(found.items()))
