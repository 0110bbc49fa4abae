"""The damage suite: each file of a store is damaged in turn (random bytes in the middle, truncated,
emptied, deleted, garbage JSON), and a query must then give the true ranking or fail in one clean
line: never a wrong ranking. The true ranking is the undamaged store's."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from devsearch.core.errors import DevsearchError
from devsearch.core.settings import Settings
from devsearch.search.engine import open_searcher
from tests.tiny_library import random_store

QUERIES = ["dog", "beach + 0.5:cat", "people - dog"]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict:
    """A store of 400 photos with random vectors in the tiny 4-d word space and random kept top
    classes (so word queries read the class postings too), and its true answers."""
    settings = random_store(tmp_path_factory.mktemp("damage"), 400, seed=11)
    truth = {query: json.loads(query_json(str(settings.home), query).stdout) for query in QUERIES}
    return {"home": settings.home, "truth": truth, "cache": settings.cache}


def query_json(home: str, query: str):
    return CliRunner().invoke(app, ["query", query, "--all", "--home", home, "--json", "-n", "15"])


def store_files(home: Path) -> list[str]:
    return sorted(p.name for p in home.iterdir() if p.is_file())


def damaged(pristine: dict, tmp_path: Path, name: str, damage) -> Path:
    home = tmp_path / "home"
    shutil.copytree(pristine["home"], home)
    damage(home / name)
    return home


def middle(size: int):
    def damage(path: Path) -> None:
        data = bytearray(path.read_bytes())
        at = max(0, len(data) // 2 - size // 2)
        data[at:at + size] = np.random.default_rng(len(data)).bytes(min(size, len(data) - at))
        path.write_bytes(bytes(data))
    return damage


DAMAGES = {
    "middle-64": middle(64),
    "middle-4k": middle(4096),
    "half": lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    "empty": lambda path: path.write_bytes(b""),
    "deleted": lambda path: path.unlink(),
    "json-object": lambda path: path.write_text("{}"),
    "json-list": lambda path: path.write_text("[1, 2]"),
    "not-json": lambda path: path.write_text("\x00garbage\xff"),
}


def test_the_suite_covers_every_file_of_a_store(pristine) -> None:
    """A new kind of store file must join the suite (its names are matched by prefix below)."""
    kinds = {name.split("-")[0].split(".")[0] for name in store_files(pristine["home"])}
    assert kinds == {"catalog", "model", "flat", "hnsw", "postings", "writer"}


@pytest.mark.parametrize("damage", list(DAMAGES))
@pytest.mark.parametrize("index", range(14))
def test_a_query_on_a_damaged_file_is_right_or_one_clean_line(pristine, tmp_path, damage, index) -> None:
    names = store_files(pristine["home"])
    if index >= len(names):
        pytest.skip("fewer store files")
    home = damaged(pristine, tmp_path, names[index], DAMAGES[damage])
    for query in QUERIES:
        result = query_json(str(home), query)
        if result.exit_code == 0:
            assert json.loads(result.stdout) == pristine["truth"][query], (names[index], damage, query)
        else:
            assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.stderr
            assert result.stderr.startswith("devsearch: error: ")


@pytest.mark.parametrize("damage", ["middle-4k", "half", "deleted", "json-object"])
@pytest.mark.parametrize("prefix", ["hnsw", "flat", "postings", "catalog"])
def test_a_long_lived_searcher_on_a_damaged_file_is_right_or_refuses(pristine, tmp_path, damage, prefix) -> None:
    """HNSW answers only here (a server's searcher): the same promise."""
    for name in [n for n in store_files(pristine["home"]) if n.startswith(prefix)]:
        home = damaged(pristine, tmp_path / name, name, DAMAGES[damage])
        settings = Settings(home=home, cache=pristine["cache"], model=None)
        try:
            with open_searcher(settings) as searcher:
                for query in QUERIES:
                    got = [r.as_dict() for r in searcher.text(query, 15)]
                    assert [g["path"] for g in got] == [t["path"] for t in pristine["truth"][query]], (name, damage)
        except DevsearchError as err:
            assert "\n" not in str(err)


def test_the_next_index_after_damage_leaves_sound_files(pristine, tmp_path) -> None:
    """After any damage to a derived file, the writer's save leaves files that verify."""
    from devsearch.store.catalog import Store
    from devsearch.store.derived.checksummed import CHECKSUM, file_checksum

    for name in [n for n in store_files(pristine["home"]) if n.startswith(("flat", "hnsw", "postings"))]:
        home = damaged(pristine, tmp_path / name, name, middle(4096) if not name.endswith(".json") else DAMAGES["json-list"])
        Store.open(home, writer=True).close()
        for sidecar in ("flat.json", "hnsw.json", "postings.json"):
            for entry in json.loads((home / sidecar).read_text())["files"].values():
                assert file_checksum(home / entry["name"]) == entry[CHECKSUM], (name, sidecar)
        for query in QUERIES:
            assert json.loads(query_json(str(home), query).stdout) == pristine["truth"][query]


@pytest.mark.parametrize("damage", ["exponent", "nan", "inf", "zero", "half"])
@pytest.mark.parametrize("index", [False, True])
def test_a_damaged_vector_in_the_catalog_leaves_the_answers_with_one_warning(pristine, tmp_path, damage,
                                                                             index) -> None:
    """The catalog is the truth, but its vectors are finite unit vectors: one damaged in place (the
    derived files saved before still hold it sound) is left out of every answer, said in one line."""
    import sqlite3

    from devsearch.store.catalog import Store

    home = damaged(pristine, tmp_path, "model.json", lambda path: None)
    with Store.open(home) as store:
        best = store.find_by_path(Path(pristine["truth"]["dog"][0]["path"]))
        vector = store.vector_of(best.id).astype(np.float32)
    if damage == "exponent":
        data = bytearray((home / "catalog.sqlite").read_bytes())
        at = data.find(vector.tobytes())
        assert at > 0 and data.find(vector.tobytes(), at + 1) == -1
        data[at + 7] ^= 0x40  # the exponent of its second component
        (home / "catalog.sqlite").write_bytes(bytes(data))
    else:
        broken = {"nan": vector * np.nan, "inf": vector * np.inf, "zero": vector * 0, "half": vector / 2}[damage]
        with sqlite3.connect(home / "catalog.sqlite") as db:
            db.execute("UPDATE photos SET embedding = ? WHERE id = ?", (broken.astype(np.float32).tobytes(), best.id))
    if index:  # a writer's save first: the derived files are built without it
        Store.open(home, writer=True).close()
    for query in QUERIES:
        result = query_json(str(home), query)
        assert result.exit_code == 0, result.stderr
        got = [(hit["path"], round(hit["score"], 5)) for hit in json.loads(result.stdout)]
        truth = [(hit["path"], round(hit["score"], 5)) for hit in pristine["truth"][query]]
        assert best.path not in [path for path, _ in got]
        assert got[:14] == [hit for hit in truth if hit[0] != best.path][:14], query
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert f"photo {best.id}" in result.stderr and "devsearch index" in result.stderr


@pytest.mark.parametrize("index", range(14))
def test_a_store_file_replaced_by_a_fifo_never_hangs(pristine, tmp_path, index) -> None:
    """SQLite, json and numpy would wait forever reading a FIFO: every store file is opened as a
    regular file or not at all."""
    import signal

    names = store_files(pristine["home"])
    home = damaged(pristine, tmp_path, names[index], lambda path: (path.unlink(), os.mkfifo(path)))

    def hung(*_):
        raise TimeoutError(f"hung on a FIFO in place of {names[index]}")
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        for query in QUERIES:
            result = query_json(str(home), query)
            if result.exit_code == 0:
                assert json.loads(result.stdout) == pristine["truth"][query], names[index]
            else:
                assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.stderr
        from devsearch.store.catalog import Store
        try:
            Store.open(home, writer=True).close()
        except DevsearchError as err:
            assert "\n" not in str(err)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)



