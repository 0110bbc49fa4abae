"""The single store writer's ceiling: photos committed per second with their vectors and classes, by commit size.

An index run on a cluster funnels every photo through one writer (the driver's). This prints, for
commits of 32, 256, 1,024 (the default --commit-every) and 4,096 photos into a store that already
holds --prefill photos (paths in random order, as results come back from a cluster; 50-d vectors and
the kept top 50 classes, as the default model gives):
- commits/s and photos/s of Store.commit (one transaction each: what the writer does per batch);
- the derived files' catch-up when the run ends (the HNSW graph, the flat matrix and the class
  postings, in bulk from the catalog, then saved): out of the commit path, paid once per run;
- how many workers of a given rate the writer keeps up with: 2-core CPU nodes like this machine (at
  its end-to-end rate for 12 MP photos, bench/index_throughput.py), and GPU nodes at the earlier
  H200 figures (docs/ARCHITECTURE.md) (decode-bound on 16 cores: 267/s for 12 MP photos, 1,036/s for 2 MP), which were
  NOT measured in this run.

    python bench/writer_ceiling.py [--photos 20000] [--prefill 100000] [--cpu-node 21]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from query_latency import DIMS, MANIFEST, synthetic_classes  # noqa: E402
from devsearch.store.catalog import Store  # noqa: E402
from devsearch.store.records import ChangeSet, EmbeddedPhoto  # noqa: E402

COMMIT_SIZES = (32, 256, 1024, 4096)  # 1,024 is the default --commit-every
GPU_NODE = {"12 MP": 267.0, "2 MP": 1036.0}  # earlier H200 measurement (docs/ARCHITECTURE.md), JPEG decode on 16 processes (not measured here)


def photos(first: int, count: int, rng: np.random.Generator) -> list[EmbeddedPhoto]:
    """count photos with unit vectors and their kept top 50 classes (300 bytes stored), in random path order."""
    vectors = rng.normal(size=(count, DIMS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    classes = synthetic_classes(count, rng)
    order = rng.permutation(count)
    return [EmbeddedPhoto(f"/archive/{(first + i) % 997:03d}/{first + i:09d}.jpg", 1_000_000 + i, 1.6e9 + i,
                          f"{first + i:064x}", 4032, 3024, None, vectors[i], classes[i]) for i in order]


def measure(home: Path, prefill: int, count: int, commit: int) -> tuple[float, float]:
    """(photos/s of the commits, s of the derived files' catch-up) for count photos in commits of `commit`."""
    rng = np.random.default_rng(commit)
    with Store.open(home, writer=True) as store:
        store.bind_model(MANIFEST)
        for first in range(0, prefill, 10_000):
            store.commit(ChangeSet(embedded=photos(first, min(10_000, prefill - first), rng)))
        store.save()
    batches = [photos(prefill + first, commit, rng) for first in range(0, count, commit)]
    with Store.open(home, writer=True) as store:
        started = time.perf_counter()
        for batch in batches:
            store.commit(ChangeSet(embedded=batch))
        committed = time.perf_counter() - started
        started = time.perf_counter()
        store.save()
        derived = time.perf_counter() - started
    return len(batches) * commit / committed, derived


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=20_000, help="photos committed per commit size")
    parser.add_argument("--prefill", type=int, default=100_000, help="photos already in the store")
    parser.add_argument("--cpu-node", type=float, default=21.0,
                        help="images/s of one 2-core CPU node (this machine's end-to-end rate for 12 MP photos)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {args.photos:,} photos per commit size "
          f"into a store of {args.prefill:,}")
    with tempfile.TemporaryDirectory(prefix="devsearch-bench-writer-") as tmp:
        for commit in COMMIT_SIZES:
            rate, derived = measure(Path(tmp) / f"store-{commit}", args.prefill, args.photos, commit)
            keeps_up = ", ".join(f"{rate / node:,.0f} GPU nodes at {name}" for name, node in GPU_NODE.items())
            print(f"commits of {commit:5,}: {rate / commit:6.1f} commits/s, {rate:7,.0f} photos/s, which keeps up with "
                  f"{rate / args.cpu_node:,.0f} 2-core CPU nodes, {keeps_up}; then the derived files' catch-up "
                  f"{derived:.1f} s", flush=True)


if __name__ == "__main__":
    main()
