"""Nothing hangs: only regular files are ever opened for reading, and Ctrl-C ends a command promptly.

A FIFO named x.jpg blocks whoever opens it for reading until a writer comes, which is never: each
test here would hang without the fix, so each runs under an alarm that fails it instead.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.core.errors import ImageError
from devsearch.core.files import NotRegularFileError, open_regular
from devsearch.core.photo import decode_photo, load_thumbnail
from devsearch.indexer.crawl import crawl
from devsearch.indexer.decode import Work, decode_one
from devsearch.store.catalog import Store
from devsearch.store.hashing import content_hash
from tests.hostile import fifo, jpeg, make_corpus, unix_socket
from tests.indexer_support import REPO, index_tree, photo_folder


@pytest.fixture(autouse=True)
def no_hang():
    """Fail a test that blocks for 60 s instead of hanging the suite."""
    def hung(*_):
        raise TimeoutError("hung")
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture(params=["fifo", "socket"])
def special(request, tmp_path: Path) -> Path:
    return (fifo if request.param == "fifo" else unix_socket)(tmp_path / f"{request.param}.jpg")


def test_opening_a_special_file_for_reading_is_refused_at_once(special: Path) -> None:
    with pytest.raises(NotRegularFileError, match="not a regular file"):
        open_regular(special)


def test_every_reader_of_photos_refuses_a_special_file(special: Path) -> None:
    with pytest.raises(ImageError, match="not a regular file"):
        decode_photo(special)
    with pytest.raises(NotRegularFileError):
        content_hash(special)
    assert load_thumbnail(special, 12) is None


def test_a_file_swapped_for_a_fifo_after_the_crawl_is_failed_with_the_reason(tmp_path: Path) -> None:
    path = fifo(tmp_path / "x.jpg")
    assert decode_one(Work(str(path), 0, 0.0, "new")).error == "not a regular file (a FIFO)"


def test_special_files_in_a_tree_are_recorded_as_skipped(tmp_path: Path) -> None:
    fifo(tmp_path / "x.jpg")
    fifo(tmp_path / "notes")
    unix_socket(tmp_path / "s.jpg")
    jpeg(tmp_path / "good.jpg")
    found = crawl([str(tmp_path)])
    assert [Path(f.path).name for f in found.files] == ["good.jpg"]
    assert found.skipped == {"not a regular file (a FIFO)": 2, "not a regular file (a socket)": 1}


def test_a_fifo_given_as_a_root_is_skipped_not_opened(tmp_path: Path) -> None:
    found = crawl([str(fifo(tmp_path / "x.jpg"))])
    assert not found.files and found.skipped == {"not a regular file (a FIFO)": 1}


def test_indexing_the_hostile_corpus_ends_and_records_every_entry(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    summary = index_tree(tmp_path / "corpus", tmp_path / "home")
    assert summary.skipped["not a regular file (a FIFO)"] == summary.skipped["not a regular file (a socket)"] == 1
    with Store.open(tmp_path / "home") as store:
        failed = {Path(r.path).name: r.error for r in store.get(range(1, 100)) if r.status == "failed"}
    assert set(failed) == {"truncated.jpg", "empty.jpg", "text.png", "bomb.png"}
    assert summary.new == len([p for key, p in corpus.items() if key not in {
        "fifo", "socket", "truncated", "empty", "text", "bomb", "loop", "dangling"}])


def test_an_indexed_photo_replaced_by_a_fifo_does_not_hang_the_table_or_the_sheet(library, tmp_path):  # noqa: F811
    path = library["files"]["dog"]
    path.unlink()
    fifo(path)
    home = str(library["settings"].home)
    table = CliRunner().invoke(app, ["query", "dog", "--all", "--home", home, "--thumbnails"])
    assert table.exit_code == 0 and "(unreadable)" in table.stdout
    sheet = CliRunner().invoke(app, ["query", "dog", "--all", "--home", home, "--html", str(tmp_path / "s.html")])
    assert sheet.exit_code == 0 and "(photo unreadable)" in (tmp_path / "s.html").read_text()
    similar = CliRunner().invoke(app, ["similar", str(path), "--home", home])
    assert similar.exit_code != 0 and "not a regular file" in similar.stderr and len(similar.stderr.splitlines()) == 1


@pytest.mark.slow
def test_ctrl_c_ends_an_index_run_whose_decoder_never_returns(tmp_path: Path, model_cache: Path) -> None:
    """A real `devsearch index`: the first Ctrl-C ends it although a worker is stuck on a file."""
    root = photo_folder(tmp_path / "many", 6)
    process = subprocess.Popen(
        [sys.executable, "-m", "devsearch", "index", str(root), "--home", str(tmp_path / "home"), "--workers", "1"],
        cwd=REPO, env={**os.environ, "DEVSEARCH_DEBUG_HANG_ON": "00.jpg"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not process.stderr.readline().startswith("indexing 6 files"):  # the model is loaded, decoding began
        pass
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 130, stderr
    assert stdout.startswith("interrupted:")
