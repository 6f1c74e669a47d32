"""Batch transform jobs (CreateTransformJob & co.): the request, status, times and the runner's lease.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transform_jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("name_key", sa.String(63), nullable=False),
        sa.Column("arn", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("model_url", sa.Text, nullable=False),
        sa.Column("creation_time", sa.Float, nullable=False),
        sa.Column("last_modified_time", sa.Float, nullable=False),
        sa.Column("transform_start_time", sa.Float),
        sa.Column("transform_end_time", sa.Float),
        sa.Column("failure_reason", sa.Text),
        sa.Column("stop_requested", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_expires", sa.Float),
        sa.UniqueConstraint("account", "region", "name_key", name="uq_transform_job_name"),
    )
    op.create_index("ix_transform_jobs_status", "transform_jobs", ["status"])


def downgrade() -> None:
    op.drop_index("ix_transform_jobs_status", "transform_jobs")
    op.drop_table("transform_jobs")
