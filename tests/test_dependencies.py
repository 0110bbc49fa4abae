"""Every module imported anywhere in the repository is provided: the standard library, devsearch
itself, or a dependency pyproject.toml declares. A package that is only installed by hand on one
machine fails here, as it would fail a new user."""
from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("cli", "core", "indexer", "migrations", "model", "search", "serve", "store", "training", "wordspace",
           "devsearch", "tests", "bench", "scripts")


def top_level_imports(path: Path) -> set[str]:
    """The top-level module names one file imports, anywhere in it (absolute imports only)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def declared_distributions() -> set[str]:
    """Every distribution pyproject.toml names, in its dependencies and every extra, normalised."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return {normalise(re.match(r"[A-Za-z0-9._-]+", r)[0]) for r in requirements}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def providers(module: str) -> set[str]:
    """The distributions that provide a top-level module name: the installed ones that ship it, or,
    for an optional extra this environment lacks (pillow_heif), the distribution of the same name."""
    installed = importlib.metadata.packages_distributions().get(module)
    return {normalise(d) for d in installed} if installed else {normalise(module)}


def test_every_import_is_the_standard_library_ours_or_declared():
    local = {p.stem for folder in ("tests", "bench", "scripts") for p in (REPO / folder).glob("*.py")}
    declared = declared_distributions()
    missing = {}
    for folder in SOURCES:
        for path in sorted((REPO / folder).rglob("*.py")):
            for module in top_level_imports(path):
                if module in sys.stdlib_module_names or module in ("devsearch", "tests") or module in local:
                    continue
                if not providers(module) & declared:
                    missing.setdefault(module, path.relative_to(REPO).as_posix())
    assert not missing, f"imported but not declared in pyproject.toml (module: first file): {missing}"

