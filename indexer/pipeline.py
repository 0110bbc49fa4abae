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
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

import numpy as np

from devsearch.core.debug_hooks import batch_delay
from devsearch.core.settings import BATCH_SIZE, COMMIT_EVERY, COMMIT_SECONDS, DECODE_TIMEOUT_S, Settings
from devsearch.core.waiting import step
from devsearch.indexer.commits import CommitWriter
from devsearch.indexer.crawl import crawl
from devsearch.indexer.decode import DecodePool, Decoded, Work
from devsearch.indexer.gpu_decode import GpuJpegDecoder
from devsearch.indexer.plan import plan_changes
from devsearch.indexer.progress import Progress, QuietProgress
from devsearch.indexer.summary import RunSummary
from devsearch.indexer.reproject import reproject
from devsearch.model.conse import ConseProjection
from devsearch.model.manifest import Manifest
from devsearch.model.people import PeopleSignal, with_person
from devsearch.store.kept_classes import TopClasses, keep_top
from devsearch.store.catalog import Store
from devsearch.store.records import ChangeSet, EmbeddedPhoto, FailedPhoto, failure_reason

Embed = Callable[[np.ndarray], np.ndarray | tuple[np.ndarray, np.ndarray]]  # vectors[, classifier probabilities]
# a batch, and the vectors and kept top classes (None without a classifier) of its decoded photos, in order
EmbeddedBatch = tuple[list[Decoded], list[np.ndarray], list[TopClasses | None]]


class RemoteEmbedding(Protocol):
    """Decoding and embedding elsewhere (a Ray cluster: indexer/ray_runner.py); this process still commits."""

    def embed_batches(self, work: list[Work], batch_size: int,
                      progress: Progress) -> Generator[EmbeddedBatch, None, None]: ...


@dataclass(frozen=True)
class PeopleStep:
    """The people detectors (model/people_detectors.py) and the direction of `person` in the model's
    word space, which a photo's vector gains in proportion to its person score (model/people.py)."""

    detect: Callable[[np.ndarray], PeopleSignal]  # uint8 (H, W, 3), the whole photo -> its signal
    person_vector: Callable[[], np.ndarray]  # asked only when a photo is decoded (it opens the word space)


def find_people(step: PeopleStep, batch: list[Decoded]) -> list[Decoded]:
    """The batch with each decoded photo's people signal (its whole-photo pixels dropped). A photo
    decoded without its whole view (a JPEG the GPU decoded) is looked at in its centre crop."""
    return [d if d.error is not None else
            replace(d, whole=None, people=step.detect(d.whole if d.whole is not None else d.pixels)) for d in batch]


def add_person(step: PeopleStep, batch: list[Decoded], vectors: list[np.ndarray]) -> list[np.ndarray]:
    """The vectors of the batch's decoded photos (in order) with their person component (model/people.py)."""
    if not vectors:
        return vectors
    scores = np.array([d.people.person_score for d in batch if d.error is None], dtype=np.float32)
    return list(with_person(np.stack(vectors), scores, step.person_vector()))


MAX_CHUNK = 8  # files per task sent to a decode worker


