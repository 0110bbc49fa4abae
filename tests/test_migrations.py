"""Alembic: a new store is at head, an old store is upgraded in place with its data, a newer one refused."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from devsearch.core.errors import StoreError
from devsearch.store.catalog import CATALOG_FILE, Store
from devsearch.store.sqlite_engine import open_engine
from devsearch.store.migrate import SCHEMA_HEAD, alembic_config, upgrade_schema
from devsearch.store.schema import metadata

FIRST_REVISION = "0001"


def version_of(catalog: Path) -> str:
    with sqlite3.connect(catalog) as conn:
        return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]


def test_schema_head_is_alembics_head() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_HEAD


def test_a_new_store_is_at_the_head_revision(tmp_path: Path) -> None:
    Store.open(tmp_path, writer=True).close()
    assert version_of(tmp_path / CATALOG_FILE) == SCHEMA_HEAD


def test_the_head_revision_creates_the_tables_the_code_uses(tmp_path: Path) -> None:
    Store.open(tmp_path, writer=True).close()
    engine = open_engine(tmp_path / CATALOG_FILE, writer=False)
    with engine.connect() as conn:
        found = {name: {c["name"] for c in inspect(conn).get_columns(name)} for name in metadata.tables}
        indexes = {i["name"] for i in inspect(conn).get_indexes("photos")}
    engine.dispose()
    assert found == {name: {c.name for c in table.columns} for name, table in metadata.tables.items()}
    assert indexes == {i.name for i in metadata.tables["photos"].indexes}


def test_upgrading_from_the_first_revision_keeps_the_photos(tmp_path: Path) -> None:
    catalog = tmp_path / CATALOG_FILE
    engine = open_engine(catalog, writer=True)
    upgrade_schema(engine, catalog, target=FIRST_REVISION)
    engine.dispose()
    with sqlite3.connect(catalog) as conn:  # a store written by the first version of devsearch
        conn.execute("INSERT INTO photos (path, size, mtime, content_hash, status, embedding, generation) "
                     "VALUES ('/p/a.jpg', 10, 1.5, 'h', 'indexed', x'0000803f', 1)")
    with Store.open(tmp_path, writer=True) as store:
        record = store.find_by_path(Path("/p/a.jpg"))
        assert (record.size, record.content_hash, list(store.vector_of(record.id))) == (10, "h", [1.0])
        assert store.last_run() is None  # the runs table came with the upgrade
    assert version_of(catalog) == SCHEMA_HEAD


def test_a_store_newer_than_this_code_is_refused(tmp_path: Path) -> None:
    Store.open(tmp_path, writer=True).close()
    with sqlite3.connect(tmp_path / CATALOG_FILE) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="newer than this devsearch"):
        Store.open(tmp_path, writer=True)


def test_a_failed_upgrade_changes_nothing(tmp_path: Path) -> None:
    catalog = tmp_path / CATALOG_FILE
    engine = open_engine(catalog, writer=True)
    upgrade_schema(engine, catalog, target=FIRST_REVISION)
    with engine.begin() as conn:  # in the way of revision 0002's second step
        conn.exec_driver_sql("CREATE INDEX ix_photos_content_hash ON photos (path)")
    with pytest.raises(Exception, match="ix_photos_content_hash"):
        upgrade_schema(engine, catalog)
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
    engine.dispose()
    assert version_of(catalog) == FIRST_REVISION and "runs" not in tables
