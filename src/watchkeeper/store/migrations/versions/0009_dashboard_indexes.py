"""Indexes for reads that scanned every execution (measured by bench/dashboard.py, 1,000 schedules x 720
executions): an execution by its processing job (the plan runner on every job change, the dashboard), a
schedule's executions by name (ListMonitoringExecutions matches the name case-insensitively: lower()), each
schedule's newest execution and the counts by status (GET /metrics), a processing job by ARN (its join).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_monitoring_executions_job", "monitoring_executions", ["processing_job_arn"])
    op.create_index(
        "ix_monitoring_executions_schedule_name",
        "monitoring_executions",
        ["account", "region", sa.text("lower(schedule_name)"), "scheduled_time"],
    )
    op.create_index(
        "ix_monitoring_executions_newest", "monitoring_executions", ["account", "region", "schedule_key", "id"]
    )
    op.create_index("ix_monitoring_executions_status", "monitoring_executions", ["status", "id"])
    op.create_index("ix_processing_jobs_arn", "processing_jobs", ["arn"])


def downgrade() -> None:
    op.drop_index("ix_processing_jobs_arn", "processing_jobs")
    op.drop_index("ix_monitoring_executions_status", "monitoring_executions")
    op.drop_index("ix_monitoring_executions_newest", "monitoring_executions")
    op.drop_index("ix_monitoring_executions_schedule_name", "monitoring_executions")
    op.drop_index("ix_monitoring_executions_job", "monitoring_executions")
