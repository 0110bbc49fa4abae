"""The SQLite engine for a catalog: WAL, real transactions, a busy timeout.

pysqlite's default transaction handling skips BEGIN before DDL, so a migration would not be atomic;
here the driver's own handling is switched off and every transaction starts with an explicit BEGIN
(IMMEDIATE for the writer, so it takes the write lock up front instead of failing half-way).
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event

from devsearch.store.reader import exact_text

BUSY_TIMEOUT_MS = 10_000
WRITER_CACHE_KIB = 256 * 1024  # the path and hash indexes of a million photos stay in the writer's page cache


def open_engine(catalog: Path, *, writer: bool) -> Engine:
    """An engine on the catalog file; the writer's commits are durable (synchronous=FULL)."""
    engine = create_engine(f"sqlite:///{catalog}")

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.text_factory = exact_text
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA synchronous = {'FULL' if writer else 'NORMAL'}")
        if writer:
            cursor.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine
