"""Give the catalog an identity: a random store id, created with it, that its derived files name.

A derived file (flat vectors, HNSW graph) is current only for the catalog that wrote it, so one
left beside a recreated catalog (deleted, truncated, restored) is never taken for its own.

Revision ID: 0004
Revises: 0003
"""
import secrets

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("INSERT OR REPLACE INTO meta (key, value) VALUES ('store_id', :store_id)")
               .bindparams(store_id=secrets.token_hex(16)))


def downgrade() -> None:
    op.execute("DELETE FROM meta WHERE key = 'store_id'")
