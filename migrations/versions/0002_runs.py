"""Remember each index run (for `devsearch status`) and index content hashes (for move detection).

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_index("ix_photos_content_hash", "photos", ["content_hash"])


def downgrade() -> None:
    op.drop_index("ix_photos_content_hash", "photos")
    op.drop_table("runs")
