"""Derived files are trusted only as far as they check out: identity, checksums, and each answer.

Every test damages the files beside a real catalog and then asks for the true ranking, which the
catalog alone decides (a brute-force ranking of its vectors).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from devsearch.model.manifest import Manifest
from devsearch.store.catalog import Store
from devsearch.store.derived.checksummed import CHECKSUM, file_checksum
from devsearch.store.records import ChangeSet, EmbeddedPhoto

DIMS = 8
MANIFEST = Manifest(fingerprint="test-space:1", dims=DIMS, backbone="none", head="none", words="none", words_name="none",
                    labels="none")


def photos(seed: int, count: int) -> list[EmbeddedPhoto]:
    vectors = np.random.default_rng(seed).normal(size=(count, DIMS)).astype(np.float32)
    return [EmbeddedPhoto(path=f"/p/{seed}/{i}.jpg", size=100 + i, mtime=1.0, content_hash=f"{seed}-{i}",
                          width=4, height=3, taken=None, vector=v / np.linalg.norm(v)) for i, v in enumerate(vectors)]


def make_store(home: Path, seed: int = 1, count: int = 300) -> Path:
    with Store.open(home, writer=True) as store:
        store.bind_model(MANIFEST)
        store.commit(ChangeSet(embedded=photos(seed, count)))
    return home


def true_ranking(home: Path, query: np.ndarray, k: int) -> list[str]:
    """The ranking the catalog's own vectors give, by brute force."""
    with Store.open(home) as store:
        records = store.get(store.ids_matching())
        vectors = np.stack([store.vector_of(r.id) for r in records])
    scores = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) @ (query / np.linalg.norm(query))
    return [records[i].path for i in np.argsort(-scores, kind="stable")[:k]]


def ranking(home: Path, query: np.ndarray, k: int, exact: bool) -> list[str]:
    with Store.open(home) as store:
        return [r.path for r in store.get([i for i, _ in store.knn(query, k, exact=exact)])]


def data_files(home: Path, kind: str) -> dict[str, Path]:
    files = json.loads((home / f"{kind}.json").read_text())["files"]
    return {role: home / entry["name"] for role, entry in files.items()}


QUERY = np.random.default_rng(99).normal(size=DIMS).astype(np.float32)


@pytest.fixture(params=["flat", "hnsw"])
def kind(request) -> str:
    return request.param


def test_random_bytes_in_the_middle_of_a_data_file_are_caught(tmp_path: Path, kind: str, capsys) -> None:
    home = make_store(tmp_path / "home")
    for path in data_files(home, kind).values():
        data = bytearray(path.read_bytes())
        middle = len(data) // 2
        data[middle:middle + 64] = np.random.default_rng(5).bytes(64)
        path.write_bytes(bytes(data))
    assert ranking(home, QUERY, 10, exact=kind == "flat") == true_ranking(home, QUERY, 10)
    assert "does not match its checksum" in capsys.readouterr().err


def test_a_consistent_file_that_names_the_wrong_photos_is_caught_by_its_answers(tmp_path: Path, capsys) -> None:
    """Vectors shuffled among the photos and the checksums made to match: every row is still a unit
    vector of a photo the catalog holds, so only the answer check can see it."""
    home = make_store(tmp_path / "home")
    sidecar = json.loads((home / "flat.json").read_text())
    vectors_path = data_files(home, "flat")["vectors"]
    vectors = np.load(vectors_path)
    np.save(vectors_path, np.random.default_rng(3).permutation(vectors))
    sidecar["files"]["vectors"].update(bytes=vectors_path.stat().st_size, **{CHECKSUM: file_checksum(vectors_path)})
    (home / "flat.json").write_text(json.dumps(sidecar))
    assert ranking(home, QUERY, 10, exact=True) == true_ranking(home, QUERY, 10)
    assert "does not bear out" in capsys.readouterr().err


