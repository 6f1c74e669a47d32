"""Schedulers racing on one PostgreSQL (two stores, two engines: as two processes see the database): every due
schedule is claimed by one scheduler only (FOR UPDATE SKIP LOCKED), so each has exactly one execution and one
job, no schedule is even attempted twice, and the work is shared; a write that fails for one schedule rolls its
batch back and the others still start."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.in_process import CTX, create_capturing_endpoint
from tests.replicas.fleet import fresh_database, schedule_config
from tests.replicas.test_claims import race
from watchkeeper.clock import FakeClock
from watchkeeper.config import Settings
from watchkeeper.scheduling.scheduler import BATCH, Scheduler
from watchkeeper.services.container import Services
from watchkeeper.services.executions import Planned
from watchkeeper.store.tables import monitoring_executions, monitoring_schedules, processing_jobs

SCHEDULES = 6 * BATCH + 7  # several batches each, and a partial one


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_767_225_600.25)  # inside a second: NOW schedules fire at the next whole one


@pytest.fixture
def replicas(tmp_path: Path, postgres_url: str, clock: FakeClock) -> Iterator[list[Services]]:
    url = fresh_database(postgres_url)
    settings = dataclasses.replace(
        Settings(), database_url=url, schedule_activation_seconds=0, max_monitoring_schedules=SCHEDULES + 10
    )
    built = [Services.build(dataclasses.replace(settings, data_dir=tmp_path / f"r{i}"), clock) for i in range(2)]
    yield built
    for services in built:
        services.close()


def create_schedules(services: Services, names: list[str]) -> None:
    create_capturing_endpoint(services, "churn", model="churn", config="churn", destination="s3://fleet/capture")
    for name in names:
        services.schedules.create(CTX, name, schedule_config(name, "churn", 1, 0), [])


def count_plans(services: Services, attempts: Counter[str], lock: threading.Lock) -> None:
    """Count every execution a replica plans: an attempt, whether or not it ends up written."""
    plan = services.starter.plan

    def counted(conn: Any, row: Any, *args: Any, **kwargs: Any) -> Planned:
        with lock:
            attempts[row.name] += 1
        return plan(conn, row, *args, **kwargs)

    services.starter.plan = counted  # type: ignore[method-assign]


def test_racing_schedulers_start_each_due_schedule_once(replicas: list[Services], clock: FakeClock) -> None:
    names = [f"race-{i:04d}" for i in range(SCHEDULES)]
    create_schedules(replicas[0], names)
    attempts: Counter[str] = Counter()
    lock = threading.Lock()
    for services in replicas:
        count_plans(services, attempts, lock)
    # Two schedulers per replica: four loops at once on the same due rows.
    schedulers = [Scheduler(services, ping=lambda _: True) for services in replicas for _ in range(2)]
    activated: list[int] = []
    race([lambda s=s: activated.append(s.services.schedules.activate_pending()) for s in schedulers])
    assert sum(activated) == SCHEDULES  # each schedule activated by one of them

    clock.advance(1)
    fired: dict[int, int] = {}
    race([lambda i=i, s=s: fired.__setitem__(i, s.fire_due()) for i, s in enumerate(schedulers)])

    assert sum(fired.values()) == SCHEDULES
    assert sorted(attempts) == names and set(attempts.values()) == {1}  # no schedule attempted twice
    per_replica = [fired[0] + fired[1], fired[2] + fired[3]]
    assert min(per_replica) > 0, per_replica  # the work was shared
    with replicas[1].db.read() as conn:
        executions = conn.execute(select(monitoring_executions)).all()
        jobs = set(conn.execute(select(processing_jobs.c.name)).scalars())
        due = conn.execute(
            select(func.count()).select_from(monitoring_schedules).where(monitoring_schedules.c.next_fire_time.is_not(None))
        ).scalar_one()
    assert Counter(r.schedule_name for r in executions) == Counter(names)  # exactly one execution each
    assert {r.status for r in executions} == {"Pending"}
    assert {r.processing_job_name for r in executions} == jobs and len(jobs) == SCHEDULES  # one job each
    assert due == 0  # every NOW schedule advanced: nothing fires again
    assert all(s.fire_due() == 0 for s in schedulers)


def test_a_write_failing_for_one_schedule_rolls_back_its_batch_and_the_others_start(
    replicas: list[Services], clock: FakeClock
) -> None:
    names = [f"batch-{i:02d}" for i in range(BATCH // 2)]
    create_schedules(replicas[0], names)
    replicas[0].processing_jobs.create(
        CTX,
        {
            "ProcessingJobName": "taken",
            "ProcessingResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}
            },
            "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/check:1"},
            "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        },
    )
    services = replicas[1]
    plan = services.starter.plan

    def clashing(conn: Any, row: Any, *args: Any, **kwargs: Any) -> Planned:
        planned = plan(conn, row, *args, **kwargs)
        if row.name == "batch-05":  # its job's name is taken: found only when the batch's jobs are written
            planned.requests[0]["ProcessingJobName"] = "taken"
            planned.values.update(processing_job_name="taken", processing_job_arn=CTX.arn("processing-job", "taken"))
        return planned

    services.starter.plan = clashing  # type: ignore[method-assign]
    scheduler = Scheduler(services, ping=lambda _: True)
    scheduler.tick()
    clock.advance(1)
    assert scheduler.fire_due() == len(names) - 1

    with services.db.read() as conn:
        started = {r.schedule_name for r in conn.execute(select(monitoring_executions)).all()}
    assert started == set(names) - {"batch-05"}
    failed = services.schedules.describe(CTX, "batch-05")
    assert failed["MonitoringScheduleStatus"] == "Failed"
    assert "Job with name taken already exists" in failed["FailureReason"]
    assert scheduler.fire_due() == 0
