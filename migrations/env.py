"""Alembic environment: migrations run on the connection the store hands over (store/migrate.py).

A developer making a new revision can also point Alembic at a catalog with `-x db=PATH`.
"""
from alembic import context
from sqlalchemy import create_engine

connection = context.config.attributes.get("connection")


def _run(conn) -> None:
    context.configure(connection=conn, render_as_batch=True, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    url = f"sqlite:///{context.get_x_argument(as_dictionary=True)['db']}"
    with create_engine(url).begin() as conn:
        _run(conn)
