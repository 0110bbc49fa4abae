"""The store: an SQLite catalog (the truth) plus two vector files derived from it, bound to one model.

Readers open it without a lock and never block; the one writer (the indexer) holds the lock file.
Store is the facade its callers open; each role lives in its own module:
- store/reader.py: every read, plain sqlite3 (Store reads as its catalog does);
- store/writer.py: the writes, SQLAlchemy Core, one transaction per batch bumping the store
  generation; imported on the writer's first write only;
- store/binding.py: the model the store is bound to (model.json);
- store/derived.py: the HNSW graph and the flat matrix, loaded, caught up or rebuilt, and saved.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import numpy as np

from core.errors import EmptyStoreError, StoreError
from model.manifest import Manifest
from store.binding import ModelBinding
from store.derived import DerivedFiles
from store.lock import WriterLock
from store.migrate import ensure_schema
from store.reader import CatalogReader, connect
from store.records import ChangeSet

CATALOG_FILE = "catalog.sqlite"


class Store(CatalogReader):
    """Open with Store.open(home) to read, Store.open(home, writer=True) to index."""

    def __init__(self, home: Path, db: sqlite3.Connection, lock: WriterLock | None):
        super().__init__(home, db)
        self._lock = lock
        self._writer = None  # store.writer.CatalogWriter, made on the writer's first write
        self._binding = ModelBinding(home)
        self._derived = DerivedFiles(home, self, self._bound_dims)

    # ---- opening and closing -------------------------------------------------------------
    @classmethod
    def open(cls, home: Path, *, writer: bool = False, allow_empty: bool = False) -> "Store":
        """A reader needs an existing catalog with indexed photos (allow_empty: any catalog);
        a writer creates the store when needed and takes the lock."""
        home = Path(home).expanduser().absolute()
        catalog = home / CATALOG_FILE
        empty = EmptyStoreError(f"no photos indexed in {home}: run `devsearch index PATH` first")
        if not writer and not catalog.is_file():
            raise empty
        lock = db = None
        try:
            if writer:
                home.mkdir(parents=True, exist_ok=True)
                lock = WriterLock(home)
                lock.acquire()
            ensure_schema(catalog)
            db = connect(catalog)
            store = cls(home, db, lock)
            if not writer and not allow_empty and not store.holds_photos():
                raise empty
        except sqlite3.OperationalError as exc:
            cls._discard(db, lock)
            raise StoreError(f"cannot open the catalog {catalog} ({exc}): try again") from None
        except sqlite3.DatabaseError as exc:
            cls._discard(db, lock)
            raise StoreError(f"{catalog} is not a usable devsearch catalog ({exc}): use another --home") from None
        except BaseException:
            cls._discard(db, lock)
            raise
        return store

    @staticmethod
    def _discard(db: sqlite3.Connection | None, lock: WriterLock | None) -> None:
        if db is not None:
            db.close()
        if lock is not None:
            lock.release()

    def close(self) -> None:
        """A writer saves the derived files first, so a clean exit leaves them current."""
        try:
            if self._lock is not None:
                self.save()
        finally:
            if self._writer is not None:
                self._writer.close()
            self._discard(self._db, self._lock)
            self._lock = self._writer = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ---- the model the store is bound to ---------------------------------------------------
    def model_manifest(self) -> Manifest | None:
        """The manifest the store is bound to (model.json in home), None before the first index."""
        return self._binding.manifest()

    def check_model(self, fingerprint: str) -> None:
        """Refuse to mix embedding spaces: vectors of two models are not comparable."""
        self._binding.check(fingerprint)

    def bind_model(self, manifest: Manifest) -> None:
        """Bind an empty store to a model (model.json, written atomically)."""
        self._require_writer()
        self._binding.bind(manifest)

    def _bound_dims(self) -> int | None:
        manifest = self.model_manifest()
        return None if manifest is None else manifest.dims

    # ---- searching -------------------------------------------------------------------------
    def knn(self, vector: np.ndarray, k: int, *, allowed_ids: np.ndarray | None = None,
            exact: bool = False) -> list[tuple[int, float]]:
        """(photo id, cosine similarity), best first; with allowed_ids, up to k among those.

        exact=True scores every photo from the memory-mapped flat file, which is what a process
        answering one query should do; otherwise the HNSW graph answers (loaded once, then fast).
        """
        if exact:
            matrix = self._derived.flat()
            return matrix.knn(vector, k, allowed_ids) if matrix is not None else []
        index = self._derived.hnsw()
        if index is None:
            return []
        return index.knn(vector, k, self.count(), allowed_ids)

    # ---- writing (the writer only) ---------------------------------------------------------------
    def _require_writer(self) -> None:
        if self._lock is None:
            raise StoreError("this store was opened for reading")

    def _catalog_writer(self):
        """The writer's SQLAlchemy side; any write invalidates the cached counts."""
        self._require_writer()
        if self._writer is None:
            from store.writer import CatalogWriter

            self._writer = CatalogWriter(self.home / CATALOG_FILE)
        self.forget_counts()
        return self._writer

    def reset(self) -> None:
        """Forget every photo, root and the model binding (`--rebuild`); run history stays."""
        self._catalog_writer().forget_everything()
        self._derived.forget()
        self._binding.forget()

    def commit(self, changes: ChangeSet) -> None:
        """Write one batch in one transaction. The vector files catch up with the catalog when next
        used or saved, in bulk: the commit itself is SQL only."""
        if not changes:
            return
        fingerprint = getattr(self.model_manifest(), "fingerprint", None)
        self._catalog_writer().commit(changes, fingerprint)

    def add_roots(self, folders: Iterable[str]) -> None:
        self._catalog_writer().add_roots(folders)

    def record_run(self, started_at: datetime, outcome: str, summary: dict) -> None:
        self._catalog_writer().record_run(started_at, outcome, summary)

    def save(self) -> None:
        """Save each derived file that is behind the catalog (atomically)."""
        self._require_writer()
        self._derived.save()
