"""The catalog's reads, in plain sqlite3: importing SQLAlchemy costs more than a whole `devsearch query` may take.

A reader's connection is autocommit and query-only; a multi-statement read that needs one
snapshot (the generation and the rows it describes) runs inside snapshot().
"""
from __future__ import annotations

import functools
import inspect
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from devsearch.core.errors import DamagedStoreError, DiskFullError, StoreError
from devsearch.core.vectors import unit_mask
from devsearch.store.derived.rows import say_damaged_vectors
from devsearch.store.kept_classes import TopClasses, stack
from devsearch.store.records import BOUND_MODEL, REBUILDING, KnownFile, PhotoRecord, failure_reason, prefix_range
from devsearch.model.people import PeopleSignal
from devsearch.store.derived.bonus import Bonus

CATALOG_FILE = "catalog.sqlite"
BUSY_TIMEOUT_S = 10.0
_CHUNK = 500  # ids per IN (...) query
PEOPLE_COLUMNS = ("person_score", "people_count", "face_share")  # each has an index (migration 0007)
_RECORD_COLUMNS = "id, path, size, mtime, content_hash, width, height, taken, status, error, indexed_at"
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
# When a photo was taken, as zero-padded 'YYYY-MM-DD HH:MM:SS' text, which orders as the dates do for
# years 0000-9999: its EXIF time, else its mtime in local time; an mtime beyond those years (SQLite
# gives NULL) orders after or before every date it can be compared with.
_WHEN = (f"COALESCE(strftime('{_DATE_FORMAT}', taken), strftime('{_DATE_FORMAT}', mtime, 'unixepoch', 'localtime'), "
         "CASE WHEN mtime > 0 THEN '9999-12-31 23:59:59' ELSE '0000-01-01 00:00:00' END)")


def connect(catalog: Path) -> sqlite3.Connection:
    """Autocommit reads; each multi-statement read that needs one snapshot opens its own BEGIN.

    A catalog in a folder this process cannot write (a read-only mount, a backup) or on a full disk
    is opened immutable: SQLite could not create the WAL's shared-memory file there, and no writer
    can run beside it. Only when every commit is in the main file (no WAL with frames left by a
    crash), so that reading it alone misses nothing.
    """
    try:
        db = _connect(catalog, "")
        db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.OperationalError:
        full = _disk_full(catalog.parent)
        unwritable = full or not os.access(catalog.parent, os.W_OK)
        if not unwritable or not os.access(catalog, os.R_OK):
            raise
        if not _all_in_main_file(catalog):
            if full:
                raise _full_disk(catalog) from None
            raise
        db = _connect(catalog, "?immutable=1")
    return db


_FULL_BELOW = 1 << 20  # bytes free under which a disk counts as full (SQLite needs 32 KB for a reader)


def _disk_full(folder: Path) -> bool:
    try:
        usage = os.statvfs(folder)
    except OSError:
        return False
    return usage.f_bavail * usage.f_frsize < _FULL_BELOW


def _all_in_main_file(catalog: Path) -> bool:
    """Whether no WAL with frames lies beside the catalog (the last writer checkpointed it)."""
    try:
        return catalog.with_name(catalog.name + "-wal").stat().st_size == 0
    except FileNotFoundError:
        return True


def _connect(catalog: Path, query: str) -> sqlite3.Connection:
    db = sqlite3.connect(f"{catalog.as_uri()}{query}", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                         check_same_thread=False)
    db.text_factory = exact_text
    db.execute("PRAGMA query_only = ON")
    return db


def exact_text(data: bytes) -> str:
    """TEXT as Python text: a file name's bytes that are not UTF-8 come back as surrogate escapes,
    as os.fsdecode gives them (store/schema.py's ExactText stores them so)."""
    return data.decode("utf-8", "surrogateescape")


_PATH = "CAST(? AS TEXT)"  # a path is bound as its exact bytes (os.fsencode) and compared as TEXT


def _full_disk(catalog: Path) -> StoreError:
    return DiskFullError(f"the catalog {catalog}")


