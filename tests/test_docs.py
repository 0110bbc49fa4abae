"""The facts the docs state about the code stay true: the exit codes, the dependency-graph snapshot,
the store's file names, and every link between the pages.

Each fact has one home in docs/ (the README links to them); these tests read that home and the code
it describes, so a change to either fails here until the other follows.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer._click import exceptions as click_errors

from devsearch.core import errors
from devsearch.store.layout import THUMBNAILS_FOLDER
from tests.tiny_library import random_store

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", flags=re.MULTILINE | re.DOTALL)


def prose(page: Path) -> str:
    """A page without its fenced code blocks (a `# comment` there is no heading, a `[x](y)` no link)."""
    return FENCE.sub("", page.read_text(encoding="utf-8"))


def section(page: Path, heading: str) -> str:
    """The text under one heading, up to the next heading of the same or a higher level."""
    text = page.read_text(encoding="utf-8")
    level = heading.split(" ", 1)[0]
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    end = re.search(rf"^#{{1,{len(level)}}} ", text[start:], flags=re.MULTILINE)
    return text[start:start + end.start()] if end else text[start:]


# --- exit codes: docs/guarantees.md against core/errors.py and cli/app.py ---

def documented_exit_codes() -> dict[int, str]:
    """The exit-code table of docs/guarantees.md: code -> the row's "raised as" cell."""
    rows = re.findall(r"^\| (\d+) \|[^|\n]*\|([^|\n]*)\|$", section(DOCS / "guarantees.md", "## Errors and exit codes"),
                      flags=re.MULTILINE)
    return {int(code): raised for code, raised in rows}


def error_classes() -> list[type[errors.DevsearchError]]:
    found, todo = [], [errors.DevsearchError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__ == errors.__name__ and cls is not errors.DevsearchError]


def codes_the_cli_sets() -> set[int]:
    """The exit codes cli/app.py itself returns: its named codes, the literal code of each `_fail(...)` and
    of each `code = N`."""
    tree = ast.parse((REPO / "cli" / "app.py").read_text(encoding="utf-8"))
    codes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and type(node.value.value) is int:
            codes.add(node.value.value)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_fail":
            codes.update(arg.value for arg in node.args[1:] if isinstance(arg, ast.Constant))
    return codes


@pytest.mark.parametrize("error", error_classes(), ids=lambda cls: cls.__name__)
def test_every_error_class_is_in_the_row_of_its_exit_code(error):
    table = documented_exit_codes()
    assert error.exit_code in table, f"docs/guarantees.md has no row for exit code {error.exit_code}"
    assert f"`{error.__name__}`" in table[error.exit_code]


def test_the_exit_code_table_lists_exactly_the_codes_devsearch_returns():
    returned = {0, click_errors.UsageError.exit_code, *(cls.exit_code for cls in error_classes()),
                *codes_the_cli_sets()}
    assert sorted(documented_exit_codes()) == sorted(returned)


# --- the dependency-graph snapshot in docs/ARCHITECTURE.md against scripts/deps_graph.py ---

GRAPH_LINE = re.compile(r"^(\d+)\s+([\w.]+)\s+(\d+) lines\s+\d+%\s+-> (.*)$", flags=re.MULTILINE)
TOTAL_LINE = re.compile(r"^total: (\d+) lines in (\d+) packages$", flags=re.MULTILINE)
LINES_TOLERANCE = 0.15  # the snapshot's line counts may lag the code by this much


def graph(text: str) -> tuple[dict[str, tuple[int, int, set[str]]], tuple[int, int]]:
    """{package: (layer, lines, arrows)} and (total lines, packages) from deps_graph.py's output."""
    packages = {name: (int(layer), int(lines), {a for a in arrows.split(", ") if a != "-"})
                for layer, name, lines, arrows in GRAPH_LINE.findall(text)}
    total = TOTAL_LINE.search(text)
    return packages, (int(total[1]), int(total[2]))


