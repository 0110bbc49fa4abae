"""The catalog's writes, in SQLAlchemy Core: one transaction per batch, each bumping the store generation.

Only the writer imports this (through Store's write methods), so `devsearch query` never pays for
importing SQLAlchemy; reads are plain sqlite3 in store/reader.py.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, Dialect, and_, bindparam, delete, or_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from devsearch.core.vectors import unit_rows
from devsearch.model.people import PeopleSignal
from devsearch.store.kept_classes import TopClasses
from devsearch.store.sqlite_engine import open_engine
from devsearch.store.records import BOUND_MODEL, REBUILDING, ChangeSet, Move, Reprojected, prefix_range
from devsearch.store.schema import meta, photos, roots, runs, skipped

_CHUNK = 500  # ids per IN (...) statement


def _generation(conn: Connection) -> int:
    value = conn.execute(select(meta.c.value).where(meta.c.key == "generation")).scalar()
    return int(value) if value is not None else 0


def _set_meta(conn: Connection, key: str, value: str) -> None:
    statement = sqlite_insert(meta).values(key=key, value=value)
    conn.execute(statement.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": value}))


def _bump_generation(conn: Connection) -> int:
    new = _generation(conn) + 1
    _set_meta(conn, "generation", str(new))
    return new


_UPSERTED = ("path", "size", "mtime", "content_hash", "width", "height", "taken", "status", "error", "embedding",
             "top_classes", "model", "person_score", "people_count", "face_share", "indexed_at", "generation")


class _BulkUpsert:
    """Photos inserted or updated by path (a path already in the catalog keeps its id), all in one
    driver-level executemany: the hot path of an index run, about four times faster here than
    SQLAlchemy's per-row parameter handling (bench/writer_ceiling.py). The statement is SQLAlchemy's
    own, compiled once, and each value goes through its column type's bind processor, so the rows
    stored are those SQLAlchemy would store."""

    def __init__(self, dialect: Dialect):
        statement = sqlite_insert(photos).values({name: bindparam(name) for name in _UPSERTED})
        statement = statement.on_conflict_do_update(index_elements=[photos.c.path],
                                                    set_={name: statement.excluded[name] for name in _UPSERTED[1:]})
        compiled = statement.compile(dialect=dialect)
        if tuple(compiled.positiontup or ()) != _UPSERTED:
            raise RuntimeError(f"unexpected parameter order in {compiled}")
        self.sql = str(compiled)
        processors = [photos.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in _UPSERTED]
        self._processors = [(column, process) for column, process in enumerate(processors) if process is not None]

    def __call__(self, conn: Connection, rows: list[list]) -> None:
        """rows: values in _UPSERTED order."""
        for row in rows:
            for column, process in self._processors:
                if row[column] is not None:
                    row[column] = process(row[column])
        if rows:
            conn.exec_driver_sql(self.sql, [tuple(row) for row in rows])


def _mark_deleted(conn: Connection, ids: list[int], at_generation: int) -> None:
    for start in range(0, len(ids), _CHUNK):
        chunk = [int(i) for i in ids[start:start + _CHUNK]]
        conn.execute(update(photos).where(photos.c.id.in_(chunk)).values(status="deleted", generation=at_generation))


def _apply_move(conn: Connection, move: Move, at_generation: int) -> None:
    """Give the file at move.path the vector of move.source_id without embedding it again.

    Usually the source row just takes the new path (the id stays). When another row already owns
    that path (a deleted photo there, or a file that was overwritten), that row takes the source's
    content instead and the source is marked deleted.
    """
    source = conn.execute(select(photos).where(photos.c.id == move.source_id)).one()
    owner = conn.execute(select(photos.c.id).where(photos.c.path == move.path)).scalar()
    location = dict(size=move.size, mtime=move.mtime, status="indexed", error=None, generation=at_generation)
    if owner is None or owner == source.id:
        conn.execute(update(photos).where(photos.c.id == source.id).values(path=move.path, **location))
        return
    conn.execute(update(photos).where(photos.c.id == owner).values(
        content_hash=source.content_hash, width=source.width, height=source.height, taken=source.taken,
        embedding=source.embedding, top_classes=source.top_classes, model=source.model,
        indexed_at=source.indexed_at, person_score=source.person_score, people_count=source.people_count,
        face_share=source.face_share, **location))
    conn.execute(update(photos).where(photos.c.id == source.id).values(status="deleted", generation=at_generation))


def _reproject(conn: Connection, rows: list[Reprojected], fingerprint: str | None, at_generation: int) -> None:
    """New vectors for indexed photos, in one executemany."""
    statement = update(photos).where(photos.c.id == bindparam("photo_id")).values(
        embedding=bindparam("vector"), model=fingerprint, generation=at_generation)
    conn.execute(statement, [{"photo_id": p.id, "vector": blob} for p, blob in zip(rows, _blobs([p.vector for p in rows]))])


def _kept_blob(top: TopClasses | None) -> bytes | None:
    """A photo's kept top classes as the catalog stores them (store/kept_classes.py's blob)."""
    return None if top is None else top.to_blob()


def _people_columns(people: PeopleSignal | None) -> tuple[float | None, int | None, float | None]:
    """person_score, people_count, face_share: NULL where the detectors did not run."""
    if people is None:
        return None, None, None
    return people.person_score, people.people, people.face_share


def _blobs(vectors: list[np.ndarray]) -> list[bytes]:
    """The vectors as stored: float32, unit length (readers take any other length for damage); normed
    as one matrix, as a commit of 4,096 photos would spend a third of its time norming them one by one."""
    if not vectors:
        return []
    rows = np.ascontiguousarray(unit_rows(np.stack([np.ravel(v) for v in vectors])), dtype=np.float32)
    return [row.tobytes() for row in rows]


@contextmanager
def _sqlite_errors() -> Iterator[None]:
    """SQLAlchemy's wrapper off: the store turns sqlite3's own errors into one-line StoreErrors."""
    try:
        yield
    except DBAPIError as exc:
        raise exc.orig from None


class CatalogWriter:
    """The writer's SQLAlchemy engine on the catalog (made on the first write) and its transactions."""

    def __init__(self, catalog: Path):
        self._engine = open_engine(catalog, writer=True)
        self._upsert = _BulkUpsert(self._engine.dialect)

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with _sqlite_errors(), self._engine.begin() as conn:
            yield conn

    def commit(self, changes: ChangeSet, fingerprint: str | None) -> None:
        """Write one batch in one transaction, at a new store generation (a statement per kind of change,
        not per photo)."""
        now = datetime.now()
        with self._transaction() as conn:
            at_generation = _bump_generation(conn)
            conn.execute(delete(meta).where(meta.c.key == REBUILDING))  # a rebuild's first commit ends its wait
            for move in changes.moves:
                _apply_move(conn, move, at_generation)
            self._upsert(conn, [
                [photo.path, photo.size, photo.mtime, photo.content_hash, photo.width, photo.height, photo.taken,
                 "indexed", None, blob, _kept_blob(photo.top_classes), fingerprint,
                 *_people_columns(photo.people), now, at_generation]
                for photo, blob in zip(changes.embedded, _blobs([photo.vector for photo in changes.embedded]))])
            self._upsert(conn, [
                [photo.path, photo.size, photo.mtime, None, None, None, None, "failed", photo.error, None, None,
                 None, None, None, None, now, at_generation]
                for photo in changes.failed])
            if changes.deleted:
                _mark_deleted(conn, changes.deleted, at_generation)
            if changes.reprojected:
                _reproject(conn, changes.reprojected, fingerprint, at_generation)

    def forget_everything(self) -> None:
        """`--rebuild`: every photo is forgotten (marked deleted, its vector, classes and model gone),
        every root goes, and the catalog takes a new identity (no file derived from what it held can pass
        for its own); run history stays. The rows themselves stay, as every deleted row does: a file
        indexed again takes its old row and id back, so a link to it handed out before the rebuild (by
        `devsearch serve`) still names it, and a reader's catch-up sees every photo go."""
        with self._transaction() as conn:
            at_generation = _bump_generation(conn)
            _set_meta(conn, "store_id", secrets.token_hex(16))
            _set_meta(conn, REBUILDING, "1")
            conn.execute(update(photos).values(status="deleted", error=None, embedding=None, top_classes=None,
                                               model=None, generation=at_generation))
            conn.execute(roots.delete())
            conn.execute(skipped.delete())

    def record_binding(self, fingerprint: str) -> None:
        """The fingerprint of the model the store is being bound to (model.json is written next)."""
        with self._transaction() as conn:
            _set_meta(conn, BOUND_MODEL, fingerprint)

    def add_roots(self, folders: Iterable[str]) -> None:
        now = datetime.now()
        with self._transaction() as conn:
            for folder in folders:
                statement = sqlite_insert(roots).values(path=folder, added_at=now, last_indexed_at=now)
                conn.execute(statement.on_conflict_do_update(index_elements=[roots.c.path],
                                                             set_={"last_indexed_at": now}))

    def record_skipped(self, folders: Iterable[str], entries: Iterable[tuple[str, str]]) -> None:
        """What a complete crawl of folders skipped and why, in place of what the last one did."""
        now = datetime.now()
        with self._transaction() as conn:
            for folder in folders:
                exact, lowest, above = prefix_range(folder)
                conn.execute(skipped.delete().where(
                    or_(skipped.c.path == exact, and_(skipped.c.path >= lowest, skipped.c.path < above))))
            for path, reason in entries:
                statement = sqlite_insert(skipped).values(path=path, reason=reason, seen_at=now)
                conn.execute(statement.on_conflict_do_update(index_elements=[skipped.c.path],
                                                             set_={"reason": reason, "seen_at": now}))

    def record_run(self, started_at: datetime, outcome: str, summary: dict) -> None:
        with self._transaction() as conn:
            conn.execute(runs.insert().values(started_at=started_at, finished_at=datetime.now(), outcome=outcome,
                                              summary=json.dumps(summary, sort_keys=True)))

    def close(self) -> None:
        self._engine.dispose()
