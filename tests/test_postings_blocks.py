"""The class postings are checked block by block as a query reads them (store/derived/checksummed.py): a damaged
block is caught before it counts, a block no query reads costs nothing, and the writer still checks
every byte. A store of 25,000 photos with 50 kept classes each makes postings of two 4 MiB blocks."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from devsearch.model.imagenet import NUM_CLASSES
from devsearch.model.manifest import Manifest
from devsearch.store.catalog import Store
from devsearch.store.derived.postings import Postings
from devsearch.store.kept_classes import TOP_K, TopClasses
from devsearch.store.records import ChangeSet, EmbeddedPhoto
from devsearch.store.derived.checksummed import BLOCK_BYTES, BLOCKS, CHECKSUM, file_checksum

PHOTOS = 25_000
MANIFEST = Manifest(fingerprint="test-blocks:1", dims=4, backbone="none", head="none", words="none", words_name="none",
                    labels="none")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("blocks") / "home"
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(PHOTOS, 4)).astype(np.float32)
    with Store.open(home, writer=True) as store:
        store.bind_model(MANIFEST)
        store.commit(ChangeSet(embedded=[
            EmbeddedPhoto(path=f"/p/{i}.jpg", size=1, mtime=1.0, content_hash=f"{i}", width=4, height=3, taken=None,
                          vector=vectors[i],
                          top_classes=TopClasses(rng.choice(NUM_CLASSES, TOP_K, replace=False),
                                                 np.sort(rng.dirichlet(np.ones(TOP_K)))[::-1].astype(np.float32)))
            for i in range(PHOTOS)]))
    return home


@pytest.fixture
def home(pristine: Path, tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(pristine, tmp_path / "home")
    return tmp_path / "home"


def ids_file(home: Path) -> Path:
    return home / json.loads((home / "postings.json").read_text())["files"]["ids"]["name"]


def damage_entry_of(home: Path, class_id: int) -> None:
    """Flip a byte of the first posting of class_id in the ids file."""
    with Store.open(home) as store:
        offsets = Postings.of_rows(*store.indexed_classes()).offsets
    path = ids_file(home)
    data = bytearray(path.read_bytes())
    header = len(data) - 4 * int(offsets[-1])
    data[header + 4 * int(offsets[class_id]) + 1] ^= 0xFF
    path.write_bytes(bytes(data))


def mass(home: Path, class_id: int) -> np.ndarray:
    with Store.open(home) as store:
        return store.class_mass(np.array([class_id]), np.array([1.0], np.float32)).values


def true_mass(home: Path, class_id: int) -> np.ndarray:
    with Store.open(home) as store:
        return Postings.of_rows(*store.indexed_classes()).mass(np.array([class_id]), np.array([1.0], np.float32))


def test_the_postings_are_saved_with_a_checksum_per_block(pristine: Path):
    entry = json.loads((pristine / "postings.json").read_text())["files"]["ids"]
    assert entry["bytes"] > BLOCK_BYTES and len(entry[BLOCKS][CHECKSUM]) == -(-entry["bytes"] // BLOCK_BYTES)


def test_a_damaged_block_a_query_reads_is_caught_and_rebuilt(home: Path, capsys):
    damage_entry_of(home, NUM_CLASSES - 1)
    np.testing.assert_array_equal(mass(home, NUM_CLASSES - 1), true_mass(home, NUM_CLASSES - 1))
    assert "does not match its checksum" in capsys.readouterr().err


def test_a_damaged_block_no_query_reads_costs_nothing(home: Path, capsys):
    damage_entry_of(home, NUM_CLASSES - 1)  # in the last block; class 0 lies in the first
    np.testing.assert_array_equal(mass(home, 0), true_mass(home, 0))
    assert capsys.readouterr().err == ""


def test_the_writer_checks_every_block(home: Path, capsys):
    damage_entry_of(home, NUM_CLASSES - 1)
    Store.open(home, writer=True).close()
    entry = json.loads((home / "postings.json").read_text())["files"]["ids"]
    assert file_checksum(ids_file(home)) == entry[CHECKSUM]
    np.testing.assert_array_equal(mass(home, NUM_CLASSES - 1), true_mass(home, NUM_CLASSES - 1))
    assert "does not match" not in capsys.readouterr().err


def test_postings_saved_without_block_checksums_are_checked_whole(home: Path, capsys):
    sidecar = json.loads((home / "postings.json").read_text())
    for entry in sidecar["files"].values():
        entry.pop(BLOCKS, None)
    (home / "postings.json").write_text(json.dumps(sidecar))
    damage_entry_of(home, NUM_CLASSES - 1)
    np.testing.assert_array_equal(mass(home, 0), true_mass(home, 0))
    assert "does not match its checksum" in capsys.readouterr().err
