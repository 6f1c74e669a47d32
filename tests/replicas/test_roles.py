"""Roles on one SQLite store: an `api` process runs no job, a `worker` process beside it runs them and answers
/healthz alone; a role's health says 503 once one of its loops has died."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx

from tests.replicas.fleet import ROLE_ARN as ROLE
from tests.server_process import ServerProcess
from tests.waiting import poll
from watchkeeper.api.roles import Background
from watchkeeper.config import Settings
from watchkeeper.services.container import Services


def shell_job(name: str) -> dict[str, object]:
    return {
        "ProcessingJobName": name,
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}
        },
        "AppSpecification": {
            "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/check:1",
            "ContainerEntrypoint": ["/bin/sh", "-c", "echo checked"],
        },
        "RoleArn": ROLE,
    }


def test_an_api_process_runs_no_job_and_a_worker_beside_it_does(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {"WATCHKEEPER_JOB_LEASE_SECONDS": "3"}
    api = ServerProcess(data_dir, env=env, args=("--role", "api")).start(timeout=90)
    worker = None
    try:
        sm = api.client()
        sm.create_processing_job(**shell_job("waits-for-a-worker"))
        waited = poll(lambda: sm.describe_processing_job(ProcessingJobName="waits-for-a-worker"), timeout=1.5)
        assert waited["ProcessingJobStatus"] == "InProgress" and "ProcessingStartTime" not in waited  # unclaimed

        worker = ServerProcess(data_dir, env=env, args=("--role", "worker")).start(timeout=90)
        done = poll(
            lambda: sm.describe_processing_job(ProcessingJobName="waits-for-a-worker"),
            until=lambda job: job["ProcessingJobStatus"] != "InProgress",
            timeout=30,
        )
        assert done["ProcessingJobStatus"] == "Completed", done.get("FailureReason")
        health = httpx.get(f"{worker.url}/healthz", timeout=5)
        assert health.status_code == 200 and health.json()["role"] == "worker"
        assert "job runner (lease owner runner-" in health.json()["runs"]
        # The worker serves no API: a SageMaker call to it finds nothing.
        assert httpx.post(f"{worker.url}/", headers={"X-Amz-Target": "SageMaker.ListProcessingJobs"}).status_code == 404
        assert "role worker (no API): health at" in worker.log_path.read_text()
    finally:
        if worker is not None:
            worker.stop()
        api.stop()


def test_health_fails_when_a_loop_has_died(tmp_path: Path) -> None:
    services = Services.build(dataclasses.replace(Settings(), data_dir=tmp_path / "data"))
    background = Background(services, "scheduler")
    try:
        background.start()
        status, body = background.health()
        assert status == 200 and body["role"] == "scheduler" and "scheduler" in body["runs"]
        assert background.scheduler is not None and background.runner is None
        background.scheduler.stop()  # as if its thread had ended
        status, body = background.health()
        assert status == 503 and "watchkeeper-scheduler" in body["reason"]
    finally:
        background.stop()
        services.close()
