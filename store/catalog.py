"""The store: an SQLite catalog (the truth) plus two vector files derived from it, bound to one model.

Readers open it without a lock and never block; the one writer (the indexer) holds the lock file.
A writer's changes go through commit(), one transaction per batch, each bumping the store
generation. The derived files, the HNSW graph (long-lived searchers) and the flat matrix (one-shot
exact searches), remember the generation they reflect, so a store left behind by a crash is caught
up from the rows changed since (or rebuilt when a file is missing or damaged).

Reads are plain sqlite3 and writes are SQLAlchemy Core (store/writes.py, imported by the writer
only): importing SQLAlchemy costs more than a whole `devsearch query` may take.
"""
from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from core.errors import EmptyStoreError, ModelMismatchError, StoreError
from store.lock import WriterLock
from store.migrate import ensure_schema
from store.records import ChangeSet, KnownFile, PhotoRecord, failure_reason, prefix_range
from store import flat, vectors
from store.flat import FlatVectors
from core.files import saved_generation, write_atomically
from store.vectors import VectorIndex

CATALOG_FILE = "catalog.sqlite"
MODEL_FILE = "model.json"
BUSY_TIMEOUT_S = 10.0
_CHUNK = 500  # ids per IN (...) query
_RECORD_COLUMNS = "id, path, size, mtime, content_hash, width, height, taken, status, error, indexed_at"
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
_WHEN = f"COALESCE(strftime('{_DATE_FORMAT}', taken), strftime('{_DATE_FORMAT}', mtime, 'unixepoch', 'localtime'))"


def _under_sql(folder: str) -> tuple[str, tuple[str, str, str]]:
    """SQL for `path is folder or inside it`, as a range so the path index is used."""
    return "(path = ? OR (path >= ? AND path < ?))", prefix_range(folder)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _record(row: tuple) -> PhotoRecord:
    photo_id, path, size, mtime, content_hash, width, height, taken, status, error, indexed_at = row
    return PhotoRecord(id=photo_id, path=path, size=size, mtime=mtime, content_hash=content_hash, width=width,
                       height=height, taken=_when(taken), status=status, error=error, indexed_at=_when(indexed_at))


def _blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def _vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32).copy()


