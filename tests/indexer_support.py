"""Shared by the indexer tests (no tests here): a photo tree made of real files, a small honest
embedding, and a runnable indexer for tests that need a separate process to kill or race.

The embedding is the mean colour of each image quadrant plus a constant, as a unit vector: real
pixels in, deterministic vectors out, fast enough that the tests exercise the indexer, not a model.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from devsearch.core.settings import Settings
from devsearch.indexer.crawl import resolve_roots
from devsearch.indexer.pipeline import IndexOptions, PeopleStep, run_index
from devsearch.indexer.summary import format_summary
from devsearch.model.manifest import Manifest
from devsearch.model.people import PeopleSignal
from devsearch.store.catalog import Store

REPO = Path(__file__).resolve().parent.parent
DIMS = 13
MANIFEST = Manifest(fingerprint="test-quadrant-colours:1", dims=DIMS, backbone="none", head="quadrant-colours",
                    words="none", words_name="none", labels="none")


def quadrant_colours(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 224, 224, 3) -> float32 (N, 13) unit rows."""
    pixels = images.astype(np.float32) / 255.0
    half = pixels.shape[1] // 2
    quadrants = [pixels[:, :half, :half], pixels[:, :half, half:], pixels[:, half:, :half], pixels[:, half:, half:]]
    features = np.concatenate([q.mean(axis=(1, 2)) for q in quadrants] + [np.ones((len(images), 1), np.float32)], 1)
    return (features / np.linalg.norm(features, axis=1, keepdims=True)).astype(np.float32)


def red_people(pixels: np.ndarray) -> PeopleSignal:
    """A small honest stand-in for the people detectors: the share of strongly red pixels is the
    person score (a red photo "shows" a person), the top-left quarter's red share the face share."""
    pixels = pixels.astype(np.int16)
    red = (pixels[..., 0] > 150) & (pixels[..., 1] < 100) & (pixels[..., 2] < 100)
    quarter = red[: red.shape[0] // 2, : red.shape[1] // 2]
    score = float(red.mean())
    return PeopleSignal(person_score=score, people=int(score >= 0.5), face_share=float(quarter.mean()) / 4)


PERSON_DIRECTION = np.eye(DIMS, dtype=np.float32)[0]
RED_PEOPLE = PeopleStep(red_people, lambda: PERSON_DIRECTION)


def photo(seed: int, size: tuple[int, int] = (96, 64)) -> Image.Image:
    """A distinct real image: a colour gradient with noise."""
    rng = np.random.default_rng(seed)
    width, height = size
    base = rng.integers(0, 256, 3)
    ramp = np.linspace(0, 1, width)[None, :, None] * rng.integers(-120, 120, 3)
    noise = rng.normal(0, 12, (height, width, 3))
    return Image.fromarray(np.clip(base + ramp + noise, 0, 255).astype(np.uint8))


def photo_folder(root: Path, count: int) -> Path:
    """A folder of `count` distinct small JPEGs, 00.jpg, 01.jpg, ..."""
    root.mkdir()
    for i in range(count):
        photo(i).save(root / f"{i:02}.jpg")
    return root


def make_tree(root: Path) -> dict[str, Path]:
    """Good photos in five formats (one JPEG rotated by EXIF), three bad files, a symlink loop."""
    (root / "album").mkdir(parents=True)
    files = {
        "jpeg": root / "a.jpg", "png": root / "b.png", "webp": root / "album" / "c.webp",
        "gif": root / "album" / "d.gif", "tiff": root / "album" / "e.tiff", "rotated": root / "album" / "f.jpeg",
        "corrupt": root / "corrupt.jpg", "empty": root / "empty.jpg", "text": root / "notes.png",
    }
    photo(1).save(files["jpeg"], quality=90)
    photo(2).convert("RGBA").save(files["png"])
    photo(3).save(files["webp"])
    photo(4).convert("P").save(files["gif"])
    photo(5).save(files["tiff"])
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: a 96x64 sensor image shown as 64x96
    photo(6).save(files["rotated"], exif=exif)
    data = files["jpeg"].read_bytes()
    files["corrupt"].write_bytes(data[: len(data) // 3])
    files["empty"].write_bytes(b"")
    files["text"].write_text("not a picture\n")
    os.symlink("..", root / "album" / "loop")
    return files


GOOD = ("jpeg", "png", "webp", "gif", "tiff", "rotated")
BAD = ("corrupt", "empty", "text")


def index_tree(root: Path, home: Path, embed=quadrant_colours, **options):
    """Index root into the store at home, in this process, with the quadrant-colour embedding."""
    roots = resolve_roots([root])
    with Store.open(home, writer=True) as store:
        return run_index(roots, store, embed, MANIFEST, IndexOptions(batch_size=4, workers=2, **options))


def start_indexer(root: Path, home: Path, *options: str, **debug_env: str) -> subprocess.Popen:
    """tests/indexer_support.py in its own process (its decode workers see debug_env too);
    options: `--ray ADDRESS` to decode and embed on a Ray cluster."""
    env = {**os.environ, **debug_env, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "tests.indexer_support", str(home), *options, str(root)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def start_slow_indexer(root: Path, home: Path) -> subprocess.Popen:
    """An indexer process sleeping after each batch of 2."""
    return start_indexer(root, home, DEVSEARCH_DEBUG_BATCH_DELAY="0.3")


def indexed_rows(home: Path) -> int:
    try:
        with sqlite3.connect(home / "catalog.sqlite", timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM photos WHERE status = 'indexed'").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def wait_for_rows(home: Path, at_least: int, seconds: float) -> None:
    """Until at least `at_least` photos are indexed in home (a process to interrupt has work committed),
    or `seconds` have passed: the test's own assertions then say what went wrong."""
    deadline = time.monotonic() + seconds
    while indexed_rows(home) < at_least and time.monotonic() < deadline:
        time.sleep(0.05)


def paced_quadrant_colours(images: np.ndarray) -> np.ndarray:
    """quadrant_colours after DEVSEARCH_TEST_EMBED_DELAY seconds: an embedding worker busy long enough to kill."""
    time.sleep(float(os.environ.get("DEVSEARCH_TEST_EMBED_DELAY") or 0))
    return quadrant_colours(images)


def main(home: str, *arguments: str) -> None:
    """Index roots into home with the quadrant-colour embedding (a slow run needs the debug delay);
    arguments are the roots, optionally after `--ray ADDRESS` (decode and embed on that Ray cluster)."""
    roots, remote = list(arguments), None
    if roots[:1] == ["--ray"]:
        from devsearch.indexer.ray_runner import RayEmbedding

        remote = RayEmbedding(roots[1], paced_quadrant_colours, DIMS, cpus=2)
        roots = roots[2:]
    roots = resolve_roots([Path(root) for root in roots])
    with Store.open(Path(home), writer=True) as store:
        print("locked", flush=True)
        options = IndexOptions(batch_size=2, workers=1, remote=remote,
                               decode_timeout=Settings().decode_timeout)  # DEVSEARCH_DECODE_TIMEOUT, as a real run
        summary = run_index(roots, store, quadrant_colours, MANIFEST, options)
    print("\n".join(format_summary(summary)), flush=True)
    sys.exit(130 if summary.interrupted else 0)


if __name__ == "__main__":
    main(*sys.argv[1:])
