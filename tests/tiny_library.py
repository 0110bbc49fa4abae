"""A real store of six hand-made "photos" whose vectors lie along four word axes (dog, beach, cat, people).

No network: the vectors are written through the store's writer API and the word space is a tiny
bundle-local lookup, so the search and CLI tests that use it (the `library` fixture) run in well
under a second each.
"""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import numpy as np

from devsearch.core.settings import Settings
from devsearch.model.imagenet import NUM_CLASSES
from devsearch.model.manifest import BUNDLED_WORDS_DIR, Manifest, write_manifest
from devsearch.model.people import PeopleSignal
from devsearch.store.catalog import Store
from devsearch.store.hashing import content_hash
from devsearch.store.kept_classes import TopClasses, keep_top
from devsearch.store.records import ChangeSet, EmbeddedPhoto
from devsearch.wordspace.lookup import build_lookup

DIMS = 4
AXES = {"dog": 0, "beach": 1, "cat": 2, "people": 3}
FINGERPRINT = "test+conse+tiny:0123456789abcdef"


def axis(*weights: float) -> np.ndarray:
    vec = np.asarray(weights, dtype=np.float32)
    return vec / np.linalg.norm(vec)


def make_bundle(folder: Path, fingerprint: str = FINGERPRINT, words: tuple[str, ...] = tuple(AXES)) -> Manifest:
    """A model folder with a manifest and its own word space (one axis per word: 4-d by default)."""
    build_lookup(list(words), np.eye(len(words), dtype=np.float32), folder / BUNDLED_WORDS_DIR, source="test")
    manifest = Manifest(fingerprint=fingerprint, dims=len(words), words=BUNDLED_WORDS_DIR, words_name="tiny",
                        backbone="test", head="conse", labels="none")
    write_manifest(folder, manifest)
    return manifest.at(folder)


def build_store(home: Path, model_dir: Path, photos: dict[Path, tuple[np.ndarray, datetime | None]], *,
                fingerprint: str = FINGERPRINT, classes: dict[Path, TopClasses] | None = None,
                people: dict[Path, PeopleSignal] | None = None, words: tuple[str, ...] = tuple(AXES)) -> Settings:
    """A store bound to a tiny bundle, holding each existing file in photos with the given vector
    (and kept top classes and people signal, when given)."""
    manifest = make_bundle(model_dir, fingerprint, words)
    with Store.open(home, writer=True) as store:
        store.bind_model(manifest)
        embedded = []
        for path, (vector, taken) in photos.items():
            stat = path.stat()
            embedded.append(EmbeddedPhoto(path=str(path), size=stat.st_size, mtime=stat.st_mtime,
                                          content_hash=content_hash(path), width=64, height=48, taken=taken,
                                          vector=vector, top_classes=(classes or {}).get(path),
                                          people=(people or {}).get(path)))
        store.commit(ChangeSet(embedded=embedded))
    return Settings(home=home, cache=home.parent / "cache", model=None)



def random_store(base: Path, count: int, seed: int) -> Settings:
    """A store under base/home of `count` photos with random unit vectors in the 4-d word space and random
    kept top classes (so word queries read the class postings too)."""
    rng = np.random.default_rng(seed)
    photos = {photo_file(base / "photos", f"{i:03}.jpg"): (v / np.linalg.norm(v), None)
              for i, v in enumerate(rng.normal(size=(count, DIMS)).astype(np.float32))}
    classes = {path: keep_top(rng.dirichlet(np.full(NUM_CLASSES, 0.05), size=1))[0] for path in photos}
    return build_store(base / "home", base / "model", photos, fingerprint="test:0000/conse+tiny:0000",
                       classes=classes)

def photo_file(folder: Path, name: str, mtime: datetime | None = None) -> Path:
    """A distinct small file standing for a photo (its bytes only matter for the content hash)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(f"photo {name}".encode())
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def make_library(tmp_path: Path) -> dict:
    """Photos along the word axes, some in a second folder, some with capture times.

    {"settings": bound to the store in tmp_path/"home" and the bundle in tmp_path/"model",
     "root": the photo folder, "files": {name: path}}.
    """
    root = tmp_path / "photos"
    files = {
        "dog": (photo_file(root, "dog.jpg"), axis(1, 0, 0, 0), datetime(2020, 1, 1)),
        "dog_beach": (photo_file(root, "dog_beach.jpg"), axis(1, 1, 0, 0), datetime(2021, 6, 1)),
        "beach": (photo_file(root, "beach.jpg"), axis(0.1, 1, 0, 0), datetime(2022, 7, 1)),
        "beach_people": (photo_file(root, "beach_people.jpg"), axis(0.5, 1, 0, 1), None),
        "cat": (photo_file(root / "cats", "cat.jpg"), axis(0, 0, 1, 0), datetime(2023, 1, 1)),
        "cat2": (photo_file(root / "cats", "cat2.jpg", mtime=datetime(2024, 3, 1)), axis(0.1, 0, 1, 0.1), None),
    }
    settings = build_store(tmp_path / "home", tmp_path / "model",
                           {path: (vec, taken) for path, vec, taken in files.values()})
    return {"settings": settings, "root": root, "files": {k: v[0] for k, v in files.items()}}
