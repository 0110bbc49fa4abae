"""Query latency and HNSW recall on synthetic stores of 10k and 100k photos, or a million (no images, no TensorFlow).

Each store holds unit vectors in the GloVe-50d word space, clustered around real word vectors (as a
photo library clusters around subjects), and each photo's top 50 ImageNet classes (one likely class
per subject, the rest a random tail), written through the store's writer API for the files of a
synthetic tree of empty files (one folder per 1,000), so word queries add the class mass from the
postings as they do on a real store. Printed per size:
  build  the store's build time (commits, then the derived files: HNSW graph, flat matrix, postings)
         and size on disk, when it is built
  rerun  `index` over the unchanged tree (run_index: crawl, diff against the catalog, nothing to embed)
  cold   `devsearch query dog --paths` in a fresh process: median wall time of 10 (and its CPU time),
         beside a bare `python -c pass` and `python -c "import devsearch.cli.app"` measured the same way
  warm   in-process `Searcher.text(word, 10)` p50 / p99 (word lookup + k-NN + catalog rows), for a
         long-lived searcher (HNSW) and for the one-shot path (exact, over the flat vector file)
  recall@10 of both k-NN paths against a brute-force ranking, for word queries

    python bench/query_latency.py [--sizes 10000 100000] [--work DIR]
    python bench/query_latency.py --sizes 100000 1000000      # the one-store-at-a-million check

Trees and stores are kept under --work and reused when they already hold the right count.
Run it on a quiet machine: other processes inflate the cold figures (the CPU time less so).
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devsearch.core.errors import DevsearchError  # noqa: E402
from devsearch.core.settings import Settings  # noqa: E402
from devsearch.model.imagenet import NUM_CLASSES  # noqa: E402
from devsearch.model.manifest import Manifest  # noqa: E402
from devsearch.store.kept_classes import TOP_K, TopClasses  # noqa: E402
from devsearch.wordspace.sources import BUILTIN, open_words  # noqa: E402
from devsearch.search.engine import open_searcher  # noqa: E402
from devsearch.search.query_parser import STOP_WORDS  # noqa: E402
from devsearch.store.catalog import Store  # noqa: E402
from devsearch.store.records import ChangeSet, EmbeddedPhoto  # noqa: E402
from devsearch.indexer.crawl import FileStat, crawl, resolve_roots  # noqa: E402
from devsearch.indexer.pipeline import run_index  # noqa: E402

DIMS = 50
CLUSTERS = 2000       # subjects, drawn from the 20k most frequent words (plus "dog")
SPREAD = 0.6          # noise scale per unit vector: cos(photo, its subject) ~ 0.85
BATCH = 5000
QUERY_VOCAB = 5000    # warm/recall queries: random words among the most frequent
MANIFEST = Manifest(fingerprint="synthetic:0000000000000000/conse+glove-6b-50d:0000000000000000", dims=DIMS,
                    words=BUILTIN, words_name=BUILTIN, backbone="synthetic", head="conse", labels="imagenet-1k")


def synthetic_vectors(words, count: int, rng: np.random.Generator) -> np.ndarray:
    """count unit vectors around CLUSTERS real word vectors."""
    frequent = np.asarray(words.matrix[:20_000], dtype=np.float32)
    centres = frequent[rng.choice(len(frequent), CLUSTERS - 1, replace=False)]
    centres = np.vstack([centres, words.vector("dog")])
    picks = rng.integers(0, CLUSTERS, count)
    vectors = centres[picks] + rng.normal(0, SPREAD / np.sqrt(DIMS), (count, DIMS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def ensure_tree(folder: Path, count: int) -> list[FileStat]:
    """The tree's files as the indexer crawls them: count empty .jpg files, made unless a run left them."""
    done = folder / ".complete"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        for i in range(count):
            if i % 1000 == 0:
                (folder / f"{i // 1000:04d}").mkdir(parents=True)
            (folder / f"{i // 1000:04d}" / f"{i:07d}.jpg").touch()
        done.touch()
    files = crawl([str(folder.resolve())]).files
    assert len(files) == count, (len(files), count)
    return files