def catalog_error(exc: sqlite3.Error, catalog: Path) -> StoreError:
    """The one-line error for what SQLite said about the catalog, with what to do."""
    said = str(exc).lower()
    if "locked" in said or "busy" in said:
        return StoreError(f"the catalog {catalog} is busy (another process holds it): try again in a moment")
    if "readonly" in said or "read-only" in said:
        return StoreError(f"the store {catalog.parent} is read-only here: give a writable --home (or DEVSEARCH_HOME)")
    if "disk is full" in said or ("disk i/o error" in said and _disk_full(catalog.parent)):
        return _full_disk(catalog)  # (SQLite says I/O error when the WAL's shared memory cannot grow)
    if "unable to open" in said:
        return StoreError(f"cannot open the catalog {catalog}: check that its folder exists and that you may read it")
    if isinstance(exc, sqlite3.OperationalError) and not said.startswith(("no such table", "no such column")):
        return StoreError(f"cannot use the catalog {catalog} ({exc}): check the disk and the folder's permissions")
    return DamagedStoreError(
        f"the catalog {catalog} is damaged ({exc}): restore it from a backup, or run `devsearch index --rebuild PATH` "
        "to index the photos again into a new one (the damaged file is kept beside it)")


def translates_catalog_errors(cls: type) -> type:
    """Every public method of cls turns an sqlite3 error into catalog_error's StoreError."""
    for name, member in list(vars(cls).items()):
        if inspect.isfunction(member) and not name.startswith("_"):
            setattr(cls, name, _translated(member))
    return cls


def _translated(method: Callable) -> Callable:
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise catalog_error(exc, self.home / CATALOG_FILE) from None
    return call


def _under_sql(folder: str) -> tuple[str, tuple[bytes, ...]]:
    """SQL for `path is folder or inside it`, as a range so the path index is used."""
    return (f"(path = {_PATH} OR (path >= {_PATH} AND path < {_PATH}))",
            tuple(os.fsencode(bound) for bound in prefix_range(folder)))


def _date_text(moment: datetime) -> str:
    """moment as _WHEN writes dates: the year zero-padded (strftime writes year 999 as '999')."""
    return moment.isoformat(sep=" ", timespec="seconds")


_EPOCH = datetime(1970, 1, 1)
_BAND_S = 86_400  # more than any zone's offset from UTC (at most 14 h): an mtime this far from a date
# lies on the same side of it in local time as in UTC
_LAST = "9999-12-31 23:59:59"  # the latest date _WHEN writes


def _when_from(moment: datetime) -> tuple[str, list]:
    """SQL and parameters for `_WHEN >= moment`, to the second, without converting most rows' dates:
    an EXIF time is compared as the zero-padded text it is stored as (its fraction of a second cannot
    carry it across a whole-second bound), and an mtime a day or more from the moment is decided by
    its epoch; only the rest take _WHEN's local-time conversion (1.1 s -> 0.4 s at 1M photos)."""
    text, naive = _date_text(moment), (moment - _EPOCH).total_seconds()
    return (f"(CASE WHEN taken IS NOT NULL THEN taken >= ? WHEN mtime >= ? THEN 1 WHEN mtime < ? THEN 0 "
            f"ELSE {_WHEN} >= ? END)", [text, naive + _BAND_S, naive - _BAND_S, text])


def _when_until(moment: datetime) -> tuple[str, list]:
    """SQL and parameters for `_WHEN <= moment`, to the second, as _when_from does it."""
    text, naive = _date_text(moment), (moment - _EPOCH).total_seconds()
    if text >= _LAST:
        return "1", []  # every date _WHEN writes, even an mtime beyond year 9999's
    following = _date_text(moment.replace(microsecond=0) + timedelta(seconds=1))
    return (f"(CASE WHEN taken IS NOT NULL THEN taken < ? WHEN mtime >= ? THEN 0 WHEN mtime < ? THEN 1 "
            f"ELSE {_WHEN} <= ? END)", [following, naive + _BAND_S, naive - _BAND_S, text])


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _record(row: tuple) -> PhotoRecord:
    photo_id, path, size, mtime, content_hash, width, height, taken, status, error, indexed_at = row
    return PhotoRecord(id=photo_id, path=path, size=size, mtime=mtime, content_hash=content_hash, width=width,
                       height=height, taken=_when(taken), status=status, error=error, indexed_at=_when(indexed_at))