def test_a_recreated_catalog_never_adopts_the_old_files(tmp_path: Path, kind: str, capsys) -> None:
    old = make_store(tmp_path / "old", seed=1)
    new = make_store(tmp_path / "new", seed=2)  # same generation, other photos
    for path in [*new.glob("flat*"), *new.glob("hnsw*")]:
        path.unlink()
    for path in [*old.glob("flat*"), *old.glob("hnsw*")]:
        shutil.copy(path, new / path.name)
    assert ranking(new, QUERY, 10, exact=kind == "flat") == true_ranking(new, QUERY, 10)
    assert "another catalog" in capsys.readouterr().err


def test_rebuild_gives_the_catalog_a_new_identity(tmp_path: Path, kind: str) -> None:
    home = make_store(tmp_path / "home", seed=1)
    kept = tmp_path / "kept"
    kept.mkdir()
    for path in [*home.glob("flat*"), *home.glob("hnsw*")]:
        shutil.copy(path, kept / path.name)
    with Store.open(home, writer=True) as store:
        store.reset()
        store.bind_model(MANIFEST)
        store.commit(ChangeSet(embedded=photos(2, 300)))
    for path in kept.iterdir():
        shutil.copy(path, home / path.name)
    assert ranking(home, QUERY, 10, exact=kind == "flat") == true_ranking(home, QUERY, 10)


def test_garbage_in_a_sidecar_is_rebuilt_from_the_catalog(tmp_path: Path, kind: str) -> None:
    home = make_store(tmp_path / "home")
    for garbage in ("{}", "[1, 2]", "not json", ""):
        (home / f"{kind}.json").write_text(garbage)
        assert ranking(home, QUERY, 10, exact=kind == "flat") == true_ranking(home, QUERY, 10)


