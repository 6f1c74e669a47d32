"""Model Monitor alerts (ListMonitoringAlerts, UpdateMonitoringAlert), their InAlert/OK history, and the
notifications' source (an alarm's or an alert's) in the shared webhook queue.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("schedule_key", sa.String(63), nullable=False),
        sa.Column("schedule_created", sa.Float, nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("creation_time", sa.Float, nullable=False),
        sa.Column("last_modified_time", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("datapoints_to_alert", sa.Integer, nullable=False),
        sa.Column("evaluation_period", sa.Integer, nullable=False),
        sa.Column("dashboard_indicator", sa.Integer, nullable=False, server_default="1"),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint(
            "account", "region", "schedule_key", "schedule_created", "name", name="uq_monitoring_alert_name"
        ),
    )
    op.create_table(
        "monitoring_alert_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("schedule_name", sa.String(63), nullable=False),
        sa.Column("schedule_key", sa.String(63), nullable=False),
        sa.Column("schedule_created", sa.Float, nullable=False),
        sa.Column("alert_name", sa.String(63), nullable=False),
        sa.Column("creation_time", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("execution_id", sa.Integer),
        sa.Column("message", sa.Text),
        sa.Column("notified", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_monitoring_alert_history_notified", "monitoring_alert_history", ["notified"])
    op.create_index(
        "ix_monitoring_alert_history_schedule",
        "monitoring_alert_history",
        ["account", "region", "schedule_key", "creation_time"],
    )
    with op.batch_alter_table("alarm_notifications") as batch:
        batch.add_column(sa.Column("source", sa.String(16), nullable=False, server_default="alarm"))


def downgrade() -> None:
    with op.batch_alter_table("alarm_notifications") as batch:
        batch.drop_column("source")
    op.drop_table("monitoring_alert_history")
    op.drop_table("monitoring_alerts")
