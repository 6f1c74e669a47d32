"""`watchkeeper serve` logs one line per execution start, end and failure: schedule, job, status, reason."""

from __future__ import annotations

import logging

import pytest

from tests.api.conftest import hourly_config
from tests.scheduling.test_scheduler import CTX, clock, create, run_for, services  # noqa: F401 - fixtures
from watchkeeper.clock import FakeClock
from watchkeeper.scheduling.scheduler import Scheduler
from watchkeeper.services.container import Services


def lines(caplog: pytest.LogCaptureFixture, kind: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"monitoring execution {kind}:")]


def test_each_execution_transition_is_one_log_line(
    services: Services, clock: FakeClock, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    caplog.set_level(logging.INFO, logger="watchkeeper.services")
    scheduler = Scheduler(services, ping=lambda _: True)
    create(services, "churn-hourly", "cron(0 * ? * * *)")
    services.schedules.create(CTX, "lost", hourly_config(endpoint="nowhere"), [])
    scheduler.tick()
    run_for(scheduler, clock, 2)

    started = lines(caplog, "started")
    assert len(started) == 2, started
    assert all(line.startswith("monitoring execution started: schedule=churn-hourly scheduled=2026-03-01T0")
               for line in started)
    assert "window=[2026-03-01T00:00:00Z, 2026-03-01T01:00:00Z) status=Pending" in started[0]
    failed = lines(caplog, "failed")
    assert len(failed) == 2 and all("schedule=lost" in line for line in failed)
    assert "status=Failed reason=Endpoint nowhere does not exist" in failed[0]

    first = services.processing_jobs.claim("runner-1", 30)
    assert first is not None
    services.processing_jobs.finish(
        first.id, "runner-1", "Completed",
        exit_message="CompletedWithViolations: Job completed successfully with 3 violations.",
    )
    second = services.processing_jobs.claim("runner-1", 30)
    assert second is not None
    services.processing_jobs.finish(second.id, "runner-1", "Failed", failure_reason="AlgorithmError: boom")

    (ended,) = lines(caplog, "ended")
    assert ended == (
        f"monitoring execution ended: schedule=churn-hourly job={first.name} status=CompletedWithViolations "
        "message=CompletedWithViolations: Job completed successfully with 3 violations."
    )
    assert lines(caplog, "failed")[-1] == (
        f"monitoring execution failed: schedule=churn-hourly job={second.name} status=Failed "
        "reason=AlgorithmError: boom"
    )
    assert len(lines(caplog, "started")) == 2, "claiming a job (InProgress) is not a new line"
