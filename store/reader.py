"""The catalog's reads, in plain sqlite3: importing SQLAlchemy costs more than a whole `devsearch query` may take.

A reader's connection is autocommit and query-only; a multi-statement read that needs one
snapshot (the generation and the rows it describes) runs inside snapshot().
"""
from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np

from core.errors import StoreError
from store.probabilities import TopClasses, stack
from store.records import KnownFile, PhotoRecord, failure_reason, prefix_range

BUSY_TIMEOUT_S = 10.0
_CHUNK = 500  # ids per IN (...) query
_RECORD_COLUMNS = "id, path, size, mtime, content_hash, width, height, taken, status, error, indexed_at"
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
_WHEN = f"COALESCE(strftime('{_DATE_FORMAT}', taken), strftime('{_DATE_FORMAT}', mtime, 'unixepoch', 'localtime'))"


def connect(catalog: Path) -> sqlite3.Connection:
    """Autocommit reads; each multi-statement read that needs one snapshot opens its own BEGIN."""
    db = sqlite3.connect(catalog, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA query_only = ON")
    return db


def _under_sql(folder: str) -> tuple[str, tuple[str, str, str]]:
    """SQL for `path is folder or inside it`, as a range so the path index is used."""
    return "(path = ? OR (path >= ? AND path < ?))", prefix_range(folder)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _record(row: tuple) -> PhotoRecord:
    photo_id, path, size, mtime, content_hash, width, height, taken, status, error, indexed_at = row
    return PhotoRecord(id=photo_id, path=path, size=size, mtime=mtime, content_hash=content_hash, width=width,
                       height=height, taken=_when(taken), status=status, error=error, indexed_at=_when(indexed_at))


def _vectors_of(dims: int, rows: list[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, float32 matrix) of (id, embedding blob) rows."""
    ids = np.array([photo_id for photo_id, _ in rows], dtype=np.int64)
    return ids, np.frombuffer(b"".join(blob for _, blob in rows), dtype=np.float32).reshape(len(rows), dims)


class CatalogReader:
    """Every read of the catalog, on one sqlite3 connection."""

    def __init__(self, home: Path, db: sqlite3.Connection):
        self.home = home
        self._db = db
        self._counts: dict[str, int] = {}

    def forget_counts(self) -> None:
        """After a write: the cached counts describe an older snapshot."""
        self._counts.clear()

    def count(self, status: str = "indexed") -> int:
        """Photos with this status (kept until this store's next commit: a reader sees one snapshot)."""
        if status not in self._counts:
            self._counts[status] = self._db.execute("SELECT COUNT(*) FROM photos WHERE status = ?", (status,)).fetchone()[0]
        return self._counts[status]

    def holds_photos(self) -> bool:
        """Whether any photo is indexed: the first row of the status index, not a count of 100k."""
        return self._db.execute("SELECT 1 FROM photos WHERE status = 'indexed' LIMIT 1").fetchone() is not None

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
        return np.frombuffer(row[0], dtype=np.float32).copy()

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
        rows = self._db.execute(f"SELECT path, id, size, mtime, status, model FROM photos WHERE {sql}", params)
        return {path: KnownFile(photo_id, size, mtime, status, model)
                for path, photo_id, size, mtime, status, model in rows}

    def top_classes_of(self, ids: Sequence[int]) -> dict[int, TopClasses]:
        """The kept top classes of these photos (those that have some)."""
        found: dict[int, TopClasses] = {}
        wanted = [int(i) for i in ids]
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT id, top_classes FROM photos WHERE id IN ({marks}) AND top_classes IS NOT NULL", chunk)
            found.update((photo_id, TopClasses.from_blob(blob)) for photo_id, blob in rows)
        return found

    def classes_to_reproject(self, fingerprint: str, backbone: str, after_id: int,
                             limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Indexed photos embedded by another model of this backbone, with their top classes, ids above
        after_id, at most limit: (ids, class ids (N, K), probabilities (N, K))."""
        rows = self._db.execute(
            "SELECT id, top_classes FROM photos WHERE status = 'indexed' AND top_classes IS NOT NULL "
            "AND model != ? AND substr(model, 1, ?) = ? AND id > ? ORDER BY id LIMIT ?",
            (fingerprint, len(backbone) + 1, backbone + "/", after_id, limit)).fetchall()
        return (np.array([photo_id for photo_id, _ in rows], dtype=np.int64), *stack([blob for _, blob in rows]))

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

    # ---- what the derived files are made from ------------------------------------------------
    def generation(self) -> int:
        """The store generation: bumped by every commit."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row is not None else 0

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction, so the generation and the rows read inside it agree."""
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    def indexed_vectors(self, dims: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, float32 rows) of every indexed photo."""
        rows = self._db.execute(
            "SELECT id, embedding FROM photos WHERE status = 'indexed' AND embedding IS NOT NULL").fetchall()
        return _vectors_of(dims, rows)

    def changed_since(self, generation: int, dims: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, rows) of photos (re)indexed after generation, and the ids no longer indexed since."""
        rows = self._db.execute("SELECT id, status, embedding FROM photos WHERE generation > ?",
                                (generation,)).fetchall()
        live = [(photo_id, blob) for photo_id, status, blob in rows if status == "indexed" and blob is not None]
        gone = np.array([photo_id for photo_id, status, _ in rows if status != "indexed"], dtype=np.int64)
        return (*_vectors_of(dims, live), gone)

    def indexed_classes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, class ids (N, K), probabilities (N, K)) of every indexed photo that keeps its top classes."""
        rows = self._db.execute("SELECT id, top_classes FROM photos WHERE status = 'indexed' "
                                "AND top_classes IS NOT NULL").fetchall()
        return (np.array([photo_id for photo_id, _ in rows], dtype=np.int64), *stack([blob for _, blob in rows]))

    def classes_changed_since(self, generation: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(ids, class ids, probabilities) of photos (re)indexed after generation with top classes, and
        the ids changed since that no longer have any (gone, failed, or embedded without a classifier)."""
        rows = self._db.execute("SELECT id, status, top_classes FROM photos WHERE generation > ?",
                                (generation,)).fetchall()
        live = [(photo_id, blob) for photo_id, status, blob in rows if status == "indexed" and blob is not None]
        gone = np.array([photo_id for photo_id, status, blob in rows if status != "indexed" or blob is None],
                        dtype=np.int64)
        return (np.array([photo_id for photo_id, _ in live], dtype=np.int64), *stack([blob for _, blob in live]), gone)

    def close(self) -> None:
        self._db.close()
