"""Bring a catalog's schema to the head Alembic revision, without Alembic when it is already there.

Importing Alembic and SQLAlchemy costs a few hundred milliseconds, so opening a current catalog
only reads the version row with sqlite3 and compares it with SCHEMA_HEAD;
tests/test_migrations.py checks SCHEMA_HEAD is Alembic's head.
"""
from __future__ import annotations

from pathlib import Path

from devsearch.core.errors import StoreError

SCHEMA_HEAD = "0007"


def schema_revision(catalog: Path) -> str | None:
    """The catalog's Alembic revision, None for a new file or one with no schema yet."""
    if not catalog.is_file():
        return None
    from devsearch.store.reader import connect

    db = connect(catalog)
    try:
        has_table = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").fetchone()
        return db.execute("SELECT version_num FROM alembic_version").fetchone()[0] if has_table else None
    finally:
        db.close()


def alembic_config():
    """A Config whose scripts are the installed `migrations` package (no alembic.ini needed)."""
    from alembic.config import Config

    from devsearch import migrations

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return config


def ensure_schema(catalog: Path) -> None:
    """Create or upgrade the catalog when it is not at SCHEMA_HEAD (the only path that loads SQLAlchemy)."""
    if schema_revision(catalog) == SCHEMA_HEAD:
        return
    from sqlalchemy.exc import DBAPIError

    from devsearch.store.sqlite_engine import open_engine

    engine = open_engine(catalog, writer=True)
    try:
        upgrade_schema(engine, catalog)
    except DBAPIError as exc:  # callers handle sqlite3's own errors
        raise exc.orig from None
    finally:
        engine.dispose()


def upgrade_schema(engine, catalog: Path, target: str = "head") -> None:
    """Apply the missing revisions in one transaction; refuse a catalog newer than this code."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError
    from sqlalchemy import text

    with engine.connect() as connection:
        exists = connection.execute(text(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")).first()
        current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar() if exists else None
    config = alembic_config()
    if current is not None:
        try:
            ScriptDirectory.from_config(config).get_revision(current)
        except CommandError:
            raise StoreError(
                f"the store {catalog} has schema revision {current!r}, newer than this devsearch knows: "
                "upgrade devsearch, or use another --home"
            ) from None
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)