def rewritten(home: Path, kind: str, role: str, change) -> None:
    """The kind's data file of role changed by change(array or bytes), saved again with the checksums
    its sidecar records made to match: a forgery, or a bug writing the right checksums of wrong data."""
    from devsearch.store.derived.keeper import KINDS
    from devsearch.store.derived.checksummed import checksums

    cls = next(k for k in KINDS if k.KIND == kind)
    sidecar = json.loads((home / f"{kind}.json").read_text())
    path = home / sidecar["files"][role]["name"]
    if path.suffix == ".npy":
        np.save(path, change(np.load(path)))
    else:
        path.write_bytes(change(path.read_bytes()))
    sidecar["files"][role] = {"name": path.name, **checksums(path, blocks=role in cls.BLOCK_ROLES)}
    (home / f"{kind}.json").write_text(json.dumps(sidecar))


def best(pristine: dict) -> tuple[int, int]:
    """The id of the best photo for `dog`, and its row in the flat file (rows by ascending id)."""
    from devsearch.store.catalog import Store

    with Store.open(pristine["home"]) as store:
        photo_id = store.find_by_path(Path(pristine["truth"]["dog"][0]["path"])).id
        return photo_id, int(np.searchsorted(store.ids_matching(), photo_id))


def rows_changed(row: int, factor: float):
    return lambda a: (a * np.where(np.arange(len(a))[:, None] == row, factor, 1)).astype(np.float32)


