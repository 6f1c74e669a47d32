"""The metrics store: series (namespace, metric name, dimensions of an account and region) and their points.

Points are kept as statistic sets (SampleCount, Sum, Minimum, Maximum), so single values, statistic sets and
Values/Counts arrays aggregate alike. Points older than `RETENTION_SECONDS` (15 months, CloudWatch's longest
retention) by their own timestamp are never returned and are deleted by a purge that runs with a write at most
once per `PURGE_INTERVAL` per process; a series left without points goes with them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from watchkeeper.clock import Clock
from watchkeeper.metrics.datums import Point, dimensions_json
from watchkeeper.services.context import RequestContext
from watchkeeper.store import Database
from watchkeeper.store.tables import metric_points, metric_series

RETENTION_SECONDS = 455 * 86400  # 15 months
PURGE_INTERVAL = 3600.0

SeriesId = tuple[str, str, tuple[tuple[str, str], ...]]  # namespace, metric name, sorted dimensions


def series_key(ctx: RequestContext, namespace: str, metric_name: str, dimensions: tuple[tuple[str, str], ...]) -> str:
    text = "\x00".join([ctx.account, ctx.region, namespace, metric_name, dimensions_json(dimensions)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class MetricsStore:
    def __init__(self, db: Database, clock: Clock, retention_seconds: float = RETENTION_SECONDS) -> None:
        self.db = db
        self.clock = clock
        self.retention_seconds = retention_seconds
        self._last_purge = -math.inf

    @property
    def oldest(self) -> float:
        """The earliest timestamp still retained."""
        return self.clock.now() - self.retention_seconds

    # --- writes ------------------------------------------------------------------------------------

    def insert(self, conn: Connection, ctx: RequestContext, points: Iterable[Point], source: str | None = None) -> int:
        """Store `points` in the caller's transaction; returns how many."""
        now = self.clock.now()
        ids: dict[SeriesId, int] = {}
        rows: list[dict[str, Any]] = []
        for p in points:
            key = (p.namespace, p.metric_name, p.dimensions)
            if key not in ids:
                ids[key] = self._series(conn, ctx, key, now)
            rows.append(
                {
                    "series_id": ids[key],
                    "timestamp": p.timestamp,
                    "sample_count": p.sample_count,
                    "sum": p.sum,
                    "minimum": p.minimum,
                    "maximum": p.maximum,
                    "unit": p.unit,
                    "source": source,
                    "received": now,
                }
            )
        if rows:
            conn.execute(insert(metric_points), rows)
            conn.execute(
                update(metric_series).where(metric_series.c.id.in_(list(ids.values()))).values(last_received=now)
            )
        if now - self._last_purge >= PURGE_INTERVAL:
            self._last_purge = now
            self.purge(conn)
        return len(rows)

    def _series(self, conn: Connection, ctx: RequestContext, key: SeriesId, now: float) -> int:
        namespace, metric_name, dimensions = key
        digest = series_key(ctx, namespace, metric_name, dimensions)
        found = conn.execute(select(metric_series.c.id).where(metric_series.c.series_key == digest)).scalar()
        if found is not None:
            return int(found)
        try:
            with conn.begin_nested():  # two writers creating one series (PostgreSQL): the loser reads the winner's
                return int(
                    conn.execute(
                        insert(metric_series).values(
                            account=ctx.account,
                            region=ctx.region,
                            namespace=namespace,
                            metric_name=metric_name,
                            dimensions=dimensions_json(dimensions),
                            series_key=digest,
                            last_received=now,
                        )
                    ).inserted_primary_key[0]
                )
        except IntegrityError:
            winner = select(metric_series.c.id).where(metric_series.c.series_key == digest)
            return int(conn.execute(winner).scalar_one())

    def ingested(self, conn: Connection, source: str) -> bool:
        """Whether points from `source` (a processing job ARN) are stored already."""
        return bool(conn.execute(select(exists().where(metric_points.c.source == source))).scalar())

    def purge(self, conn: Connection) -> int:
        """Delete points past retention, and series left without points; returns the points deleted."""
        cutoff = self.oldest
        deleted = conn.execute(delete(metric_points).where(metric_points.c.timestamp < cutoff)).rowcount
        conn.execute(
            delete(metric_series).where(
                metric_series.c.last_received < cutoff,
                ~exists().where(metric_points.c.series_id == metric_series.c.id),
            )
        )
        return int(deleted or 0)

    # --- reads -------------------------------------------------------------------------------------

    def series_page(
        self,
        ctx: RequestContext,
        namespace: str | None,
        metric_name: str | None,
        after_id: int,
        limit: int,
        active_since: float | None = None,
    ) -> Sequence[Row[Any]]:
        """Series of the account and region in id order after `after_id`, filtered by name and activity."""
        query = select(metric_series).where(
            metric_series.c.account == ctx.account,
            metric_series.c.region == ctx.region,
            metric_series.c.id > after_id,
            metric_series.c.last_received >= (active_since if active_since is not None else self.oldest),
        )
        if namespace is not None:
            query = query.where(metric_series.c.namespace == namespace)
        if metric_name is not None:
            query = query.where(metric_series.c.metric_name == metric_name)
        with self.db.read() as conn:
            return conn.execute(query.order_by(metric_series.c.id).limit(limit)).all()

    def points(
        self,
        ctx: RequestContext,
        namespace: str,
        metric_name: str,
        dimensions: tuple[tuple[str, str], ...],
        start: float,
        end: float,
        unit: str | None = None,
    ) -> Sequence[Row[Any]]:
        """The retained points of one series in [start, end), oldest first."""
        digest = series_key(ctx, namespace, metric_name, dimensions)
        query = (
            select(
                metric_points.c.timestamp,
                metric_points.c.sample_count,
                metric_points.c.sum,
                metric_points.c.minimum,
                metric_points.c.maximum,
                metric_points.c.unit,
            )
            .join(metric_series, metric_series.c.id == metric_points.c.series_id)
            .where(
                metric_series.c.series_key == digest,
                metric_points.c.timestamp >= max(start, self.oldest),
                metric_points.c.timestamp < end,
            )
            .order_by(metric_points.c.timestamp)
        )
        if unit is not None:
            query = query.where(metric_points.c.unit == unit)
        with self.db.read() as conn:
            return conn.execute(query).all()