class _Interrupt:
    """First SIGINT: stop after the batch in flight (files still decoding are left for the next run).
    A second one stops at once (KeyboardInterrupt). One that comes after the run's last look (`heard`) is
    raised again to the caller's handler when the run ends, so it is never lost (`index --watch` stops on it).

    Python runs a signal handler only between bytecodes, so while the main thread is inside native
    code (loading TensorFlow, a network batch) it would hear Ctrl-C seconds late; the C-level handler
    also writes the signal to a pipe (signal.set_wakeup_fd), and a thread watching it says at once
    that the run is stopping."""

    def __init__(self):
        self.requested = False
        self._heard = False
        self._previous = None
        self._wakeup: tuple[int, int] | None = None
        self._previous_wakeup = -1

    def heard(self) -> bool:
        """Whether a stop was asked for; one asked for after this call reaches the caller instead."""
        self._heard = self.requested
        return self.requested

    def _handle(self, _signum, _frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> "_Interrupt":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._wakeup = os.pipe()
            os.set_blocking(self._wakeup[1], False)
            self._previous_wakeup = signal.set_wakeup_fd(self._wakeup[1], warn_on_full_buffer=False)
            threading.Thread(target=_acknowledge, args=(self._wakeup[0],), name="devsearch-interrupt",
                             daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            signal.set_wakeup_fd(self._previous_wakeup)
            os.close(self._wakeup[1])  # the watcher reads end-of-file and closes its end
            if self.requested and not self._heard:
                signal.raise_signal(signal.SIGINT)


def _acknowledge(read_end: int) -> None:
    """Say once, as soon as Ctrl-C arrives, that the run stops after the batch in flight."""
    said = False
    while data := os.read(read_end, 64):
        if not said and signal.SIGINT in data:
            said = True
            print("devsearch: stopping after the batch in flight, keeping what is done "
                  "(Ctrl-C again to stop at once)", file=sys.stderr, flush=True)
    os.close(read_end)


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


NO_VECTOR = "cannot embed: the network gave no usable vector (not finite, or zero)"


def _usable(vector: np.ndarray) -> bool:
    """Whether a vector can be stored: finite and not zero (a stored vector is unit length, and a
    reader takes any other for damage)."""
    vector = np.asarray(vector, dtype=np.float32)
    return bool(np.all(np.isfinite(vector)) and np.any(vector))


def _photos(batch: list[Decoded], vectors: list[np.ndarray], kept: list[TopClasses | None],
            summary: RunSummary) -> tuple[list[EmbeddedPhoto], list[FailedPhoto]]:
    """What to commit for one embedded batch (vectors and kept: its decoded photos', in order); the
    summary counts them. A photo the network gave no usable vector is failed, never stored."""
    decoded = [d for d in batch if d.error is None]
    usable = [_usable(vector) for vector in vectors]
    good = [(d, vector, classes) for d, vector, classes, ok in zip(decoded, vectors, kept, usable) if ok]
    bad = [(d, d.error) for d in batch if d.error is not None] + [(d, NO_VECTOR) for d, ok in zip(decoded, usable)
                                                                  if not ok]
    summary.new += sum(d.work.kind == "new" for d, _, _ in good)
    summary.updated += sum(d.work.kind == "updated" for d, _, _ in good)
    summary.people += sum(d.work.kind == "people" for d, _, _ in good)
    summary.failed.update(failure_reason(error) for _, error in bad)
    return ([EmbeddedPhoto(d.work.path, d.work.size, d.work.mtime, d.content_hash, d.width, d.height, d.taken, vector,
                           classes, d.people) for d, vector, classes in good],
            [FailedPhoto(d.work.path, d.work.size, d.work.mtime, error) for d, error in bad])


def embed_photos(embed: Embed, pixels: list[np.ndarray]) -> tuple[list[np.ndarray], list[TopClasses | None]]:
    """Vectors of decoded photos, and what the store keeps of their classifier outputs (None without)."""
    if not pixels:
        return [], []
    out = embed(np.stack(pixels))
    if not isinstance(out, tuple):
        return list(out), [None] * len(pixels)
    vectors, probabilities = out
    return list(vectors), list(keep_top(probabilities))


def _embed_here(work: list[Work], embed: Embed, options: IndexOptions,
                stop: Callable[[], bool]) -> Generator[EmbeddedBatch, None, None]:
    """Decode in worker processes on this machine, embed (and look for people) on this thread, one
    network batch at a time."""
    batch_size, jpeg_decoder = options.batch_size, options.jpeg_decoder
    workers = max(1, options.workers)
    chunk = max(1, min(MAX_CHUNK, batch_size // (2 * workers)))
    ahead = 2 * math.ceil(batch_size / chunk) + workers  # two batches in flight keep workers busy during embed
    people = options.people
    with DecodePool(min(workers, math.ceil(len(work) / chunk)), leave_jpeg=jpeg_decoder is not None,
                    timeout_s=options.decode_timeout, keep_whole=people is not None) as pool, \
            ThreadPoolExecutor(1, thread_name_prefix="devsearch-people") as looking:
        warm = False
        for batch in _batches(pool.decode(work, chunk, ahead, stop=stop), batch_size):
            if stop():  # a batch cut short by Ctrl-C is not embedded: stop now
                return
            if jpeg_decoder is not None:
                batch = jpeg_decoder.complete(batch)
            # the detectors run beside the network (LiteRT and TensorFlow leave the GIL), once both are
            # loaded: the first batch with a photo loads them one after the other, on this thread, as
            # importing TensorFlow (a Keras network, the person graph's first conversion) from two
            # threads at once breaks it
            found = looking.submit(find_people, people, batch) if people is not None and warm else None
            pixels = [d.pixels for d in batch if d.error is None]
            vectors, kept = embed_photos(embed, pixels)
            if people is not None:
                batch = found.result() if found is not None else find_people(people, batch)
                vectors = add_person(people, batch, vectors)
                warm = warm or bool(pixels)
            yield batch, vectors, kept


def _gather_all(batches: Iterable[EmbeddedBatch], total: int, summary: RunSummary, interrupt: _Interrupt,
                commits: CommitWriter, progress: Progress) -> None:
    delay = batch_delay()  # a debug hook (core/debug_hooks.py)
    progress.start(total)
    try:
        for batch, vectors, kept in batches:
            commits.add(*_photos(batch, vectors, kept, summary))
            progress.advance(len(batch))
            if delay:
                time.sleep(delay)
            if interrupt.requested:
                break
    finally:
        progress.finish()


def _embed_and_commit(work: list[Work], store: Store, batches: Generator[EmbeddedBatch, None, None],
                      summary: RunSummary, interrupt: _Interrupt, options: IndexOptions, progress: Progress) -> None:
    """Embed on this thread (or take what a cluster embedded), commit on the writer's; on an error or a
    second Ctrl-C only the commit in progress completes, on a normal end or a first Ctrl-C everything
    embedded is committed."""
    commits = CommitWriter(store, options.commit_every, options.commit_seconds)
    try:
        with closing(batches):
            _gather_all(batches, len(work), summary, interrupt, commits, progress)
    except BaseException:
        commits.close(keep_gathered=False)
        raise
    commits.close(keep_gathered=True)


def _nothing_ran() -> dict | None:
    return None


@dataclass(frozen=True)
class IndexOptions:
    """How one run works, beside what it indexes and with which model. The sizes and limits default to
    core/settings.py's; from_settings takes them from a Settings (options, environment, defaults)."""

    batch_size: int = BATCH_SIZE  # photos per network batch
    commit_every: int = COMMIT_EVERY  # photos per commit at most ...
    commit_seconds: float = COMMIT_SECONDS  # ... or what is done after this long
    workers: int = 1  # decode processes (from_settings: the settings' count, every usable core by default)
    decode_timeout: float = DECODE_TIMEOUT_S  # seconds a file may take to decode before it fails
    follow_symlinks: bool = False
    progress: Progress | None = None  # None: quiet
    runtime: Callable[[], dict | None] = _nothing_ran  # what ran the network (backend, device, precision)
    jpeg_decoder: GpuJpegDecoder | None = None  # decode JPEGs on the GPU instead of in the workers
    projection: ConseProjection | None = None  # the model's ConSE projection: re-project photos that
    # another projection of its backbone embedded (indexer/reproject.py) before anything is crawled
    remote: RemoteEmbedding | None = None  # decode and embed there instead (embed is not called here)
    people: PeopleStep | None = None  # run the people detectors on each photo decoded here (not with
    # remote), and decode again, once, the photos they never looked at

    @classmethod
    def from_settings(cls, settings: Settings, **choices) -> "IndexOptions":
        return cls(batch_size=settings.batch_size, commit_every=settings.commit_every,
                   commit_seconds=settings.commit_seconds, workers=settings.workers,
                   decode_timeout=settings.decode_timeout, **choices)


def run_index(roots: Sequence[str], store: Store, embed: Embed, manifest: Manifest,
              options: IndexOptions = IndexOptions()) -> RunSummary:
    """Bring the store up to date with the photos under roots; returns what changed.

    roots: as indexer.crawl.resolve_roots gives them (the caller resolves them once, before it opens
    the store, so a missing path costs nothing). The store must be unbound (it is bound to manifest
    here) or bound to manifest (ModelMismatchError otherwise): a caller that may move a store to
    another model binds it first (indexer/service.py)."""
    started_at = datetime.now()
    clock = time.perf_counter()
    folders = list(roots)
    _bind_model(store, manifest)
    summary = RunSummary()
    with _Interrupt() as interrupt:
        if options.projection is not None:
            summary.reprojected = reproject(store, manifest, options.projection, stop=lambda: interrupt.requested,
                                            person_vector=options.people.person_vector if options.people else None)
        with step("looking for new and changed photos"):
            crawled = crawl(folders, follow_symlinks=options.follow_symlinks, stop=lambda: interrupt.requested)
            summary.skipped.update(crawled.skipped)
            plan = None
            if not crawled.stopped and not interrupt.requested:  # a partial crawl would make unseen photos look gone
                plan = plan_changes(crawled, store, folders, manifest.fingerprint, stop=lambda: interrupt.requested,
                                    people=options.people is not None and options.remote is None)
        if plan is not None:
            store.commit(ChangeSet(moves=plan.moves, deleted=plan.deleted))
            summary.unchanged, summary.moved, summary.deleted = plan.unchanged, len(plan.moves), len(plan.deleted)
            store.add_roots(folders)
            store.record_skipped(folders, crawled.skipped_paths)
            if plan.work and not interrupt.requested:
                progress = options.progress or QuietProgress()
                unseen = sum(w.kind == "people" for w in plan.work)
                if unseen:
                    progress.note(f"the people detectors have not looked at {unseen:,} indexed photos: "
                                  "decoding them again, once (index --no-people skips this)")
                batches = (options.remote.embed_batches(plan.work, options.batch_size, progress)
                           if options.remote is not None else
                           _embed_here(plan.work, embed, options, stop=lambda: interrupt.requested))
                _embed_and_commit(plan.work, store, batches, summary, interrupt, options, progress)
        summary.interrupted = interrupt.heard()
        summary.network = options.runtime()
        summary.elapsed = time.perf_counter() - clock
        with step("saving the search files"):
            store.save()
        store.record_run(started_at, "interrupted" if summary.interrupted else "complete", summary.to_dict())
    return summary
