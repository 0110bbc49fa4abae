"""Index photos by status: `devsearch query` counts indexed photos on every cold start.

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_photos_status", "photos", ["status"])


def downgrade() -> None:
    op.drop_index("ix_photos_status", "photos")
