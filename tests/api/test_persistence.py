"""Restarts lose nothing; racing creates of one name have one winner; quotas hold (SQLite, PostgreSQL)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import hourly_config, job_definition_request
from tests.server_process import ServerProcess


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield {}
    else:
        yield {"WATCHKEEPER_DATABASE_URL": request.getfixturevalue("postgres_url")}


def test_everything_survives_a_restart_and_a_kill(tmp_path: Path, backend_env: dict[str, str]) -> None:
    name = f"p-{uuid.uuid4().hex[:10]}"
    server = ServerProcess(tmp_path / "data", env=backend_env).start()
    try:
        sm = server.client()
        sm.create_data_quality_job_definition(**job_definition_request("DataQuality", f"{name}-def"))
        arn = sm.create_monitoring_schedule(
            MonitoringScheduleName=name,
            MonitoringScheduleConfig=hourly_config(),
            Tags=[{"Key": "k", "Value": "v"}],
        )["MonitoringScheduleArn"]
        sm.stop_monitoring_schedule(MonitoringScheduleName=name)
        before = sm.describe_monitoring_schedule(MonitoringScheduleName=name)
        definition = sm.describe_data_quality_job_definition(JobDefinitionName=f"{name}-def")
    finally:
        server.stop()

    for stop in ("graceful", "kill"):
        server = ServerProcess(tmp_path / "data", env=backend_env, port=server.port).start()
        try:
            sm = server.client()
            after = sm.describe_monitoring_schedule(MonitoringScheduleName=name)
            for field in (
                "MonitoringScheduleConfig",
                "MonitoringScheduleStatus",
                "CreationTime",
                "LastModifiedTime",
            ):
                assert after[field] == before[field], field
            described = sm.describe_data_quality_job_definition(JobDefinitionName=f"{name}-def")
            described.pop("ResponseMetadata")
            assert described == {k: v for k, v in definition.items() if k != "ResponseMetadata"}
            assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
        finally:
            server.stop() if stop == "graceful" else server.kill()


def test_eight_clients_racing_for_one_name(tmp_path: Path, backend_env: dict[str, str]) -> None:
    server = ServerProcess(tmp_path / "data", env=backend_env).start()
    try:
        name = f"race-{uuid.uuid4().hex[:10]}"
        clients = [server.client() for _ in range(8)]
        barrier = threading.Barrier(8)
        outcomes: list[str] = []
        lock = threading.Lock()

        def create(sm: Any) -> None:
            barrier.wait()
            try:
                sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config())
                outcome = "created"
            except ClientError as error:
                outcome = error.response["Error"]["Code"]
            with lock:
                outcomes.append(outcome)

        threads = [threading.Thread(target=create, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["ResourceInUse"] * 7 + ["created"]
        listed = clients[0].list_monitoring_schedules(NameContains=name)["MonitoringScheduleSummaries"]
        assert len(listed) == 1
    finally:
        server.stop()


def test_account_quota_is_resource_limit_exceeded(tmp_path: Path) -> None:
    server = ServerProcess(
        tmp_path / "data",
        env={"WATCHKEEPER_MAX_MONITORING_SCHEDULES": "2", "WATCHKEEPER_MAX_JOB_DEFINITIONS": "1"},
    ).start()
    try:
        sm = server.client()
        sm.create_monitoring_schedule(MonitoringScheduleName="one", MonitoringScheduleConfig=hourly_config())
        sm.create_monitoring_schedule(MonitoringScheduleName="two", MonitoringScheduleConfig=hourly_config())
        with pytest.raises(sm.exceptions.ResourceLimitExceeded) as excinfo:
            sm.create_monitoring_schedule(MonitoringScheduleName="three", MonitoringScheduleConfig=hourly_config())
        assert "2" in excinfo.value.response["Error"]["Message"]
        with pytest.raises(sm.exceptions.ResourceNotFound):
            sm.describe_monitoring_schedule(MonitoringScheduleName="three")
        # Quotas are per region: another region has its own.
        sm_eu = server.client(region="eu-west-1")
        sm_eu.create_monitoring_schedule(MonitoringScheduleName="three", MonitoringScheduleConfig=hourly_config())

        sm.create_model_bias_job_definition(**job_definition_request("ModelBias", "only-one"))
        with pytest.raises(sm.exceptions.ResourceLimitExceeded):
            sm.create_data_quality_job_definition(**job_definition_request("DataQuality", "second"))
    finally:
        server.stop()
