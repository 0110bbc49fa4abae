"""One index run: crawl, diff against the store, decode in workers, embed in batches, commit.

`embed` is any function from uint8 (N, 224, 224, 3) to unit float32 (N, dims): the CLI passes the
model bundle's compiled one. The network's batch size and the commit size are separate: photos are
committed at most every `commit_every` photos or `commit_seconds` seconds, each commit one
transaction, on a writer thread while the next batches run (indexer/commits.py). An interrupted run
keeps everything up to its last commit; Ctrl-C lets the batch in flight finish, commits what is
done, then the run saves and stops.
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

from core.settings import COMMIT_EVERY, COMMIT_SECONDS
from indexer.commits import CommitWriter
from indexer.crawl import crawl, resolve_roots
from indexer.decode import DecodePool, Decoded, Work
from indexer.gpu_decode import GpuJpegDecoder
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

# A debug hook: seconds to sleep after each network batch, so tests can interrupt a run mid-way.
DEBUG_DELAY_ENV = "DEVSEARCH_DEBUG_BATCH_DELAY"
MAX_CHUNK = 8  # files per task sent to a decode worker


class _Interrupt:
    """First SIGINT: stop after the batch in flight (files still decoding are left for the next run).
    A second one stops at once (KeyboardInterrupt)."""

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


def _embed_batch(batch: list[Decoded], embed: Embed, summary: RunSummary) -> tuple[list[EmbeddedPhoto], list[FailedPhoto]]:
    """Run one network batch; the photos to commit, and the summary counts them."""
    good = [d for d in batch if d.error is None]
    bad = [d for d in batch if d.error is not None]
    vectors, kept = _embed(embed, [d.pixels for d in good])
    summary.new += sum(d.work.kind == "new" for d in good)
    summary.updated += sum(d.work.kind == "updated" for d in good)
    summary.failed.update(failure_reason(d.error) for d in bad)
    return ([EmbeddedPhoto(d.work.path, d.work.size, d.work.mtime, d.content_hash, d.width, d.height, d.taken, vector,
                           classes) for d, vector, classes in zip(good, vectors, kept)],
            [FailedPhoto(d.work.path, d.work.size, d.work.mtime, d.error) for d in bad])


def _embed(embed: Embed, pixels: list[np.ndarray]) -> tuple[list[np.ndarray], list[bytes | None]]:
    """Vectors of decoded photos, and what the store keeps of their classifier outputs (None without)."""
    if not pixels:
        return [], []
    out = embed(np.stack(pixels))
    if not isinstance(out, tuple):
        return list(out), [None] * len(pixels)
    vectors, probabilities = out
    return list(vectors), [top.to_blob() for top in keep_top(probabilities)]


def _embed_all(work: list[Work], embed: Embed, summary: RunSummary, interrupt: _Interrupt, batch_size: int,
               workers: int, commits: CommitWriter, jpeg_decoder: GpuJpegDecoder | None, progress: Progress) -> None:
    workers = max(1, workers)
    chunk = max(1, min(MAX_CHUNK, batch_size // (2 * workers)))
    ahead = 2 * math.ceil(batch_size / chunk) + workers  # two batches in flight keep workers busy during embed
    delay = float(os.environ.get(DEBUG_DELAY_ENV) or 0)
    progress.start(len(work))
    try:
        with DecodePool(min(workers, math.ceil(len(work) / chunk)), leave_jpeg=jpeg_decoder is not None) as pool:
            for batch in _batches(pool.decode(work, chunk, ahead, stop=lambda: interrupt.requested), batch_size):
                if interrupt.requested:  # a batch cut short by Ctrl-C is not embedded: stop now
                    break
                if jpeg_decoder is not None:
                    batch = jpeg_decoder.complete(batch)
                commits.add(*_embed_batch(batch, embed, summary))
                progress.advance(len(batch))
                if delay:
                    time.sleep(delay)
                if interrupt.requested:
                    break
    finally:
        progress.finish()


def _embed_and_commit(work: list[Work], store: Store, embed: Embed, summary: RunSummary, interrupt: _Interrupt,
                      batch_size: int, workers: int, commit_every: int, commit_seconds: float,
                      jpeg_decoder: GpuJpegDecoder | None, progress: Progress) -> None:
    """Embed on this thread, commit on the writer's; on an error or a second Ctrl-C only the commit
    in progress completes, on a normal end or a first Ctrl-C everything embedded is committed."""
    commits = CommitWriter(store, commit_every, commit_seconds)
    try:
        _embed_all(work, embed, summary, interrupt, batch_size, workers, commits, jpeg_decoder, progress)
    except BaseException:
        commits.close(keep_gathered=False)
        raise
    commits.close(keep_gathered=True)


def run_index(roots: Sequence[Path | str], store: Store, embed: Embed, manifest: Manifest, *, batch_size: int = 32,
              commit_every: int = COMMIT_EVERY, commit_seconds: float = COMMIT_SECONDS, workers: int = 1,
              follow_symlinks: bool = False, progress: Progress | None = None,
              network: Callable[[], dict | None] = lambda: None,
              jpeg_decoder: GpuJpegDecoder | None = None, projection: ConseProjection | None = None) -> RunSummary:
    """Bring the store up to date with the photos under roots; returns what changed.

    network: what ran the network (backend, device, precision), None when nothing was embedded;
    kept with the run's summary. jpeg_decoder: decode JPEGs on the GPU instead of in the workers.
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
        plan = None
        if not crawled.stopped and not interrupt.requested:  # a partial crawl would make unseen photos look gone
            plan = plan_changes(crawled, store, folders, manifest.fingerprint, stop=lambda: interrupt.requested)
        if plan is not None:
            store.commit(ChangeSet(moves=plan.moves, deleted=plan.deleted))
            summary.unchanged, summary.moved, summary.deleted = plan.unchanged, len(plan.moves), len(plan.deleted)
            store.add_roots(folders)
            store.record_skipped(folders, crawled.skipped_paths)
            if plan.work and not interrupt.requested:
                _embed_and_commit(plan.work, store, embed, summary, interrupt, batch_size, workers, commit_every,
                                  commit_seconds, jpeg_decoder, progress or QuietProgress())
        summary.interrupted = interrupt.requested
        summary.network = network()
        summary.elapsed = time.perf_counter() - clock
        store.save()
        store.record_run(started_at, "interrupted" if summary.interrupted else "complete", summary.to_dict())
    return summary
