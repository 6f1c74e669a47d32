"""In-process services on SQLite and PostgreSQL with an endpoint that captures, a FakeClock, one alert topic
with a webhook, and a caller of its own account (the PostgreSQL database is shared by tests)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy

from tests.api.conftest import hourly_config
from tests.in_process import t
from watchkeeper.clock import FakeClock
from watchkeeper.config import Settings
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext

NOW = t("2026-03-01T05:00:05")


def fresh_database(url: str) -> str:
    """A database of its own on the shared PostgreSQL server: buckets are claimed per store."""
    name = f"alerts_{random.randrange(16**10):010x}"
    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return url.rsplit("/", 1)[0] + "/" + name


@dataclasses.dataclass
class World:
    services: Services
    clock: FakeClock
    ctx: RequestContext
    topic: str


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    url = "" if request.param == "sqlite" else fresh_database(request.getfixturevalue("postgres_url"))
    ctx = RequestContext(f"{random.randrange(10**11, 10**12)}", "us-east-1")
    topic = f"arn:aws:sns:us-east-1:{ctx.account}:ml-ops"
    other = "arn:aws:sns:us-east-1:999999999999:elsewhere"  # another account's: never told of ctx's alerts
    settings = dataclasses.replace(
        Settings(),
        data_dir=tmp_path / "data",
        database_url=url,
        schedule_activation_seconds=0,
        alarm_webhooks=f"{topic}=http://127.0.0.1:9/hook,{other}=http://127.0.0.1:9/other",
        monitoring_alert_topics=f"{topic},{other}",
        alarm_webhook_attempts=2,
        alarm_webhook_backoff_seconds=5,
    )
    clock = FakeClock(NOW)
    built = Services.build(settings, clock)
    built.endpoints.create_model(ctx, {"ModelName": "m", "PrimaryContainer": {"Image": "x"}})
    built.endpoints.create_endpoint_config(
        ctx,
        {
            "EndpointConfigName": "c",
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m"}],
            "DataCaptureConfig": {
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": "s3://bucket/capture",
                "CaptureOptions": [{"CaptureMode": "Input"}],
            },
        },
    )
    built.endpoints.create(ctx, {"EndpointName": "churn-endpoint", "EndpointConfigName": "c"})
    built.schedules.create(ctx, "churn", hourly_config(), [])
    yield World(built, clock, ctx, topic)
    built.close()