def graph_changed(labels_to=None, scale_of=None):
    """A saved hnswlib graph's bytes with every label moved by labels_to, or photo scale_of's vector zeroed."""
    import struct

    def change(data: bytes) -> bytes:
        data = bytearray(data)
        _, _, count, size, label_at, vector_at = struct.unpack_from("<6Q", data, 0)
        for element in range(count):
            at = 96 + element * size
            label = struct.unpack_from("<Q", data, at + label_at)[0]
            if labels_to is not None:
                struct.pack_into("<Q", data, at + label_at, label + labels_to)
            if label == scale_of:
                data[at + vector_at:at + vector_at + 16] = bytes(16)
        return bytes(data)
    return change


FORGERIES = {  # name: (kind, role, pristine -> change)
    "flat: the best photo's row zeroed": ("flat", "vectors", lambda p: rows_changed(best(p)[1], 0)),
    "flat: the best photo's row scaled": ("flat", "vectors", lambda p: rows_changed(best(p)[1], 3)),
    "flat: ids beyond the catalog's": ("flat", "ids", lambda p: lambda a: a + 10_000),
    "hnsw: the best photo's vector zeroed": ("hnsw", "graph", lambda p: graph_changed(scale_of=best(p)[0])),
    "hnsw: labels beyond the catalog's": ("hnsw", "graph", lambda p: graph_changed(labels_to=10_000)),
    "postings: probabilities of 13": ("postings", "probabilities",
                                      lambda p: lambda a: np.where(np.arange(len(a)) % 7 == 0, 13, a).astype(np.float32)),
    "postings: negative probabilities": ("postings", "probabilities", lambda p: lambda a: -a),
    "postings: sums above 1": ("postings", "probabilities", lambda p: lambda a: np.full_like(a, 0.9)),
    "postings: ids beyond its photos": ("postings", "ids", lambda p: lambda a: (a + 5_000).astype(np.int32)),
    "postings: photos beyond the catalog's": ("postings", "photos", lambda p: lambda a: a + 5_000),
    "postings: offsets out of order": ("postings", "offsets", lambda p: lambda a: a[::-1].copy()),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_derived_file_rewritten_with_matching_checksums_is_rebuilt_by_its_content(pristine, tmp_path,
                                                                                  forgery) -> None:
    """Checksums catch accidents, not forgery: cheap checks of the content (unit rows, ids the catalog
    has, probabilities in [0, 1] summing to at most 1 per photo) catch a file that would rank wrongly,
    which is rebuilt from the catalog with one line, as a damaged one."""
    kind, role, change = FORGERIES[forgery]
    home = damaged(pristine, tmp_path, "model.json", lambda path: None)
    rewritten(home, kind, role, change(pristine))
    if kind == "hnsw":  # only a long-lived searcher reads the graph
        settings = Settings(home=home, cache=pristine["cache"], model=None)
        with open_searcher(settings) as searcher:
            for query in QUERIES:
                got = [r.path for r in searcher.text(query, 15)]
                assert got == [t["path"] for t in pristine["truth"][query]], (forgery, query)
        return
    said = []
    for query in QUERIES:
        result = query_json(str(home), query)
        assert result.exit_code == 0 and json.loads(result.stdout) == pristine["truth"][query], (forgery, query)
        assert len(result.stderr.splitlines()) <= 1, result.stderr
        said.append(result.stderr)
    assert "rebuilt it from the catalog" in said[0], said  # and saved: the next queries read a sound file