def synthetic_classes(count: int, rng: np.random.Generator) -> list[TopClasses]:
    """count photos' kept top classes: a subject's class with probability 0.2-0.9, then 49 random classes
    sharing the rest, most probable first."""
    subject_class = rng.integers(0, NUM_CLASSES, CLUSTERS)[rng.integers(0, CLUSTERS, count)]
    tops = []
    for first in subject_class:
        others = rng.choice(NUM_CLASSES, TOP_K, replace=False)
        ids = np.concatenate([[first], others[others != first][:TOP_K - 1]])
        tail = np.sort(rng.dirichlet(np.full(TOP_K - 1, 0.3)))[::-1]
        top = rng.uniform(0.2, 0.9)
        tops.append(TopClasses(ids, np.concatenate([[top], (1 - top) * tail]).astype(np.float32)))
    return tops


def build_store(home: Path, files: list[FileStat], vectors: np.ndarray) -> None:
    """Write the vectors as the photos of files, in commits of BATCH, into a new store; print the cost."""
    start = datetime(2015, 1, 1)
    classes = synthetic_classes(len(vectors), np.random.default_rng(len(vectors) + 1))
    shutil.rmtree(home, ignore_errors=True)
    started = time.perf_counter()
    with Store.open(home, writer=True) as store:
        store.bind_model(MANIFEST)
        for first in range(0, len(vectors), BATCH):
            store.commit(ChangeSet(embedded=[
                EmbeddedPhoto(path=file.path, size=file.size, mtime=file.mtime, content_hash=f"{i:064x}", width=4032,
                              height=3024, taken=start + timedelta(hours=i), vector=vectors[i], top_classes=classes[i])
                for i, file in enumerate(files[first:first + BATCH], start=first)
            ]))
        store.add_roots([str(Path(files[0].path).parents[1])])
        committed = time.perf_counter() - started
        store.save()
    built = time.perf_counter() - started
    size = sum(path.stat().st_size for path in home.iterdir() if path.is_file())
    print(f"  built {len(files):,} photos in {built:.1f}s: commits {committed:.1f}s "
          f"({len(files) / committed:,.0f} photos/s), derived files {built - committed:.1f}s; "
          f"{size / 1e6:,.0f} MB on disk")


