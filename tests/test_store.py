"""The store: catalog rows, the files derived from them (HNSW, flat, postings), the lock, the model binding."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from devsearch.core.errors import EmptyStoreError, ModelMismatchError, StoreError, StoreLockedError
from devsearch.model.manifest import Manifest
from devsearch.store.catalog import Store
from devsearch.store.derived.hnsw import REBUILD_AFTER
from devsearch.store.records import ChangeSet, EmbeddedPhoto, FailedPhoto, Move, Reprojected

MANIFEST = Manifest(fingerprint="test-space:1", dims=4, backbone="none", head="none", words="none", words_name="none",
                    labels="none")


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def photo(path: str, vector: np.ndarray, *, taken: datetime | None = None, mtime: float = 1_600_000_000.0,
          digest: str | None = None) -> EmbeddedPhoto:
    return EmbeddedPhoto(path=path, size=1000, mtime=mtime, content_hash=digest or f"hash-of-{path}", width=4,
                         height=3, taken=taken, vector=vector)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A store holding three photos under /photos: two in /photos/beach, one in /photos/city."""
    with Store.open(tmp_path / "home", writer=True) as store:
        store.bind_model(MANIFEST)
        store.commit(ChangeSet(embedded=[
            photo("/photos/beach/1.jpg", unit(1, 0, 0, 0), taken=datetime(2020, 7, 1, 12, 0)),
            photo("/photos/beach/2.jpg", unit(1, 1, 0, 0), mtime=datetime(2021, 1, 5).timestamp()),
            photo("/photos/city/3.jpg", unit(0, 0, 1, 0), taken=datetime(2022, 3, 3, 9, 30)),
        ]))
    return tmp_path / "home"


@pytest.fixture(params=[False, True], ids=["hnsw", "flat"])
def exact(request) -> bool:
    """Each k-NN behaviour holds for both derived files: the HNSW graph and the exact flat file."""
    return request.param


def derived_files(home: Path, exact: bool) -> list[Path]:
    """The files of one derived vector file, its sidecar first."""
    kind = "flat" if exact else "hnsw"
    return [home / f"{kind}.json", *sorted(home.glob(f"{kind}-*"))]


def saved_generation(home: Path, exact: bool) -> int:
    return json.loads(derived_files(home, exact)[0].read_text())["generation"]


def ids_by_path(store: Store) -> dict[str, int]:
    return {record.path: record.id for record in store.get(store.ids_matching())}


def test_reader_on_a_missing_home_says_to_index_first(tmp_path: Path) -> None:
    with pytest.raises(EmptyStoreError, match="devsearch index"):
        Store.open(tmp_path / "nothing")


def test_reader_on_a_store_without_photos_says_to_index_first(tmp_path: Path) -> None:
    Store.open(tmp_path / "home", writer=True).close()
    with pytest.raises(EmptyStoreError, match="no photos indexed"):
        Store.open(tmp_path / "home")


