"""The store: an SQLite catalog (the truth) plus the HNSW index derived from it, bound to one model.

Readers open it without a lock and never block; the one writer (the indexer) holds the lock file.
A writer's changes go through commit(), one transaction per batch, each bumping the store
generation; the HNSW file remembers the generation it reflects, so a store left behind by a crash
is caught up from the rows changed since (or rebuilt when the file is missing or damaged).
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, func, or_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DatabaseError, OperationalError

from core.errors import EmptyStoreError, ModelMismatchError, StoreError
from store.engine import open_engine
from store.lock import WriterLock
from store.migrate import upgrade_schema
from store.schema import meta, photos, roots, runs
from store.vectors import VectorIndex, read_generation, remove_files

CATALOG_FILE = "catalog.sqlite"
MODEL_FILE = "model.json"
_CHUNK = 500  # ids per IN (...) query


@dataclass(frozen=True)
class PhotoRecord:
    """One catalog row, without its vector."""

    id: int
    path: str
    size: int
    mtime: float
    content_hash: str
    width: int | None
    height: int | None
    taken: datetime | None
    status: str  # indexed | failed | deleted
    error: str | None
    indexed_at: datetime | None


@dataclass(frozen=True)
class KnownFile:
    """What the indexer compares a file on disk with."""

    id: int
    size: int
    mtime: float
    status: str


@dataclass(frozen=True)
class EmbeddedPhoto:
    path: str
    size: int
    mtime: float
    content_hash: str
    width: int
    height: int
    taken: datetime | None
    vector: np.ndarray  # float32 (dims,), unit


@dataclass(frozen=True)
class FailedPhoto:
    """A file that could not be decoded; it keeps no content hash, so it is never a move source."""

    path: str
    size: int
    mtime: float
    error: str


@dataclass(frozen=True)
class Move:
    """The file at `path` has the content of photo `source_id`, whose own path is gone."""

    source_id: int
    path: str
    size: int
    mtime: float


@dataclass
class ChangeSet:
    """What one commit writes, in one transaction."""

    embedded: list[EmbeddedPhoto] = field(default_factory=list)
    failed: list[FailedPhoto] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)  # ids whose files are gone

    def __bool__(self) -> bool:
        return bool(self.embedded or self.failed or self.moves or self.deleted)


def _prefix_range(folder: str) -> tuple[str, str, str]:
    """(folder, lowest, above-highest) such that paths inside folder are in [lowest, above-highest)."""
    exact = folder.rstrip("/") or "/"
    prefix = exact if exact.endswith("/") else exact + "/"
    return exact, prefix, prefix[:-1] + chr(ord("/") + 1)


def under_condition(column, folder: str):
    """SQL for `column is folder or inside it`, as a range so the path index is used."""
    exact, prefix, upper = _prefix_range(folder)
    return or_(column == exact, (column >= prefix) & (column < upper))


def failure_reason(error: str) -> str:
    """The reason an error message starts with ("corrupt or truncated image: ..." -> its first part)."""
    return error.split(":", 1)[0]


def _blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def _vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32).copy()


def _record(row) -> PhotoRecord:
    return PhotoRecord(id=row.id, path=row.path, size=row.size, mtime=row.mtime, content_hash=row.content_hash,
                       width=row.width, height=row.height, taken=row.taken, status=row.status, error=row.error,
                       indexed_at=row.indexed_at)


_RECORD_COLUMNS = [c for c in photos.c if c.name not in ("embedding", "model", "generation")]
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


class Store:
    """Open with Store.open(home) to read, Store.open(home, writer=True) to index."""

    def __init__(self, home: Path, engine, lock: WriterLock | None):
        self.home = home
        self._engine = engine
        self._lock = lock
        self._index: VectorIndex | None = None
        self._index_dirty = False
        self._manifest: dict | None = None

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
        lock = None
        engine = None
        try:
            if writer:
                home.mkdir(parents=True, exist_ok=True)
                lock = WriterLock(home)
                lock.acquire()
            engine = open_engine(catalog, writer=writer)
            upgrade_schema(engine, catalog)
            store = cls(home, engine, lock)
            if not writer and not allow_empty and store.count() == 0:
                raise empty
        except OperationalError as exc:
            cls._discard(engine, lock)
            raise StoreError(f"cannot open the catalog {catalog} ({exc.orig}): try again") from None
        except DatabaseError as exc:
            cls._discard(engine, lock)
            raise StoreError(f"{catalog} is not a usable devsearch catalog ({exc.orig}): use another --home") from None
        except BaseException:
            cls._discard(engine, lock)
            raise
        return store

    @staticmethod
    def _discard(engine, lock: WriterLock | None) -> None:
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
            self._discard(self._engine, self._lock)
            self._lock = None

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
        with self._engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(photos).where(photos.c.status == status)).scalar_one()

    def knn(self, vector: np.ndarray, k: int, *, allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(photo id, cosine similarity), best first; with allowed_ids, up to k among those."""
        index = self._vector_index()
        if index is None:
            return []
        return index.knn(vector, k, self.count(), allowed_ids)

    def get(self, ids: Sequence[int]) -> list[PhotoRecord]:
        """The records of ids, in the same order (ids not in the catalog are left out)."""
        found: dict[int, PhotoRecord] = {}
        wanted = [int(i) for i in ids]
        with self._engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start:start + _CHUNK]
                for row in conn.execute(select(*_RECORD_COLUMNS).where(photos.c.id.in_(chunk))):
                    found[row.id] = _record(row)
        return [found[i] for i in wanted if i in found]

    def ids_matching(self, *, under: Path | None = None, after: datetime | None = None,
                     before: datetime | None = None) -> np.ndarray:
        """Ids of indexed photos inside `under`, taken (EXIF time, else mtime) in [after, before]."""
        query = select(photos.c.id).where(photos.c.status == "indexed")
        if under is not None:
            query = query.where(under_condition(photos.c.path, os.path.realpath(under)))
        if after is not None or before is not None:
            when = func.coalesce(func.strftime(_DATE_FORMAT, photos.c.taken),
                                 func.strftime(_DATE_FORMAT, photos.c.mtime, "unixepoch", "localtime"))
            if after is not None:
                query = query.where(when >= after.strftime(_DATE_FORMAT))
            if before is not None:
                query = query.where(when <= before.strftime(_DATE_FORMAT))
        with self._engine.connect() as conn:
            return np.fromiter(conn.execute(query.order_by(photos.c.id)).scalars(), dtype=np.int64)

    def find_by_path(self, path: Path) -> PhotoRecord | None:
        """The row of a file, whatever its status; the path as given, else with symlinks resolved."""
        with self._engine.connect() as conn:
            for candidate in dict.fromkeys((os.path.abspath(path), os.path.realpath(path))):
                row = conn.execute(select(*_RECORD_COLUMNS).where(photos.c.path == candidate)).first()
                if row is not None:
                    return _record(row)
        return None

    def find_by_hash(self, content_hash: str) -> list[PhotoRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(*_RECORD_COLUMNS).where(photos.c.content_hash == content_hash)
                                .order_by(photos.c.id))
            return [_record(row) for row in rows]

    def vector_of(self, photo_id: int) -> np.ndarray:
        with self._engine.connect() as conn:
            blob = conn.execute(select(photos.c.embedding).where(photos.c.id == int(photo_id))).scalar()
        if blob is None:
            raise StoreError(f"photo {photo_id} has no vector in {self.home}")
        return _vector(blob)

    def failure_counts(self) -> dict[str, int]:
        """Failed files by reason (the part of the error before its first colon)."""
        counts: dict[str, int] = {}
        with self._engine.connect() as conn:
            rows = conn.execute(select(photos.c.error, func.count()).where(photos.c.status == "failed")
                                .group_by(photos.c.error))
            for error, number in rows:
                reason = failure_reason(error or "unknown")
                counts[reason] = counts.get(reason, 0) + number
        return counts

    def roots(self) -> list[str]:
        with self._engine.connect() as conn:
            return list(conn.execute(select(roots.c.path).order_by(roots.c.path)).scalars())

    def last_run(self) -> dict | None:
        """The most recent index run: when, how it ended, and its summary counts."""
        with self._engine.connect() as conn:
            row = conn.execute(select(runs).order_by(runs.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        return {"started_at": row.started_at.isoformat(timespec="seconds"),
                "finished_at": row.finished_at.isoformat(timespec="seconds"),
                "outcome": row.outcome, **json.loads(row.summary)}

    # ---- the HNSW index ------------------------------------------------------------------------
    def _vector_index(self) -> VectorIndex | None:
        """Load the index once, catching it up with (or rebuilding it from) the catalog."""
        if self._index is not None:
            return self._index
        manifest = self.model_manifest()
        if manifest is None:
            return None
        dims = int(manifest["dims"])
        with self._engine.begin() as conn:  # one snapshot for the generation and the rows
            generation = _generation(conn)
            index = VectorIndex.load(self.home, dims)
            if index is None or index.generation > generation:
                index = self._rebuild(conn, dims)
                self._index_dirty = True
            elif index.generation < generation:
                self._catch_up(conn, index)
                self._index_dirty = True
        index.generation = generation
        self._index = index
        return index

    @staticmethod
    def _rebuild(conn: Connection, dims: int) -> VectorIndex:
        rows = conn.execute(select(photos.c.id, photos.c.embedding).where(
            (photos.c.status == "indexed") & photos.c.embedding.is_not(None))).all()
        index = VectorIndex.empty(dims, capacity=int(len(rows) * 1.25) + 1024)
        if rows:
            vectors = np.frombuffer(b"".join(r.embedding for r in rows), dtype=np.float32).reshape(len(rows), dims)
            index.add([r.id for r in rows], vectors)
        return index

    @staticmethod
    def _catch_up(conn: Connection, index: VectorIndex) -> None:
        rows = conn.execute(select(photos.c.id, photos.c.status, photos.c.embedding)
                            .where(photos.c.generation > index.generation)).all()
        live = [r for r in rows if r.status == "indexed" and r.embedding is not None]
        if live:
            index.add([r.id for r in live], np.stack([_vector(r.embedding) for r in live]))
        index.remove([r.id for r in rows if r.status != "indexed"])

    # ---- writing (the writer only) ---------------------------------------------------------------
    def _require_writer(self) -> None:
        if self._lock is None:
            raise StoreError("this store was opened for reading")

    def bind_model(self, manifest: dict) -> None:
        """Bind an empty store to a model (model.json, written atomically)."""
        self._require_writer()
        fd, tmp = tempfile.mkstemp(dir=self.home, prefix=".model-", suffix=".json")
        with os.fdopen(fd, "w") as handle:
            json.dump(manifest, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.home / MODEL_FILE)
        self._manifest = dict(manifest)

    def reset(self) -> None:
        """Forget every photo, root and the model binding (`--rebuild`); run history stays."""
        self._require_writer()
        with self._engine.begin() as conn:
            _bump_generation(conn)
            conn.execute(photos.delete())
            conn.execute(roots.delete())
        remove_files(self.home)
        (self.home / MODEL_FILE).unlink(missing_ok=True)
        self._manifest = None
        self._index = None
        self._index_dirty = False

    def files_under(self, folder: str) -> dict[str, KnownFile]:
        """path -> KnownFile for every row inside folder: one query, plain tuples (the hot path)."""
        with self._engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT path, id, size, mtime, status FROM photos WHERE path = ? OR (path >= ? AND path < ?)",
                _prefix_range(folder)).fetchall()
        return {path: KnownFile(photo_id, size, mtime, status) for path, photo_id, size, mtime, status in rows}

    def movable_sizes(self, folders: Iterable[str]) -> set[int]:
        """Sizes of photos whose vector a moved file could take over: deleted ones, and indexed ones
        outside `folders` (their files may have moved into them). A new file of another size is no move."""
        inside = [under_condition(photos.c.path, folder) for folder in folders]
        elsewhere = (photos.c.status == "indexed") & ~or_(*inside) if inside else photos.c.status == "indexed"
        query = select(photos.c.size).distinct().where(
            photos.c.embedding.is_not(None) & ((photos.c.status == "deleted") | elsewhere))
        with self._engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def commit(self, changes: ChangeSet) -> None:
        """Write one batch in one transaction, then apply it to the in-memory HNSW index."""
        self._require_writer()
        if not changes:
            return
        fingerprint = (self.model_manifest() or {}).get("fingerprint")
        now = datetime.now()
        added: dict[int, np.ndarray] = {}
        removed: list[int] = []
        with self._engine.begin() as conn:
            generation = _bump_generation(conn)
            for move in changes.moves:
                _apply_move(conn, move, generation, added, removed)
            for photo in changes.embedded:
                values = dict(size=photo.size, mtime=photo.mtime, content_hash=photo.content_hash, width=photo.width,
                              height=photo.height, taken=photo.taken, status="indexed", error=None,
                              embedding=_blob(photo.vector), model=fingerprint, indexed_at=now, generation=generation)
                added[_upsert(conn, photo.path, values)] = np.asarray(photo.vector, dtype=np.float32)
            for photo in changes.failed:
                values = dict(size=photo.size, mtime=photo.mtime, content_hash=None, width=None,
                              height=None, taken=None, status="failed", error=photo.error, embedding=None,
                              model=None, indexed_at=now, generation=generation)
                removed.append(_upsert(conn, photo.path, values))
            if changes.deleted:
                for start in range(0, len(changes.deleted), _CHUNK):
                    chunk = [int(i) for i in changes.deleted[start:start + _CHUNK]]
                    conn.execute(update(photos).where(photos.c.id.in_(chunk))
                                 .values(status="deleted", generation=generation))
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
        self._require_writer()
        now = datetime.now()
        with self._engine.begin() as conn:
            for folder in folders:
                statement = sqlite_insert(roots).values(path=folder, added_at=now, last_indexed_at=now)
                conn.execute(statement.on_conflict_do_update(index_elements=[roots.c.path],
                                                             set_={"last_indexed_at": now}))

    def record_run(self, started_at: datetime, outcome: str, summary: dict) -> None:
        self._require_writer()
        with self._engine.begin() as conn:
            conn.execute(runs.insert().values(started_at=started_at, finished_at=datetime.now(), outcome=outcome,
                                              summary=json.dumps(summary, sort_keys=True)))

    def save(self) -> None:
        """Save the HNSW index atomically when it changed, or when a crash left the file behind."""
        self._require_writer()
        if self._index is None:
            with self._engine.connect() as conn:
                current = _generation(conn)
            if self.model_manifest() is None or read_generation(self.home) == current:
                return
            self._vector_index()
        if self._index is not None and self._index_dirty:
            self._index.save(self.home, self._index.generation)
            self._index_dirty = False


def _generation(conn: Connection) -> int:
    value = conn.execute(select(meta.c.value).where(meta.c.key == "generation")).scalar()
    return int(value) if value is not None else 0


def _bump_generation(conn: Connection) -> int:
    generation = _generation(conn) + 1
    statement = sqlite_insert(meta).values(key="generation", value=str(generation))
    conn.execute(statement.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": str(generation)}))
    return generation


def _upsert(conn: Connection, path: str, values: dict) -> int:
    statement = sqlite_insert(photos).values(path=path, **values)
    statement = statement.on_conflict_do_update(index_elements=[photos.c.path], set_=values)
    return conn.execute(statement.returning(photos.c.id)).scalar_one()


def _apply_move(conn: Connection, move: Move, generation: int, added: dict, removed: list) -> None:
    """Give the file at move.path the vector of move.source_id without embedding it again.

    Usually the source row just takes the new path (the id stays). When another row already owns
    that path (a deleted photo there, or a file that was overwritten), that row takes the source's
    content instead and the source is marked deleted.
    """
    source = conn.execute(select(photos).where(photos.c.id == move.source_id)).one()
    owner = conn.execute(select(photos.c.id).where(photos.c.path == move.path)).scalar()
    location = dict(size=move.size, mtime=move.mtime, status="indexed", error=None, generation=generation)
    if owner is None or owner == source.id:
        conn.execute(update(photos).where(photos.c.id == source.id).values(path=move.path, **location))
        added[source.id] = _vector(source.embedding)
        return
    conn.execute(update(photos).where(photos.c.id == owner).values(
        content_hash=source.content_hash, width=source.width, height=source.height, taken=source.taken,
        embedding=source.embedding, model=source.model, indexed_at=source.indexed_at, **location))
    conn.execute(update(photos).where(photos.c.id == source.id).values(status="deleted", generation=generation))
    added[owner] = _vector(source.embedding)
    removed.append(source.id)
