"""One index run: crawl, diff against the store, decode in workers, embed in batches, commit.

`embed` is any function from uint8 (N, 224, 224, 3) to unit float32 (N, dims): the CLI passes the
model bundle's compiled one. Each batch is one transaction, so an interrupted run keeps everything
up to its last batch; Ctrl-C lets the batch in flight finish, then the run saves and stops.
"""
from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from indexer.crawl import crawl, resolve_roots
from indexer.decode import DecodePool, Decoded, Work
from indexer.plan import plan_changes
from indexer.progress import Progress, QuietProgress
from indexer.summary import RunSummary
from indexer.reproject import reproject
from model.conse import ConseProjection
from model.manifest import Manifest
from store.probabilities import keep_top
from store.catalog import Store
from store.records import ChangeSet, EmbeddedPhoto, FailedPhoto, failure_reason

Embed = Callable[[np.ndarray], np.ndarray | tuple[np.ndarray, np.ndarray]]  # vectors[, classifier probabilities]

# A debug hook: seconds to sleep after each committed batch, so tests can interrupt a run mid-way.
DEBUG_DELAY_ENV = "DEVSEARCH_DEBUG_BATCH_DELAY"
MAX_CHUNK = 8  # files per task sent to a decode worker


class _Interrupt:
    """First SIGINT: stop after the batch in flight. A second one stops at once (KeyboardInterrupt)."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def _handle(self, _signum, _frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> "_Interrupt":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _bind_model(store: Store, manifest: Manifest) -> None:
    if store.model_manifest() is None:
        store.bind_model(manifest)
    else:
        store.check_model(manifest.fingerprint)


def _batches(decoded: Iterable[Decoded], size: int) -> Iterator[list[Decoded]]:
    batch: list[Decoded] = []
    for item in decoded:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _commit_batch(batch: list[Decoded], store: Store, embed: Embed, summary: RunSummary) -> None:
    good = [d for d in batch if d.error is None]
    bad = [d for d in batch if d.error is not None]
    vectors, kept = _embed(embed, [d.pixels for d in good])
    store.commit(ChangeSet(
        embedded=[EmbeddedPhoto(d.work.path, d.work.size, d.work.mtime, d.content_hash, d.width, d.height, d.taken,
                                vector, classes) for d, vector, classes in zip(good, vectors, kept)],
        failed=[FailedPhoto(d.work.path, d.work.size, d.work.mtime, d.error) for d in bad],
    ))
    summary.new += sum(d.work.kind == "new" for d in good)
    summary.updated += sum(d.work.kind == "updated" for d in good)
    summary.failed.update(failure_reason(d.error) for d in bad)


def _embed(embed: Embed, pixels: list[np.ndarray]) -> tuple[list[np.ndarray], list[bytes | None]]:
    """Vectors of decoded photos, and what the store keeps of their classifier outputs (None without)."""
    if not pixels:
        return [], []
    out = embed(np.stack(pixels))
    if not isinstance(out, tuple):
        return list(out), [None] * len(pixels)
    vectors, probabilities = out
    return list(vectors), [top.to_blob() for top in keep_top(probabilities)]


def _embed_all(work: list[Work], store: Store, embed: Embed, summary: RunSummary, interrupt: _Interrupt,
               batch_size: int, workers: int, progress: Progress) -> None:
    workers = max(1, workers)
    chunk = max(1, min(MAX_CHUNK, batch_size // (2 * workers)))
    ahead = 2 * math.ceil(batch_size / chunk) + workers  # two batches in flight keep workers busy during embed
    delay = float(os.environ.get(DEBUG_DELAY_ENV) or 0)
    progress.start(len(work))
    try:
        with DecodePool(min(workers, math.ceil(len(work) / chunk))) as pool:
            for batch in _batches(pool.decode(work, chunk, ahead), batch_size):
                _commit_batch(batch, store, embed, summary)
                progress.advance(len(batch))
                if delay:
                    time.sleep(delay)
                if interrupt.requested:
                    break
    finally:
        progress.finish()


def run_index(roots: Sequence[Path | str], store: Store, embed: Embed, manifest: Manifest, *, batch_size: int = 32,
              workers: int = 1, follow_symlinks: bool = False, progress: Progress | None = None,
              projection: ConseProjection | None = None) -> RunSummary:
    """Bring the store up to date with the photos under roots; returns what changed.

    projection: the model's ConSE projection, to re-project photos another projection of its
    backbone embedded (indexer/reproject.py) before anything is crawled."""
    started_at = datetime.now()
    clock = time.perf_counter()
    folders = resolve_roots([Path(r) for r in roots])
    _bind_model(store, manifest)
    summary = RunSummary()
    with _Interrupt() as interrupt:
        if projection is not None:
            summary.reprojected = reproject(store, manifest, projection, stop=lambda: interrupt.requested)
        crawled = crawl(folders, follow_symlinks=follow_symlinks, stop=lambda: interrupt.requested)
        summary.skipped.update(crawled.skipped)
        if not crawled.stopped and not interrupt.requested:  # a partial crawl would make unseen photos look gone
            plan = plan_changes(crawled, store, folders, manifest.fingerprint)
            store.commit(ChangeSet(moves=plan.moves, deleted=plan.deleted))
            summary.unchanged, summary.moved, summary.deleted = plan.unchanged, len(plan.moves), len(plan.deleted)
            store.add_roots(folders)
            if plan.work and not interrupt.requested:
                _embed_all(plan.work, store, embed, summary, interrupt, batch_size, workers,
                           progress or QuietProgress())
        summary.interrupted = interrupt.requested
        summary.elapsed = time.perf_counter() - clock
        store.save()
        store.record_run(started_at, "interrupted" if summary.interrupted else "complete", summary.to_dict())
    return summary
