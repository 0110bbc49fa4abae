"""`devsearch index --watch`: after the first pass, what changes under the roots is indexed as it changes,
through the one writer, until Ctrl-C."""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devsearch.indexer.watch import changes_under, relevant_changes
from tests.indexer_support import REPO, photo

SAMPLES = REPO / "samples"


def test_changes_inside_the_store_do_not_start_a_pass(tmp_path: Path) -> None:
    home = tmp_path / "photos" / ".devsearch"
    changed = [str(home / "catalog.sqlite"), str(tmp_path / "photos" / "new.jpg"), str(home)]
    assert relevant_changes(changed, [home]) == [str(tmp_path / "photos" / "new.jpg")]


def test_a_new_file_under_a_root_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    root.mkdir()
    stop = threading.Event()
    threading.Timer(0.5, lambda: photo(1).save(root / "new.png")).start()
    threading.Timer(15, stop.set).start()  # the test ends even if nothing is reported
    batch = next(changes_under([str(root)], ignored=[tmp_path / "home"], stop=stop), None)
    stop.set()
    assert batch is not None and str(root / "new.png") in batch


def indexed(home: Path) -> set[str]:
    try:
        with sqlite3.connect(home / "catalog.sqlite", timeout=5) as conn:
            rows = conn.execute("SELECT path FROM photos WHERE status = 'indexed'").fetchall()
    except sqlite3.OperationalError:  # not created yet
        return set()
    return {os.path.basename(path) for (path,) in rows}


def wait_for(home: Path, names: set[str], seconds: float = 90) -> set[str]:
    """The indexed names once they are `names` (or what they are when the time is up)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and indexed(home) != names:
        time.sleep(0.2)
    return indexed(home)


@pytest.mark.slow
def test_watch_indexes_additions_changes_moves_and_deletions_then_stops_on_ctrl_c(tmp_path: Path,
                                                                                   model_cache: Path) -> None:
    root, home = tmp_path / "photos", tmp_path / "home"
    (root / "a").mkdir(parents=True)
    shutil.copy(SAMPLES / "cat.jpg", root / "a" / "cat.jpg")
    process = subprocess.Popen([sys.executable, "-m", "devsearch", "index", str(root), "--home", str(home), "--watch"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "DEVSEARCH_CACHE": str(model_cache)})
    try:
        assert wait_for(home, {"cat.jpg"}, seconds=300) == {"cat.jpg"}
        time.sleep(1)  # the watch starts after the first pass commits
        shutil.copy(SAMPLES / "coffee.jpg", root / "coffee.jpg")
        assert wait_for(home, {"cat.jpg", "coffee.jpg"}) == {"cat.jpg", "coffee.jpg"}
        (root / "a" / "cat.jpg").rename(root / "kitten.jpg")
        assert wait_for(home, {"kitten.jpg", "coffee.jpg"}) == {"kitten.jpg", "coffee.jpg"}
        (root / "coffee.jpg").unlink()
        assert wait_for(home, {"kitten.jpg"}) == {"kitten.jpg"}
    finally:
        process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"still running 60 s after Ctrl-C: {out} {err}")
    assert process.returncode == 0, err
    assert "1 moved" in out  # the deletion is checked in the catalog: Ctrl-C may come before its line
    assert "stopped watching" in err and "Traceback" not in err
