"""The SageMaker Python SDK 2.x flow, run as users run it, against a real Watchkeeper and nothing else.

The SDK lives in `.venv-sdk` (its pins clash with ours; `make test` builds it), so this test starts the
server and runs tests/sdk/sdk_flow.py there in a subprocess, then checks what the SDK got back and what
landed in S3. `AWS_ENDPOINT_URL` points every client the SDK makes at Watchkeeper: its S3 API over the
embedded store (docs/s3.md) serves the SDK's uploads and reads. Expected numbers come from AWS's own churn
baseline in `tests/fixtures/aws/`.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.aws_fixtures import aws_fixture
from tests.endpoint_helpers import FAST_ENV
from tests.server_process import ServerProcess

REPO = Path(__file__).resolve().parents[2]
SDK_PYTHON = REPO / ".venv-sdk" / "bin" / "python"
DRIVER = Path(__file__).resolve().parent / "sdk_flow.py"
ARTIFACTS = aws_fixture("churn-data-quality")
TRAINING = ARTIFACTS / "training-dataset-with-header.csv"
ROWS_SENT = 40
REGION = "us-east-1"
ACCESS_KEY, SECRET_KEY = "AKIASDKFLOW00000001", "sdk-flow-secret-0123456789"

pytestmark = [
    pytest.mark.skipif(not SDK_PYTHON.exists(), reason=f"{SDK_PYTHON} is missing: run `make test`, which builds it"),
    pytest.mark.slow,  # 20 s or more: started first under xdist (tests/conftest.py)
]


@pytest.fixture(scope="module")
def s3(server: ServerProcess) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # The embedded store: the SDK's S3 calls and the analyzer meet in the same files.
    # The SDK signs every call, S3 included, with these keys; the server checks them (auth on, as a team runs it).
    keys = {"sdk": (ACCESS_KEY, SECRET_KEY, "123456789012")}
    process = ServerProcess(tmp_path_factory.mktemp("sdk"), env=dict(FAST_ENV), keys=keys).start()
    yield process
    process.stop()


def sdk_env(tmp: Path, server: ServerProcess) -> dict[str, str]:
    """The environment a user sets for the SDK (docs/sdk.md), isolated from this machine's AWS config."""
    config = tmp / "sagemaker-config.yaml"
    config.write_text("SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    return {
        **env,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-credentials"),
        # Every client the SDK makes (S3, CloudWatch Logs for logs=True, anything else) reaches Watchkeeper.
        "AWS_ENDPOINT_URL": server.url,
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config),
        "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": str(config),
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
        "PYTHONPATH": str(REPO),  # the drivers import tests/sdk/quick_waits.py
    }


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory, server: ServerProcess, model_url: str) -> dict[str, Any]:
    """Run the SDK driver once; every test below reads its report."""
    tmp = tmp_path_factory.mktemp("sdk-client")
    bucket = f"sdk-{uuid.uuid4().hex[:12]}"  # the SDK creates it, as it does for a default bucket
    command = [
        str(SDK_PYTHON),
        str(DRIVER),
        "--sagemaker-url",
        server.url,
        "--bucket",
        bucket,
        "--model-url",
        model_url,
        "--training",
        str(TRAINING),
        "--rows",
        str(ROWS_SENT),
    ]
    done = subprocess.run(
        command, env=sdk_env(tmp, server), capture_output=True, text=True, timeout=240, check=False
    )
    (tmp / "sdk-flow.log").write_text(done.stderr)  # the SDK's own log, kept for a failed run's post-mortem
    assert done.returncode == 0, (
        f"SDK flow failed:\n{done.stderr[-6000:]}\n--- server log ---\n{server.log_path.read_text()[-4000:]}"
    )
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["bucket"] = bucket
    return report