def ensure_store(home: Path, files: list[FileStat], words) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of a store of the files' photos, built unless a previous run left it.

    The vectors are regenerated from a seed, and a fresh store numbers photos in insertion order,
    so ids and rows line up; a few are checked against the catalog.
    """
    count = len(files)
    vectors = synthetic_vectors(words, count, np.random.default_rng(count))
    try:
        with Store.open(home) as store:
            reusable = (store.count() == count and store.model_manifest() == MANIFEST
                        and store.find_by_path(Path(files[-1].path)) is not None)
    except DevsearchError:
        reusable = False
    if not reusable:
        build_store(home, files, vectors)
    with Store.open(home) as store:
        ids = store.ids_matching()
        for row in np.random.default_rng(1).choice(count, 5):
            np.testing.assert_allclose(store.vector_of(int(ids[row])), vectors[row], atol=1e-6)
    return ids, vectors


def unchanged_rerun(home: Path, tree: Path) -> float:
    """Seconds of `index` (run_index) over the tree the store already holds: it must embed nothing."""
    def must_not_embed(images: np.ndarray) -> np.ndarray:
        raise AssertionError("an unchanged file was decoded")

    with Store.open(home, writer=True) as store:
        started = time.perf_counter()
        summary = run_index(resolve_roots([tree]), store, must_not_embed, MANIFEST)
        elapsed = time.perf_counter() - started
        assert summary.unchanged == store.count() and summary.decoded == 0, summary
    return elapsed


def timed_process(args: list[str], env: dict, runs: int) -> tuple[float, float]:
    """(median wall s, median CPU s) of `python args` in fresh processes, after one warm-up run
    (which fills the page cache and writes bytecode caches)."""
    walls, cpus = [], []
    for attempt in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if attempt:
            walls.append(wall)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def warm_latency(settings: Settings, words, rng: np.random.Generator, queries: int,
                 exact: bool) -> tuple[float, float]:
    """p50, p99 in ms of Searcher.text(word, 10), after the vectors are loaded."""
    vocab = [w for w in words.words[:QUERY_VOCAB] if w.isalpha() and w not in STOP_WORDS]  # stop words are refused
    picks = rng.choice(len(vocab), queries)
    with open_searcher(settings, exact=exact) as searcher:
        searcher.text("dog", 10)
        times = []
        for i in picks:
            started = time.perf_counter()
            searcher.text(vocab[i], 10)
            times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def recall_at_10(settings: Settings, words, ids: np.ndarray, matrix: np.ndarray,
                 rng: np.random.Generator, queries: int, exact: bool) -> float:
    """Mean |store top-10 ∩ brute-force top-10| / 10 over random word queries."""
    rows = rng.choice(QUERY_VOCAB, queries, replace=False)
    hits = 0
    with Store.open(settings.home) as store:
        for row in rows:
            query = np.asarray(words.matrix[row], dtype=np.float32)
            truth = set(ids[np.argsort(-(matrix @ query))[:10]].tolist())
            hits += len(truth & {photo_id for photo_id, _ in store.knn(query, 10, exact=exact)})
    return hits / (10 * queries)


def ranking_recall_at_10(settings: Settings, words, rng: np.random.Generator, queries: int) -> tuple[float, int]:
    """Mean overlap of the long-lived searcher's top 10 (HNSW candidates + postings) with the exact
    one-shot ranking (cosine + BETA x mass over every photo), over random words that cover classes."""
    from devsearch.model.class_senses import load_class_senses

    senses = load_class_senses()
    vocab = [w for w in words.words[:QUERY_VOCAB] if w.isalpha() and w not in STOP_WORDS and senses.covered(w)]
    picks = [vocab[i] for i in rng.choice(len(vocab), min(queries, len(vocab)), replace=False)]
    hits = 0
    with open_searcher(settings) as approximate, open_searcher(settings, exact=True) as exact:
        for word in picks:
            truth = {r.path for r in exact.text(word, 10)}
            hits += len(truth & {r.path for r in approximate.text(word, 10)})
    return hits / (10 * len(picks)), len(vocab)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "devsearch-bench-query")
    parser.add_argument("--runs", type=int, default=10, help="fresh processes per cold figure")
    parser.add_argument("--queries", type=int, default=500, help="queries for warm latency and recall")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    cache = Settings().cache
    words = open_words(BUILTIN, cache)
    # bytecode caches allowed, as in an installed package (the warm-up run writes them)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"DEVSEARCH_CACHE": str(cache)}
    bare = timed_process(["-c", "pass"], env, args.runs)
    app = timed_process(["-c", "import devsearch.cli.app"], env, args.runs)
    print(f"baseline: python -c pass {bare[0]:.3f}s wall ({bare[1]:.3f}s CPU); "
          f"import devsearch.cli.app {app[0]:.3f}s ({app[1]:.3f}s CPU); {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    for size in args.sizes:
        home = args.work / f"store-{size}"
        print(f"{size:,} photos ({home})", flush=True)
        tree = args.work / f"tree-{size}"
        ids, matrix = ensure_store(home, ensure_tree(tree, size), words)
        settings = Settings(home=home, cache=cache, model=None)
        cold = timed_process(["-m", "devsearch", "query", "dog", "--paths", "--home", str(home)], env, args.runs)
        print(f"  cold `devsearch query dog --paths`: {cold[0]:.3f}s wall, {cold[1]:.3f}s CPU "
              f"(median of {args.runs}; target <= 0.35s); {cold[0] / app[0]:.2f}x `import devsearch.cli.app`", flush=True)
        for label, exact in (("HNSW, long-lived searcher", False), ("exact flat file, one-shot path", True)):
            p50, p99 = warm_latency(settings, words, rng, args.queries, exact)
            recall = recall_at_10(settings, words, ids, matrix, rng, min(args.queries, QUERY_VOCAB), exact)
            print(f"  {label}: p50 {p50:.2f} ms, p99 {p99:.2f} ms (target p50 <= 2 ms for warm); "
                  f"recall@10 {recall:.4f} (target >= 0.98)", flush=True)
        ranking_recall, covering = ranking_recall_at_10(settings, words, rng, args.queries)
        print(f"  ranking by meaning, long-lived searcher against the exact ranking: recall@10 {ranking_recall:.4f} "
              f"({covering} of the {QUERY_VOCAB} most frequent words cover classes)", flush=True)
        print(f"  `index` re-run over {size:,} unchanged files: {unchanged_rerun(home, tree):.1f}s "
              "(target < 60s at 1M)", flush=True)


if __name__ == "__main__":
    main()
