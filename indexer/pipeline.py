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
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from indexer.crawl import crawl, resolve_roots
from indexer.decode import DecodePool, Decoded, Work
from indexer.plan import plan_changes
from indexer.progress import Progress, QuietProgress
from indexer.summary import RunSummary
from store.catalog import Store
from store.records import ChangeSet, EmbeddedPhoto, FailedPhoto, failure_reason

Embed = Callable[[np.ndarray], np.ndarray]
Embedded = tuple[list[Decoded], np.ndarray]  # a batch, and the vectors of its decoded photos in order


class RemoteEmbedding(Protocol):
    """Decoding and embedding elsewhere (a Ray cluster: indexer/ray_runner.py); this process still commits."""

    def embedded(self, work: list[Work], batch_size: int, progress: Progress) -> Generator[Embedded, None, None]: ...


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


def _bind_model(store: Store, manifest: dict) -> None:
    if store.model_manifest() is None:
        store.bind_model(manifest)
    else:
        store.check_model(manifest["fingerprint"])


def _batches(decoded: Iterable[Decoded], size: int) -> Iterator[list[Decoded]]:
    batch: list[Decoded] = []
    for item in decoded:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _commit_batch(batch: list[Decoded], vectors: np.ndarray, store: Store, summary: RunSummary) -> None:
    """One transaction: the decoded photos of batch (vectors: theirs, in order) and its failures."""
    good = [d for d in batch if d.error is None]
    bad = [d for d in batch if d.error is not None]
    store.commit(ChangeSet(
        embedded=[EmbeddedPhoto(d.work.path, d.work.size, d.work.mtime, d.content_hash, d.width, d.height, d.taken,
                                vector) for d, vector in zip(good, vectors)],
        failed=[FailedPhoto(d.work.path, d.work.size, d.work.mtime, d.error) for d in bad],
    ))
    summary.new += sum(d.work.kind == "new" for d in good)
    summary.updated += sum(d.work.kind == "updated" for d in good)
    summary.failed.update(failure_reason(d.error) for d in bad)


def _embedded(batches: Iterable[list[Decoded]], embed: Embed) -> Iterator[Embedded]:
    for batch in batches:
        good = [d.pixels for d in batch if d.error is None]
        yield batch, (embed(np.stack(good)) if good else np.empty((0, 0), np.float32))


def _commit_all(embedded: Iterable[Embedded], total: int, store: Store, summary: RunSummary, interrupt: _Interrupt,
                progress: Progress) -> None:
    delay = float(os.environ.get(DEBUG_DELAY_ENV) or 0)
    progress.start(total)
    try:
        for batch, vectors in embedded:
            _commit_batch(batch, vectors, store, summary)
            progress.advance(len(batch))
            if delay:
                time.sleep(delay)
            if interrupt.requested:
                break
    finally:
        progress.finish()


def _embed_all(work: list[Work], store: Store, embed: Embed, summary: RunSummary, interrupt: _Interrupt,
               batch_size: int, workers: int, progress: Progress) -> None:
    workers = max(1, workers)
    chunk = max(1, min(MAX_CHUNK, batch_size // (2 * workers)))
    ahead = 2 * math.ceil(batch_size / chunk) + workers  # two batches in flight keep workers busy during embed
    with DecodePool(min(workers, math.ceil(len(work) / chunk))) as pool:
        batches = _batches(pool.decode(work, chunk, ahead), batch_size)
        _commit_all(_embedded(batches, embed), len(work), store, summary, interrupt, progress)


def run_index(roots: Sequence[Path | str], store: Store, embed: Embed, manifest: dict, *, batch_size: int = 32,
              workers: int = 1, follow_symlinks: bool = False, progress: Progress | None = None,
              remote: RemoteEmbedding | None = None) -> RunSummary:
    """Bring the store up to date with the photos under roots; returns what changed.

    With remote, the files to embed are decoded and embedded there (embed is not called here)."""
    started_at = datetime.now()
    clock = time.perf_counter()
    folders = resolve_roots([Path(r) for r in roots])
    _bind_model(store, manifest)
    summary = RunSummary()
    with _Interrupt() as interrupt:
        crawled = crawl(folders, follow_symlinks=follow_symlinks, stop=lambda: interrupt.requested)
        summary.skipped.update(crawled.skipped)
        if not crawled.stopped and not interrupt.requested:  # a partial crawl would make unseen photos look gone
            plan = plan_changes(crawled, store, folders)
            store.commit(ChangeSet(moves=plan.moves, deleted=plan.deleted))
            summary.unchanged, summary.moved, summary.deleted = plan.unchanged, len(plan.moves), len(plan.deleted)
            store.add_roots(folders)
            progress = progress or QuietProgress()
            if plan.work and not interrupt.requested and remote is not None:
                with closing(remote.embedded(plan.work, batch_size, progress)) as embedded:
                    _commit_all(embedded, len(plan.work), store, summary, interrupt, progress)
            elif plan.work and not interrupt.requested:
                _embed_all(plan.work, store, embed, summary, interrupt, batch_size, workers, progress)
        summary.interrupted = interrupt.requested
        summary.elapsed = time.perf_counter() - clock
        store.save()
        store.record_run(started_at, "interrupted" if summary.interrupted else "complete", summary.to_dict())
    return summary
