"""The whole loop through boto3, as a user runs it: endpoint with capture → traffic → suggest-baseline →
schedule → execution with violations → reports at SageMaker's layout."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.aws_fixtures import aws_fixture
from tests.endpoint_helpers import FAST_ENV, capture_config, deploy, read_capture
from tests.server_process import ServerProcess
from tests.waiting import poll

ARTIFACTS = aws_fixture("churn-data-quality")
TRAINING = ARTIFACTS / "training-dataset-with-header.csv"
ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("monitoring"), env=FAST_ENV).start()
    yield process
    process.stop()


def s3_path(server: ServerProcess, uri: str) -> Path:
    return server.data_dir / "s3" / uri.removeprefix("s3://")


def wait_for_job(sm: Any, name: str, timeout: float = 120) -> dict[str, Any]:
    return poll(
        lambda: sm.describe_processing_job(ProcessingJobName=name),
        until=lambda job: job["ProcessingJobStatus"] not in ("InProgress", "Stopping"),
        timeout=timeout,
        interval=0.2,
    )


def suggest_baseline(sm: Any, server: ServerProcess, name: str, dataset_uri: str, output_uri: str) -> dict[str, Any]:
    """CreateProcessingJob exactly as DefaultModelMonitor.suggest_baseline submits it (spec §13.2)."""
    sm.create_processing_job(
        ProcessingJobName=name,
        ProcessingResources={
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}
        },
        AppSpecification={"ImageUri": ANALYZER},
        RoleArn=ROLE,
        Environment={
            "dataset_format": '{"csv": {"header": true, "output_columns_position": "START"}}',
            "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
            "output_path": "/opt/ml/processing/output",
            "publish_cloudwatch_metrics": "Disabled",
        },
        ProcessingInputs=[
            {
                "InputName": "baseline_dataset_input",
                "AppManaged": False,
                "S3Input": {
                    "S3Uri": dataset_uri,
                    "LocalPath": "/opt/ml/processing/input/baseline_dataset_input",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                    "S3CompressionType": "None",
                },
            }
        ],
        ProcessingOutputConfig={
            "Outputs": [
                {
                    "OutputName": "monitoring_output",
                    "AppManaged": False,
                    "S3Output": {
                        "S3Uri": output_uri,
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
    )
    return wait_for_job(sm, name)


def test_endpoint_traffic_baseline_schedule_execution_reports(server: ServerProcess, model_url: str) -> None:
    sm, runtime = server.client(), server.client("sagemaker-runtime")

    # 1. Baseline from the training set (label first), as the SDK submits it.
    dataset = s3_path(server, "s3://models/churn/train/training-dataset-with-header.csv")
    dataset.parent.mkdir(parents=True)
    shutil.copy(TRAINING, dataset)
    job = suggest_baseline(
        sm, server, "baseline-suggestion-job-1", "s3://models/churn/train", "s3://models/churn/baseline"
    )
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ExitMessage"] == "Completed: Job completed successfully with no violations."
    statistics = orjson.loads(s3_path(server, "s3://models/churn/baseline/statistics.json").read_bytes())
    constraints = orjson.loads(s3_path(server, "s3://models/churn/baseline/constraints.json").read_bytes())
    assert statistics["dataset"]["item_count"] == 2333
    assert [f["name"] for f in constraints["features"]][:2] == ["Churn", "Account Length"]

    # 2. An endpoint that captures, and traffic through InvokeEndpoint (features only: the model answers).
    deploy(sm, "churn", model_url, capture=capture_config("s3://models/churn/capture"))
    rows = TRAINING.read_text().splitlines()[1:41]
    for row in rows:
        features = row.split(",", 1)[1]
        runtime.invoke_endpoint(EndpointName="churn", Body=features.encode(), ContentType="text/csv")
    assert len(read_capture(s3_path(server, "s3://models/churn/capture"), expected=len(rows))) == len(rows)

    # 3. A data-quality job definition with that baseline, and a one-off schedule over the last hour.
    sm.create_data_quality_job_definition(
        JobDefinitionName="churn-dq",
        DataQualityAppSpecification={"ImageUri": ANALYZER, "Environment": {"publish_cloudwatch_metrics": "Enabled"}},
        DataQualityBaselineConfig={
            "ConstraintsResource": {"S3Uri": "s3://models/churn/baseline/constraints.json"},
            "StatisticsResource": {"S3Uri": "s3://models/churn/baseline/statistics.json"},
        },
        DataQualityJobInput={
            "EndpointInput": {"EndpointName": "churn", "LocalPath": "/opt/ml/processing/input/endpoint"}
        },
        DataQualityJobOutputConfig={
            "MonitoringOutputs": [
                {"S3Output": {"S3Uri": "s3://models/churn/reports", "LocalPath": "/opt/ml/processing/output"}}
            ]
        },
        JobResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}},
        RoleArn=ROLE,
    )
    sm.create_monitoring_schedule(
        MonitoringScheduleName="churn-now",
        MonitoringScheduleConfig={
            "ScheduleConfig": {
                "ScheduleExpression": "NOW",
                "DataAnalysisStartTime": "-PT1H",
                "DataAnalysisEndTime": "PT0H",
            },
            "MonitoringJobDefinitionName": "churn-dq",
            "MonitoringType": "DataQuality",
        },
    )

    # 4. The execution runs and reports back through the API.
    deadline = time.monotonic() + 120
    while True:
        summaries = sm.list_monitoring_executions(MonitoringScheduleName="churn-now")["MonitoringExecutionSummaries"]
        if summaries and summaries[0]["MonitoringExecutionStatus"] not in ("Pending", "InProgress"):
            break
        assert time.monotonic() < deadline, summaries
        time.sleep(0.3)
    execution = summaries[0]
    assert execution["MonitoringExecutionStatus"] == "CompletedWithViolations", execution
    assert execution["EndpointName"] == "churn"
    assert execution["MonitoringType"] == "DataQuality"
    assert execution["MonitoringJobDefinitionName"] == "churn-dq"
    job_name = execution["ProcessingJobArn"].split(":")[5][len("processing-job/") :]  # as the SDK parses it
    assert job_name.startswith("model-monitoring-")

    job = sm.describe_processing_job(ProcessingJobName=job_name)
    assert job["MonitoringScheduleArn"].endswith(":monitoring-schedule/churn-now")
    report_uri = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    scheduled = execution["ScheduledTime"]
    assert report_uri == f"s3://models/churn/reports/churn/churn-now/{scheduled:%Y/%m/%d/%H}"
    report = s3_path(server, report_uri)
    violations = orjson.loads((report / "constraint_violations.json").read_bytes())["violations"]
    assert {"statistics.json", "constraints.json", "constraint_violations.json"} <= {p.name for p in report.iterdir()}
    assert (
        job["ExitMessage"] == f"CompletedWithViolations: Job completed successfully with {len(violations)} violations."
    )
    # The model's probability sits where the baseline had the 0/1 label, as in AWS's own churn run.
    churn = [v for v in violations if v["feature_name"] == "Churn"]
    assert churn and churn[0]["constraint_check_type"] == "data_type_check"
    current = orjson.loads((report / "statistics.json").read_bytes())
    assert current["dataset"]["item_count"] == len(rows)
    assert (report / "logs" / f"{job_name}.log").exists()

    described = sm.describe_monitoring_schedule(MonitoringScheduleName="churn-now")
    last = described["LastMonitoringExecutionSummary"]
    assert last["MonitoringExecutionStatus"] == "CompletedWithViolations"
    assert last["ProcessingJobArn"] == execution["ProcessingJobArn"]
