"""Reads the dashboard needs that no API call answers in one go, every one scoped by account and region:
an execution by its processing job, a page of schedules with their latest executions, a schedule's metric
series and their recent points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Row, bindparam, or_, select

from watchkeeper.services.context import RequestContext
from watchkeeper.store import Database
from watchkeeper.store.tables import metric_points, metric_series, monitoring_executions

MAX_SERIES = 24
MAX_POINTS = 720  # a month of hourly executions

_LATEST = (
    select(monitoring_executions)
    .where(
        monitoring_executions.c.account == bindparam("account"),
        monitoring_executions.c.region == bindparam("region"),
        monitoring_executions.c.schedule_key == bindparam("key"),
        monitoring_executions.c.creation_time >= bindparam("since"),
    )
    .order_by(monitoring_executions.c.scheduled_time.desc())
    .limit(1)
)
_POINTS = (
    select(metric_points.c.timestamp, metric_points.c.sum, metric_points.c.sample_count)
    .where(metric_points.c.series_id == bindparam("series"), metric_points.c.timestamp >= bindparam("since"))
    .order_by(metric_points.c.timestamp.desc())
    .limit(MAX_POINTS)
)


def execution_of_job(db: Database, ctx: RequestContext, job_arn: str) -> Row[Any] | None:
    """The monitoring execution whose current processing job is `job_arn`, in the caller's account. Looked up
    by the ARN alone (its index, migration 0009), then held to the account and region: with both in the WHERE
    clause SQLite may pick the (account, region, ...) index and read every execution of the account."""
    query = select(monitoring_executions).where(monitoring_executions.c.processing_job_arn == job_arn)
    with db.read() as conn:
        for row in conn.execute(query):
            if row.account == ctx.account and row.region == ctx.region:
                return row
    return None


def latest_executions(db: Database, ctx: RequestContext,
                      schedules: Sequence[tuple[str, float]]) -> dict[str, Row[Any]]:
    """Each (schedule name, its creation time)'s latest execution by scheduled time, as DescribeMonitoringSchedule
    picks it (none of an earlier schedule of that name), one lookup per schedule on the unique (account, region,
    schedule_key, scheduled_time) index."""
    out: dict[str, Row[Any]] = {}
    with db.read() as conn:
        for name, since in schedules:
            key = {"account": ctx.account, "region": ctx.region, "key": name.lower(), "since": since}
            row = conn.execute(_LATEST, key).first()
            if row is not None:
                out[name] = row
    return out


def schedule_series(db: Database, ctx: RequestContext, schedule: str, endpoint: str | None,
                    since: float) -> list[tuple[str, str, list[tuple[float, float]]]]:
    """(namespace, metric name, [(timestamp, average)] oldest first) of the schedule's model-quality and drift
    series (dimensions Endpoint + MonitoringSchedule, or MonitoringSchedule alone), at most MAX_SERIES."""
    wanted = [[["MonitoringSchedule", schedule]]]
    if endpoint:
        wanted.insert(0, [["Endpoint", endpoint], ["MonitoringSchedule", schedule]])
    texts = [orjson.dumps(d).decode() for d in wanted]
    query = (
        select(metric_series.c.id, metric_series.c.namespace, metric_series.c.metric_name)
        .where(
            metric_series.c.account == ctx.account,
            metric_series.c.region == ctx.region,
            metric_series.c.dimensions.in_(texts),
            metric_series.c.last_received >= since,
            # model quality's every metric; data quality's drift (its per-feature data and completeness are
            # on the execution page)
            or_(
                metric_series.c.namespace.endswith("model-metrics"),
                metric_series.c.metric_name.startswith("feature_baseline_drift_", autoescape=True),
            ),
        )
        .order_by(metric_series.c.namespace, metric_series.c.metric_name)
        .limit(MAX_SERIES)
    )
    out = []
    with db.read() as conn:
        rows = conn.execute(query).all()
        for row in rows:
            points = conn.execute(_POINTS, {"series": row.id, "since": since}).all()
            values = [(p.timestamp, p.sum / p.sample_count) for p in reversed(points) if p.sample_count]
            out.append((row.namespace, row.metric_name, values))
    return out