def _vectors_of(dims: int, rows: list[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, float32 matrix) of (id, embedding blob) rows."""
    ids = np.array([photo_id for photo_id, _ in rows], dtype=np.int64)
    return ids, np.frombuffer(b"".join(blob for _, blob in rows), dtype=np.float32).reshape(len(rows), dims)


def _connect(catalog: Path) -> sqlite3.Connection:
    """Autocommit reads; each multi-statement read that needs one snapshot opens its own BEGIN."""
    db = sqlite3.connect(catalog, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA query_only = ON")
    return db


class Store:
    """Open with Store.open(home) to read, Store.open(home, writer=True) to index."""

    def __init__(self, home: Path, db: sqlite3.Connection, lock: WriterLock | None):
        self.home = home
        self._db = db
        self._lock = lock
        self._engine = None  # SQLAlchemy, made on the writer's first write
        self._index: VectorIndex | None = None
        self._index_dirty = False
        self._flat: FlatVectors | None = None
        self._flat_dirty = False
        self._manifest: dict | None = None
        self._counts: dict[str, int] = {}

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
            db = _connect(catalog)
            store = cls(home, db, lock)
            if not writer and not allow_empty and not store._holds_photos():
                raise empty
        except sqlite3.OperationalError as exc:
            cls._discard(db, None, lock)
            raise StoreError(f"cannot open the catalog {catalog} ({exc}): try again") from None
        except sqlite3.DatabaseError as exc:
            cls._discard(db, None, lock)
            raise StoreError(f"{catalog} is not a usable devsearch catalog ({exc}): use another --home") from None
        except BaseException:
            cls._discard(db, None, lock)
            raise
        return store

    @staticmethod
    def _discard(db: sqlite3.Connection | None, engine, lock: WriterLock | None) -> None:
        if db is not None:
            db.close()
        if engine is not None:
            engine.dispose()
        if lock is not None:
            lock.release()

    def close(self) -> None:
        """A writer saves the HNSW index first, so a clean exit leaves it current."""
        try:
            if self._lock is not None:
                self.save()
        finally:
            self._discard(self._db, self._engine, self._lock)
            self._lock = self._engine = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ---- the model the store is bound to ---------------------------------------------------
    def model_manifest(self) -> dict | None:
        """The manifest the store is bound to (model.json in home), None before the first index."""
        if self._manifest is None:
            path = self.home / MODEL_FILE
            try:
                self._manifest = json.loads(path.read_text())
            except FileNotFoundError:
                return None
            except (OSError, json.JSONDecodeError) as exc:
                raise StoreError(f"cannot read {path}: {exc}: run `devsearch index --rebuild PATH`") from None
        return self._manifest

    def check_model(self, fingerprint: str) -> None:
        """Refuse to mix embedding spaces: vectors of two models are not comparable."""
        bound = self.model_manifest()
        if bound is not None and bound["fingerprint"] != fingerprint:
            raise ModelMismatchError(
                f"the store in {self.home} was built with model {bound['fingerprint']}, not {fingerprint}: "
                "run `devsearch index --rebuild PATH` to re-index with this model, or use another --home"
            )

    # ---- reading ---------------------------------------------------------------------------
    def count(self, status: str = "indexed") -> int:
        """Photos with this status (kept until this store's next commit: a reader sees one snapshot)."""
        if status not in self._counts:
            self._counts[status] = self._db.execute("SELECT COUNT(*) FROM photos WHERE status = ?", (status,)).fetchone()[0]
        return self._counts[status]

    def _holds_photos(self) -> bool:
        """Whether any photo is indexed: the first row of the status index, not a count of 100k."""
        return self._db.execute("SELECT 1 FROM photos WHERE status = 'indexed' LIMIT 1").fetchone() is not None

    def knn(self, vector: np.ndarray, k: int, *, allowed_ids: np.ndarray | None = None,
            exact: bool = False) -> list[tuple[int, float]]:
        """(photo id, cosine similarity), best first; with allowed_ids, up to k among those.

        exact=True scores every photo from the memory-mapped flat file, which is what a process
        answering one query should do; otherwise the HNSW graph answers (loaded once, then fast).
        """
        if exact:
            matrix = self._flat_vectors()
            return matrix.knn(vector, k, allowed_ids) if matrix is not None else []
        index = self._vector_index()
        if index is None:
            return []
        return index.knn(vector, k, self.count(), allowed_ids)

    def get(self, ids: Sequence[int]) -> list[PhotoRecord]:
        """The records of ids, in the same order (ids not in the catalog are left out)."""
        found: dict[int, PhotoRecord] = {}
        wanted = [int(i) for i in ids]
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM photos WHERE id IN ({marks})", chunk):
                found[row[0]] = _record(row)
        return [found[i] for i in wanted if i in found]

    def ids_matching(self, *, under: Path | None = None, after: datetime | None = None,
                     before: datetime | None = None) -> np.ndarray:
        """Ids of indexed photos inside `under`, taken (EXIF time, else mtime) in [after, before]."""
        clauses, params = ["status = 'indexed'"], []
        if under is not None:
            sql, values = _under_sql(os.path.realpath(under))
            clauses.append(sql)
            params.extend(values)
        if after is not None:
            clauses.append(f"{_WHEN} >= ?")
            params.append(after.strftime(_DATE_FORMAT))
        if before is not None:
            clauses.append(f"{_WHEN} <= ?")
            params.append(before.strftime(_DATE_FORMAT))
        rows = self._db.execute(f"SELECT id FROM photos WHERE {' AND '.join(clauses)} ORDER BY id", params)
        return np.fromiter((row[0] for row in rows), dtype=np.int64)

    def find_by_path(self, path: Path) -> PhotoRecord | None:
        """The row of a file, whatever its status; the path as given, else with symlinks resolved."""
        for candidate in dict.fromkeys((os.path.abspath(path), os.path.realpath(path))):
            row = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM photos WHERE path = ?", (candidate,)).fetchone()
            if row is not None:
                return _record(row)
        return None

    def find_by_hash(self, content_hash: str) -> list[PhotoRecord]:
        rows = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM photos WHERE content_hash = ? ORDER BY id",
                                (content_hash,))
        return [_record(row) for row in rows]

    def vector_of(self, photo_id: int) -> np.ndarray:
        row = self._db.execute("SELECT embedding FROM photos WHERE id = ?", (int(photo_id),)).fetchone()
        if row is None or row[0] is None:
            raise StoreError(f"photo {photo_id} has no vector in {self.home}")
        return _vector(row[0])

    def failure_counts(self) -> dict[str, int]:
        """Failed files by reason (the part of the error before its first colon)."""
        counts: dict[str, int] = {}
        rows = self._db.execute("SELECT error, COUNT(*) FROM photos WHERE status = 'failed' GROUP BY error")
        for error, number in rows:
            reason = failure_reason(error or "unknown")
            counts[reason] = counts.get(reason, 0) + number
        return counts

    def roots(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT path FROM roots ORDER BY path")]

    def last_run(self) -> dict | None:
        """The most recent index run: when, how it ended, and its summary counts."""
        row = self._db.execute(
            "SELECT started_at, finished_at, outcome, summary FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        started_at, finished_at, outcome, summary = row
        return {"started_at": _when(started_at).isoformat(timespec="seconds"),
                "finished_at": _when(finished_at).isoformat(timespec="seconds"),
                "outcome": outcome, **json.loads(summary)}

    def files_under(self, folder: str) -> dict[str, KnownFile]:
        """path -> KnownFile for every row inside folder: one query, plain tuples (the hot path)."""
        sql, params = _under_sql(folder)
        rows = self._db.execute(f"SELECT path, id, size, mtime, status FROM photos WHERE {sql}", params)
        return {path: KnownFile(photo_id, size, mtime, status) for path, photo_id, size, mtime, status in rows}

    def movable_sizes(self, folders: Iterable[str]) -> set[int]:
        """Sizes of photos whose vector a moved file could take over: deleted ones, and indexed ones
        outside `folders` (their files may have moved into them). A new file of another size is no move."""
        inside = [_under_sql(folder) for folder in folders]
        outside = " AND ".join(f"NOT {sql}" for sql, _ in inside) or "1"
        params = [value for _, values in inside for value in values]
        rows = self._db.execute(
            "SELECT DISTINCT size FROM photos WHERE embedding IS NOT NULL AND "
            f"(status = 'deleted' OR (status = 'indexed' AND {outside}))", params)
        return {row[0] for row in rows}

    # ---- the HNSW index ------------------------------------------------------------------------
    def generation(self) -> int:
        """Bumped by every commit: a long-lived reader (the server) compares it to notice new photos."""
        return self._generation()

    def _generation(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row is not None else 0

    def _vector_index(self) -> VectorIndex | None:
        """The HNSW index, loaded once; the writer keeps it current with each commit."""
        if self._index is None:
            self._index, current = self._derived(VectorIndex)
            self._index_dirty = not current
        return self._index

    def _flat_vectors(self) -> FlatVectors | None:
        """The flat matrix, reloaded when a commit has moved the catalog on since it was read."""
        if self._flat is None or self._flat.generation != self._generation():
            self._flat, current = self._derived(FlatVectors)
            self._flat_dirty = not current
        return self._flat

    def _derived(self, kind: type[VectorIndex] | type[FlatVectors]):
        """(derived file as of the catalog's generation, whether the saved file already was that).

        The saved file is loaded, then caught up with the rows changed since it was saved, or
        rebuilt from the catalog when it is missing, damaged or ahead of the catalog.
        """
        manifest = self.model_manifest()
        if manifest is None:
            return None, True
        dims = int(manifest["dims"])
        self._db.execute("BEGIN")  # one snapshot for the generation and the rows
        try:
            generation = self._generation()
            derived = kind.load(self.home, dims)
            current = derived is not None and derived.generation == generation
            if derived is None or derived.generation > generation:
                rows = self._db.execute(
                    "SELECT id, embedding FROM photos WHERE status = 'indexed' AND embedding IS NOT NULL").fetchall()
                derived = kind.build(dims, *_vectors_of(dims, rows))
            elif not current:
                rows = self._db.execute("SELECT id, status, embedding FROM photos WHERE generation > ?",
                                        (derived.generation,)).fetchall()
                live = [(photo_id, blob) for photo_id, status, blob in rows if status == "indexed" and blob is not None]
                gone = np.array([photo_id for photo_id, status, _ in rows if status != "indexed"], dtype=np.int64)
                derived.catch_up(*_vectors_of(dims, live), gone)
        finally:
            self._db.execute("COMMIT")
        derived.generation = generation
        return derived, current

    # ---- writing (the writer only) ---------------------------------------------------------------
    def _require_writer(self) -> None:
        if self._lock is None:
            raise StoreError("this store was opened for reading")

    def _write(self):
        """A transaction on the writer's SQLAlchemy engine; any write invalidates the cached counts."""
        self._require_writer()
        if self._engine is None:
            from store.engine import open_engine

            self._engine = open_engine(self.home / CATALOG_FILE, writer=True)
        self._counts.clear()
        return self._engine.begin()

    def bind_model(self, manifest: dict) -> None:
        """Bind an empty store to a model (model.json, written atomically)."""
        self._require_writer()
        write_atomically(self.home / MODEL_FILE,
                         lambda tmp: Path(tmp).write_text(json.dumps(manifest, indent=2, sort_keys=True)))
        self._manifest = dict(manifest)

    def reset(self) -> None:
        """Forget every photo, root and the model binding (`--rebuild`); run history stays."""
        from store import writes

        with self._write() as conn:
            writes.forget_everything(conn)
        vectors.remove_files(self.home)
        flat.remove_files(self.home)
        (self.home / MODEL_FILE).unlink(missing_ok=True)
        self._manifest = None
        self._index = self._flat = None
        self._index_dirty = self._flat_dirty = False

    def commit(self, changes: ChangeSet) -> None:
        """Write one batch in one transaction, then apply it to the in-memory HNSW index."""
        from store import writes

        if not changes:
            return
        fingerprint = (self.model_manifest() or {}).get("fingerprint")
        now = datetime.now()
        added: dict[int, np.ndarray] = {}
        removed: list[int] = []
        with self._write() as conn:
            generation = writes.bump_generation(conn)
            for move in changes.moves:
                writes.apply_move(conn, move, generation, added, removed)
            for photo in changes.embedded:
                values = dict(size=photo.size, mtime=photo.mtime, content_hash=photo.content_hash, width=photo.width,
                              height=photo.height, taken=photo.taken, status="indexed", error=None,
                              embedding=_blob(photo.vector), model=fingerprint, indexed_at=now, generation=generation)
                added[writes.upsert(conn, photo.path, values)] = np.asarray(photo.vector, dtype=np.float32)
            for photo in changes.failed:
                values = dict(size=photo.size, mtime=photo.mtime, content_hash=None, width=None,
                              height=None, taken=None, status="failed", error=photo.error, embedding=None,
                              model=None, indexed_at=now, generation=generation)
                removed.append(writes.upsert(conn, photo.path, values))
            if changes.deleted:
                writes.mark_deleted(conn, changes.deleted, generation)
                removed.extend(int(i) for i in changes.deleted)
        index = self._vector_index()
        if index is not None:
            for photo_id in removed:
                added.pop(photo_id, None)
            if added:
                index.add(list(added), np.stack(list(added.values())))
            index.remove(removed)
            index.generation = generation
            self._index_dirty = True

    def add_roots(self, folders: Iterable[str]) -> None:
        from store import writes

        with self._write() as conn:
            writes.add_roots(conn, folders, datetime.now())

    def record_run(self, started_at: datetime, outcome: str, summary: dict) -> None:
        from store import writes

        with self._write() as conn:
            writes.record_run(conn, started_at, outcome, json.dumps(summary, sort_keys=True))

    def save(self) -> None:
        """Save each derived file (atomically) that is behind the catalog: changed by this writer's
        commits, caught up or rebuilt after a crash, or missing (a store made by an older version)."""
        self._require_writer()
        if self.model_manifest() is None:
            return
        generation = self._generation()
        if self._index_dirty or saved_generation(self.home / vectors.SIDECAR_FILE) != generation:
            self._vector_index().save(self.home, generation)
            self._index_dirty = False
        if self._flat_dirty or saved_generation(self.home / flat.SIDECAR_FILE) != generation:
            self._flat_vectors().save(self.home, generation)
            self._flat_dirty = False
