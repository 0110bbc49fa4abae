"""Bring a catalog's schema to the head Alembic revision, without Alembic when it is already there.

Importing Alembic costs a few hundred milliseconds, so `devsearch query` only reads the version row
and compares it with SCHEMA_HEAD; tests/test_migrations.py checks SCHEMA_HEAD is Alembic's head.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from core.errors import StoreError

SCHEMA_HEAD = "0002"


def current_revision(connection: Connection) -> str | None:
    """The catalog's Alembic revision, None for a catalog with no schema yet."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def alembic_config():
    """A Config whose scripts are the installed `migrations` package (no alembic.ini needed)."""
    from alembic.config import Config

    import migrations

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return config


def upgrade_schema(engine: Engine, catalog: Path, target: str = "head") -> None:
    """Apply the missing revisions in one transaction; refuse a catalog newer than this code."""
    with engine.connect() as connection:
        current = current_revision(connection)
    if current == SCHEMA_HEAD and target == "head":
        return
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

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
