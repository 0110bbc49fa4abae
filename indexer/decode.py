"""Decode photos in worker processes, a bounded number of chunks ahead of the network.

Workers come from a forkserver: they are forked from a fresh, small server process, never from
this one, which may hold TensorFlow (forking a process with TensorFlow's threads can deadlock).
They ignore SIGINT, so Ctrl-C reaches only the indexer, which decides what to keep, and they exit
when the indexer dies.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path

import numpy as np

from core.errors import ImageError
from devise.preprocess import decode_photo
from store.hashing import content_hash


@dataclass(frozen=True)
class Work:
    """A file to decode and embed; kind is 'new' or 'updated' (the catalog had it before)."""

    path: str
    size: int
    mtime: float
    kind: str


@dataclass(frozen=True)
class Decoded:
    """A decoded photo (pixels set) or a failure (error set)."""

    work: Work
    content_hash: str | None = None
    pixels: np.ndarray | None = None  # uint8 (224, 224, 3)
    width: int | None = None
    height: int | None = None
    taken: datetime | None = None
    error: str | None = None


def decode_one(work: Work) -> Decoded:
    """Never raises for a bad file: whatever goes wrong becomes the failure reason."""
    try:
        digest = content_hash(Path(work.path))
        photo = decode_photo(work.path)
    except ImageError as exc:
        return Decoded(work, error=str(exc))
    except PermissionError:
        return Decoded(work, error="unreadable: permission denied")
    except OSError as exc:
        return Decoded(work, error=f"unreadable: {exc.strerror or exc}")
    except Exception as exc:  # a decoder bug on a hostile file must not stop the run
        return Decoded(work, error=f"cannot decode: {type(exc).__name__}: {exc}")
    return Decoded(work, digest, photo.pixels, photo.width, photo.height, photo.taken)


def decode_chunk(works: list[Work]) -> list[Decoded]:
    return [decode_one(work) for work in works]


def _exit_with(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()
    os._exit(0)


def _start_worker() -> None:
    """Leave Ctrl-C to the indexer, and exit when it is gone (after a kill -9 no worker lingers on)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


class DecodePool:
    """`workers` processes; results come back in submission order.

    A ProcessPoolExecutor, not a multiprocessing.Pool: Pool.terminate() with tasks still queued can
    deadlock (seen here on Ctrl-C), while an executor cancels what has not started and lets each
    worker finish its chunk and exit.
    """

    def __init__(self, workers: int):
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["indexer.decode"])
        self._executor = ProcessPoolExecutor(max(1, workers), mp_context=context, initializer=_start_worker)

    def decode(self, works: list[Work], chunk: int, ahead: int) -> Iterator[Decoded]:
        """Decode in chunks of `chunk` files, with at most `ahead` chunks submitted and not yet read."""
        chunks = (works[start:start + chunk] for start in range(0, len(works), chunk))
        pending = deque(self._executor.submit(decode_chunk, c) for c in islice(chunks, ahead))
        while pending:
            results = pending.popleft().result()
            following = next(chunks, None)
            if following is not None:
                pending.append(self._executor.submit(decode_chunk, following))
            yield from results

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> "DecodePool":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
