"""The package rules of docs/ARCHITECTURE.md: layers, no cycles, no giant package, a Keras-free query side."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "deps_graph.py"
QUERY_SIDE = ("core", "wordspace", "store", "search")  # everything `devsearch query` may load
HEAVY = ("keras", "tensorflow", "gensim", "pyarrow")  # seconds of imports a word query never needs


def deps_graph(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, timeout=60)


def make_packages(root: Path, modules: dict[str, str]) -> Path:
    """A tree of packages: {"core/a.py": "source", ...}, each folder with an __init__.py."""
    for name, source in modules.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(source)
    return root


def test_the_repository_keeps_its_layers_without_cycles_or_a_giant_package():
    result = deps_graph(REPO)
    assert result.returncode == 0, result.stderr
    listed = {line.split()[1] for line in result.stdout.splitlines() if line[:1].isdigit()}
    assert listed == {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests", "devsearch"} | {"store.derived"}


@pytest.mark.parametrize("modules,complaint", [
    ({"core/a.py": "def f():\n    from devsearch.cli import app\n", "cli/b.py": "import devsearch.core.a\n"},
     "upward import: core"),
    ({"search/a.py": "import devsearch.indexer.b\n", "indexer/b.py": "from devsearch import search\n", "core/c.py": ""},
     "import cycle: indexer -> search -> indexer"),
    ({"core/a.py": "x = 1\n" * 30, "cli/b.py": "import devsearch.core\n" * 60}, "'cli' holds 67% of the code's lines"),
    ({"core/a.py": "", "plugins/b.py": "import devsearch.core\n"}, "package 'plugins' is in no layer"),
    ({"core/a.py": "", "cli/b.py": "from core.a import x\n"}, "bare import: cli/b.py imports 'core.a': use devsearch.core.a"),
    ({"core/a.py": "", "store/a.py": "from devsearch.store.derived import b\n",
      "store/derived/b.py": "import devsearch.store.a\n"},
     "import cycle: store -> store.derived -> store"),
    ({"core/a.py": "import devsearch.core.b\n", "core/b.py": "def f():\n    from devsearch.core.a import x\n"},
     "import cycle between modules: core.a -> core.b -> core.a"),
])
def test_the_graph_check_fails_on_a_broken_rule(tmp_path, modules, complaint):
    result = deps_graph(make_packages(tmp_path, modules))
    assert result.returncode == 1
    assert complaint in result.stderr


def test_the_query_side_packages_load_no_deep_learning_or_arrow():
    """Every module of the packages a word query uses, imported in a fresh process."""
    code = (
        "import importlib, pkgutil, sys\n"
        f"for package in {tuple('devsearch.' + name for name in QUERY_SIDE)!r}:\n"
        "    for module in pkgutil.walk_packages(importlib.import_module(package).__path__, package + '.'):\n"
        "        importlib.import_module(module.name)\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_serve_reaches_the_store_only_through_its_searcher():
    """serve/ may use the store's plain values (records, the content hash, the layout of its home, the
    top classes kept of a photo's classifier output), never open or read a store itself: its one
    long-lived Searcher does (docs/ARCHITECTURE.md)."""
    plain_values = {"devsearch.store.records", "devsearch.store.hashing", "devsearch.store.layout",
                    "devsearch.store.kept_classes"}
    reached = set()
    for module in (REPO / "serve").glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("devsearch.store"):
                reached.add(node.module)
            elif isinstance(node, ast.Import):
                reached.update(alias.name for alias in node.names if alias.name.startswith("devsearch.store"))
            elif isinstance(node, ast.Attribute) and node.attr in ("store", "_store"):
                reached.add(f"{module.name}: .{node.attr}")
    assert reached <= plain_values, reached - plain_values
