#!/usr/bin/env python3
"""Print devsearch's package dependency graph and fail when the architecture rules are broken.

The rules (docs/ARCHITECTURE.md explains why):
- every package sits in one of the LAYERS below, and imports only from its own layer or lower ones;
- no import cycle between packages (sideways arrows inside a layer included), nor between the
  modules of one package (a lazy import inside a function hides a circle, it does not break it);
- no package holds more than a quarter of the code's lines;
- every import of our packages uses the one installed name (`from devsearch.store import ...`), never
  the bare folder name (`from store import ...`), which would import some other package or fail.

An arrow is any `import`/`from ... import` of another of our packages anywhere in a module,
including imports inside functions (the lazy ones that keep TensorFlow off the query path still
make the module depend on that package). Usage: scripts/deps_graph.py [REPO_ROOT]; exit status 1
with one line per broken rule.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

# Top to bottom; an arrow may point sideways or down, never up. A dotted name is a subpackage kept as
# a package of its own (its lines and arrows apart from its parent's): the store's derived files.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("cli",),
    ("serve",),
    ("indexer", "search", "training"),
    ("store", "store.derived", "model", "migrations"),
    ("wordspace",),
    ("core",),
)
MAX_SHARE = 0.25  # of the lines of all the packages together


def layer_of(package: str) -> int:
    return next(depth for depth, names in enumerate(LAYERS) if package in names)


IMPORT_NAME = "devsearch"  # the one name installed; its subpackages are the folders below


def packages(root: Path) -> list[str]:
    """The subpackages under root: folders holding an __init__.py, except the tests and the root package,
    and the nested ones LAYERS names by a dotted name."""
    top = [p.parent.name for p in root.glob("*/__init__.py") if p.parent.name not in ("tests", IMPORT_NAME)]
    nested = [name for layer in LAYERS for name in layer
              if "." in name and (root / name.replace(".", "/") / "__init__.py").is_file()]
    return sorted(top + nested)


def imported_names(source: Path) -> set[str]:
    """Every absolute module name one module imports, anywhere in it (relative imports stay in its own)."""
    found = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), str(source))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            if node.module.split(".")[0] == IMPORT_NAME:  # `from devsearch.store import derived`
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def package_of(dotted: str, names: list[str]) -> str | None:
    """The package of ours a dotted module name (below the import name) lies in: the longest one that holds it."""
    held = [name for name in names if dotted == name or dotted.startswith(name + ".")]
    return max(held, key=len, default=None)


def our_package(name: str, names: list[str]) -> str | None:
    """The package an import names through the one import name (`devsearch.store.x` -> store)."""
    head, _, rest = name.partition(".")
    return package_of(rest, names) if head == IMPORT_NAME and rest else None


def build_graph(root: Path) -> tuple[dict[str, set[str]], dict[str, int], list[str]]:
    """(package -> the packages it imports, package -> lines of Python in it, bare imports of ours)."""
    names = packages(root)
    top = {name for name in names if "." not in name}
    graph: dict[str, set[str]] = {name: set() for name in names}
    lines: dict[str, int] = dict.fromkeys(names, 0)
    bare: list[str] = []
    for module in sorted(m for name in top for m in (root / name).rglob("*.py")):
        name = package_of(".".join(module.relative_to(root).with_suffix("").parts), names)
        imported = imported_names(module)
        graph[name] |= {our_package(i, names) for i in imported} - {None, name}
        bare += [f"bare import: {module.relative_to(root).as_posix()} imports {i!r}: use {IMPORT_NAME}.{i}"
                 for i in sorted(imported) if i.split(".")[0] in top]
        lines[name] += len(module.read_text(encoding="utf-8").splitlines())
    return graph, lines, bare


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle once, as the packages along it (depth-first search for back edges)."""
    cycles: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        for target in sorted(graph[node]):
            if target in path:
                cycle = path[path.index(target):]
                if not any(set(cycle) == set(known) for known in cycles):
                    cycles.append(cycle + [target])
            elif target not in done:
                visit(target, path + [target])
        done.add(node)

    for start in sorted(graph):
        if start not in done:
            visit(start, [start])
    return cycles


def module_cycles(root: Path, names: list[str]) -> list[str]:
    """A line for each import cycle between our modules (`model.bundle -> model.resolver -> model.bundle`)."""
    modules = {".".join(m.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): m
               for name in names if "." not in name for m in (root / name).rglob("*.py")}

    def module_of(imported: str) -> str | None:  # `devsearch.store.catalog.Store` -> store.catalog
        head, _, rest = imported.partition(".")
        while head == IMPORT_NAME and rest and rest not in modules:
            rest = rest.rpartition(".")[0]
        return rest if head == IMPORT_NAME and rest else None

    graph = {dotted: {module_of(i) for i in imported_names(path)} - {None, dotted} for dotted, path in modules.items()}
    return [f"import cycle between modules: {' -> '.join(cycle)}" for cycle in find_cycles(graph)]


def unplaced(graph: dict[str, set[str]]) -> list[str]:
    """A line for each package that no layer declares (a new package must be given its place)."""
    return [f"package {name!r} is in no layer: add it to LAYERS in scripts/deps_graph.py"
            for name in sorted(graph) if not any(name in layer for layer in LAYERS)]


def problems(graph: dict[str, set[str]], lines: dict[str, int]) -> list[str]:
    """One line per broken rule; empty when the architecture holds (every package placed)."""
    found = []
    for source in sorted(graph):
        for target in sorted(graph[source]):
            if layer_of(target) < layer_of(source):
                found.append(f"upward import: {source} (layer {layer_of(source)}) -> {target} (layer {layer_of(target)})")
    found += [f"import cycle: {' -> '.join(cycle)}" for cycle in find_cycles(graph)]
    total = sum(lines.values())
    found += [f"package {name!r} holds {count / total:.0%} of the code's lines (over {MAX_SHARE:.0%}): split it"
              for name, count in sorted(lines.items()) if count > MAX_SHARE * total]
    return found


def report(graph: dict[str, set[str]], lines: dict[str, int]) -> list[str]:
    """The graph by layer, with each package's share of the lines."""
    total = sum(lines.values()) or 1
    width = max(map(len, graph), default=0)
    out = []
    for depth, layer in enumerate(LAYERS):
        for name in layer:
            if name in graph:
                targets = ", ".join(sorted(graph[name], key=lambda t: (layer_of(t), t))) or "-"
                out.append(f"{depth}  {name:<{width}}  {lines[name]:>5} lines {lines[name] / total:>4.0%}  -> {targets}")
    out.append(f"total: {total} lines in {len(graph)} packages")
    return out


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent
    graph, lines, bare = build_graph(root)
    broken = unplaced(graph)
    if not broken:
        print("\n".join(report(graph, lines)))
        broken = problems(graph, lines) + module_cycles(root, list(graph)) + bare
    for line in broken:
        print(f"deps_graph: {line}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
