"""How long a store takes to move to a new ConSE projection of the same backbone (no decoding).

Copies bench/query_latency.py's synthetic store of N photos (run that first), binds the copy to a
manifest with the same backbone and another projection, and times indexer.reproject over it:
reading the kept top classes, projecting them and committing the new vectors, then saving the
derived files. Prints photos per second from one run.

    python bench/reproject.py [--size 100000] [--work DIR]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devsearch.core.vectors import unit_rows  # noqa: E402
from devsearch.indexer.reproject import reproject  # noqa: E402
from devsearch.model.conse import ConseProjection  # noqa: E402
from devsearch.model.imagenet import NUM_CLASSES  # noqa: E402
from devsearch.store.catalog import Store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "devsearch-bench-query")
    args = parser.parse_args()
    source = args.work / f"store-{args.size}"
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "store"
        shutil.copytree(source, home)
        with Store.open(home, writer=True) as store:
            bound = store.model_manifest()
            backbone = bound.backbone_fingerprint
            moved = replace(bound, fingerprint=f"{backbone}/conse+{bound.words_name}:{'1' * 16}")
            store.bind_model(moved)
            vectors = unit_rows(np.random.default_rng(0).normal(size=(NUM_CLASSES, bound.dims)).astype(np.float32))
            started = time.perf_counter()
            done = reproject(store, moved, ConseProjection(vectors, 50))
            projected = time.perf_counter() - started
            store.save()
            total = time.perf_counter() - started
    print(f"re-projected {done:,} photos in {projected:.1f} s ({done / projected:,.0f} photos/s); "
          f"with the derived files saved: {total:.1f} s")


if __name__ == "__main__":
    main()
