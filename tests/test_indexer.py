"""The indexer on a real photo tree, with a small honest embedding (tests/indexer_support.py)."""
from __future__ import annotations

import os
import signal
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from devsearch.core.errors import ModelMismatchError, UsageError
from devsearch.indexer.crawl import SKIP_HEIF, SKIP_THUMBNAILS, crawl, resolve_roots
from devsearch.indexer.pipeline import IndexOptions, run_index
from devsearch.store.catalog import Store
from devsearch.indexer.decode import CRASHED, timed_out
from tests.indexer_support import (BAD, GOOD, MANIFEST, index_tree, make_tree, photo, photo_folder,
                                   quadrant_colours, start_indexer, start_slow_indexer, wait_for_rows)

class CountingEmbed:
    """quadrant_colours, counting the images it is given."""

    def __init__(self):
        self.images = 0

    def __call__(self, images: np.ndarray) -> np.ndarray:
        self.images += len(images)
        return quadrant_colours(images)


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    return make_tree(tmp_path / "tree")


@pytest.fixture
def indexed(tree: dict[str, Path], tmp_path: Path) -> Path:
    """The store home after a first run over the tree."""
    index_tree(tmp_path / "tree", tmp_path / "home")
    return tmp_path / "home"


def record(home: Path, path: Path):
    with Store.open(home, allow_empty=True) as store:
        return store.find_by_path(path)


def searchable_ids(home: Path) -> set[int]:
    with Store.open(home) as store:
        return {i for i, _ in store.knn(np.ones(MANIFEST.dims, np.float32), 1000)}


def test_first_run_indexes_every_good_photo(tree, tmp_path) -> None:
    summary = index_tree(tmp_path / "tree", tmp_path / "home")
    assert (summary.new, sum(summary.failed.values())) == (len(GOOD), len(BAD))
    assert all(record(tmp_path / "home", tree[name]).status == "indexed" for name in GOOD)


def test_each_bad_file_is_recorded_with_its_reason(tree, indexed) -> None:
    reasons = {name: record(indexed, tree[name]).error for name in BAD}
    assert reasons["corrupt"].startswith("corrupt or truncated image")
    assert reasons["empty"] == "empty file (0 bytes)"
    assert reasons["text"] == "not an image (unrecognised format)"


def test_exif_rotation_is_applied_to_the_size(tree, indexed) -> None:
    rotated = record(indexed, tree["rotated"])
    assert (rotated.width, rotated.height) == (64, 96)


def test_the_symlink_loop_is_skipped_with_a_reason(tree, tmp_path) -> None:
    summary = index_tree(tmp_path / "tree", tmp_path / "home")
    assert summary.skipped == {"symbolic link not followed (use --follow-symlinks)": 1}


def test_a_crawl_told_to_stop_ends_before_the_next_folder(tree, tmp_path) -> None:
    asked = []
    crawled = crawl([str(tmp_path / "tree")], stop=lambda: asked.append(1) or len(asked) > 1)
    assert crawled.stopped and [Path(f.path).name for f in crawled.files] == ["a.jpg", "b.png", "corrupt.jpg",
                                                                             "empty.jpg", "notes.png"]


