"""The scheduler driven by a fake clock through days of fire times, on a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from tests.api.conftest import hourly_config
from tests.in_process import CTX, capturing_services, t
from watchkeeper.clock import FakeClock
from watchkeeper.scheduling.scheduler import Scheduler
from watchkeeper.services.container import Services
from watchkeeper.store.tables import monitoring_executions, processing_jobs


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(t("2026-03-01T00:30:00"))


@pytest.fixture
def services(tmp_path: Path, clock: FakeClock) -> Iterator[Services]:
    built = capturing_services(tmp_path / "data", clock)
    yield built
    built.close()


def executions(services: Services) -> list[Any]:
    with services.db.read() as conn:
        return list(conn.execute(select(monitoring_executions).order_by(monitoring_executions.c.scheduled_time)).all())


def run_for(scheduler: Scheduler, clock: FakeClock, hours: float, step: float = 600) -> None:
    """Advance the clock in ten-minute steps, ticking as the server's loop does."""
    for _ in range(int(hours * 3600 / step)):
        clock.advance(step)
        scheduler.tick()


def create(services: Services, name: str, expression: str | None, **schedule_config: Any) -> None:
    config = hourly_config()
    if expression is None:
        del config["ScheduleConfig"]
    else:
        config["ScheduleConfig"] = {"ScheduleExpression": expression, **schedule_config}
    services.schedules.create(CTX, name, config, [])


def test_hourly_fires_every_hour_with_the_previous_hour_as_window(services: Services, clock: FakeClock) -> None:
    scheduler = Scheduler(services, ping=lambda _: True)
    create(services, "hourly", "cron(0 * ? * * *)")
    scheduler.tick()  # activation at 00:30: no catch-up for the current hour
    assert executions(services) == []
    run_for(scheduler, clock, 48)
    rows = executions(services)
    assert [r.scheduled_time for r in rows] == [t("2026-03-01T01:00:00") + 3600 * i for i in range(48)]
    for row in rows:
        assert (row.window_start, row.window_end) == (row.scheduled_time - 3600, row.scheduled_time)
        assert row.status == "Pending" and row.processing_job_name.startswith("model-monitoring-")
    first = rows[0]
    with services.db.read() as conn:
        job = conn.execute(select(processing_jobs).where(processing_jobs.c.arn == first.processing_job_arn)).one()
    request = orjson.loads(job.body)
    assert request["ProcessingJobName"].startswith("model-monitoring-202603010100-")
    assert request["Environment"]["start_time"] == "2026-03-01T00:00:00Z"
    assert request["Environment"]["end_time"] == "2026-03-01T01:00:00Z"
    assert (
        request["ProcessingInputs"][0]["S3Input"]["S3Uri"]
        == "s3://bucket/capture/churn-endpoint/AllTraffic/2026/03/01/00"
    )
    assert (
        request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
        == "s3://bucket/reports/churn-endpoint/hourly/2026/03/01/01"
    )


@pytest.mark.parametrize(
    ("expression", "expected_hours"),
    [("cron(0 6 ? * * *)", [6, 30, 54]), ("cron(0 17/12 ? * * *)", [5, 17, 29, 41, 53, 65]), (None, [24, 48])],
)
def test_daily_and_every_n_hours(
    services: Services, clock: FakeClock, expression: str | None, expected_hours: list[int]
) -> None:
    scheduler = Scheduler(services, ping=lambda _: True)
    create(services, "s", expression)
    scheduler.tick()
    run_for(scheduler, clock, 71)
    midnight = t("2026-03-01T00:00:00")
    assert [r.scheduled_time for r in executions(services)] == [midnight + 3600 * h for h in expected_hours]


def test_one_time_now_schedule_fires_once(services: Services, clock: FakeClock) -> None:
    scheduler = Scheduler(services, ping=lambda _: True)
    clock.set(t("2026-03-01T00:30:00") + 0.25)
    create(services, "once", "NOW", DataAnalysisStartTime="-PT2H", DataAnalysisEndTime="-PT0H")
    scheduler.tick()
    run_for(scheduler, clock, 5)
    rows = executions(services)
    assert len(rows) == 1
    assert rows[0].scheduled_time == t("2026-03-01T00:30:01")  # the next whole second
    assert (rows[0].window_start, rows[0].window_end) == (t("2026-03-01T22:30:01") - 86400, t("2026-03-01T00:30:01"))
    assert services.schedules.describe(CTX, "once")["MonitoringScheduleStatus"] == "Scheduled"


def test_downtime_runs_only_the_latest_missed_fire_time(services: Services, clock: FakeClock) -> None:
    scheduler = Scheduler(services, ping=lambda _: True)
    create(services, "hourly", "cron(0 * ? * * *)")
    scheduler.tick()
    clock.advance(10 * 3600)  # the process was down from 00:30 to 10:30
    scheduler.tick()
    scheduler.tick()
    assert [r.scheduled_time for r in executions(services)] == [t("2026-03-01T10:00:00")]
    run_for(scheduler, clock, 1)
    assert [r.scheduled_time for r in executions(services)][-1] == t("2026-03-01T11:00:00")


def test_stop_start_update_delete(services: Services, clock: FakeClock) -> None:
    scheduler = Scheduler(services, ping=lambda _: True)
    create(services, "s", "cron(0 * ? * * *)")
    scheduler.tick()
    run_for(scheduler, clock, 2)  # fires 01:00, 02:00
    services.schedules.stop(CTX, "s")
    run_for(scheduler, clock, 3)  # 02:30 → 05:30: nothing while stopped
    assert len(executions(services)) == 2
    services.schedules.start(CTX, "s")
    scheduler.tick()  # 05:30: resumes at 06:00, no catch-up for 03:00-05:00
    run_for(scheduler, clock, 1)
    assert [r.scheduled_time for r in executions(services)][-1] == t("2026-03-01T06:00:00")

    config = hourly_config()
    config["ScheduleConfig"] = {"ScheduleExpression": "cron(0 8 ? * * *)"}
    services.schedules.update(CTX, "s", config)  # 06:30: daily at 08:00 from now on
    run_for(scheduler, clock, 3)
    assert [r.scheduled_time for r in executions(services)][-2:] == [t("2026-03-01T06:00:00"), t("2026-03-01T08:00:00")]

    services.schedules.delete(CTX, "s")
    run_for(scheduler, clock, 30)
    assert len(executions(services)) == 4  # history is kept, nothing new fires


def test_two_schedulers_on_one_store_start_each_fire_time_once(services: Services, clock: FakeClock) -> None:
    first, second = Scheduler(services, ping=lambda _: True), Scheduler(services, ping=lambda _: True)
    for i in range(5):
        create(services, f"s{i}", "cron(0 * ? * * *)")
    first.tick()
    for _ in range(6 * 4):
        clock.advance(900)
        first.tick()
        second.tick()
    rows = executions(services)
    assert len(rows) == 5 * 6
    assert len({(r.schedule_name, r.scheduled_time) for r in rows}) == len(rows)


def test_schedule_on_unknown_endpoint_records_a_failed_execution(services: Services, clock: FakeClock) -> None:
    scheduler = Scheduler(services, ping=lambda _: True)
    services.schedules.create(CTX, "lost", hourly_config(endpoint="nowhere"), [])
    scheduler.tick()
    run_for(scheduler, clock, 1)
    (row,) = executions(services)
    assert row.status == "Failed"
    assert "Endpoint nowhere does not exist" in row.failure_reason
