"""The initial catalog: photos, roots, meta.

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.Text, nullable=False, unique=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("mtime", sa.Float, nullable=False),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("taken", sa.DateTime),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("embedding", sa.LargeBinary),
        sa.Column("model", sa.String(200)),
        sa.Column("indexed_at", sa.DateTime),
        sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_photos_generation", "photos", ["generation"])
    op.create_table(
        "roots",
        sa.Column("path", sa.Text, primary_key=True),
        sa.Column("added_at", sa.DateTime, nullable=False),
        sa.Column("last_indexed_at", sa.DateTime),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("meta")
    op.drop_table("roots")
    op.drop_index("ix_photos_generation", "photos")
    op.drop_table("photos")
