"""Endpoints: models, endpoint configs, endpoints.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _named_resource(table: str, constraint: str) -> None:
    op.create_table(
        table,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("name_key", sa.String(63), nullable=False),
        sa.Column("arn", sa.String(256), nullable=False),
        sa.Column("creation_time", sa.Float, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("account", "region", "name_key", name=constraint),
    )


def upgrade() -> None:
    _named_resource("models", "uq_model_name")
    _named_resource("endpoint_configs", "uq_endpoint_config_name")
    op.create_table(
        "endpoints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("name_key", sa.String(63), nullable=False),
        sa.Column("arn", sa.String(256), nullable=False),
        sa.Column("config_name", sa.String(63), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("failure_reason", sa.Text),
        sa.Column("creation_time", sa.Float, nullable=False),
        sa.Column("last_modified_time", sa.Float, nullable=False),
        sa.Column("deployment", sa.Text, nullable=False),
        sa.Column("pending_deployment", sa.Text),
        sa.Column("deadline", sa.Float),
        sa.UniqueConstraint("account", "region", "name_key", name="uq_endpoint_name"),
    )
    op.create_index("ix_endpoints_status", "endpoints", ["status"])


def downgrade() -> None:
    op.drop_index("ix_endpoints_status", "endpoints")
    op.drop_table("endpoints")
    op.drop_table("endpoint_configs")
    op.drop_table("models")
