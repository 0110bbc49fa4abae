"""Keep each photo's top ImageNet classes and their probabilities (ranking by meaning, new projections).

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("photos", sa.Column("top_classes", sa.LargeBinary))


def downgrade() -> None:
    op.drop_column("photos", "top_classes")
