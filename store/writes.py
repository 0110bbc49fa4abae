"""The writer's SQL, in SQLAlchemy Core: upserts, moves and the store generation.

Only the indexer imports this (through Store's write methods), so `devsearch query` never pays for
importing SQLAlchemy; reads are plain sqlite3 in store/catalog.py.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from store.records import Move
from store.schema import meta, photos, roots, runs

CHUNK = 500  # ids per IN (...) statement


def generation(conn: Connection) -> int:
    value = conn.execute(select(meta.c.value).where(meta.c.key == "generation")).scalar()
    return int(value) if value is not None else 0


def bump_generation(conn: Connection) -> int:
    new = generation(conn) + 1
    statement = sqlite_insert(meta).values(key="generation", value=str(new))
    conn.execute(statement.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": str(new)}))
    return new


def upsert(conn: Connection, path: str, values: dict) -> int:
    statement = sqlite_insert(photos).values(path=path, **values)
    statement = statement.on_conflict_do_update(index_elements=[photos.c.path], set_=values)
    return conn.execute(statement.returning(photos.c.id)).scalar_one()


def mark_deleted(conn: Connection, ids: list[int], at_generation: int) -> None:
    for start in range(0, len(ids), CHUNK):
        chunk = [int(i) for i in ids[start:start + CHUNK]]
        conn.execute(update(photos).where(photos.c.id.in_(chunk)).values(status="deleted", generation=at_generation))


def apply_move(conn: Connection, move: Move, at_generation: int, added: dict, removed: list) -> None:
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
        added[source.id] = np.frombuffer(source.embedding, dtype=np.float32).copy()
        return
    conn.execute(update(photos).where(photos.c.id == owner).values(
        content_hash=source.content_hash, width=source.width, height=source.height, taken=source.taken,
        embedding=source.embedding, model=source.model, indexed_at=source.indexed_at, **location))
    conn.execute(update(photos).where(photos.c.id == source.id).values(status="deleted", generation=at_generation))
    added[owner] = np.frombuffer(source.embedding, dtype=np.float32).copy()
    removed.append(source.id)


def add_roots(conn: Connection, folders, now: datetime) -> None:
    for folder in folders:
        statement = sqlite_insert(roots).values(path=folder, added_at=now, last_indexed_at=now)
        conn.execute(statement.on_conflict_do_update(index_elements=[roots.c.path], set_={"last_indexed_at": now}))


def record_run(conn: Connection, started_at: datetime, outcome: str, summary_json: str) -> None:
    conn.execute(runs.insert().values(started_at=started_at, finished_at=datetime.now(), outcome=outcome,
                                      summary=summary_json))


def forget_everything(conn: Connection) -> None:
    """`--rebuild`: every photo and root goes; run history stays."""
    bump_generation(conn)
    conn.execute(photos.delete())
    conn.execute(roots.delete())
