"""CloudWatch metrics: series (namespace, metric name, dimensions of an account and region) and their points.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_series",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("namespace", sa.String(255), nullable=False),
        sa.Column("metric_name", sa.String(255), nullable=False),
        sa.Column("dimensions", sa.Text, nullable=False),
        sa.Column("series_key", sa.String(64), nullable=False),
        sa.Column("last_received", sa.Float, nullable=False),
        sa.UniqueConstraint("series_key", name="uq_metric_series_key"),
    )
    op.create_index("ix_metric_series_list", "metric_series", ["account", "region", "namespace", "metric_name"])
    op.create_table(
        "metric_points",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("series_id", sa.Integer, nullable=False),
        sa.Column("timestamp", sa.Float, nullable=False),
        sa.Column("sample_count", sa.Float, nullable=False),
        sa.Column("sum", sa.Float, nullable=False),
        sa.Column("minimum", sa.Float, nullable=False),
        sa.Column("maximum", sa.Float, nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("source", sa.String(256)),
        sa.Column("received", sa.Float, nullable=False),
    )
    op.create_index("ix_metric_points_series_time", "metric_points", ["series_id", "timestamp"])
    op.create_index("ix_metric_points_time", "metric_points", ["timestamp"])
    op.create_index("ix_metric_points_source", "metric_points", ["source"])


def downgrade() -> None:
    op.drop_table("metric_points")
    op.drop_table("metric_series")
