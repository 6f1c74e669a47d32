"""Job claims and leases on a real PostgreSQL from two independent stores (two engines: as two processes see the
database), with threads racing: each job is claimed once (FOR UPDATE SKIP LOCKED), each orphan failed once and
its watchers told once, and a runner that lost its lease is told to stop and cannot overwrite the verdict."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.replicas.fleet import LOST_WORKER, fresh_database
from watchkeeper.clock import FakeClock
from watchkeeper.config import Settings
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext
from watchkeeper.services.processing_jobs import COMPLETED, FAILED
from watchkeeper.store.tables import processing_jobs

CTX = RequestContext("123456789012", "us-east-1")
JOBS = 40


def job(name: str) -> dict[str, Any]:
    return {
        "ProcessingJobName": name,
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}
        },
        "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/check:1"},
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def replicas(tmp_path: Path, postgres_url: str, clock: FakeClock) -> Iterator[list[Services]]:
    url = fresh_database(postgres_url)
    built = [
        Services.build(dataclasses.replace(Settings(), data_dir=tmp_path / f"r{i}", database_url=url), clock)
        for i in range(2)
    ]
    yield built
    for services in built:
        services.close()


def race(functions: list[Any]) -> None:
    start = threading.Barrier(len(functions))
    errors: list[BaseException] = []

    def run(function: Any) -> None:
        start.wait()
        try:
            function()
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


def test_racing_claims_take_each_job_once_and_orphans_fail_once(replicas: list[Services], clock: FakeClock) -> None:
    for i in range(JOBS):
        replicas[0].processing_jobs.create(CTX, job(f"race-{i:02d}"))
    told: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()

    def watcher(_conn: Any, row: Any, status: str, _values: dict[str, Any]) -> None:
        with lock:
            told[(row.name, status)] += 1

    for services in replicas:
        services.processing_jobs.watch(watcher)
    claimed: list[tuple[str, str]] = []

    def claimer(services: Services, owner: str) -> Any:
        def claim_all() -> None:
            while (row := services.processing_jobs.claim(owner, 30)) is not None:
                with lock:
                    claimed.append((row.name, owner))

        return claim_all

    race([claimer(s, f"runner-{r}-{t}") for r, s in enumerate(replicas) for t in range(4)])
    names = [name for name, _ in claimed]
    assert sorted(names) == [f"race-{i:02d}" for i in range(JOBS)]  # every job, each once
    assert len({owner for _, owner in claimed}) > 1  # the work was actually shared
    owner_of = dict(claimed)

    # One job finishes normally; the rest lose their runner: the lease runs out and both replicas sweep at once.
    done = names[0]
    replicas[0].processing_jobs.finish(_id(replicas[0], done), owner_of[done], COMPLETED, exit_message="ok")
    clock.advance(31)
    swept: list[int] = []
    race([lambda s=s: swept.append(s.processing_jobs.fail_orphans()) for s in replicas for _ in range(3)])
    assert sum(swept) == JOBS - 1
    for name in names[1:]:
        described = replicas[1].processing_jobs.describe(CTX, name)
        assert described["ProcessingJobStatus"] == FAILED and LOST_WORKER in described["FailureReason"]
        assert told[(name, FAILED)] == 1  # the plan runner would move its execution once
    assert told[(done, COMPLETED)] == 1 and told[(done, FAILED)] == 0

    # The runner that lost a lease hears it at its next heartbeat (it stops the job), and its late verdict
    # does not overwrite the Failed one.
    lost = names[1]
    assert replicas[0].processing_jobs.heartbeat(_id(replicas[0], lost), owner_of[lost], 30) is True
    replicas[0].processing_jobs.finish(_id(replicas[0], lost), owner_of[lost], COMPLETED, exit_message="late")
    assert replicas[1].processing_jobs.describe(CTX, lost)["ProcessingJobStatus"] == FAILED


def _id(services: Services, name: str) -> int:
    with services.db.read() as conn:
        return int(conn.execute(select(processing_jobs.c.id).where(processing_jobs.c.name == name)).scalar_one())
