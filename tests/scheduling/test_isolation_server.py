"""The real server on a database that holds a poisoned schedule (as one written by an older version does):
healthy schedules fire, a new endpoint comes into service, and the poisoned schedule is Failed with its reason,
logged once, across a restart."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import insert

from tests.api.conftest import hourly_config
from tests.endpoint_helpers import FAST_ENV, capture_config, deploy
from tests.server_process import ServerProcess
from tests.waiting import poll
from watchkeeper.clock import millis
from watchkeeper.config import Settings
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext
from watchkeeper.store.tables import monitoring_schedules

CTX = RequestContext("123456789012", "us-east-1")


def poison(data_dir: Path, name: str) -> None:
    """A Scheduled, already due schedule whose output LocalPath is outside /opt/ml/processing."""
    config = hourly_config(endpoint="churn")
    config["MonitoringJobDefinition"]["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["LocalPath"] = (
        "/tmp/evil"
    )
    services = Services.build(dataclasses.replace(Settings(), data_dir=data_dir))
    now = time.time()
    try:
        # The endpoint it monitors exists and captures, so firing it gets as far as building its job.
        services.endpoints.create_model(CTX, {"ModelName": "churn", "PrimaryContainer": {"Image": "x"}})
        services.endpoints.create_endpoint_config(
            CTX,
            {
                "EndpointConfigName": "churn",
                "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "churn"}],
                "DataCaptureConfig": capture_config("s3://capture/churn"),
            },
        )
        services.endpoints.create(CTX, {"EndpointName": "churn", "EndpointConfigName": "churn"})
        with services.db.write() as conn:
            conn.execute(
                insert(monitoring_schedules).values(
                    account=CTX.account,
                    region=CTX.region,
                    name=name,
                    name_key=name,
                    arn=CTX.arn("monitoring-schedule", name),
                    status="Scheduled",
                    creation_time=millis(now),
                    last_modified_time=millis(now),
                    config=orjson.dumps(config).decode(),
                    endpoint_name="churn",
                    monitoring_type="DataQuality",
                    next_fire_time=now - 1,
                )
            )
    finally:
        services.close()


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    return poll(check, timeout=timeout, interval=0.2)


def test_a_poisoned_schedule_in_the_database_stops_nothing(tmp_path: Path, model_url: str) -> None:
    data_dir = tmp_path / "data"
    poison(data_dir, "poisoned")
    server = ServerProcess(data_dir, env=FAST_ENV).start()
    try:
        sm = server.client()
        deploy(sm, "fresh", model_url, capture=capture_config("s3://capture/fresh"), wait=False)
        now_config = hourly_config(endpoint="churn")
        now_config["ScheduleConfig"] = {
            "ScheduleExpression": "NOW",
            "DataAnalysisStartTime": "-PT1H",
            "DataAnalysisEndTime": "-PT0H",
        }
        sm.create_monitoring_schedule(MonitoringScheduleName="healthy", MonitoringScheduleConfig=now_config)
        sm.get_waiter("endpoint_in_service").wait(EndpointName="fresh", WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
        executions = wait_for(
            lambda: sm.list_monitoring_executions(MonitoringScheduleName="healthy")["MonitoringExecutionSummaries"]
        )
        assert len(executions) == 1
        poisoned = sm.describe_monitoring_schedule(MonitoringScheduleName="poisoned")
        assert poisoned["MonitoringScheduleStatus"] == "Failed"
        assert "LocalPath '/tmp/evil' must be an absolute path under /opt/ml/processing/" in poisoned["FailureReason"]
        assert sm.list_monitoring_executions(MonitoringScheduleName="poisoned")["MonitoringExecutionSummaries"] == []
        assert sm.describe_endpoint(EndpointName="churn")["EndpointStatus"] == "InService"
    finally:
        server.stop()

    restarted = ServerProcess(data_dir, env=FAST_ENV).start()
    try:
        sm = restarted.client()
        time.sleep(1.0)  # several ticks
        assert (
            sm.describe_monitoring_schedule(MonitoringScheduleName="poisoned")["MonitoringScheduleStatus"] == "Failed"
        )
        assert sm.describe_endpoint(EndpointName="fresh")["EndpointStatus"] == "InService"
    finally:
        restarted.stop()
    logs = server.log_path.read_text() + restarted.log_path.read_text()
    assert logs.count("monitoring schedule poisoned failed") == 1, logs[-3000:]
