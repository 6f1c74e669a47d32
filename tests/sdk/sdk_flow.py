"""The SageMaker Python SDK 2.x monitoring flow against Watchkeeper, as a notebook runs it.

Runs in `.venv-sdk` (the SDK's pins clash with ours), started by tests/sdk/test_sdk_flow.py:

    AWS_ENDPOINT_URL_S3=URL .venv-sdk/bin/python tests/sdk/sdk_flow.py --sagemaker-url URL --bucket B \
        --model-url URL --training CSV

Every SDK call the user would make: suggest_baseline → Model.deploy with DataCaptureConfig → Predictor.predict →
create_monitoring_schedule(NOW) → wait for the execution → list_executions → latest statistics and violations →
describe/stop/start/delete. What each step returned is printed as one JSON document on stdout; the SDK's own
chatter (it prints progress dots) goes to stderr. Credentials and the non-SageMaker endpoints (S3) come from
botocore's environment variables, which the test sets (docs/sdk.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from typing import Any

import boto3
from sagemaker.model import Model
from sagemaker.model_monitor import (
    CronExpressionGenerator,
    DataCaptureConfig,
    DefaultModelMonitor,
    EndpointInput,
)
from sagemaker.model_monitor.dataset_format import DatasetFormat
from sagemaker.predictor import Predictor
from sagemaker.serializers import CSVSerializer
from sagemaker.session import Session

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"  # a full ARN: the SDK then never calls IAM
ENDPOINT = "churn-sdk"
SCHEDULE = "churn-sdk-now"


def session(sagemaker_url: str, bucket: str) -> Session:
    boto_session = boto3.Session(region_name=REGION)
    return Session(
        boto_session=boto_session,
        sagemaker_client=boto_session.client("sagemaker", endpoint_url=sagemaker_url),
        sagemaker_runtime_client=boto_session.client("sagemaker-runtime", endpoint_url=sagemaker_url),
        default_bucket=bucket,  # otherwise the SDK asks STS for the account to name one
    )


def deploy_with_capture(sm_session: Session, model_url: str, bucket: str) -> dict[str, Any]:
    model = Model(
        image_uri="my-registry/churn-xgb:1",
        role=ROLE,
        env={"WATCHKEEPER_UPSTREAM_URL": model_url},  # where Watchkeeper's endpoint proxies to
        sagemaker_session=sm_session,
    )
    capture = DataCaptureConfig(
        enable_capture=True, sampling_percentage=100, destination_s3_uri=f"s3://{bucket}/churn/capture"
    )
    # wait=False and our own poll: the SDK's waiter sleeps 30 s before its first look.
    model.deploy(
        initial_instance_count=1,
        instance_type="ml.m5.large",
        endpoint_name=ENDPOINT,
        data_capture_config=capture,
        wait=False,
    )
    return sm_session.wait_for_endpoint(ENDPOINT, poll=1)


def send_traffic(sm_session: Session, rows: list[str]) -> list[str]:
    predictor = Predictor(ENDPOINT, sagemaker_session=sm_session, serializer=CSVSerializer())
    return [predictor.predict(row).decode() for row in rows]


def wait_for_execution(monitor: DefaultModelMonitor, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while not (executions := monitor.list_executions()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no execution of {monitor.monitoring_schedule_name} within {timeout}s")
        time.sleep(0.5)
    latest = executions[-1]
    latest.wait(logs=False)
    return latest


def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {}
    sm_session = session(args.sagemaker_url, args.bucket)
    monitor = DefaultModelMonitor(
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.xlarge",
        volume_size_in_gb=20,
        max_runtime_in_seconds=600,
        sagemaker_session=sm_session,
    )

    # 1. Baseline from the local training CSV (label first): the SDK uploads it and submits the job.
    monitor.suggest_baseline(
        baseline_dataset=args.training,
        dataset_format=DatasetFormat.csv(header=True, output_columns_position="START"),
        wait=True,
        logs=False,
    )
    job = monitor.latest_baselining_job
    report["baseline"] = {
        "job_name": job.job_name,
        "status": job.describe()["ProcessingJobStatus"],
        "output_uri": job.outputs[0].destination,
        "dataset_uri": job.inputs[0].source,
        "statistics": monitor.baseline_statistics().body_dict,
        "constraints": monitor.suggested_constraints().body_dict,
    }

    # 2. An endpoint that captures, and traffic through InvokeEndpoint (features only: the model answers).
    described = deploy_with_capture(sm_session, args.model_url, args.bucket)
    rows = [line.split(",", 1)[1] for line in open(args.training).read().splitlines()[1 : 1 + args.rows]]
    predictions = send_traffic(sm_session, rows)
    report["endpoint"] = {
        "status": described["EndpointStatus"],
        "capture": described.get("DataCaptureConfig", {}),
        "invocations": len(predictions),
        "first_prediction": predictions[0],
    }
    # The capture writer flushes on a timer; an execution reads what has landed.
    time.sleep(args.capture_settle)

    # 3. A one-off schedule over the last hour, with the suggested baseline.
    monitor.create_monitoring_schedule(
        monitor_schedule_name=SCHEDULE,
        endpoint_input=EndpointInput(endpoint_name=ENDPOINT, destination="/opt/ml/processing/input/endpoint"),
        output_s3_uri=f"s3://{args.bucket}/churn/reports",
        statistics=monitor.baseline_statistics(),
        constraints=monitor.suggested_constraints(),
        schedule_cron_expression=CronExpressionGenerator.now(),
        data_analysis_start_time="-PT1H",
        data_analysis_end_time="-PT0H",
        enable_cloudwatch_metrics=True,
    )
    report["job_definition_name"] = monitor.job_definition_name

    # 4. The execution runs; the SDK finds it and reads its reports.
    execution = wait_for_execution(monitor)
    executions = monitor.list_executions()
    report["executions"] = [
        {
            "job_name": e.job_name,
            "status": e.describe()["ProcessingJobStatus"],
            "exit_message": e.describe().get("ExitMessage"),
            "output_uri": e.output.destination,
        }
        for e in executions
    ]
    report["execution_job_name"] = execution.job_name
    statistics = monitor.latest_monitoring_statistics()
    violations = monitor.latest_monitoring_constraint_violations()
    report["latest_statistics"] = statistics.body_dict if statistics else None
    report["latest_violations"] = violations.body_dict if violations else None

    # 5. The schedule's life: describe, stop, start, delete (the SDK waits out each Pending).
    schedule = monitor.describe_schedule()
    report["schedule"] = {
        "status": schedule["MonitoringScheduleStatus"],
        "type": schedule.get("MonitoringType"),
        "definition": schedule["MonitoringScheduleConfig"].get("MonitoringJobDefinitionName"),
        "expression": schedule["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"],
        "last_execution": {k: str(v) for k, v in schedule.get("LastMonitoringExecutionSummary", {}).items()},
    }
    monitor.stop_monitoring_schedule()
    report["status_after_stop"] = monitor.describe_schedule()["MonitoringScheduleStatus"]
    monitor.start_monitoring_schedule()
    report["status_after_start"] = monitor.describe_schedule()["MonitoringScheduleStatus"]
    definition = report["job_definition_name"]
    monitor.delete_monitoring_schedule()
    report["deleted"] = {
        "schedule": error_code(lambda: sm_session.describe_monitoring_schedule(SCHEDULE)),
        "job_definition": error_code(
            lambda: sm_session.sagemaker_client.describe_data_quality_job_definition(JobDefinitionName=definition)
        ),
    }
    return report


def error_code(call: Any) -> str | None:
    """The AWS error code a call raised, or None when it succeeded."""
    try:
        call()
    except Exception as exc:
        return getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sagemaker-url", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--model-url", required=True)
    parser.add_argument("--training", required=True, help="the churn training CSV, label first, with header")
    parser.add_argument("--rows", type=int, default=40, help="how many training rows to send as traffic")
    parser.add_argument("--capture-settle", type=float, default=1.0, help="seconds for the capture flush")
    args = parser.parse_args()
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # the SDK prints progress on stdout
        report = run(args)
    out.write(json.dumps(report, default=str) + "\n")


if __name__ == "__main__":
    main()
