"""The store: an SQLite catalog (the truth) plus the files derived from it (the HNSW graph, the flat
matrix, the class postings), bound to one model.

Readers open it without a lock and never block; the one writer (the indexer) holds the lock file.
Store is the facade its callers open; each role lives in its own module:
- store/reader.py: every read, plain sqlite3 (Store reads as its catalog does);
- store/writer.py: the writes, SQLAlchemy Core, one transaction per batch bumping the store
  generation; imported on the writer's first write only;
- store/binding.py: the model the store is bound to (model.json);
- store/derived/keeper.py: the files derived from the catalog (HNSW graph, flat matrix, class
  postings): verified before they answer, caught up or rebuilt from the catalog, saved.
"""
from __future__ import annotations

import errno
import os
import sqlite3
import stat
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import numpy as np

from devsearch.core.errors import DamagedStoreError, DevsearchError, EmptyStoreError, ModelMismatchError, StoreError
from devsearch.core.files import kind_of, stale_temp_files
from devsearch.model.manifest import Manifest
from devsearch.store.binding import MODEL_FILE, ModelBinding
from devsearch.store.derived.bonus import Bonus
from devsearch.store.derived.flat import FlatVectors
from devsearch.store.derived.hnsw import HnswIndex
from devsearch.store.derived.keeper import KINDS, DerivedFiles
from devsearch.store.derived.postings import Postings
from devsearch.store.lock import WriterLock, running_writer
from devsearch.store.migrate import ensure_schema
from devsearch.store.reader import CATALOG_FILE, CatalogReader, catalog_error, connect, translates_catalog_errors
from devsearch.store.records import ChangeSet, KnownFile

__all__ = ["CATALOG_FILE", "Store", "check_home"]


def check_home(home: Path) -> None:
    """A store folder that exists must be a folder (not a file, nor under one)."""
    try:
        mode = _mode_of(home)
    except NotADirectoryError:
        raise StoreError(f"the store folder {home} lies under a file: give --home (or DEVSEARCH_HOME) a folder") from None
    if mode is not None and not stat.S_ISDIR(mode):
        raise StoreError(f"the store folder {home} is {kind_of(mode)}, not a folder: "
                         "give --home (or DEVSEARCH_HOME) a folder (a new one is created)")


def _mode_of(path: Path) -> int | None:
    """path's stat mode, None when there is nothing there; a StoreError when it cannot be looked at
    (NotADirectoryError, for a path under a file, is left to the caller)."""
    try:
        return path.stat().st_mode
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise
    except OSError as exc:
        raise StoreError(f"cannot use {path}: {exc.strerror}: give another --home") from None


def _check_catalog_files(catalog: Path) -> None:
    """The catalog and its WAL files, where they exist, must be regular files: SQLite would wait
    forever reading a FIFO put in their place."""
    for suffix in ("", "-wal", "-shm"):
        path = catalog.with_name(catalog.name + suffix)
        mode = _mode_of(path)
        if mode is not None and not stat.S_ISREG(mode):
            raise DamagedStoreError(f"{path} is {kind_of(mode)}, not a catalog file: move it away and restore the "
                                    "catalog from a backup, or run `devsearch index --rebuild PATH`")


def _take_lock(home: Path) -> WriterLock:
    """The writer lock, in a home created when needed; a folder we may not write is a StoreError."""
    try:
        home.mkdir(parents=True, exist_ok=True)
        lock = WriterLock(home)
        lock.acquire()
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise StoreError(f"the store {home} is read-only here ({exc.strerror}): "
                             "give a writable --home (or DEVSEARCH_HOME)") from None
        raise
    return lock


def _nothing_indexed(home: Path, rebuilding: bool) -> EmptyStoreError:
    """Why a store holds no photo, and what to do: wait for the index that is filling it, or run one."""
    pid = running_writer(home)
    if pid is None:
        return EmptyStoreError(f"no photos indexed in {home}: run `devsearch index PATH` first")
    doing = "rebuilding the store in" if rebuilding else "indexing into"
    return EmptyStoreError(f"devsearch index (pid {pid}) is {doing} {home} and has not committed a photo yet: "
                           "try again in a moment")


def _set_aside(catalog: Path) -> None:
    """Keep a damaged catalog (and its WAL files) under another name, for a restore or a post-mortem."""
    for suffix in ("", "-wal", "-shm"):
        source = catalog.with_name(catalog.name + suffix)
        if source.exists():
            os.replace(source, catalog.with_name(f"{catalog.name}.damaged{suffix}"))


