"""File names are shown literally and can never inject: no forged lines in --paths, no terminal codes
or markup in the table, exact bytes with --null and --json. Property tests for the rendering."""
from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from rich.console import Console
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.core.safe_text import is_safe, shown_path, visible
from devsearch.search.render import render_json, render_null, render_paths
from devsearch.search.table import print_table
from devsearch.search.results import SearchResult
from tests.hostile import ODD_NAMES, jpeg
from tests.tiny_library import axis, build_store

# any character a POSIX name may hold: everything but NUL and "/", bytes that are not UTF-8 as surrogates
name_chars = st.characters(blacklist_characters="\x00/", blacklist_categories=("Cs",)) | st.sampled_from(
    [chr(0xDC80 + b) for b in range(0x80)] + ["\n", "\r", "\t", "\x1b", "\x7f", "\x85", "\u202e", "\u2028", "\\", "'"])
paths = st.lists(st.text(name_chars, min_size=1, max_size=12), min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts))


def result(path: str, rank: int = 1) -> SearchResult:
    return SearchResult(rank, 0.5, path, 4, 3, None, cosine=0.5)


@settings(max_examples=200, deadline=None)
@given(path=paths)
def test_a_shown_path_is_one_safe_line(path: str) -> None:
    shown = shown_path(path)
    assert is_safe(shown) and "\n" not in shown
    assert shown == path or shown.startswith("$'")


@settings(max_examples=40, deadline=None)
@given(path=paths, unsafe=st.sampled_from(["\n", "\x1b", "\x7f", "\udce9", "\u202e"]), at=st.integers(1, 40))
def test_bash_reads_an_escaped_path_back_as_the_exact_bytes(path: str, unsafe: str, at: int) -> None:
    path = path[:at] + unsafe + path[at:]
    printed = subprocess.run(["bash", "-c", f"printf %s {shown_path(path)}"], capture_output=True, check=True).stdout
    assert printed == os.fsencode(path)


@settings(max_examples=200, deadline=None)
@given(path=paths)
def test_json_and_null_keep_the_exact_bytes(path: str) -> None:
    assert os.fsencode(json.loads(render_json([result(path)]))[0]["path"]) == os.fsencode(path)
    assert render_null([result(path)]) == os.fsencode(path) + b"\0"
    render_json([result(path)]).encode("utf-8")  # valid UTF-8 JSON whatever the name


@settings(max_examples=200, deadline=None)
@given(text=st.text(name_chars))
def test_visible_text_has_no_control_characters(text: str) -> None:
    assert is_safe(visible(text))


def test_a_newline_in_a_name_never_forges_a_line(capsys) -> None:
    printed = render_paths([result("/p/evil\n/home/me/victim.jpg"), result("/p/ok.jpg", 2)])
    assert printed.splitlines() == ["$'/p/evil\\n/home/me/victim.jpg'", "/p/ok.jpg"]
    assert "-0/--null" in capsys.readouterr().err


def _table(path: str) -> str:
    buffer = io.StringIO()
    print_table([result(path)], "query: [bold]x", console=Console(file=buffer, force_terminal=True, width=300))
    return buffer.getvalue()


@pytest.mark.parametrize("key", ["markup", "bad_markup"])
def test_markup_in_a_name_is_shown_as_text(key: str) -> None:
    name = ODD_NAMES[key]
    table = _table(f"/p/{name}")
    assert name in table and "\x1b]8;" not in table  # no hidden hyperlink
    assert "[bold]x" in table


@pytest.mark.parametrize("key", ["escape", "osc", "bidi"])
def test_terminal_codes_in_a_name_are_made_visible(key: str) -> None:
    name = ODD_NAMES[key]
    table = _table(f"/p/{name}")
    assert name not in table and shown_path(f"/p/{name}") in table


@pytest.fixture
def odd_library(tmp_path: Path) -> dict:
    """A store of real files with hostile names (all valid UTF-8), the first nearest to `dog`."""
    root = tmp_path / "photos"
    root.mkdir()
    victim = jpeg(root / "victim.jpg")
    files = {}
    for i, name in enumerate(ODD_NAMES.values()):
        path = root / name.format(victim=victim)
        path.parent.mkdir(parents=True, exist_ok=True)
        files[jpeg(path, seed=i)] = (axis(1, 0.05 * i, 0, 0), None)
    files[victim] = (axis(0, 1, 0, 0), None)
    settings = build_store(tmp_path / "home", tmp_path / "model", files)
    return {"home": str(settings.home), "files": list(files)}


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})


def test_query_paths_print_one_line_per_photo_and_never_the_victim(odd_library) -> None:
    out = run("query", "dog", "--all", "--home", odd_library["home"], "--paths", "-n", str(len(ODD_NAMES)))
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == len(ODD_NAMES) and not any(line.endswith("victim.jpg") and line.startswith("/") for line in lines)
    assert out.stderr.count("devsearch: warning:") == 1


def test_query_null_prints_the_exact_bytes(odd_library) -> None:
    out = run("query", "dog", "--all", "--home", odd_library["home"], "-0", "-n", "100")
    assert sorted(out.stdout_bytes.split(b"\0")[:-1]) == sorted(os.fsencode(p) for p in odd_library["files"])


def test_query_table_shows_every_name_literally(odd_library) -> None:
    out = run("query", "dog", "--all", "--home", odd_library["home"], "-n", "100", "--no-thumbnails")
    assert out.exit_code == 0 and "\x1b" not in out.stdout
    for path in odd_library["files"]:
        assert shown_path(str(path)) in out.stdout.replace("\n", "") or len(str(path)) > 200


def test_an_error_naming_a_hostile_file_is_one_visible_line(tmp_path: Path) -> None:
    out = run("similar", str(tmp_path / "gone\x1b[31m\n.jpg"), "--home", str(tmp_path))
    assert out.exit_code != 0 and len(out.stderr.splitlines()) == 1 and "\x1b" not in out.stderr
