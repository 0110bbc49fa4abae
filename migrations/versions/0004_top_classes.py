"""Keep each photo's top ImageNet classes and their probabilities (ranking by meaning, new projections).

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("photos", sa.Column("top_classes", sa.LargeBinary))


def downgrade() -> None:
    op.drop_column("photos", "top_classes")