def sound_rows(dims: int, blobs: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(which of the embedding blobs are sound, their float32 matrix (N, dims)): a sound blob is dims
    float32 numbers making a finite unit vector; the rows of the others are zeros."""
    right_size = np.fromiter((len(blob) == 4 * dims for blob in blobs), dtype=bool, count=len(blobs))
    if right_size.all():
        joined = b"".join(blobs)
    else:
        zeros = bytes(4 * dims)
        joined = b"".join(blob if fits else zeros for blob, fits in zip(blobs, right_size))
    matrix = np.frombuffer(joined, dtype=np.float32).reshape(len(blobs), dims)
    return right_size & unit_mask(matrix), matrix


@translates_catalog_errors
class CatalogReader:
    """Every read of the catalog, on one sqlite3 connection."""

    def __init__(self, home: Path, db: sqlite3.Connection):
        self.home = home
        self._db = db
        self._counts: dict[str, int] = {}
        self._damaged: set[int] = set()  # photos whose stored vector was found damaged
        self._said_damaged = False  # ... which is said once

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

    def _rows_of(self, ids: Iterable[int], columns: str, condition: str = "") -> Iterator[tuple]:
        """The rows of `columns` of the photos ids (that also meet condition, "AND ..."), asked in chunks
        within SQLite's limit on bound parameters."""
        wanted = [int(i) for i in ids]
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            yield from self._db.execute(f"SELECT {columns} FROM photos WHERE id IN ({marks}) {condition}", chunk)

    def get(self, ids: Sequence[int]) -> list[PhotoRecord]:
        """The records of ids, in the same order (ids not in the catalog are left out)."""
        found = {row[0]: _record(row) for row in self._rows_of(ids, _RECORD_COLUMNS)}
        return [found[int(i)] for i in ids if int(i) in found]

    def ids_matching(self, *, under: Path | None = None, after: datetime | None = None,
                     before: datetime | None = None) -> np.ndarray:
        """Ids of indexed photos inside `under`, taken (EXIF time, else mtime) in [after, before],
        compared to the second."""
        clauses, params = ["status = 'indexed'"], []
        if under is not None:
            sql, values = _under_sql(os.path.realpath(under))
            clauses = ["+status = 'indexed'", sql]  # `+`: search the path index, not the status one (a folder
            params.extend(values)                   # of 1,000 among 1M photos: 1 ms instead of 0.38 s)
        for bound, condition in ((after, _when_from), (before, _when_until)):
            if bound is not None:
                sql, values = condition(bound)
                clauses.append(sql)
                params.extend(values)
        rows = self._db.execute(f"SELECT id FROM photos WHERE {' AND '.join(clauses)}", params)
        return np.sort(np.fromiter((row[0] for row in rows), dtype=np.int64))

    def ids_by_date(self) -> np.ndarray:
        """Ids of indexed photos, newest first by the date the date filters use (EXIF time, else
        mtime), ties by id descending. A sort of every row (no index can hold a local time): a
        long-lived caller keeps the answer for its generation."""
        rows = self._db.execute(f"SELECT id FROM photos WHERE status = 'indexed' ORDER BY {_WHEN} DESC, id DESC")
        return np.fromiter((row[0] for row in rows), dtype=np.int64)

    def find_by_path(self, path: Path) -> PhotoRecord | None:
        """The row of a file, whatever its status; the path as given, else with symlinks resolved."""
        for candidate in dict.fromkeys((os.path.abspath(path), os.path.realpath(path))):
            row = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM photos WHERE path = {_PATH}",
                                   (os.fsencode(candidate),)).fetchone()
            if row is not None:
                return _record(row)
        return None

    def find_by_hash(self, content_hash: str, *, with_vector: bool = False) -> list[PhotoRecord]:
        """The rows of this content, by id; with_vector: only those that keep a vector (a moved file
        can take it over; a row `--rebuild` forgot keeps none)."""
        vector = " AND embedding IS NOT NULL" if with_vector else ""
        rows = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM photos WHERE content_hash = ?{vector} ORDER BY id",
                                (content_hash,))
        return [_record(row) for row in rows]

    def vector_of(self, photo_id: int) -> np.ndarray:
        row = self._db.execute("SELECT embedding FROM photos WHERE id = ?", (int(photo_id),)).fetchone()
        if row is None or row[0] is None:
            raise StoreError(f"photo {photo_id} has no vector in {self.home}")
        sound, matrix = sound_rows(len(row[0]) // 4, [row[0]])
        if not sound[0]:
            raise StoreError(f"the stored vector of photo {photo_id} in {self.home} is damaged: "
                             "run `devsearch index` on its folder to embed it again from its file")
        return matrix[0].copy()

    def _vectors_of(self, dims: int, rows: list[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
        """(ids, float32 matrix) of the (id, embedding blob) rows whose vector is sound (sound_rows).
        The others are damage: left out, with one warning line the first time."""
        sound, matrix = sound_rows(dims, [blob for _, blob in rows])
        ids = np.array([photo_id for photo_id, _ in rows], dtype=np.int64)
        if sound.all():
            return ids, matrix
        self._say_damaged(ids[~sound])
        return ids[sound], matrix[sound]

    def _say_damaged(self, ids: np.ndarray) -> None:
        if not self._said_damaged:
            say_damaged_vectors(self.home, ids)
            self._said_damaged = True
        self._damaged.update(ids.tolist())

    def damaged_vectors(self) -> set[int]:
        """The photos whose stored vector was found damaged so far (by any read of vectors)."""
        return set(self._damaged)

    def failure_counts(self) -> dict[str, int]:
        """Failed files by reason (the part of the error before its first colon)."""
        counts: dict[str, int] = {}
        rows = self._db.execute("SELECT error, COUNT(*) FROM photos WHERE status = 'failed' GROUP BY error")
        for error, number in rows:
            reason = failure_reason(error or "unknown")
            counts[reason] = counts.get(reason, 0) + number
        return counts

    def failed_files(self) -> list[tuple[str, str]]:
        """(path, error) of every file that failed, by path."""
        return self._db.execute("SELECT path, error FROM photos WHERE status = 'failed' ORDER BY path").fetchall()

    def skipped_files(self) -> list[tuple[str, str]]:
        """(path, reason) of every entry the last crawl of its root skipped, by path."""
        return self._db.execute("SELECT path, reason FROM skipped ORDER BY path").fetchall()

    def skip_counts(self) -> dict[str, int]:
        """Skipped entries by reason."""
        return dict(self._db.execute("SELECT reason, COUNT(*) FROM skipped GROUP BY reason ORDER BY reason"))

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

    def files_under(self, folder: str, dims: int | None = None) -> dict[str, KnownFile]:
        """path -> KnownFile for every row inside folder: one query, plain tuples (the hot path). With
        dims, each indexed row's stored vector is checked too (KnownFile.damaged), in the same pass
        (about 0.1 s more at 100k rows here, a tenth of the query; a query of its own cost 0.3-0.5 s)."""
        sql, params = _under_sql(folder)
        vector = "embedding" if dims else "NULL"
        rows = self._db.execute(f"SELECT path, id, size, mtime, status, model, person_score IS NOT NULL, {vector} "
                                f"FROM photos WHERE {sql}", params).fetchall()
        damaged: set[int] = set()
        if dims:
            stored = [(row[1], row[7]) for row in rows if row[4] == "indexed" and row[7] is not None]
            sound, _ = sound_rows(dims, [blob for _, blob in stored])
            damaged = {stored[row][0] for row in np.flatnonzero(~sound)}
        return {path: KnownFile(photo_id, size, mtime, status, model, bool(people), photo_id in damaged)
                for path, photo_id, size, mtime, status, model, people, _ in rows}

    def top_classes_of(self, ids: Sequence[int]) -> dict[int, TopClasses]:
        """The kept top classes of these photos (those that have some)."""
        return {photo_id: TopClasses.from_blob(blob)
                for photo_id, blob in self._rows_of(ids, "id, top_classes", "AND top_classes IS NOT NULL")}

    def people_of(self, ids: Sequence[int]) -> dict[int, PeopleSignal]:
        """What the people detectors found in these photos (those they looked at)."""
        rows = self._rows_of(ids, "id, person_score, people_count, face_share", "AND person_score IS NOT NULL")
        return {photo_id: PeopleSignal(score, count or 0, share or 0.0) for photo_id, score, count, share in rows}

    def people_values(self, column: str, at_least: float) -> Bonus:
        """One people column (PEOPLE_COLUMNS) of every indexed photo where it is at least at_least
        (> 0), dense by photo id, 0 elsewhere. The column's index finds them: a word about people
        reads the photos with people, not every row."""
        if column not in PEOPLE_COLUMNS:
            raise ValueError(f"not a people column: {column}")
        # `+status`: not the status index, which SQLite prefers for the equality and which makes this a scan of
        # every indexed photo (52 ms at 100k); the column's own index reads only the photos with people
        rows = self._db.execute(f"SELECT id, {column} FROM photos WHERE {column} >= ? AND +status = 'indexed'",
                                (at_least,)).fetchall()
        if not rows:
            return Bonus(np.zeros(0, dtype=np.float32))
        ids = np.array([photo_id for photo_id, _ in rows], dtype=np.int64)
        values = np.zeros(int(ids.max()) + 1, dtype=np.float32)
        values[ids] = [value for _, value in rows]
        return Bonus(values)

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

    def binding_evidence(self, fingerprint: str) -> tuple[str | None, list[int], str | None]:
        """What the catalog says of the model it is bound to: the fingerprint it recorded at binding
        (None in stores bound before it did), the vector sizes in bytes of a few indexed photos that
        fingerprint embedded, and the model of the first indexed photo (None: no photo indexed)."""
        recorded = self._db.execute("SELECT value FROM meta WHERE key = ?", (BOUND_MODEL,)).fetchone()
        sizes = [row[0] for row in self._db.execute(
            "SELECT length(embedding) FROM photos WHERE status = 'indexed' AND model = ? AND embedding IS NOT NULL "
            "LIMIT 3", (fingerprint,))]
        first = self._db.execute("SELECT model FROM photos WHERE status = 'indexed' LIMIT 1").fetchone()
        return (None if recorded is None else recorded[0]), sizes, (None if first is None else first[0] or "")

    def rebuilding(self) -> bool:
        """Whether `index --rebuild` emptied the store and has not committed a photo since."""
        return self._db.execute("SELECT 1 FROM meta WHERE key = ?", (REBUILDING,)).fetchone() is not None

    def last_id(self) -> int:
        """The largest photo id of the catalog (rows are never removed, only marked deleted, so no
        derived file of it names a larger one)."""
        return self._db.execute("SELECT MAX(id) FROM photos").fetchone()[0] or 0

    def store_id(self) -> str:
        """The random identity the catalog was created with (the files derived from it name it)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
        return row[0] if row is not None else ""

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
        self._damaged.clear()  # every row is read: the damaged ones are exactly those found now
        return self._vectors_of(dims, rows)

    def indexed_vectors_of(self, ids: Sequence[int], dims: int) -> dict[int, np.ndarray]:
        """id -> float32 vector of those ids that are indexed photos."""
        rows = list(self._rows_of(ids, "id, embedding", "AND status = 'indexed' AND embedding IS NOT NULL"))
        found_ids, vectors = self._vectors_of(dims, rows)
        return dict(zip(found_ids.tolist(), vectors))

    def changed_since(self, generation: int, dims: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, rows) of photos (re)indexed after generation, and the ids no longer indexed since."""
        rows = self._db.execute("SELECT id, status, embedding FROM photos WHERE generation > ?",
                                (generation,)).fetchall()
        live = [(photo_id, blob) for photo_id, status, blob in rows if status == "indexed" and blob is not None]
        gone = np.array([photo_id for photo_id, status, _ in rows if status != "indexed"], dtype=np.int64)
        ids, vectors = self._vectors_of(dims, live)
        damaged = np.array([photo_id for photo_id, _ in live if photo_id in self._damaged], dtype=np.int64)
        return ids, vectors, np.concatenate([gone, damaged])

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