def test_catalog_is_in_wal_mode(home: Path) -> None:
    with sqlite3.connect(home / "catalog.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_second_writer_is_refused_with_the_pid_of_the_first(home: Path) -> None:
    with Store.open(home, writer=True):
        with pytest.raises(StoreLockedError, match=f"pid {os.getpid()}"):
            Store.open(home, writer=True)


def test_closing_the_writer_releases_the_lock(home: Path) -> None:
    Store.open(home, writer=True).close()
    Store.open(home, writer=True).close()


def test_readers_are_not_blocked_by_the_writer(home: Path) -> None:
    with Store.open(home, writer=True), Store.open(home) as reader:
        assert reader.count() == 3


def test_another_model_is_refused_with_how_to_rebuild(home: Path) -> None:
    with Store.open(home) as store, pytest.raises(ModelMismatchError, match="--rebuild"):
        store.check_model("another-space:2")


def test_the_bound_model_manifest_is_kept_in_home(home: Path) -> None:
    with Store.open(home) as store:
        assert store.model_manifest() == MANIFEST
    assert json.loads((home / "model.json").read_text())["fingerprint"] == "test-space:1"


def test_knn_gives_nearest_first_with_cosine_similarity(home: Path, exact: bool) -> None:
    with Store.open(home) as store:
        paths = {v: k for k, v in ids_by_path(store).items()}
        hits = store.knn(unit(1, 0.1, 0, 0), 3, exact=exact)
    assert [paths[i] for i, _ in hits] == ["/photos/beach/1.jpg", "/photos/beach/2.jpg", "/photos/city/3.jpg"]
    assert hits[0][1] == pytest.approx(float(unit(1, 0.1, 0, 0) @ unit(1, 0, 0, 0)), abs=1e-5)


def test_knn_asked_for_more_than_there_are_returns_them_all(home: Path, exact: bool) -> None:
    with Store.open(home) as store:
        assert len(store.knn(unit(1, 0, 0, 0), 50, exact=exact)) == 3


def test_knn_with_allowed_ids_returns_only_those(home: Path, exact: bool) -> None:
    with Store.open(home) as store:
        city = store.ids_matching(under=Path("/photos/city"))
        hits = store.knn(unit(1, 0, 0, 0), 2, allowed_ids=city, exact=exact)
    assert [i for i, _ in hits] == list(city)


def test_get_keeps_the_order_of_the_ids(home: Path) -> None:
    with Store.open(home) as store:
        ids = list(reversed(store.ids_matching()))
        assert [r.id for r in store.get(ids)] == ids


def test_ids_matching_under_a_folder(home: Path) -> None:
    with Store.open(home) as store:
        beach = store.get(store.ids_matching(under=Path("/photos/beach")))
    assert sorted(r.path for r in beach) == ["/photos/beach/1.jpg", "/photos/beach/2.jpg"]


def test_ids_matching_does_not_take_a_sibling_with_the_same_prefix(home: Path) -> None:
    with Store.open(home) as store:
        assert len(store.ids_matching(under=Path("/photos/bea"))) == 0


def test_ids_matching_dates_use_exif_time_else_mtime(home: Path) -> None:
    with Store.open(home) as store:
        after_2021 = store.get(store.ids_matching(after=datetime(2021, 1, 1)))
        in_2020 = store.get(store.ids_matching(after=datetime(2020, 1, 1), before=datetime(2020, 12, 31)))
    assert sorted(r.path for r in after_2021) == ["/photos/beach/2.jpg", "/photos/city/3.jpg"]
    assert [r.path for r in in_2020] == ["/photos/beach/1.jpg"]


def test_ids_by_date_are_newest_first_by_exif_time_else_mtime(home: Path) -> None:
    with Store.open(home) as store:
        newest_first = [r.path for r in store.get(store.ids_by_date())]
    assert newest_first == ["/photos/city/3.jpg", "/photos/beach/2.jpg", "/photos/beach/1.jpg"]


def test_ids_by_date_break_ties_by_id_descending_and_leave_out_photos_not_indexed(home: Path) -> None:
    same_time = datetime(2020, 7, 1, 12, 0)  # the capture time of /photos/beach/1.jpg
    with Store.open(home, writer=True) as store:
        store.commit(ChangeSet(embedded=[photo("/photos/twin.jpg", unit(0, 1, 0, 0), taken=same_time),
                                         photo("/photos/late.jpg", unit(0, 0, 0, 1), mtime=datetime(2030, 1, 1).timestamp())],
                               failed=[FailedPhoto("/photos/bad.jpg", 0, datetime(2040, 1, 1).timestamp(), "empty file")]))
        store.commit(ChangeSet(deleted=[ids_by_path(store)["/photos/city/3.jpg"]]))
        by_path = ids_by_path(store)
        order = store.ids_by_date().tolist()
    assert order == [by_path["/photos/late.jpg"], by_path["/photos/beach/2.jpg"],
                     by_path["/photos/twin.jpg"], by_path["/photos/beach/1.jpg"]]
    assert by_path["/photos/twin.jpg"] > by_path["/photos/beach/1.jpg"]


def test_find_by_path_returns_the_record(home: Path) -> None:
    with Store.open(home) as store:
        record = store.find_by_path(Path("/photos/city/3.jpg"))
    assert (record.status, record.taken, record.width, record.height) == ("indexed", datetime(2022, 3, 3, 9, 30), 4, 3)


def test_find_by_path_of_an_unknown_file_is_none(home: Path) -> None:
    with Store.open(home) as store:
        assert store.find_by_path(Path("/photos/elsewhere.jpg")) is None


def test_find_by_hash_returns_the_photos_with_that_content(home: Path) -> None:
    with Store.open(home) as store:
        assert [r.path for r in store.find_by_hash("hash-of-/photos/beach/2.jpg")] == ["/photos/beach/2.jpg"]


def test_vector_of_returns_the_stored_embedding(home: Path) -> None:
    with Store.open(home) as store:
        photo_id = ids_by_path(store)["/photos/beach/2.jpg"]
        np.testing.assert_allclose(store.vector_of(photo_id), unit(1, 1, 0, 0))


def test_vector_of_a_failed_photo_is_a_store_error(home: Path) -> None:
    with Store.open(home, writer=True) as store:
        store.commit(ChangeSet(failed=[FailedPhoto("/photos/bad.jpg", 0, 1.0, "empty file (0 bytes)")]))
        with pytest.raises(StoreError, match="no vector"):
            store.vector_of(store.find_by_path(Path("/photos/bad.jpg")).id)


def test_a_failed_photo_keeps_its_reason(home: Path) -> None:
    with Store.open(home, writer=True) as store:
        store.commit(ChangeSet(failed=[FailedPhoto("/photos/bad.jpg", 0, 1.0, "empty file (0 bytes)")]))
        assert store.failure_counts() == {"empty file (0 bytes)": 1}


def test_deleted_photos_leave_the_search(home: Path, exact: bool) -> None:
    with Store.open(home, writer=True) as store:
        store.commit(ChangeSet(deleted=[ids_by_path(store)["/photos/beach/1.jpg"]]))
    with Store.open(home) as store:
        assert store.count("deleted") == 1
        assert "/photos/beach/1.jpg" not in {r.path for r in store.get([i for i, _ in store.knn(unit(1, 0, 0, 0), 3, exact=exact)])}


def test_a_move_keeps_the_id_and_the_vector(home: Path, exact: bool) -> None:
    with Store.open(home, writer=True) as store:
        before = store.find_by_path(Path("/photos/city/3.jpg"))
        store.commit(ChangeSet(moves=[Move(before.id, "/photos/moved.jpg", before.size, before.mtime)]))
    with Store.open(home) as store:
        after = store.find_by_path(Path("/photos/moved.jpg"))
        assert after.id == before.id and store.find_by_path(Path("/photos/city/3.jpg")) is None
        assert store.knn(unit(0, 0, 1, 0), 1, exact=exact)[0][0] == before.id


def test_a_missing_vector_file_is_rebuilt_from_the_catalog(home: Path, exact: bool) -> None:
    derived_files(home, exact)[1].unlink()
    with Store.open(home) as store:
        assert len(store.knn(unit(1, 0, 0, 0), 3, exact=exact)) == 3


def test_a_truncated_vector_file_is_rebuilt_from_the_catalog(home: Path, exact: bool) -> None:
    data_file = derived_files(home, exact)[1]
    data = data_file.read_bytes()
    data_file.write_bytes(data[: len(data) // 2])
    with Store.open(home) as store:
        assert len(store.knn(unit(1, 0, 0, 0), 3, exact=exact)) == 3


def test_a_stale_vector_file_is_caught_up_with_the_catalog(home: Path, tmp_path: Path, exact: bool) -> None:
    saved = tmp_path / "saved"
    saved.mkdir()
    before = derived_files(home, exact)
    for path in before:  # the files as they were before the next commit
        shutil.copy(path, saved / path.name)
    with Store.open(home, writer=True) as store:
        store.commit(ChangeSet(embedded=[photo("/photos/new.jpg", unit(0, 0, 0, 1))],
                               deleted=[ids_by_path(store)["/photos/city/3.jpg"]]))
    for path in before:  # as if the process died before saving
        shutil.copy(saved / path.name, path)
    with Store.open(home) as store:
        found = {r.path for r in store.get([i for i, _ in store.knn(unit(0, 0, 1, 1), 10, exact=exact)])}
    assert found == {"/photos/beach/1.jpg", "/photos/beach/2.jpg", "/photos/new.jpg"}


def test_the_writer_saves_a_caught_up_vector_file_on_close(home: Path, exact: bool) -> None:
    json_path = derived_files(home, exact)[0]
    sidecar = json.loads(json_path.read_text())
    json_path.write_text(json.dumps({**sidecar, "generation": sidecar["generation"] - 1}))
    Store.open(home, writer=True).close()
    assert json.loads(json_path.read_text())["generation"] == sidecar["generation"]


def test_the_writer_writes_a_missing_flat_file_on_close(home: Path) -> None:
    """A store made before the flat file existed gets one at its next index run."""
    for path in derived_files(home, exact=True):
        path.unlink()
    Store.open(home, writer=True).close()
    assert saved_generation(home, exact=True) == saved_generation(home, exact=False)


def test_saving_keeps_only_the_current_flat_pair(home: Path) -> None:
    with Store.open(home, writer=True) as store:
        store.commit(ChangeSet(embedded=[photo("/photos/new.jpg", unit(0, 0, 0, 1))]))
    named = json.loads((home / "flat.json").read_text())["files"]
    assert sorted(p.name for p in home.glob("flat-*")) == sorted([named["vectors"]["name"], named["ids"]["name"]])


def test_exact_knn_is_the_brute_force_ranking_of_the_catalog(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(400, 4)).astype(np.float32)
    with Store.open(tmp_path / "home", writer=True) as store:
        store.bind_model(MANIFEST)
        store.commit(ChangeSet(embedded=[photo(f"/p/{i}.jpg", vectors[i]) for i in range(len(vectors))]))
    with Store.open(tmp_path / "home") as store:
        ids = np.array([ids_by_path(store)[f"/p/{i}.jpg"] for i in range(len(vectors))])
        units = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        for query in rng.normal(size=(20, 4)).astype(np.float32):
            expected = ids[np.argsort(-(units @ query), kind="stable")[:10]]
            assert [i for i, _ in store.knn(query, 10, exact=True)] == list(expected)


def test_saving_leaves_no_temporary_files(home: Path) -> None:
    assert sorted(p.name for p in home.iterdir() if p.name.startswith(".")) == []


def test_reset_forgets_photos_and_the_model(home: Path) -> None:
    with Store.open(home, writer=True) as store:
        store.reset()
        assert (store.count(), store.model_manifest()) == (0, None)
    assert not [*home.glob("hnsw*"), *home.glob("flat*")]


def test_a_file_that_is_not_a_catalog_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "catalog.sqlite").write_text("this is not a database " * 100)
    with pytest.raises(StoreError, match="is damaged .*--rebuild"):
        Store.open(tmp_path)


def test_re_projecting_many_photos_leaves_both_derived_files_finding_the_new_vectors(tmp_path: Path, exact) -> None:
    count = REBUILD_AFTER + 200
    rng = np.random.default_rng(7)
    with Store.open(tmp_path / "home", writer=True) as store:
        store.bind_model(MANIFEST)
        store.commit(ChangeSet(embedded=[photo(f"/p/{i}.jpg", unit(*rng.normal(size=4))) for i in range(count)]))
    with Store.open(tmp_path / "home", writer=True) as store:
        ids = store.ids_matching()
        moved = {int(i): unit(*rng.normal(size=4)) for i in ids}
        store.commit(ChangeSet(reprojected=[Reprojected(i, v) for i, v in moved.items()]))
    target = int(ids[123])
    with Store.open(tmp_path / "home") as store:
        assert store.knn(moved[target], 1, exact=exact)[0][0] == target
        np.testing.assert_allclose(store.vector_of(target), moved[target], atol=1e-6)
