"""What the content checks of derived files cost at open, on synthetic files of a million photos.

A derived file rewritten with matching checksums is caught by cheap checks of its content (unit rows,
the catalog's ids, probabilities in [0, 1] summing to at most 1 per photo). Printed, each beside what
the same open costs without them (all in one run, best of --repeat):
  flat      load (mapping, XXH3 checksums, views) and the check of every row and id
  postings  load and the check of its whole small arrays; a `dog`-like read of 118 classes' mass with
            and without the class-by-class checks of what it reads
  hnsw      load of a graph of --graph-photos (hnswlib's load_index) and the check of every element

    python bench/content_checks.py [--photos 1000000] [--dims 50] [--graph-photos 100000]

No catalog and no TensorFlow: the files are written by the kinds' own write() and read by their load().
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devsearch.model.imagenet import NUM_CLASSES  # noqa: E402
from devsearch.store.derived.flat import FlatVectors  # noqa: E402
from devsearch.store.derived.hnsw import HnswIndex  # noqa: E402
from devsearch.store.derived.postings import Postings  # noqa: E402
from devsearch.store.derived.checksummed import SavedFile, checksums, mapped, matches  # noqa: E402


def best_ms(work, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def saved(kind, derived, folder: Path) -> tuple[dict, dict]:
    """The kind's files written to folder and described as a sidecar would."""
    entries = {}
    for role, suffix in kind.ROLES.items():
        path = folder / f"{kind.KIND}{suffix}"
        derived.write(role, str(path))
        entries[role] = {"name": path.name, **checksums(path, blocks=role in kind.BLOCK_ROLES)}
    return {"generation": 1, "files": entries, **derived.describe()}, entries


def loaded(kind, folder: Path, sidecar: dict, dims: int):
    """The kind loaded as the keeper loads it: each file mapped, checked whole or lazily by blocks."""
    files = {}
    for role, entry in sidecar["files"].items():
        path = folder / entry["name"]
        data = mapped(path)
        lazy = SavedFile.lazily_checked(path, data, entry) if role in kind.BLOCK_ROLES else None
        assert lazy is not None or matches(data, entry)
        files[role] = lazy or SavedFile(path, data)
    return kind.load(files, dims, sidecar)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=1_000_000)
    parser.add_argument("--dims", type=int, default=50)
    parser.add_argument("--graph-photos", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    ids = np.arange(1, args.photos + 1, dtype=np.int64)
    vectors = rng.normal(size=(args.photos, args.dims)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with tempfile.TemporaryDirectory(prefix="devsearch-bench-checks-") as tmp:
        folder = Path(tmp)
        sidecar, _ = saved(FlatVectors, FlatVectors(ids, vectors, 1), folder)
        flat = loaded(FlatVectors, folder, sidecar, args.dims)
        load = best_ms(lambda: loaded(FlatVectors, folder, sidecar, args.dims), args.repeat)
        check = best_ms(lambda: flat.fault(args.photos), args.repeat)
        print(f"flat {args.photos:,} x {args.dims}: load {load:.1f} ms, content check {check:.1f} ms "
              f"({check / load:.2f} x the load)")

        classes = np.stack([rng.choice(NUM_CLASSES, 50, replace=False) for _ in range(min(args.photos, 20_000))])
        classes = classes[rng.integers(0, len(classes), args.photos)]
        probabilities = rng.dirichlet(np.full(50, 0.3), size=args.photos).astype(np.float32)
        sidecar, _ = saved(Postings, Postings.of_rows(ids, classes, probabilities), folder)
        postings = loaded(Postings, folder, sidecar, args.dims)
        load = best_ms(lambda: loaded(Postings, folder, sidecar, args.dims), args.repeat)
        check = best_ms(lambda: postings.fault(args.photos), args.repeat)
        print(f"postings {args.photos * 50:,} entries: load {load:.1f} ms, check of the whole arrays {check:.1f} ms")
        word = rng.choice(NUM_CLASSES, 118, replace=False)
        weights = np.full(118, 1 / 118, np.float32)

        def mass(content_checks: bool) -> None:
            fresh = loaded(Postings, folder, sidecar, args.dims)
            fresh._from_file = content_checks
            fresh.mass(word, weights)
        checked, unchecked = best_ms(lambda: mass(True), args.repeat), best_ms(lambda: mass(False), args.repeat)
        print(f"postings, a word of 118 classes (load + first mass): {checked:.1f} ms with the content checks, "
              f"{unchecked:.1f} ms without ({checked / unchecked:.2f} x)")

        count = args.graph_photos
        import hnswlib

        graph = hnswlib.Index(space="cosine", dim=args.dims)
        graph.init_index(max_elements=count, M=16, ef_construction=40)  # the layout does not depend on ef
        graph.add_items(vectors[:count], ids[:count])
        sidecar, _ = saved(HnswIndex, HnswIndex(graph, 1), folder)
        load = best_ms(lambda: loaded(HnswIndex, folder, sidecar, args.dims), args.repeat)

        graphs = [loaded(HnswIndex, folder, sidecar, args.dims) for _ in range(args.repeat)]  # fault() reads once
        check = best_ms(lambda: graphs.pop().fault(count), args.repeat)
        print(f"hnsw {count:,} x {args.dims}: load {load:.1f} ms, content check {check:.1f} ms "
              f"({check / load:.2f} x the load)")


if __name__ == "__main__":
    main()
