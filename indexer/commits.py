"""Commits on a thread of their own, so the network runs on while rows are written.

The indexer gathers its embedded and failed photos here; they are handed to the writer thread as
one change set, one transaction (Store.commit), when `every` photos are gathered or `seconds` have
passed since the last hand-over. At most one change set waits while another is being written, so
the network is never more than one commit ahead and memory stays bounded. While the thread runs,
only it touches the store. A commit that fails is raised in the indexer at its next hand-over.
"""
from __future__ import annotations

import contextlib
import queue
import threading
import time

from devsearch.store.catalog import Store
from devsearch.store.records import ChangeSet, EmbeddedPhoto, FailedPhoto


class CommitWriter:
    """Gather photos, commit them in the background; close() says whether to keep what is gathered."""

    def __init__(self, store: Store, every: int, seconds: float):
        self._store = store
        self._every = max(1, every)
        self._seconds = seconds
        self._embedded: list[EmbeddedPhoto] = []
        self._failed: list[FailedPhoto] = []
        self._since = time.monotonic()
        self._waiting: queue.Queue[ChangeSet | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._write, name="devsearch-commits", daemon=True)
        self._thread.start()

    def add(self, embedded: list[EmbeddedPhoto], failed: list[FailedPhoto]) -> None:
        self._embedded.extend(embedded)
        self._failed.extend(failed)
        if len(self._embedded) + len(self._failed) >= self._every or time.monotonic() - self._since >= self._seconds:
            self._hand_over()

    def _hand_over(self) -> None:
        """Queue what is gathered as one change set (waiting while the one before still waits)."""
        self._raise_failure()
        if self._embedded or self._failed:
            self._waiting.put(ChangeSet(embedded=self._embedded, failed=self._failed))
            self._embedded, self._failed = [], []
        self._since = time.monotonic()

    def _write(self) -> None:
        while (changes := self._waiting.get()) is not None:
            if self._error is None:
                try:
                    self._store.commit(changes)
                except BaseException as exc:  # handed to the indexer's thread
                    self._error = exc

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def close(self, *, keep_gathered: bool) -> None:
        """Commit what is gathered and waiting (keep_gathered), or drop it; either way the commit in
        progress completes, and the thread is gone when this returns."""
        try:
            if keep_gathered:
                self._hand_over()
            else:
                self._embedded, self._failed = [], []
                with contextlib.suppress(queue.Empty):  # the writer may take it first
                    self._waiting.get_nowait()
        finally:
            self._waiting.put(None)
            self._thread.join()
        if keep_gathered:
            self._raise_failure()
