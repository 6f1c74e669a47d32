"""`watchkeeper run` and `watchkeeper backfill` beside a running server, on its store; and two server
processes on one store never starting the same execution twice."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from tests.endpoint_helpers import FAST_ENV, capture_config, deploy
from tests.monitoring.test_monitoring_flow import ANALYZER, ROLE, TRAINING
from tests.server_process import ServerProcess
from watchkeeper.capture.records import CaptureConfig, encode_record

HOURS = ["2026-01-10T00", "2026-01-10T01", "2026-01-10T02"]

pytestmark = pytest.mark.slow  # 20 s or more: started first under xdist (tests/conftest.py)


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def write_capture(server: ServerProcess, rows: list[str]) -> None:
    """Captured traffic in three past hours, filed as the capture writer files it."""
    config = CaptureConfig.from_data_capture_config(capture_config("s3://m/capture"))
    for hour_index, hour in enumerate(HOURS):
        folder = server.data_dir / "s3/m/capture/churn/AllTraffic" / hour.replace("-", "/").replace("T", "/")
        folder.mkdir(parents=True)
        lines = b"".join(
            encode_record(
                config,
                inference_time=epoch(f"{hour}:10:00") + i,
                input_body=row.split(",", 1)[1],
                input_content_type="text/csv",
                output_body=row.split(",", 1)[0],
                output_content_type="text/csv",
            )
            for i, row in enumerate(rows[hour_index * 10 : hour_index * 10 + 10])
        )
        (folder / "10-00-000-file.jsonl").write_bytes(lines)


def cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watchkeeper", *args, "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_run_and_backfill(tmp_path: Path, model_url: str) -> None:
    server = ServerProcess(tmp_path / "data", env=FAST_ENV).start()
    try:
        sm = server.client()
        baseline = cli(
            server,
            "baseline",
            "--dataset",
            str(TRAINING),
            "--format",
            "csv",
            "--header",
            "--output",
            str(server.data_dir / "s3/m/baseline"),
        )
        assert baseline.returncode == 0, baseline.stderr
        deploy(sm, "churn", model_url, capture=capture_config("s3://m/capture"))
        write_capture(server, TRAINING.read_text().splitlines()[1:])
        sm.create_monitoring_schedule(
            MonitoringScheduleName="churn-hourly",
            MonitoringScheduleConfig={
                "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                "MonitoringJobDefinition": {
                    "BaselineConfig": {
                        "ConstraintsResource": {"S3Uri": "s3://m/baseline/constraints.json"},
                        "StatisticsResource": {"S3Uri": "s3://m/baseline/statistics.json"},
                    },
                    "MonitoringInputs": [
                        {"EndpointInput": {"EndpointName": "churn", "LocalPath": "/opt/ml/processing/input/endpoint"}}
                    ],
                    "MonitoringOutputConfig": {
                        "MonitoringOutputs": [
                            {"S3Output": {"S3Uri": "s3://m/reports", "LocalPath": "/opt/ml/processing/output"}}
                        ]
                    },
                    "MonitoringResources": {
                        "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}
                    },
                    "MonitoringAppSpecification": {"ImageUri": ANALYZER},
                    "RoleArn": ROLE,
                },
            },
        )

        backfill = cli(
            server, "backfill", "churn-hourly", "--from", "2026-01-10T01:00:00Z", "--to", "2026-01-10T04:00:00Z"
        )
        assert backfill.returncode == 0, backfill.stdout + backfill.stderr
        assert "3 window(s), 0 failed" in backfill.stdout
        executions = sm.list_monitoring_executions(
            MonitoringScheduleName="churn-hourly", SortBy="ScheduledTime", SortOrder="Ascending"
        )["MonitoringExecutionSummaries"]
        assert [e["ScheduledTime"].astimezone(UTC).hour for e in executions] == [1, 2, 3]
        for e, hour in zip(executions, ("01", "02", "03"), strict=True):
            assert e["MonitoringExecutionStatus"] in ("Completed", "CompletedWithViolations")
            stats = orjson.loads(
                (server.data_dir / f"s3/m/reports/churn/churn-hourly/2026/01/10/{hour}/statistics.json").read_bytes()
            )
            assert stats["dataset"]["item_count"] == 10  # only its own hour

        again = cli(
            server, "backfill", "churn-hourly", "--from", "2026-01-10T01:00:00Z", "--to", "2026-01-10T04:00:00Z"
        )
        assert again.returncode == 0 and "Skipped" in again.stderr + again.stdout  # resumable: done windows are skipped

        run = cli(server, "run", "churn-hourly", "--start", "2026-01-10T00:00:00Z", "--end", "2026-01-10T03:00:00Z")
        assert run.returncode == 0, run.stdout + run.stderr
        assert (
            run.stdout.startswith("churn-hourly: Completed")
            and "Reports: s3://m/reports/churn/churn-hourly/" in run.stdout
        )
        report = run.stdout.split("Reports: ")[1].strip()
        stats = orjson.loads((server.data_dir / "s3" / report.removeprefix("s3://") / "statistics.json").read_bytes())
        assert stats["dataset"]["item_count"] == 30
        # The CloudWatch metric lines the analyzer wrote are uploaded beside the reports, for the metrics store.
        metric_files = list((server.data_dir / "s3" / report.removeprefix("s3://") / "metrics").iterdir())
        lines = [orjson.loads(line) for f in metric_files for line in f.read_text().splitlines()]
        names = {line["MetricName"] for line in lines}  # one CloudWatch datum per line
        assert any(name.startswith("feature_baseline_drift_") for name in names), names

        missing = cli(server, "run", "no-such-schedule")
        assert missing.returncode != 0 and "no-such-schedule" in missing.stderr + missing.stdout
    finally:
        server.stop()


def test_two_servers_on_one_store_start_each_execution_once(tmp_path: Path) -> None:
    first = ServerProcess(tmp_path / "data", env=FAST_ENV).start()
    second = ServerProcess(tmp_path / "data", env=FAST_ENV).start()
    try:
        sm = first.client()
        deploy(sm, "elsewhere", None, capture=capture_config("s3://m/capture"))
        names = [f"once-{i}" for i in range(12)]
        for name in names:
            sm.create_monitoring_schedule(
                MonitoringScheduleName=name,
                MonitoringScheduleConfig={
                    "ScheduleConfig": {
                        "ScheduleExpression": "NOW",
                        "DataAnalysisStartTime": "-PT1H",
                        "DataAnalysisEndTime": "PT0H",
                    },
                    "MonitoringJobDefinition": {
                        "MonitoringInputs": [
                            {
                                "EndpointInput": {
                                    "EndpointName": "elsewhere",
                                    "LocalPath": "/opt/ml/processing/input/endpoint",
                                }
                            }
                        ],
                        "MonitoringOutputConfig": {
                            "MonitoringOutputs": [
                                {"S3Output": {"S3Uri": "s3://m/reports", "LocalPath": "/opt/ml/processing/output"}}
                            ]
                        },
                        "MonitoringResources": {
                            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}
                        },
                        "MonitoringAppSpecification": {"ImageUri": ANALYZER},
                        "RoleArn": ROLE,
                    },
                },
            )
        deadline = time.monotonic() + 90
        while True:
            summaries = second.client().list_monitoring_executions(MaxResults=100)["MonitoringExecutionSummaries"]
            done = [s for s in summaries if s["MonitoringExecutionStatus"] not in ("Pending", "InProgress")]
            if len(done) >= len(names) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert sorted(s["MonitoringScheduleName"] for s in summaries) == sorted(names)
        # No traffic was captured: every execution fails the way SageMaker's do, once.
        assert {s["MonitoringExecutionStatus"] for s in summaries} == {"Failed"}
        assert all("Job inputs had no data" in s["FailureReason"] for s in summaries)
        jobs = sm.list_processing_jobs(MaxResults=100)["ProcessingJobSummaries"]
        assert len(jobs) == len(names)
    finally:
        first.stop()
        second.stop()


def test_run_of_an_execution_that_cannot_start_says_failed_with_the_reason(tmp_path: Path) -> None:
    """The execution the run created is Failed (as ListMonitoringExecutions says), so is the run: exit 1."""
    from tests.api.conftest import job_definition_request
    from tests.plans.conftest import CTX
    from watchkeeper.config import Settings
    from watchkeeper.services.container import Services
    from watchkeeper.services.monitoring_types import MODEL_BIAS

    services = Services.build(dataclasses.replace(Settings(), data_dir=tmp_path / "data"))
    try:
        services.endpoints.create_model(CTX, {"ModelName": "m", "PrimaryContainer": {"Image": "x"}})
        services.endpoints.create_endpoint_config(
            CTX,
            {
                "EndpointConfigName": "c",
                "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m"}],
                "DataCaptureConfig": capture_config("s3://bucket/capture"),
            },
        )
        services.endpoints.create(CTX, {"EndpointName": "churn-endpoint", "EndpointConfigName": "c"})
        services.job_definitions.create(CTX, MODEL_BIAS, {**job_definition_request("ModelBias", "bias"),
                                                          "ModelBiasBaselineConfig": {"BaseliningJobName": "nope"}})
        services.schedules.create(
            CTX,
            "bias-hourly",
            {
                "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                "MonitoringJobDefinitionName": "bias",
                "MonitoringType": "ModelBias",
            },
            [],
        )
    finally:
        services.close()
    run = subprocess.run(
        [sys.executable, "-m", "watchkeeper", "run", "bias-hourly", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.startswith("bias-hourly: Failed. The baselining job nope named by this schedule's "), run.stdout
    assert "Skipped" not in run.stdout