def test_the_next_index_does_not_copy_damaged_rows_forward(tmp_path: Path, kind: str) -> None:
    home = make_store(tmp_path / "home")
    for path in data_files(home, kind).values():
        data = bytearray(path.read_bytes())
        data[len(data) // 2:len(data) // 2 + 4096] = bytes(4096)
        path.write_bytes(bytes(data))
    with Store.open(home, writer=True) as store:
        store.commit(ChangeSet(embedded=photos(3, 5)))
    for role, path in data_files(home, kind).items():
        entry = json.loads((home / f"{kind}.json").read_text())["files"][role]
        assert file_checksum(path) == entry[CHECKSUM]
    assert ranking(home, QUERY, 20, exact=kind == "flat") == true_ranking(home, QUERY, 20)


def test_a_writer_rewrites_a_damaged_file_even_with_nothing_to_commit(tmp_path: Path, kind: str) -> None:
    home = make_store(tmp_path / "home")
    path = next(iter(data_files(home, kind).values()))
    path.write_bytes(path.read_bytes()[:-100])
    Store.open(home, writer=True).close()
    entry = next(iter(json.loads((home / f"{kind}.json").read_text())["files"].values()))
    assert file_checksum(home / entry["name"]) == entry[CHECKSUM]


def with_crc32_checksums(home: Path, kind: str) -> None:
    """Make the sidecar as a version before XXH3 saved it: each entry records its CRC-32."""
    import zlib

    sidecar = json.loads((home / f"{kind}.json").read_text())
    for entry in sidecar["files"].values():
        del entry[CHECKSUM]
        entry["crc32"] = zlib.crc32((home / entry["name"]).read_bytes())
    (home / f"{kind}.json").write_text(json.dumps(sidecar))


def test_files_saved_with_crc32_checksums_still_answer(tmp_path: Path, kind: str, capsys) -> None:
    home = make_store(tmp_path / "home")
    with_crc32_checksums(home, kind)
    assert ranking(home, QUERY, 10, exact=kind == "flat") == true_ranking(home, QUERY, 10)
    assert capsys.readouterr().err == ""


def test_damage_under_a_crc32_checksum_is_caught(tmp_path: Path, kind: str, capsys) -> None:
    home = make_store(tmp_path / "home")
    with_crc32_checksums(home, kind)
    path = next(iter(data_files(home, kind).values()))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert ranking(home, QUERY, 10, exact=kind == "flat") == true_ranking(home, QUERY, 10)
    assert "does not match its checksum" in capsys.readouterr().err


def test_the_next_save_records_xxh3_checksums(tmp_path: Path, kind: str) -> None:
    home = make_store(tmp_path / "home")
    with_crc32_checksums(home, kind)
    Store.open(home, writer=True).close()
    for role, path in data_files(home, kind).items():
        entry = json.loads((home / f"{kind}.json").read_text())["files"][role]
        assert "crc32" not in entry and file_checksum(path) == entry[CHECKSUM]


def damage_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_reader_saves_the_file_it_had_to_rebuild(tmp_path: Path, kind: str, capsys) -> None:
    home = make_store(tmp_path / "home")
    damage_middle(next(iter(data_files(home, kind).values())))
    assert ranking(home, QUERY, 10, exact=kind == "flat") == true_ranking(home, QUERY, 10)
    assert "does not match its checksum" in capsys.readouterr().err
    for role, path in data_files(home, kind).items():
        assert file_checksum(path) == json.loads((home / f"{kind}.json").read_text())["files"][role][CHECKSUM]
    assert ranking(home, QUERY, 10, exact=kind == "flat") == true_ranking(home, QUERY, 10)
    assert capsys.readouterr().err == ""  # the next query finds a sound file


def test_a_reader_leaves_the_files_to_a_running_writer(tmp_path: Path, kind: str, capsys) -> None:
    from devsearch.store.lock import WriterLock

    home = make_store(tmp_path / "home")
    damaged = next(iter(data_files(home, kind).values()))
    damage_middle(damaged)
    before = damaged.read_bytes()
    lock = WriterLock(home)
    lock.acquire()
    try:
        assert ranking(home, QUERY, 10, exact=kind == "flat") == true_ranking(home, QUERY, 10)
        assert "does not match its checksum" in capsys.readouterr().err
    finally:
        lock.release()
    assert damaged.read_bytes() == before


def test_a_writer_removes_the_temp_files_of_a_save_that_was_killed(tmp_path: Path) -> None:
    """A kill -9 during a save leaves write_atomically's hidden temp file beside each file it was
    writing (`.<name without suffixes>-<random><suffixes>`; at 1M photos one is the 1.35 GB graph)."""
    home = make_store(tmp_path / "home")
    written = [p for p in home.iterdir() if p.is_file() and not p.name.startswith(("catalog", "writer"))]
    stale = []
    for path in written:
        suffix = "".join(path.suffixes)
        stale.append(home / f".{path.name[:len(path.name) - len(suffix)]}-k1ll3d{suffix}")
        stale[-1].write_bytes(b"half a file")
    (home / ".not-ours").write_bytes(b"kept")
    assert {p.name.split("-")[0] for p in stale} == {".flat", ".hnsw", ".postings", ".model"}
    Store.open(home, writer=True).close()
    assert not [p for p in stale if p.exists()] and (home / ".not-ours").exists()


def test_files_saved_by_a_run_that_indexed_nothing_load_without_a_rebuild(tmp_path: Path, capsys) -> None:
    """A first run that stops before any photo is embedded (an error, an empty folder) saves empty derived
    files; the next run reads them as they are, with no 'cannot be read' warning."""
    from tests.indexer_support import index_tree, photo

    (tmp_path / "photos").mkdir()
    index_tree(tmp_path / "photos", tmp_path / "home")
    photo(1).save(tmp_path / "photos" / "a.png")
    assert index_tree(tmp_path / "photos", tmp_path / "home").new == 1
    assert "warning" not in capsys.readouterr().err
