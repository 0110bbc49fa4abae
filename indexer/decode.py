"""Decode photos in worker processes, a bounded number of chunks ahead of the network.

Workers come from a forkserver: they are forked from a fresh, small server process, never from
this one, which may hold TensorFlow (forking a process with TensorFlow's threads can deadlock).
They ignore SIGINT, so Ctrl-C reaches only the indexer, which decides what to keep, and they exit
when the indexer dies. A worker that dies itself (a decoder segfault on a hostile file, the OOM
killer) costs only that file: the files in flight are decoded again one at a time in a new pool,
and the one that kills its worker again is recorded as failed. So does a file that takes longer than
the decode timeout (a file system that stopped answering, a file made to be slow to decode): its
worker is killed, since a running decode cannot be cancelled any other way.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from devsearch.core.debug_hooks import crash_or_hang_on
from devsearch.core.errors import ImageError
from devsearch.core.files import NotRegularFileError
from devsearch.core.photo import decode_photo
from devsearch.core.settings import DECODE_TIMEOUT_S
from devsearch.model.people import PeopleSignal
from devsearch.store.hashing import content_hash

WAIT_S = 0.1  # how often a wait for decoded files looks whether to stop
CRASHED = "cannot decode: the decoder crashed (its worker process died)"


def timed_out(seconds: float) -> str:
    return f"cannot decode: it took over {seconds:g} s (a stalled file system, or a file made to be slow to decode)"


@dataclass(frozen=True)
class Work:
    """A file to decode and embed; kind is 'new', 'updated' (the catalog had it before) or 'people' (unchanged,
    decoded again for the people detectors, which never looked at it)."""

    path: str
    size: int
    mtime: float
    kind: str


@dataclass(frozen=True)
class Decoded:
    """A decoded photo (pixels set) or a failure (error set)."""

    work: Work
    content_hash: str | None = None
    pixels: np.ndarray | None = None  # uint8 (224, 224, 3); None for a JPEG left to the GPU decoder
    width: int | None = None
    height: int | None = None
    taken: datetime | None = None
    error: str | None = None
    orientation: int = 1  # EXIF orientation, for the GPU decoder to apply
    whole: np.ndarray | None = None  # uint8 (H, W, 3), shorter side 256: for the people detectors, when asked
    people: PeopleSignal | None = None  # what the people detectors found, once they ran


def decode_one(work: Work, leave_jpeg: bool = False, keep_whole: bool = False) -> Decoded:
    """Never raises for a bad file: whatever goes wrong becomes the failure reason.

    leave_jpeg: JPEGs are only hashed and their header read (indexer/gpu_decode.py decodes them).
    keep_whole: keep the whole photo at shorter side 256 as well, for the people detectors."""
    crash_or_hang_on(work.path)
    try:
        digest = content_hash(Path(work.path))
        photo = decode_photo(work.path, leave_jpeg=leave_jpeg, keep_whole=keep_whole)
    except ImageError as exc:
        return Decoded(work, error=str(exc))
    except NotRegularFileError as exc:  # swapped for a FIFO or device since the crawl
        return Decoded(work, error=exc.strerror)
    except PermissionError:
        return Decoded(work, error="unreadable: permission denied")
    except OSError as exc:
        return Decoded(work, error=f"unreadable: {exc.strerror or exc}")
    return Decoded(work, digest, photo.pixels, photo.width, photo.height, photo.taken, orientation=photo.orientation,
                   whole=photo.whole)


def _finished(future: Future) -> bool:
    """Whether future is done, after waiting for it a moment."""
    return wait([future], timeout=WAIT_S).done != set()


def decode_chunk(works: list[Work], leave_jpeg: bool = False, keep_whole: bool = False) -> list[Decoded]:
    return [decode_one(work, leave_jpeg, keep_whole) for work in works]


def _exit_with(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()
    os._exit(0)


def _start_worker() -> None:
    """Leave Ctrl-C to the indexer, and exit when it is gone (after a kill -9 no worker lingers on).
    Pillow's warnings about damaged files are not for the terminal: the failure reason says it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warnings.simplefilter("ignore")
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


_TRACKER_WARNINGS = "ignore:resource_tracker:UserWarning"