@translates_catalog_errors
class Store(CatalogReader):
    """Open with Store.open(home) to read, Store.open(home, writer=True) to index."""

    def __init__(self, home: Path, db: sqlite3.Connection, lock: WriterLock | None):
        super().__init__(home, db)
        self._lock = lock
        self._writer = None  # store.writer.CatalogWriter, made on the writer's first write
        self._binding = ModelBinding(home)
        self._binding_checked = False
        self._derived = DerivedFiles(home, self, self._bound_dims,
                                     repair_lock=(lambda: WriterLock(home)) if lock is None else None)

    # ---- opening and closing -------------------------------------------------------------
    @classmethod
    def open(cls, home: Path, *, writer: bool = False, allow_empty: bool = False,
             set_aside_damaged: bool = False) -> "Store":
        """A reader needs an existing catalog with indexed photos (allow_empty: any catalog);
        a writer creates the store when needed and takes the lock. set_aside_damaged (a writer
        starting over): a damaged catalog is renamed to catalog.sqlite.damaged and a new one made."""
        home = Path(os.path.expanduser(home)).absolute()
        check_home(home)
        catalog = home / CATALOG_FILE
        if not writer:
            _check_catalog_files(catalog)
        if not writer and not catalog.is_file():
            raise _nothing_indexed(home, rebuilding=False)
        lock = _take_lock(home) if writer else None
        try:
            try:
                store = cls._open_catalog(home, lock)
            except DamagedStoreError:
                if not set_aside_damaged:
                    raise
                _set_aside(catalog)
                store = cls._open_catalog(home, lock)
        except BaseException:
            cls._discard(None, lock)
            raise
        if writer:
            store._remove_stale_temps()
        if not writer and not allow_empty and not store.holds_photos():
            rebuilding = store.rebuilding()
            store.close()
            raise _nothing_indexed(home, rebuilding)
        return store

    @classmethod
    def _open_catalog(cls, home: Path, lock: WriterLock | None) -> "Store":
        catalog = home / CATALOG_FILE
        _check_catalog_files(catalog)
        db = None
        try:
            ensure_schema(catalog)
            db = connect(catalog)
            return cls(home, db, lock)
        except BaseException as exc:
            cls._discard(db, None)
            if isinstance(exc, sqlite3.Error):
                raise catalog_error(exc, catalog) from None
            raise

    @staticmethod
    def _discard(db: sqlite3.Connection | None, lock: WriterLock | None) -> None:
        if db is not None:
            db.close()
        if lock is not None:
            lock.release()

    def _remove_stale_temps(self) -> None:
        """Temp files of a save that was killed (core/files.write_atomically's hidden names): of every
        derived file and of model.json. Only a writer, under the lock, writes them."""
        for stem in [kind.KIND for kind in KINDS] + [Path(MODEL_FILE).stem]:
            for path in stale_temp_files(self.home, stem):
                path.unlink(missing_ok=True)

    def close(self, *, save: bool = True) -> None:
        """A writer saves the derived files first, so a clean exit leaves them current (save=False:
        not now; the next open catches them up from the catalog)."""
        try:
            if self._lock is not None and save:
                self.save()
        finally:
            if self._writer is not None:
                self._writer.close()
            self._discard(self._db, self._lock)
            self._lock = self._writer = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        if exc_type is None:
            self.close()
            return
        try:  # failing already (a full disk, say): save what can be saved, never hiding the first error
            self.close(save=exc_type is not KeyboardInterrupt)  # a second Ctrl-C: stop at once
        except (OSError, DevsearchError):
            pass

    # ---- the model the store is bound to ---------------------------------------------------
    def model_manifest(self) -> Manifest | None:
        """The manifest the store is bound to (model.json in home), None before the first index.
        Indexed photos without one (model.json deleted) are a StoreError: their model is unknown."""
        manifest = self._binding.manifest()
        if manifest is None and self.holds_photos():
            raise StoreError(f"the store in {self.home} holds photos but has lost {MODEL_FILE}, which names their "
                             "model: restore it, or run `devsearch index --rebuild PATH` to index them again")
        if manifest is not None and not self._binding_checked:
            self._check_binding(manifest)
            self._binding_checked = True
        return manifest

    def _check_binding(self, manifest: Manifest) -> None:
        """model.json must name the model of the catalog's own vectors: the fingerprint the catalog
        recorded when it was bound, or that of indexed photos, with vectors of its dimensions. Else the
        word space, classes and ranking it names are not those the photos were embedded with, and every
        answer would be silently wrong."""
        recorded, sizes, first = self.binding_evidence(manifest.fingerprint)
        if first is None:
            return  # nothing indexed yet
        if recorded != manifest.fingerprint and not sizes:
            found = f"model {recorded or first}"
        elif sizes and 4 * manifest.dims not in sizes:
            found = f"{sizes[0] // 4}-d vectors"
        else:
            return  # (a crash between recording a new binding and writing model.json leaves the old one, still true)
        raise ModelMismatchError(
            f"{self.home / MODEL_FILE} names model {manifest.fingerprint} ({manifest.dims}-d), but the catalog's photos "
            f"were embedded with {found}: restore {MODEL_FILE} from a backup, or run "
            "`devsearch index --rebuild PATH` to index them again")

    def check_model(self, fingerprint: str) -> None:
        """Refuse to mix embedding spaces: vectors of two models are not comparable."""
        self._binding.check(fingerprint)

    def bind_model(self, manifest: Manifest) -> None:
        """Bind an empty store to a model (model.json, written atomically)."""
        self._catalog_writer().record_binding(manifest.fingerprint)
        self._binding.bind(manifest)
        self._binding_checked = True

    def files_under(self, folder: str) -> dict[str, KnownFile]:
        """CatalogReader.files_under, each indexed row's stored vector checked against the bound
        model's dimensions (KnownFile.damaged: the indexer embeds that photo again)."""
        return super().files_under(folder, self._bound_dims())

    def _bound_dims(self) -> int | None:
        manifest = self._binding.manifest()
        return None if manifest is None else manifest.dims

    # ---- searching -------------------------------------------------------------------------
    def knn(self, vector: np.ndarray, k: int, *, allowed_ids: np.ndarray | None = None,
            exact: bool = False, bonus: Bonus | None = None) -> list[tuple[int, float]]:
        """(photo id, cosine similarity + bonus), best first; with allowed_ids, up to k among those.

        exact=True scores every photo from the memory-mapped flat file, which is what a process
        answering one query should do; otherwise the HNSW graph answers (loaded once, then fast).
        """
        if exact:
            return self._derived.answer(FlatVectors, vector, lambda flat: flat.knn(vector, k, allowed_ids, bonus), bonus)
        return self._derived.answer(HnswIndex, vector,
                                    lambda index: index.knn(vector, k, self.count(), allowed_ids, bonus), bonus)

    def class_mass(self, classes: np.ndarray, weights: np.ndarray, *, per_length: bool = False) -> Bonus:
        """Each photo's kept probabilities on classes, weighted (class postings), by photo id;
        per_length: divided by the length of the photo's probability vector."""
        mass = self._derived.read(Postings, lambda index: index.mass(classes, weights, per_length=per_length))
        return Bonus(np.empty(0, np.float32) if mass is None else mass)

    # ---- writing (the writer only) ---------------------------------------------------------------
    def _require_writer(self) -> None:
        if self._lock is None:
            raise StoreError("this store was opened for reading")

    def _catalog_writer(self):
        """The writer's SQLAlchemy side; any write invalidates the cached counts."""
        self._require_writer()
        if self._writer is None:
            from devsearch.store.writer import CatalogWriter

            self._writer = CatalogWriter(self.home / CATALOG_FILE)
        self.forget_counts()
        return self._writer

    def reset(self) -> None:
        """Forget every photo, root and the model binding (`--rebuild`); run history stays."""
        self._catalog_writer().forget_everything()
        self._derived.forget()
        self._binding.forget()

    def commit(self, changes: ChangeSet) -> None:
        """Write one batch in one transaction (the derived files catch up when next used or saved)."""
        if not changes:
            return
        fingerprint = getattr(self.model_manifest(), "fingerprint", None)
        self._catalog_writer().commit(changes, fingerprint)

    def add_roots(self, folders: Iterable[str]) -> None:
        self._catalog_writer().add_roots(folders)

    def record_skipped(self, folders: Iterable[str], entries: Iterable[tuple[str, str]]) -> None:
        """What a complete crawl of folders skipped, (path, reason), replacing the last crawl's."""
        self._catalog_writer().record_skipped(folders, entries)

    def record_run(self, started_at: datetime, outcome: str, summary: dict) -> None:
        self._catalog_writer().record_run(started_at, outcome, summary)

    def save(self) -> None:
        """Save each derived file that is behind the catalog (atomically)."""
        self._require_writer()
        self._derived.save()
