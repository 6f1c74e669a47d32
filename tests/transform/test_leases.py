"""The transform job lifecycle's claims and leases, on SQLite and PostgreSQL: one runner wins a job, an expired
lease fails it with a reason (Stopped when a stop was asked), a job stopped before any claim is Stopped."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from watchkeeper.clock import FakeClock
from watchkeeper.config import Settings
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext
from watchkeeper.services.lookup import find_named
from watchkeeper.store.tables import models

CTX = RequestContext("123456789012", "us-east-1")


@pytest.fixture(params=["sqlite", "postgresql"])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Services, FakeClock]]:
    """Services on a fake clock, with model `scorer` (on PostgreSQL the database is shared: names are unique)."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else ""
    clock = FakeClock()
    built = Services.build(dataclasses.replace(Settings(), data_dir=tmp_path, database_url=url), clock)
    if find_named_model(built) is None:
        built.endpoints.create_model(CTX, {"ModelName": "scorer", "PrimaryContainer": {
            "Image": "x", "Environment": {"WATCHKEEPER_UPSTREAM_URL": "http://127.0.0.1:9"}}})
    yield built, clock
    built.close()


def find_named_model(services: Services) -> object:
    with services.db.read() as conn:
        return find_named(conn, models, CTX, "scorer")


def create(services: Services) -> str:
    name = f"t-{uuid.uuid4().hex[:10]}"
    services.transform_jobs.create(CTX, {
        "TransformJobName": name, "ModelName": "scorer",
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://leases/in"}}},
        "TransformOutput": {"S3OutputPath": "s3://leases/out"},
        "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1}})
    return name


def status(services: Services, name: str) -> dict:
    return services.transform_jobs.describe(CTX, name)


def test_one_claim_wins_and_an_expired_lease_fails_the_job(services: tuple[Services, FakeClock]) -> None:
    built, clock = services
    jobs = built.transform_jobs
    name = create(built)
    first = jobs.claim("a", 30)
    assert first is not None and first.name == name
    assert jobs.claim("b", 30) is None
    clock.advance(20)
    assert jobs.heartbeat(first.id, "a", 30) is False  # renewed until 50 s from the start
    clock.advance(20)
    assert jobs.fail_orphans() == 0
    clock.advance(31)
    assert jobs.fail_orphans() == 1
    described = status(built, name)
    assert described["TransformJobStatus"] == "Failed"
    assert described["FailureReason"].startswith("InternalServerError: the Watchkeeper process")
    jobs.finish(first.id, "a", "Completed")  # the late runner's verdict does not overwrite it
    assert status(built, name)["TransformJobStatus"] == "Failed"


def test_stops(services: tuple[Services, FakeClock]) -> None:
    built, clock = services
    jobs = built.transform_jobs
    unclaimed = create(built)
    jobs.stop(CTX, unclaimed)
    assert status(built, unclaimed)["TransformJobStatus"] == "Stopping"
    assert jobs.stop_unclaimed() == 1
    assert status(built, unclaimed)["TransformJobStatus"] == "Stopped"
    running = create(built)
    row = jobs.claim("a", 30)
    assert row is not None and row.name == running
    jobs.stop(CTX, running)
    assert jobs.heartbeat(row.id, "a", 30) is True  # the runner is told at its next renewal
    clock.advance(31)
    assert jobs.fail_orphans() == 1  # its runner died while stopping: Stopped, no failure reason
    described = status(built, running)
    assert described["TransformJobStatus"] == "Stopped" and "FailureReason" not in described
