"""The metrics store and its rules on both databases: series created once, queries, retention."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from watchkeeper.clock import FakeClock
from watchkeeper.config import Settings
from watchkeeper.metrics.store import RETENTION_SECONDS
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext
from watchkeeper.store.tables import metric_points, metric_series

NOW = 1_700_000_000.0


@pytest.fixture(params=["sqlite", "postgresql"])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    url = "" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    settings = dataclasses.replace(Settings(), data_dir=tmp_path / "data", database_url=url)
    built = Services.build(settings, FakeClock(NOW))
    yield built
    built.close()


def test_put_list_get_and_retention(services: Services) -> None:
    ctx = RequestContext(f"{random.randrange(10**11, 10**12)}", "us-east-1")  # PostgreSQL is shared by tests
    metrics = services.metrics
    datum = {"MetricName": "m", "Dimensions": [{"Name": "B", "Value": "2"}, {"Name": "A", "Value": "1"}]}
    for minutes, value in ((0, 1.0), (1, 3.0), (61, 10.0)):
        metrics.put_metric_data(
            ctx, {"Namespace": "N", "MetricData": [{**datum, "Timestamp": NOW + 60 * minutes, "Value": value}]}
        )
    listed = metrics.list_metrics(ctx, {"Namespace": "N"})["Metrics"]
    assert listed == [
        {"Namespace": "N", "MetricName": "m", "Dimensions": [{"Name": "A", "Value": "1"}, {"Name": "B", "Value": "2"}]}
    ]
    with services.db.read() as conn:
        series = conn.execute(
            select(func.count()).select_from(metric_series).where(metric_series.c.account == ctx.account)
        )
        assert series.scalar_one() == 1
    query = {
        "Namespace": "N",
        "MetricName": "m",
        "Dimensions": datum["Dimensions"],
        "StartTime": NOW,
        "EndTime": NOW + 7200,
        "Period": 3600,
        "Statistics": ["Average", "Maximum"],
    }
    points = metrics.get_metric_statistics(ctx, query)["Datapoints"]
    assert [(p["Timestamp"], p["Average"], p["Maximum"]) for p in points] == [(NOW, 2.0, 3.0), (NOW + 3600, 10.0, 10.0)]

    # Past retention (by the points' own timestamps) nothing is answered, and the purge deletes it all.
    assert isinstance(services.clock, FakeClock)
    services.clock.advance(RETENTION_SECONDS + 7200)
    assert metrics.get_metric_statistics(ctx, query)["Datapoints"] == []
    assert metrics.list_metrics(ctx, {"Namespace": "N"})["Metrics"] == []
    with services.db.write() as conn:
        assert metrics.store.purge(conn) >= 3
        left = conn.execute(
            select(func.count())
            .select_from(metric_points)
            .join(metric_series, metric_series.c.id == metric_points.c.series_id)
            .where(metric_series.c.account == ctx.account)
        ).scalar_one()
        assert left == 0
        gone = conn.execute(
            select(func.count()).select_from(metric_series).where(metric_series.c.account == ctx.account)
        )
        assert gone.scalar_one() == 0
