"""Executions that run two jobs (model quality: merge, then analysis) keep the second job's request.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("monitoring_executions") as batch:
        batch.add_column(sa.Column("next_job", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("monitoring_executions") as batch:
        batch.drop_column("next_job")
