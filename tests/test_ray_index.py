"""`devsearch index --ray`: decoding and embedding on a local Ray cluster (2 CPUs) leave the store a
native run would, and neither a dying worker nor a killed driver loses what was committed.

Each test starts its own local cluster (tens of seconds on a 2-core machine), so they are marked `ray`
and kept few; CI installs the [ray] extra and runs them.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from devsearch.indexer.decode import CRASHED
from devsearch.store.catalog import Store
from devsearch.store.kept_classes import TopClasses
from tests.conftest import FIXTURES
from tests.indexer_support import MANIFEST, REPO, index_tree, photo_folder, start_indexer, wait_for_rows

pytestmark = [pytest.mark.ray,
              pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs the [ray] extra")]
TIMEOUT_S = 300


def catalog(home: Path) -> dict[str, tuple]:
    """path -> (status, error, width, height, content hash, vector or None, kept top classes or None)."""
    with sqlite3.connect(home / "catalog.sqlite") as conn:
        conn.text_factory = lambda data: data.decode("utf-8", "surrogateescape")  # names need not be UTF-8
        rows = conn.execute(
            "SELECT path, status, error, width, height, content_hash, embedding, top_classes FROM photos")
        return {path: (*rest, None if blob is None else np.frombuffer(blob, np.float32),
                       None if classes is None else TopClasses.from_blob(classes))
                for path, *rest, blob, classes in rows}


def descendants(pid: int) -> list[int]:
    """Every process below pid (a local Ray cluster's raylet and workers are children of its driver)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (ValueError, OSError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def process_named(pid: int, part: str) -> int | None:
    for child in descendants(pid):
        try:
            if part in (Path("/proc") / str(child) / "cmdline").read_bytes().decode(errors="replace"):
                return child
        except OSError:
            continue
    return None


@pytest.fixture
def drivers():
    """Indexer processes a test starts; one a failed assertion left running is killed (with its cluster)."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def fixture_tree(tmp_path: Path) -> Path:
    """The committed fixture photos (one more under a name that is not UTF-8), an empty file and a
    truncated JPEG."""
    tree = tmp_path / "photos"
    shutil.copytree(FIXTURES, tree, ignore=shutil.ignore_patterns("*.md"))
    shutil.copy(FIXTURES / "owl.jpg", tree / os.fsdecode(b"caf\xe9.jpg"))
    (tree / "empty.jpg").write_bytes(b"")
    (tree / "truncated.jpg").write_bytes((FIXTURES / "coffee.jpg").read_bytes()[:3000])
    return tree


@pytest.mark.slow
def test_ray_local_gives_the_photos_failures_vectors_and_classes_of_a_native_run(fixture_tree, tmp_path,
                                                                                  model_cache) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "DEVSEARCH_CACHE": str(model_cache)}

    def index(home: Path, *options: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "devsearch", "index", str(fixture_tree), "--home", str(home), *options],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)

    native = index(tmp_path / "native", "--no-people")  # the people detectors do not run on Ray
    on_ray = index(tmp_path / "ray", "--ray", "local", "--workers", "2")
    assert native.returncode == on_ray.returncode == 0, on_ray.stderr[-3000:]
    assert "images/s on 1 node, 2 CPUs" in on_ray.stderr
    expected, got = catalog(tmp_path / "native"), catalog(tmp_path / "ray")
    assert {p: row[:5] for p, row in got.items()} == {p: row[:5] for p, row in expected.items()}
    photos = len(list(FIXTURES.glob("*.jpg"))) + 1
    assert sorted(row[0] for row in got.values()) == ["failed"] * 2 + ["indexed"] * photos
    for path, row in expected.items():
        if row[5] is not None:
            assert float(np.dot(row[5], got[path][5])) >= 1 - 1e-4, path
            native_top, ray_top = row[6], got[path][6]
            assert list(ray_top.ids[:5]) == list(native_top.ids[:5]), path
            np.testing.assert_allclose(ray_top.probabilities[:5], native_top.probabilities[:5], atol=1e-4)


def test_a_decode_worker_that_dies_costs_only_its_file(tmp_path, drivers) -> None:
    """Its block is tried again file by file; the file that kills its worker again is recorded as failed."""
    root = photo_folder(tmp_path / "many", 12)
    process = start_indexer(root, tmp_path / "home", "--ray", "local", DEVSEARCH_DEBUG_CRASH_ON="05.jpg")
    drivers.append(process)
    out, err = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 0, err[-3000:]
    rows = catalog(tmp_path / "home")
    assert rows[str(root / "05.jpg")][:2] == ("failed", CRASHED)
    assert sorted(row[0] for row in rows.values()) == ["failed"] + ["indexed"] * 11


def test_an_embedding_worker_killed_mid_run_costs_nothing(tmp_path, drivers) -> None:
    """Ray restarts the actor and retries its batch: every photo is indexed, what was committed stays."""
    root = photo_folder(tmp_path / "many", 24)
    process = start_indexer(root, tmp_path / "home", "--ray", "local", DEVSEARCH_TEST_EMBED_DELAY="0.5")
    drivers.append(process)
    wait_for_rows(tmp_path / "home", 2, TIMEOUT_S)
    actor = process_named(process.pid, "EmbedActor")
    assert actor is not None, "no embedding actor under the driver"
    os.kill(actor, signal.SIGKILL)
    committed = {path: row for path, row in catalog(tmp_path / "home").items() if row[0] == "indexed"}
    out, err = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 0, err[-3000:]
    rows = catalog(tmp_path / "home")
    assert len(committed) < 24 and [row[0] for row in rows.values()] == ["indexed"] * 24
    assert all(rows[path][:5] == row[:5] for path, row in committed.items())


def test_a_killed_driver_then_a_native_run_leaves_a_complete_consistent_store(tmp_path, drivers) -> None:
    root = photo_folder(tmp_path / "many", 24)
    process = start_indexer(root, tmp_path / "home", "--ray", "local", DEVSEARCH_TEST_EMBED_DELAY="0.5")
    drivers.append(process)
    wait_for_rows(tmp_path / "home", 4, TIMEOUT_S)
    process.send_signal(signal.SIGKILL)
    process.wait()
    with Store.open(tmp_path / "home") as store:
        before = {r.path: r.id for r in store.get(store.ids_matching())}
    assert 4 <= len(before) < 24
    summary = index_tree(root, tmp_path / "home")
    with Store.open(tmp_path / "home") as store:
        after = {r.path: r.id for r in store.get(store.ids_matching())}
        searchable = {i for i, _ in store.knn(np.ones(MANIFEST.dims, np.float32), 100)}
    assert (summary.new, summary.unchanged) == (24 - len(before), len(before))
    assert len(after) == 24 and {p: after[p] for p in before} == before and searchable == set(after.values())
