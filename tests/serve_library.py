"""A small collection for the server's tests: real image files, with vectors on the axes of a tiny word space.

No network: the photos' vectors are written through the store's writer API (like
tests/test_search_engine.py), so a search for `dog` ranks by how far each photo lies along the dog
axis. The files are real JPEG and PNG images (distinct content), one of them stored sideways with an
EXIF orientation, so thumbnails and originals can be checked.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageDraw
from starlette.testclient import TestClient

from devsearch.core.settings import Settings
from devsearch.serve.app import create_app
from devsearch.serve.services import Services
from devsearch.store.catalog import Store
from devsearch.store.hashing import content_hash
from devsearch.store.records import ChangeSet, EmbeddedPhoto
from tests.tiny_library import axis, make_bundle

LOOPBACK = "http://127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]

# name: (vector, colour, capture time); sizes are the files' own
PHOTOS = {
    "dog.jpg": (axis(1, 0, 0, 0), (200, 120, 60), datetime(2020, 1, 1)),
    "dog_beach.jpg": (axis(1, 1, 0, 0), (230, 200, 120), datetime(2021, 6, 1)),
    "beach.jpg": (axis(0.1, 1, 0, 0), (90, 170, 230), datetime(2022, 7, 1)),
    "cat.jpg": (axis(0, 0, 1, 0), (120, 120, 120), None),
    "trip/people.jpg": (axis(0.2, 0, 0, 1), (200, 60, 90), datetime(2019, 3, 1)),
    "sideways.jpg": (axis(0, 0.3, 0, 1), (40, 140, 70), datetime(2018, 1, 1)),
    "drawing.png": (axis(0, 0, 0.5, 1), (250, 240, 60), datetime(2017, 1, 1)),
}
SIDEWAYS = "sideways.jpg"  # stored 300x200 with EXIF orientation 6: shown 200x300 (portrait)


def draw_photo(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (320, 240),
               orientation: int | None = None) -> Path:
    """A photo-like image: a colour field with a mark in one corner (so rotations are visible)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, colour)
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 4, size[1] // 4), fill=(255, 255, 255))
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if path.suffix == ".jpg":
        image.save(path, exif=exif)
    else:
        image.save(path)
    return path


def embedded(path: Path, vector: np.ndarray, taken: datetime | None) -> EmbeddedPhoto:
    with Image.open(path) as image:
        width, height = image.size
        if image.getexif().get(ExifTags.Base.Orientation) in (5, 6, 7, 8):
            width, height = height, width
    stat = path.stat()
    return EmbeddedPhoto(path=str(path), size=stat.st_size, mtime=stat.st_mtime, content_hash=content_hash(path),
                         width=width, height=height, taken=taken, vector=vector)


def make_library(base: Path) -> Settings:
    """Photos under base/photos (an indexed root) in a store under base/home, bound to a tiny bundle."""
    root = base / "photos"
    photos = []
    for name, (vector, colour, taken) in PHOTOS.items():
        path = draw_photo(root / name, colour, (300, 200) if name == SIDEWAYS else (320, 240),
                          orientation=6 if name == SIDEWAYS else None)
        if taken is None:  # no capture time: the file's mtime is its date
            os.utime(path, (datetime(2023, 5, 1).timestamp(),) * 2)
        photos.append(embedded(path, vector, taken))
    home = base / "home"
    with Store.open(home, writer=True) as store:
        store.bind_model(make_bundle(base / "model"))
        store.add_roots([str(root)])
        store.commit(ChangeSet(embedded=photos))
    return Settings(home=home, cache=base / "cache", model=None)


def add_photo(settings: Settings, path: Path, vector: np.ndarray) -> None:
    """Index one more photo, as `devsearch index` would commit it."""
    with Store.open(settings.home, writer=True) as store:
        store.commit(ChangeSet(embedded=[embedded(path, vector, None)]))


@contextmanager
def serving(settings: Settings, **options) -> Iterator[TestClient]:
    """A test client on a new server over settings' store, running (lifespan started) until the block ends."""
    services = Services.open(settings)
    try:
        with TestClient(create_app(services, **options), base_url=LOOPBACK) as test_client:
            yield test_client
    finally:
        services.close()


def names(response) -> list[str]:
    """The file names of a result list, best first."""
    assert response.status_code == 200, response.text
    return [Path(r["path"]).name for r in response.json()["results"]]


def start_server(home: Path, cache: Path, *options: str) -> tuple[subprocess.Popen, str]:
    """`devsearch serve --port 0 [options]` in a real process; returns it and the URL it printed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DEVSEARCH_CACHE": str(cache)}
    process = subprocess.Popen([sys.executable, "-m", "devsearch", "serve", "--home", str(home), "--port", "0", *options],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line.startswith("devsearch serve: http://127.0.0.1:"):
        process.kill()
        raise AssertionError(f"no URL printed: {line!r} {process.stderr.read()}")
    return process, line.split()[2]