@pytest.fixture(scope="module")
def graphs() -> dict[str, tuple]:
    output = subprocess.run([sys.executable, str(REPO / "scripts" / "deps_graph.py"), str(REPO)],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    snapshot = section(DOCS / "ARCHITECTURE.md", "### How the rules are checked")
    return {"code": graph(output), "docs": graph(snapshot)}


def test_the_graph_snapshot_names_each_package_with_its_layer_and_arrows(graphs):
    code, docs = graphs["code"][0], graphs["docs"][0]
    assert {name: (layer, arrows) for name, (layer, _, arrows) in docs.items()} == \
           {name: (layer, arrows) for name, (layer, _, arrows) in code.items()}


def test_the_graph_snapshot_line_counts_are_close_to_the_code(graphs):
    code, docs = graphs["code"], graphs["docs"]
    far = {name: (docs[0][name][1], lines) for name, (_, lines, _) in code[0].items()
           if name in docs[0] and abs(docs[0][name][1] - lines) > LINES_TOLERANCE * lines}
    assert far == {}, "docs/ARCHITECTURE.md's snapshot (docs, code): paste scripts/deps_graph.py's output"
    assert abs(docs[1][0] - code[1][0]) <= LINES_TOLERANCE * code[1][0] and docs[1][1] == code[1][1]


# --- store file names in the docs against a real store ---

STORE_SUFFIXES = ("sqlite", "hnsw", "bin", "lock", "json", "npy")
PLACEHOLDERS = {"<generation>": r"\d+", "<token>": r"[0-9a-f]+", "*": r"[\w-]+"}


def as_pattern(name: str) -> re.Pattern:
    """`flat-<generation>-<token>.npy` -> a regular expression of the file names it stands for."""
    parts = re.split(r"(<generation>|<token>|\*)", name)
    return re.compile("".join(PLACEHOLDERS.get(part, re.escape(part)) for part in parts) + r"\Z")


@pytest.fixture(scope="module")
def store_files(tmp_path_factory) -> list[str]:
    """The files of a real store holding photos with vectors and kept classes, as the writer leaves it."""
    settings = random_store(tmp_path_factory.mktemp("docs-store"), 20, seed=5)
    return sorted(p.name for p in settings.home.iterdir())


def store_table() -> list[str]:
    """The file names in the first column of docs/ARCHITECTURE.md's table of a store's files."""
    rows = re.findall(r"^\| ([^|\n]+) \|", section(DOCS / "ARCHITECTURE.md", "## The store"), flags=re.MULTILINE)
    return [name for row in rows for name in re.findall(r"`([^`]+)`", row)]


def test_every_file_of_a_real_store_is_in_the_architecture_table(store_files):
    patterns = [as_pattern(name) for name in store_table()]
    assert [f for f in store_files if not any(p.match(f) for p in patterns)] == []


def test_every_file_the_architecture_table_names_is_in_a_real_store(store_files):
    names = [name.rstrip("/") for name in store_table()]
    assert THUMBNAILS_FOLDER in names  # made by `devsearch serve` only, so not in this store
    absent = [n for n in names if n != THUMBNAILS_FOLDER and not any(as_pattern(n).match(f) for f in store_files)]
    assert absent == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_store_file_a_page_names_is_one_a_store_has(page, store_files):
    """`vectors.hnsw` and the like: a name written as a store's file that no store has any more."""
    prefixes = {re.split(r"[.-]", name, maxsplit=1)[0] for name in store_files}
    named = [name for name in re.findall(r"`([\w<>*-]+\.(?:" + "|".join(STORE_SUFFIXES) + r"))`", prose(page))
             if name.endswith((".sqlite", ".hnsw", ".bin", ".lock")) or re.split(r"[.-]", name, maxsplit=1)[0] in prefixes]
    assert [n for n in named if not any(as_pattern(n).match(f) for f in store_files)] == []


# --- links between the pages ---

LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", prose(page), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_and_anchor_resolves(page):
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z]+:", target):
            continue  # https://, mailto:
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists() or (anchor and anchor not in anchors(dest)):
            broken.append(target)
    assert broken == []