def test_following_symlinks_enters_each_folder_once(tree, tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    photo(7).save(outside / "g.jpg")
    os.symlink(outside, tmp_path / "tree" / "linked")
    summary = index_tree(tmp_path / "tree", tmp_path / "home", follow_symlinks=True)
    assert summary.new == len(GOOD) + 1
    assert record(tmp_path / "home", tmp_path / "tree" / "linked" / "g.jpg").status == "indexed"


def test_the_hnsw_index_holds_exactly_the_indexed_photos(indexed) -> None:
    with Store.open(indexed) as store:
        assert searchable_ids(indexed) == set(store.ids_matching().tolist())


def test_a_second_run_decodes_nothing(tree, indexed, tmp_path) -> None:
    embed = CountingEmbed()
    summary = index_tree(tmp_path / "tree", indexed, embed)
    assert (embed.images, summary.unchanged, summary.decoded) == (0, len(GOOD) + len(BAD), 0)


def test_an_edited_photo_is_embedded_again_under_its_id(tree, indexed, tmp_path) -> None:
    before = record(indexed, tree["jpeg"])
    photo(99).save(tree["jpeg"], quality=80)
    summary = index_tree(tmp_path / "tree", indexed)
    after = record(indexed, tree["jpeg"])
    assert (summary.updated, after.id) == (1, before.id) and after.content_hash != before.content_hash


@pytest.mark.parametrize("damage", [np.nan, np.inf, 0.0, 2.0])
def test_a_damaged_stored_vector_is_embedded_again_and_nothing_else(tree, indexed, tmp_path, damage) -> None:
    """A stored vector that is not a finite unit vector (NaN, inf, zero, another length) is damage:
    the next run embeds that photo again from its file, and only it."""
    import sqlite3

    before = record(indexed, tree["png"])
    with Store.open(indexed) as store:
        sound = store.vector_of(before.id)
    broken = (sound * damage if damage else np.zeros_like(sound)).astype(np.float32)
    with sqlite3.connect(indexed / "catalog.sqlite") as db:
        db.execute("UPDATE photos SET embedding = ? WHERE id = ?", (broken.tobytes(), before.id))
    embed = CountingEmbed()
    summary = index_tree(tmp_path / "tree", indexed, embed)
    assert (embed.images, summary.updated, summary.new) == (1, 1, 0)
    with Store.open(indexed) as store:
        assert np.allclose(store.vector_of(before.id), sound) and record(indexed, tree["png"]).id == before.id
    assert before.id in searchable_ids(indexed)


def test_a_moved_photo_keeps_its_id_and_vector_without_embedding(tree, indexed, tmp_path) -> None:
    before = record(indexed, tree["png"])
    moved = tmp_path / "tree" / "album" / "renamed.png"
    tree["png"].rename(moved)
    embed = CountingEmbed()
    summary = index_tree(tmp_path / "tree", indexed, embed)
    assert (summary.moved, summary.deleted, embed.images) == (1, 0, 0)
    assert record(indexed, moved).id == before.id and record(indexed, tree["png"]) is None


def test_a_photo_moved_in_from_another_root_keeps_its_id(tree, tmp_path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    photo(8).save(other / "h.jpg")
    index_tree(other, tmp_path / "home")
    before = record(tmp_path / "home", other / "h.jpg")
    (other / "h.jpg").rename(tmp_path / "tree" / "h.jpg")
    summary = index_tree(tmp_path / "tree", tmp_path / "home")
    assert (summary.moved, record(tmp_path / "home", tmp_path / "tree" / "h.jpg").id) == (1, before.id)


def test_a_copy_is_embedded_as_a_new_photo(tree, indexed, tmp_path) -> None:
    copy = tmp_path / "tree" / "copy.jpg"
    copy.write_bytes(tree["jpeg"].read_bytes())
    summary = index_tree(tmp_path / "tree", indexed)
    assert (summary.new, summary.moved) == (1, 0)


def test_a_removed_photo_is_deleted_and_leaves_the_search(tree, indexed, tmp_path) -> None:
    gone = record(indexed, tree["webp"])
    tree["webp"].unlink()
    summary = index_tree(tmp_path / "tree", indexed)
    assert summary.deleted == 1 and record(indexed, tree["webp"]).status == "deleted"
    assert gone.id not in searchable_ids(indexed)


def test_a_photo_put_back_where_it_was_deleted_is_restored_without_embedding(tree, indexed, tmp_path) -> None:
    data = tree["gif"].read_bytes()
    tree["gif"].unlink()
    index_tree(tmp_path / "tree", indexed)
    tree["gif"].write_bytes(data)
    embed = CountingEmbed()
    summary = index_tree(tmp_path / "tree", indexed, embed)
    assert (summary.moved, embed.images, record(indexed, tree["gif"]).status) == (1, 0, "indexed")


def test_a_failed_file_is_not_retried_while_unchanged(tree, indexed, tmp_path) -> None:
    summary = index_tree(tmp_path / "tree", indexed)
    assert sum(summary.failed.values()) == 0 and record(indexed, tree["empty"]).status == "failed"


def test_a_failed_file_is_retried_once_it_changed(tree, indexed, tmp_path) -> None:
    photo(9).save(tree["empty"], format="JPEG")
    summary = index_tree(tmp_path / "tree", indexed)
    assert (summary.updated, record(indexed, tree["empty"]).status) == (1, "indexed")


def test_a_photo_that_became_unreadable_is_failed_and_leaves_the_search(tree, indexed, tmp_path) -> None:
    before = record(indexed, tree["tiff"])
    tree["tiff"].write_bytes(tree["tiff"].read_bytes()[:200])
    index_tree(tmp_path / "tree", indexed)
    assert record(indexed, tree["tiff"]).status == "failed" and before.id not in searchable_ids(indexed)


def test_an_unreadable_file_is_failed_with_its_reason(tree, tmp_path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    tree["jpeg"].chmod(0)
    index_tree(tmp_path / "tree", tmp_path / "home")
    assert record(tmp_path / "home", tree["jpeg"]).error == "unreadable: permission denied"


def test_heic_without_pillow_heif_is_skipped_with_the_reason(tmp_path) -> None:
    (tmp_path / "IMG_0001.HEIC").write_bytes(b"\0\0\0\x18ftypheic")
    assert crawl([str(tmp_path)], heif_supported=False).skipped == {SKIP_HEIF: 1}


def test_hidden_files_are_not_photos(tmp_path) -> None:
    (tmp_path / ".thumbnails").mkdir()
    photo(1).save(tmp_path / ".thumbnails" / "a.jpg")
    photo(2).save(tmp_path / ".b.jpg")
    assert crawl([str(tmp_path)]).files == []


def test_a_store_inside_the_tree_never_indexes_its_own_thumbnails(tmp_path) -> None:
    from devsearch.serve.files import open_photo
    from devsearch.serve.thumbnails import Thumbnails

    photos = photo_folder(tmp_path / "photos", 3)
    home = photos / "store"
    index_tree(photos, home)
    with Store.open(home) as store:
        record = store.get([store.ids_matching()[0]])[0]
    with open_photo(record.path, [str(photos)]) as served:
        Thumbnails(home).get(record, served, 480)  # as `devsearch serve` caches them
    assert list((home / "thumbnails").rglob("*.jpg"))
    found = crawl([str(photos)])
    assert [Path(f.path).name for f in found.files] == ["00.jpg", "01.jpg", "02.jpg"]
    assert found.skipped == {SKIP_THUMBNAILS: 1}


def test_a_folder_named_thumbnails_of_ones_own_is_photos(tmp_path) -> None:
    photo(1).save((tmp_path / "thumbnails").mkdir() or tmp_path / "thumbnails" / "a.jpg")
    assert [Path(f.path).name for f in crawl([str(tmp_path)]).files] == ["a.jpg"]


def test_a_missing_root_is_a_usage_error(tmp_path) -> None:
    with pytest.raises(UsageError, match="no such file or directory"):
        index_tree(tmp_path / "missing", tmp_path / "home")


def test_a_store_of_another_model_is_refused(tree, indexed, tmp_path) -> None:
    with Store.open(indexed, writer=True) as store, pytest.raises(ModelMismatchError, match="--rebuild"):
        run_index(resolve_roots([tmp_path / "tree"]), store, quadrant_colours, replace(MANIFEST, fingerprint="other:2"))


def test_rebuild_with_another_model_embeds_everything_again(tree, indexed, tmp_path) -> None:
    other = replace(MANIFEST, fingerprint="other-space:2")
    with Store.open(indexed, writer=True) as store:
        store.reset()
        summary = run_index(resolve_roots([tmp_path / "tree"]), store, quadrant_colours, other)
        assert (summary.new, store.count(), store.model_manifest().fingerprint) == (len(GOOD), len(GOOD), "other-space:2")


def test_a_photo_indexed_again_by_rebuild_takes_its_old_id_back(tree, indexed, tmp_path) -> None:
    """--rebuild forgets every photo but keeps the rows (marked deleted, without vectors): a link to a
    photo handed out before the rebuild names it again once it is indexed again."""
    before = {name: record(indexed, tree[name]).id for name in GOOD}
    with Store.open(indexed, writer=True) as store:
        store.reset()
        assert store.count() == 0
        run_index(resolve_roots([tmp_path / "tree"]), store, quadrant_colours, MANIFEST)
    assert {name: record(indexed, tree[name]).id for name in GOOD} == before
    assert searchable_ids(indexed) == set(before.values())


def test_ctrl_c_commits_the_batch_in_flight_and_stops(tmp_path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    for i in range(40):
        photo(i).save(root / f"{i:02}.png")

    def interrupted_after_first_batch(images: np.ndarray) -> np.ndarray:
        os.kill(os.getpid(), signal.SIGINT)
        return quadrant_colours(images)

    summary = index_tree(root, tmp_path / "home", interrupted_after_first_batch)
    assert summary.interrupted and summary.new == 4
    with Store.open(tmp_path / "home") as store:
        assert store.count() == 4 and store.last_run()["outcome"] == "interrupted"


def rows_per_commit(home: Path) -> list[int]:
    """How many photos each commit wrote (every commit bumps the store generation)."""
    with sqlite3.connect(home / "catalog.sqlite") as db:
        return [n for _, n in db.execute("SELECT generation, COUNT(*) FROM photos GROUP BY generation ORDER BY generation")]


def test_photos_are_committed_every_commit_every_photos_not_every_batch(tmp_path) -> None:
    root = photo_folder(tmp_path / "many", 12)
    with Store.open(tmp_path / "home", writer=True) as store:
        run_index(resolve_roots([root]), store, quadrant_colours, MANIFEST,
                  IndexOptions(batch_size=2, commit_every=6, commit_seconds=3600))
    assert rows_per_commit(tmp_path / "home") == [6, 6]


def test_what_is_done_is_committed_once_commit_seconds_have_passed(tmp_path) -> None:
    root = photo_folder(tmp_path / "many", 12)
    with Store.open(tmp_path / "home", writer=True) as store:
        run_index(resolve_roots([root]), store, quadrant_colours, MANIFEST,
                  IndexOptions(batch_size=2, commit_every=1000, commit_seconds=0))
    assert rows_per_commit(tmp_path / "home") == [2] * 6


def test_kill_9_mid_run_then_rerun_leaves_a_consistent_store(tmp_path) -> None:
    root = photo_folder(tmp_path / "many", 24)
    process = start_slow_indexer(root, tmp_path / "home")
    wait_for_rows(tmp_path / "home", 4, 60)
    process.send_signal(signal.SIGKILL)
    process.wait()
    with Store.open(tmp_path / "home") as store:
        before = {r.path: r.id for r in store.get(store.ids_matching())}
    assert 4 <= len(before) < 24
    index_tree(root, tmp_path / "home")
    with Store.open(tmp_path / "home") as store:
        after = {r.path: r.id for r in store.get(store.ids_matching())}
        rows = store.count("indexed") + store.count("failed") + store.count("deleted")
    assert len(after) == rows == 24 and {p: after[p] for p in before} == before
    assert searchable_ids(tmp_path / "home") == set(after.values())


def test_a_kill_9_leaves_no_python_warnings_on_stderr(tmp_path) -> None:
    """multiprocessing's resource tracker outlives the indexer and cleans up after it; it must not warn
    of 'leaked semaphore objects' on the user's terminal."""
    root = photo_folder(tmp_path / "many", 12)
    process = start_slow_indexer(root, tmp_path / "home")
    wait_for_rows(tmp_path / "home", 2, 60)
    process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)  # read to the end: the tracker holds stderr until it exits
    assert "resource_tracker" not in stderr and "leaked" not in stderr, stderr


def test_a_file_that_never_finishes_decoding_is_failed_after_the_timeout_and_the_run_goes_on(tmp_path) -> None:
    """A decode that hangs (the DEVSEARCH_DEBUG_HANG_ON hook: a file system that stopped answering)
    costs that file only: its worker is killed after DEVSEARCH_DECODE_TIMEOUT seconds."""
    root = photo_folder(tmp_path / "many", 12)
    process = start_indexer(root, tmp_path / "home", DEVSEARCH_DEBUG_HANG_ON="05.jpg", DEVSEARCH_DECODE_TIMEOUT="2")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-2000:]
    assert record(tmp_path / "home", root / "05.jpg").error == timed_out(2)
    with Store.open(tmp_path / "home") as store:
        assert store.count("indexed") == 11 and store.count("failed") == 1


def test_a_photo_the_network_gives_no_usable_vector_is_failed_not_stored(tmp_path) -> None:
    """A NaN or zero embedding (a numerical accident of the network) would poison every later read."""
    from PIL import Image

    from devsearch.indexer.pipeline import NO_VECTOR

    root = photo_folder(tmp_path / "photos", 4)
    Image.new("RGB", (64, 48)).save(root / "black.jpg")

    def broken_on_black(images: np.ndarray) -> np.ndarray:
        vectors = quadrant_colours(images)
        vectors[images.max(axis=(1, 2, 3)) < 10] = np.nan
        return vectors

    summary = index_tree(root, tmp_path / "home", embed=broken_on_black)
    assert summary.new == 4 and summary.failed == {"cannot embed": 1}
    assert record(tmp_path / "home", root / "black.jpg").error == NO_VECTOR
    with Store.open(tmp_path / "home") as store:
        assert searchable_ids(tmp_path / "home") == set(store.ids_matching().tolist()) and store.count("indexed") == 4


def test_a_file_that_crashes_its_decoder_is_failed_and_the_run_goes_on(tmp_path) -> None:
    """A decoder segfault (simulated by the DEVSEARCH_DEBUG_CRASH_ON hook) loses only that file."""
    root = photo_folder(tmp_path / "many", 12)
    process = start_indexer(root, tmp_path / "home", DEVSEARCH_DEBUG_CRASH_ON="05.jpg")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-2000:]
    assert record(tmp_path / "home", root / "05.jpg").error == CRASHED
    with Store.open(tmp_path / "home") as store:
        assert store.count("indexed") == 11 and store.count("failed") == 1
