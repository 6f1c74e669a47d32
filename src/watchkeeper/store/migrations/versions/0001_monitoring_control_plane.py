"""Monitoring control plane: schedules, job definitions, executions, tags.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_schedules",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("name_key", sa.String(63), nullable=False),
        sa.Column("arn", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.Text),
        sa.Column("creation_time", sa.Float, nullable=False),
        sa.Column("last_modified_time", sa.Float, nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("endpoint_name", sa.String(63)),
        sa.Column("monitoring_type", sa.String(32), nullable=False),
        sa.Column("job_definition_name", sa.String(63)),
        sa.Column("pending_until", sa.Float),
        sa.UniqueConstraint("account", "region", "name_key", name="uq_schedule_name"),
    )
    op.create_index("ix_schedules_status", "monitoring_schedules", ["status"])
    op.create_table(
        "job_definitions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("monitoring_type", sa.String(32), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("name_key", sa.String(63), nullable=False),
        sa.Column("arn", sa.String(256), nullable=False),
        sa.Column("creation_time", sa.Float, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("endpoint_name", sa.String(63)),
        sa.UniqueConstraint("account", "region", "monitoring_type", "name_key", name="uq_job_definition_name"),
    )
    op.create_table(
        "monitoring_executions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("schedule_name", sa.String(63), nullable=False),
        sa.Column("schedule_key", sa.String(63), nullable=False),
        sa.Column("scheduled_time", sa.Float, nullable=False),
        sa.Column("creation_time", sa.Float, nullable=False),
        sa.Column("last_modified_time", sa.Float, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("processing_job_arn", sa.String(256)),
        sa.Column("endpoint_name", sa.String(63)),
        sa.Column("failure_reason", sa.Text),
        sa.Column("job_definition_name", sa.String(63)),
        sa.Column("monitoring_type", sa.String(32)),
        sa.UniqueConstraint("account", "region", "schedule_key", "scheduled_time", name="uq_execution_fire_time"),
    )
    op.create_table(
        "tags",
        sa.Column("resource_arn", sa.String(256), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tags")
    op.drop_table("monitoring_executions")
    op.drop_table("job_definitions")
    op.drop_index("ix_schedules_status", "monitoring_schedules")
    op.drop_table("monitoring_schedules")
