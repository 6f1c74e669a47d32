"""A fault stays where it starts: a schedule stored before the create-time checks (as an old database has it)
cannot stop the others from firing, nor endpoints from coming into service; its state says why, logged once."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import OperationalError

from tests.api.conftest import hourly_config
from tests.scheduling.test_scheduler import CTX, executions, run_for, t
from watchkeeper.clock import FakeClock, millis
from watchkeeper.config import Settings
from watchkeeper.scheduling.scheduler import Scheduler
from watchkeeper.services.container import Services
from watchkeeper.store.tables import endpoints, monitoring_schedules

UPSTREAM = "http://model.invalid:8080"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(t("2026-03-01T00:30:00"))


@pytest.fixture
def services(tmp_path: Path, clock: FakeClock) -> Iterator[Services]:
    settings = dataclasses.replace(
        Settings(), data_dir=tmp_path / "data", schedule_activation_seconds=0, endpoint_startup_seconds=3600
    )
    built = Services.build(settings, clock)
    yield built
    built.close()


def create_endpoint(services: Services, name: str, upstream: str | None = UPSTREAM) -> None:
    container: dict[str, Any] = {"Image": "x"}
    if upstream:
        container["Environment"] = {"WATCHKEEPER_UPSTREAM_URL": upstream}
    services.endpoints.create_model(CTX, {"ModelName": f"{name}-model", "PrimaryContainer": container})
    services.endpoints.create_endpoint_config(
        CTX,
        {
            "EndpointConfigName": f"{name}-config",
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": f"{name}-model"}],
            "DataCaptureConfig": {
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": "s3://bucket/capture",
                "CaptureOptions": [{"CaptureMode": "Input"}],
            },
        },
    )
    services.endpoints.create(CTX, {"EndpointName": name, "EndpointConfigName": f"{name}-config"})


def insert_schedule(services: Services, name: str, config: dict[str, Any], status: str = "Scheduled") -> None:
    """Straight into the database, past every create-time check, as a database written by an older version."""
    now = services.clock.now()
    with services.db.write() as conn:
        conn.execute(
            insert(monitoring_schedules).values(
                account=CTX.account,
                region=CTX.region,
                name=name,
                name_key=name.lower(),
                arn=CTX.arn("monitoring-schedule", name),
                status=status,
                creation_time=millis(now),
                last_modified_time=millis(now),
                config=orjson.dumps(config).decode(),
                endpoint_name="churn-endpoint",
                monitoring_type="DataQuality",
                pending_until=now if status == "Pending" else None,
                next_fire_time=t("2026-03-01T01:00:00") if status == "Scheduled" else None,
            )
        )


def schedule(services: Services, name: str) -> Any:
    return services.schedules.find_row(CTX, name)


def endpoint_status(services: Services, name: str) -> tuple[str, str | None]:
    row = services.endpoints.find(CTX, name)
    return row.status, row.failure_reason


def fired(services: Services, name: str) -> list[float]:
    return [r.scheduled_time for r in executions(services) if r.schedule_name == name and r.status == "Pending"]


def poisoned_config() -> dict[str, Any]:
    config = hourly_config()
    output = config["MonitoringJobDefinition"]["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]
    output["LocalPath"] = "/tmp/evil"
    return config


def test_a_poisoned_schedule_fails_alone_and_the_others_fire_on_time(
    services: Services, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    create_endpoint(services, "churn-endpoint")
    insert_schedule(services, "poisoned", poisoned_config())
    bad_expression = hourly_config()
    bad_expression["ScheduleConfig"]["ScheduleExpression"] = "every full moon"
    insert_schedule(services, "unparseable", bad_expression, status="Pending")
    for name in ("healthy-a", "healthy-b"):
        services.schedules.create(CTX, name, hourly_config(), [])
    create_endpoint(services, "new-endpoint")
    scheduler = Scheduler(services, ping=lambda url: url == UPSTREAM)

    caplog.set_level(logging.ERROR)
    scheduler.tick()
    assert endpoint_status(services, "new-endpoint") == ("InService", None)
    assert endpoint_status(services, "churn-endpoint") == ("InService", None)
    run_for(scheduler, clock, 3)

    hours = [t("2026-03-01T01:00:00") + 3600 * i for i in range(3)]
    assert fired(services, "healthy-a") == hours
    assert fired(services, "healthy-b") == hours
    assert fired(services, "poisoned") == []

    poisoned = schedule(services, "poisoned")
    assert poisoned.status == "Failed"
    assert "LocalPath '/tmp/evil'" in poisoned.failure_reason
    assert "/opt/ml/processing/" in poisoned.failure_reason
    assert "2026-03-01T01:00:00" in poisoned.failure_reason
    unparseable = schedule(services, "unparseable")
    assert unparseable.status == "Failed"
    assert "every full moon" in unparseable.failure_reason
    described = services.schedules.describe(CTX, "poisoned")
    assert described["MonitoringScheduleStatus"] == "Failed"
    assert described["FailureReason"] == poisoned.failure_reason

    for name in ("poisoned", "unparseable"):
        logged = [r for r in caplog.records if name in r.getMessage()]
        assert len(logged) == 1, [r.getMessage() for r in logged]

    # Fixed by an update (which is now checked), the schedule runs again.
    services.schedules.update(CTX, "poisoned", hourly_config())
    run_for(scheduler, clock, 1)
    assert schedule(services, "poisoned").status == "Scheduled"
    assert fired(services, "poisoned") == [t("2026-03-01T04:00:00")]


def test_a_database_fault_for_one_schedule_is_logged_once_and_retried(
    services: Services, clock: FakeClock, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_endpoint(services, "churn-endpoint")
    for name in ("flaky", "steady"):
        services.schedules.create(CTX, name, hourly_config(), [])
    scheduler = Scheduler(services, ping=lambda _: True)
    scheduler.tick()
    plan = services.starter.plan
    broken = {"on": True}

    def flaky_plan(conn: Any, row: Any, *args: Any, **kwargs: Any) -> Any:
        if row.name == "flaky" and broken["on"]:
            raise OperationalError("INSERT ...", {}, Exception("database is locked"))
        return plan(conn, row, *args, **kwargs)

    monkeypatch.setattr(services.starter, "plan", flaky_plan)
    caplog.set_level(logging.ERROR)
    run_for(scheduler, clock, 2, step=60)  # 120 ticks
    assert fired(services, "steady") == [t("2026-03-01T01:00:00"), t("2026-03-01T02:00:00")]
    assert fired(services, "flaky") == []
    assert schedule(services, "flaky").status == "Scheduled"  # not the schedule's fault: not Failed
    assert len([r for r in caplog.records if "flaky" in r.getMessage()]) == 1
    broken["on"] = False
    run_for(scheduler, clock, 1 / 60, step=60)
    assert fired(services, "flaky") == [t("2026-03-01T02:00:00")]  # the latest missed fire time, as after downtime


def test_each_endpoint_advances_on_its_own(services: Services, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("good", "raising", "corrupt"):
        create_endpoint(services, name, upstream=f"http://{name}.invalid")
    with services.db.write() as conn:
        conn.execute(update(endpoints).where(endpoints.c.name == "corrupt").values(pending_deployment="{not json"))

    def ping(url: str) -> bool:
        if "raising" in url:
            raise RuntimeError("resolver exploded")
        return True

    caplog.set_level(logging.ERROR)
    scheduler = Scheduler(services, ping=ping)
    for _ in range(5):
        scheduler.tick()
    assert endpoint_status(services, "good") == ("InService", None)
    assert endpoint_status(services, "raising")[0] == "Creating"  # unhealthy until its deadline, as any other
    status, reason = endpoint_status(services, "corrupt")
    assert status == "Failed" and reason and "could not bring the endpoint into service" in reason
    assert len([r for r in caplog.records if "corrupt" in r.getMessage()]) == 1


def test_one_failing_step_does_not_stop_the_others(
    services: Services, clock: FakeClock, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_endpoint(services, "churn-endpoint")
    services.schedules.create(CTX, "steady", hourly_config(), [])
    scheduler = Scheduler(services, ping=lambda _: True)
    scheduler.tick()

    def broken_advance(ping: Any) -> int:
        raise OperationalError("SELECT ...", {}, Exception("disk I/O error"))

    monkeypatch.setattr(services.endpoints, "advance", broken_advance)
    caplog.set_level(logging.ERROR)
    run_for(scheduler, clock, 2)
    assert fired(services, "steady") == [t("2026-03-01T01:00:00"), t("2026-03-01T02:00:00")]
    assert len([r for r in caplog.records if "advancing endpoints" in r.getMessage()]) == 1
    with services.db.read() as conn:
        assert conn.execute(select(monitoring_schedules.c.status)).scalars().all() == ["Scheduled"]