def _quiet_resource_tracker() -> None:
    """multiprocessing's resource tracker (started with the forkserver) unlinks the semaphores of an
    indexer that died without cleaning up (a kill -9, a second Ctrl-C), which is right, and warns about
    each on stderr, which is noise for the user: devsearch prints its own lines only. The tracker is
    started with this interpreter's -W options, so the warning is filtered there."""
    if _TRACKER_WARNINGS not in sys.warnoptions:
        sys.warnoptions.append(_TRACKER_WARNINGS)


class DecodePool:
    """`workers` processes; results come back in submission order.

    A ProcessPoolExecutor, not a multiprocessing.Pool: Pool.terminate() with tasks still queued can
    deadlock (seen here on Ctrl-C), while an executor cancels what has not started and lets each
    worker finish its chunk and exit.
    """

    def __init__(self, workers: int, leave_jpeg: bool = False, timeout_s: float = DECODE_TIMEOUT_S,
                 keep_whole: bool = False):
        self._workers = max(1, workers)
        self._leave_jpeg = leave_jpeg
        self._keep_whole = keep_whole
        self._timeout_s = timeout_s
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        _quiet_resource_tracker()
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["devsearch.indexer.decode"])
        return ProcessPoolExecutor(self._workers, mp_context=context, initializer=_start_worker)

    def _restart(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = self._start()

    def _kill_workers(self) -> None:
        """The only way to stop a decode that runs too long: its worker dies, the pool breaks, and the
        files in flight are decoded again one at a time (ProcessPoolExecutor lists its workers in
        _processes; Python 3.14 adds kill_workers() for this)."""
        for process in list(getattr(self._executor, "_processes", {}).values()):
            process.kill()

    def _wait(self, future: Future, files: int, stop: Callable[[], bool]) -> bool:
        """Wait for a future of `files` files; False when stop() said so. A wait past the decode
        timeout for each file kills the workers, and the future then fails with BrokenProcessPool."""
        deadline = time.monotonic() + self._timeout_s * files
        while not _finished(future):
            if stop():
                return False
            if time.monotonic() > deadline:
                self._kill_workers()
                deadline = float("inf")
        return True

    def decode(self, works: list[Work], chunk: int, ahead: int,
               stop: Callable[[], bool] = lambda: False) -> Iterator[Decoded]:
        """Decode in chunks of `chunk` files, with at most `ahead` chunks submitted and not yet read.

        stop is asked while waiting for a chunk (a few times a second): once it says yes, no more
        results come, however long a worker takes (Ctrl-C must not wait for a slow file)."""
        chunks = (works[start:start + chunk] for start in range(0, len(works), chunk))
        pending: deque[tuple[list[Work], Future]] = deque()

        def submit_next() -> None:
            following = next(chunks, None)
            if following is not None:
                pending.append((following, self._submit(following)))

        for _ in range(ahead):
            submit_next()
        while pending:
            works_in_chunk, future = pending.popleft()
            try:
                if not self._wait(future, len(works_in_chunk), stop):
                    return
                results = future.result()
            except BrokenProcessPool:  # every chunk in flight is lost with the pool: find the culprit
                suspects = works_in_chunk + [work for in_flight, _ in pending for work in in_flight]
                pending.clear()
                results = self._one_at_a_time(suspects, stop)
                if results is None:
                    return
                for _ in range(ahead):
                    submit_next()
            else:
                submit_next()
            yield from results

    def _submit(self, works: list[Work]) -> Future:
        """A future for the chunk; one that fails at once when the pool already broke under another."""
        try:
            return self._executor.submit(decode_chunk, works, self._leave_jpeg, self._keep_whole)
        except BrokenProcessPool as broken:
            future: Future = Future()
            future.set_exception(broken)
            return future

    def _one_at_a_time(self, works: list[Work], stop: Callable[[], bool]) -> list[Decoded] | None:
        """Decode each file alone in a fresh pool; one that kills its worker or runs past the timeout is
        a failure, not a stop. None when stop() said so."""
        self._restart()
        results = []
        for work in works:
            future = self._submit([work])
            started = time.monotonic()
            try:
                if not self._wait(future, 1, stop):
                    return None
                results.extend(future.result())
            except BrokenProcessPool:
                slow = time.monotonic() - started > self._timeout_s
                results.append(Decoded(work, error=timed_out(self._timeout_s) if slow else CRASHED))
                self._restart()
        return results

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> "DecodePool":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
