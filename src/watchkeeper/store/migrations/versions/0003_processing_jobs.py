"""Processing jobs, schedule fire times and execution windows.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processing_jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("name_key", sa.String(63), nullable=False),
        sa.Column("arn", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("creation_time", sa.Float, nullable=False),
        sa.Column("last_modified_time", sa.Float, nullable=False),
        sa.Column("processing_start_time", sa.Float),
        sa.Column("processing_end_time", sa.Float),
        sa.Column("exit_message", sa.Text),
        sa.Column("failure_reason", sa.Text),
        sa.Column("monitoring_schedule_arn", sa.String(256)),
        sa.Column("stop_requested", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_expires", sa.Float),
        sa.Column("log_uri", sa.Text),
        sa.UniqueConstraint("account", "region", "name_key", name="uq_processing_job_name"),
    )
    op.create_index("ix_processing_jobs_status", "processing_jobs", ["status"])
    with op.batch_alter_table("monitoring_schedules") as batch:
        batch.add_column(sa.Column("next_fire_time", sa.Float))
    with op.batch_alter_table("monitoring_executions") as batch:
        batch.add_column(sa.Column("processing_job_name", sa.String(63)))
        batch.add_column(sa.Column("window_start", sa.Float))
        batch.add_column(sa.Column("window_end", sa.Float))
    op.create_index("ix_executions_job", "monitoring_executions", ["processing_job_name"])


def downgrade() -> None:
    op.drop_index("ix_executions_job", "monitoring_executions")
    with op.batch_alter_table("monitoring_executions") as batch:
        batch.drop_column("window_end")
        batch.drop_column("window_start")
        batch.drop_column("processing_job_name")
    with op.batch_alter_table("monitoring_schedules") as batch:
        batch.drop_column("next_fire_time")
    op.drop_index("ix_processing_jobs_status", "processing_jobs")
    op.drop_table("processing_jobs")
