"""Buckets of the object store get an owner: the first account that names one in a create or update call.

Buckets referenced by resources created before this revision stay unclaimed; the first create that names
one claims it.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bucket_owners",
        sa.Column("bucket", sa.String(255), primary_key=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("creation_time", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bucket_owners")
