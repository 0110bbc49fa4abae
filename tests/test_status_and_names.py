"""`status` names every file that was not indexed and why; names that are not UTF-8 are indexed,
found, and printed escaped (or as their exact bytes with --null and --json)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.store.catalog import Store
from tests.hostile import NOT_UTF8, fifo, jpeg
from tests.indexer_support import index_tree
from tests.tiny_library import axis, build_store

LATIN1 = os.fsdecode(NOT_UTF8)  # 'caf\udce9-latin1.jpg'


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "300"})


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Two good photos (one named in Latin-1), a broken one, a FIFO, a link not followed."""
    root = tmp_path / "tree"
    root.mkdir()
    jpeg(root / "good.jpg")
    jpeg(root / LATIN1, seed=2)
    (root / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    fifo(root / "pipe.jpg")
    os.symlink(root / "good.jpg", root / "link.jpg")
    return root


def test_a_name_that_is_not_utf8_is_indexed_under_its_exact_bytes(tree: Path, tmp_path: Path) -> None:
    summary = index_tree(tree, tmp_path / "home")
    assert summary.new == 2
    with Store.open(tmp_path / "home") as store:
        record = store.find_by_path(tree / LATIN1)
        assert record is not None and record.status == "indexed"
        assert os.fsencode(record.path) == os.fsencode(tree) + b"/" + NOT_UTF8
        assert len(store.ids_matching(under=tree)) == 2


def test_status_json_lists_failed_and_skipped_paths_with_reasons(tree: Path, tmp_path: Path) -> None:
    index_tree(tree, tmp_path / "home")
    report = json.loads(run("status", "--home", str(tmp_path / "home"), "--json").stdout)
    assert [(Path(f["path"]).name, f["error"].split(":")[0]) for f in report["failed_files"]] == [
        ("broken.jpg", "not an image (unrecognised format)")]
    assert {Path(s["path"]).name: s["reason"] for s in report["skipped_files"]} == {
        "pipe.jpg": "not a regular file (a FIFO)", "link.jpg": "symbolic link not followed (use --follow-symlinks)"}
    assert report["skipped"] == 2 and report["skips"]["not a regular file (a FIFO)"] == 1


def test_status_failed_shows_the_table(tree: Path, tmp_path: Path) -> None:
    index_tree(tree, tmp_path / "home")
    out = run("status", "--home", str(tmp_path / "home"), "--failed")
    assert out.exit_code == 0
    for expected in ("broken.jpg", "pipe.jpg", "not a regular file (a FIFO)", "link.jpg"):
        assert expected in out.stdout
    assert "skipped   1 not a regular file (a FIFO), 1 symbolic link" in run("status", "--home", str(tmp_path / "home")).stdout


def test_a_new_crawl_replaces_what_was_skipped(tree: Path, tmp_path: Path) -> None:
    index_tree(tree, tmp_path / "home")
    (tree / "pipe.jpg").unlink()
    index_tree(tree, tmp_path / "home")
    with Store.open(tmp_path / "home") as store:
        assert [Path(path).name for path, _ in store.skipped_files()] == ["link.jpg"]


@pytest.fixture
def latin1_library(tmp_path: Path) -> dict:
    """A searchable store whose best photo for `dog` has a Latin-1 name, in a Latin-1 folder."""
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9"))
    folder.mkdir()
    dog, cat = jpeg(folder / LATIN1), jpeg(tmp_path / "cat.jpg", seed=3)
    settings = build_store(tmp_path / "home", tmp_path / "model", {dog: (axis(1, 0, 0, 0), None),
                                                                    cat: (axis(0, 0, 1, 0), None)})
    return {"home": str(settings.home), "dog": dog, "folder": folder}


def test_a_latin1_name_is_found_and_printed_escaped(latin1_library, capsys) -> None:
    out = run("query", "dog", "--all", "--home", latin1_library["home"], "--paths", "-n", "1")
    assert out.exit_code == 0 and out.stdout.strip().startswith("$'") and "\\xe9" in out.stdout
    assert "-0/--null" in out.stderr


def test_json_and_null_give_the_exact_bytes_of_a_latin1_name(latin1_library) -> None:
    rows = json.loads(run("query", "dog", "--all", "--home", latin1_library["home"], "--json", "-n", "1").stdout)
    assert os.fsencode(rows[0]["path"]) == os.fsencode(latin1_library["dog"])
    null = run("query", "dog", "--all", "--home", latin1_library["home"], "-0", "-n", "1").stdout_bytes
    assert null == os.fsencode(latin1_library["dog"]) + b"\0"


def test_similar_and_in_accept_latin1_paths(latin1_library) -> None:
    similar = run("similar", str(latin1_library["dog"]), "--all", "--home", latin1_library["home"], "--include-self", "-0")
    assert similar.stdout_bytes.split(b"\0")[0] == os.fsencode(latin1_library["dog"])
    under = run("query", "cat", "--all", "--home", latin1_library["home"], "--in", str(latin1_library["folder"]), "-0")
    assert under.stdout_bytes == os.fsencode(latin1_library["dog"]) + b"\0"