def split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def keys_under(s3: Any, uri: str) -> list[str]:
    bucket, prefix = split_uri(uri.rstrip("/") + "/")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def read_json(s3: Any, uri: str) -> Any:
    bucket, key = split_uri(uri)
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def test_suggest_baseline_matches_aws(flow: dict[str, Any], s3: Any) -> None:
    baseline = flow["baseline"]
    assert baseline["status"] == "Completed"
    # logs=True tailed the job's log through CloudWatch Logs' API: the runner's last line reached the user.
    assert any(line.startswith("Job ended: Completed") for line in baseline["printed_log"]), baseline["printed_log"]
    job, bucket = baseline["job_name"], flow["bucket"]
    assert job.startswith("baseline-suggestion-job-")
    # The SDK's own layout for a local dataset and the default output (spec §13.2).
    assert baseline["dataset_uri"] == f"s3://{bucket}/model-monitor/baselining/{job}/input/baseline_dataset_input"
    assert baseline["output_uri"] == f"s3://{bucket}/model-monitor/baselining/{job}/results"
    dataset_keys = keys_under(s3, baseline["dataset_uri"])
    assert [k.rsplit("/", 1)[1] for k in dataset_keys] == [TRAINING.name]
    assert s3.get_object(Bucket=bucket, Key=dataset_keys[0])["Body"].read() == TRAINING.read_bytes()

    aws_constraints = json.loads((ARTIFACTS / "constraints.json").read_text())
    aws_statistics = json.loads((ARTIFACTS / "statistics.partial.json").read_text())
    constraints, statistics = baseline["constraints"], baseline["statistics"]
    assert constraints["features"] == aws_constraints["features"]
    assert statistics["dataset"]["item_count"] == aws_statistics["dataset"]["item_count"]
    ours = {f["name"]: f for f in statistics["features"]}
    for theirs in aws_statistics["features"]:
        mine = ours[theirs["name"]]
        assert mine["inferred_type"] == theirs["inferred_type"]
        for key in ("mean", "sum", "min", "max", "std_dev"):
            expected = theirs["numerical_statistics"][key]
            assert mine["numerical_statistics"][key] == pytest.approx(expected, rel=1e-9, abs=1e-12), key
    # What the SDK read is what is in S3.
    assert read_json(s3, f"{baseline['output_uri']}/statistics.json") == statistics
    assert read_json(s3, f"{baseline['output_uri']}/constraints.json") == constraints


def test_deploy_with_capture_and_traffic(flow: dict[str, Any], s3: Any) -> None:
    endpoint = flow["endpoint"]
    assert endpoint["status"] == "InService"
    assert endpoint["capture"]["EnableCapture"] is True
    assert endpoint["invocations"] == ROWS_SENT
    assert 0.0 <= float(endpoint["first_prediction"]) <= 1.0
    capture_keys = keys_under(s3, f"s3://{flow['bucket']}/churn/capture/churn-sdk/AllTraffic")
    assert capture_keys and all(k.endswith(".jsonl") for k in capture_keys)
    records = [
        json.loads(line)
        for key in capture_keys
        for line in s3.get_object(Bucket=flow["bucket"], Key=key)["Body"].read().splitlines()
    ]
    assert len(records) == ROWS_SENT
    sent = {line.split(",", 1)[1] for line in TRAINING.read_text().splitlines()[1 : 1 + ROWS_SENT]}
    assert {r["captureData"]["endpointInput"]["data"] for r in records} == sent


