"""content_hash: the same bytes anywhere give the same hash; it reads only the ends of big files."""
from __future__ import annotations

import os
from pathlib import Path

from devsearch.store.hashing import CHUNK, content_hash


def test_same_content_at_two_paths_has_one_hash(tmp_path: Path) -> None:
    data = os.urandom(5000)
    (tmp_path / "a.jpg").write_bytes(data)
    (tmp_path / "b.jpg").write_bytes(data)
    assert content_hash(tmp_path / "a.jpg") == content_hash(tmp_path / "b.jpg")


def test_a_changed_byte_changes_the_hash_of_a_small_file(tmp_path: Path) -> None:
    data = bytearray(os.urandom(5000))
    (tmp_path / "a.jpg").write_bytes(data)
    data[2500] ^= 1
    (tmp_path / "b.jpg").write_bytes(data)
    assert content_hash(tmp_path / "a.jpg") != content_hash(tmp_path / "b.jpg")


def test_a_change_in_the_last_mib_of_a_big_file_changes_the_hash(tmp_path: Path) -> None:
    data = bytearray(os.urandom(3 * CHUNK))
    (tmp_path / "a.tiff").write_bytes(data)
    data[-10] ^= 1
    (tmp_path / "b.tiff").write_bytes(data)
    assert content_hash(tmp_path / "a.tiff") != content_hash(tmp_path / "b.tiff")


def test_the_middle_of_a_big_file_is_not_read(tmp_path: Path) -> None:
    data = bytearray(os.urandom(3 * CHUNK))
    (tmp_path / "a.tiff").write_bytes(data)
    data[CHUNK + CHUNK // 2] ^= 1
    (tmp_path / "b.tiff").write_bytes(data)
    assert content_hash(tmp_path / "a.tiff") == content_hash(tmp_path / "b.tiff")


def test_files_of_different_sizes_differ(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"x" * 10)
    (tmp_path / "b.jpg").write_bytes(b"x" * 11)
    assert content_hash(tmp_path / "a.jpg") != content_hash(tmp_path / "b.jpg")
