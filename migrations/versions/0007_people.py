"""Keep what the people detectors found in each photo (model/people.py): the best person score, the
number of people, the share of the photo taken by its largest face; NULL where they did not run.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE ADD COLUMN: SQLite adds a nullable column without rewriting the table
    op.add_column("photos", sa.Column("person_score", sa.Float))
    op.add_column("photos", sa.Column("people_count", sa.Integer))
    op.add_column("photos", sa.Column("face_share", sa.Float))
    for column in ("person_score", "people_count", "face_share"):  # a people word reads the photos above a value
        op.create_index(f"ix_photos_{column}", "photos", [column])


def downgrade() -> None:
    for column in ("person_score", "people_count", "face_share"):
        op.drop_index(f"ix_photos_{column}", "photos")
    with op.batch_alter_table("photos") as batch:
        batch.drop_column("face_share")
        batch.drop_column("people_count")
        batch.drop_column("person_score")