def test_schedule_execution_and_latest_reports(flow: dict[str, Any], s3: Any) -> None:
    executions = flow["executions"]
    assert len(executions) == 1
    execution = executions[0]
    assert execution["job_name"] == flow["execution_job_name"]
    # A processing job's own status has no "WithViolations": that lives in the execution summary and ExitMessage.
    assert execution["status"] == "Completed"
    assert execution["exit_message"].startswith("CompletedWithViolations: Job completed successfully with ")
    # execution.wait() tailed the execution's job log; its last line is the runner's verdict.
    assert any(line.startswith("Job ended: Completed") for line in flow["execution_printed_log"])
    # The SDK reads `<Outputs[0].S3Uri>/statistics.json`: that URI must be the report folder itself.
    prefix = f"s3://{flow['bucket']}/churn/reports/churn-sdk/churn-sdk-now/"
    assert execution["output_uri"].startswith(prefix)
    assert len(execution["output_uri"].removeprefix(prefix).split("/")) == 4  # yyyy/mm/dd/hh
    names = {key.rsplit("/", 1)[1] for key in keys_under(s3, execution["output_uri"])}
    assert {"statistics.json", "constraints.json", "constraint_violations.json"} <= names

    statistics, violations = flow["latest_statistics"], flow["latest_violations"]
    assert statistics is not None and violations is not None
    assert statistics["dataset"]["item_count"] == ROWS_SENT
    assert read_json(s3, f"{execution['output_uri']}/statistics.json") == statistics
    assert read_json(s3, f"{execution['output_uri']}/constraint_violations.json") == violations
    # The model's probability stands where the baseline had the 0/1 label, as in AWS's own churn run.
    churn = [v for v in violations["violations"] if v["feature_name"] == "Churn"]
    assert "data_type_check" in {v["constraint_check_type"] for v in churn}
    assert execution["exit_message"].endswith(f"with {len(violations['violations'])} violations.")


def test_schedule_describe_stop_start_delete(flow: dict[str, Any]) -> None:
    schedule = flow["schedule"]
    assert schedule["type"] == "DataQuality"
    assert schedule["definition"] == flow["job_definition_name"]
    assert flow["job_definition_name"].startswith("data-quality-job-definition-")
    assert schedule["expression"] == "NOW"
    assert schedule["last_execution"]["MonitoringExecutionStatus"] == "CompletedWithViolations"
    assert schedule["last_execution"]["ProcessingJobArn"].endswith(f"/{flow['execution_job_name']}")

    # attach(name) rebuilds the monitor from Describe + the job definition + ListTags.
    attached = flow["attached"]
    assert attached["job_definition_name"] == flow["job_definition_name"]
    assert attached["image_uri"].endswith(".amazonaws.com/sagemaker-model-monitor-analyzer")
    assert attached["role"] == "arn:aws:iam::123456789012:role/SageMakerRole"
    assert attached["env"] == {"publish_cloudwatch_metrics": "Enabled"}
    # MonitoringExecution.statistics()/constraint_violations() read the same report folder.
    assert flow["execution_reports"] == {
        "statistics_item_count": ROWS_SENT,
        "violations": len(flow["latest_violations"]["violations"]),
    }

    # update_monitoring_schedule: a new definition, the new expression, Pending waited out; the SDK keeps the old one.
    update = flow["update"]
    assert update["definition"] != flow["job_definition_name"]
    assert update["definition"].startswith("data-quality-job-definition-")
    assert update["expression"] == "cron(0 * ? * * *)"
    assert update["status"] == "Scheduled"
    assert update["max_runtime"] == 1200
    assert update["old_definition"] is None

    assert flow["status_after_stop"] == "Stopped"
    assert flow["status_after_start"] == "Scheduled"
    # AWS answers a missing endpoint, endpoint config or model with ValidationException, a schedule with
    # ResourceNotFound (the SDK's delete waits for exactly that before deleting the definition).
    assert flow["deleted"] == {
        "schedule": "ResourceNotFound",
        "job_definition": "ResourceNotFound",
        "endpoint": "ValidationException",
        "endpoint_config": "ValidationException",
        "model": "ValidationException",
    }


def test_list_monitoring_alerts(flow: dict[str, Any]) -> None:
    # The SDK's list_monitoring_alerts goes through (a driver error would be reported as {"error": code}) and
    # parses the schedule's one alert (docs/alerts.md); its status depends on the flow's executions.
    assert [(a["name"], a["dashboard"]) for a in flow["alerts"]] == [("DataQualityAlert", True)]
    assert flow["alerts"][0]["status"] in ("OK", "InAlert")
