"""The SageMaker Python SDK 2.x monitoring flow against Watchkeeper, as a notebook runs it.

Runs in `.venv-sdk` (the SDK's pins clash with ours), started by tests/sdk/test_sdk_flow.py:

    PYTHONPATH=. AWS_ENDPOINT_URL_S3=URL .venv-sdk/bin/python tests/sdk/sdk_flow.py --sagemaker-url URL --bucket B \
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
import io
import json
import sys
import time
import traceback
from pathlib import Path
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

from tests.sdk.quick_waits import SDK2, quick_sdk_waits

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"  # a full ARN: the SDK then never calls IAM


def session(sagemaker_url: str, bucket: str) -> Session:
    boto_session = boto3.Session(region_name=REGION)
    return Session(
        boto_session=boto_session,
        sagemaker_client=boto_session.client("sagemaker", endpoint_url=sagemaker_url),
        sagemaker_runtime_client=boto_session.client("sagemaker-runtime", endpoint_url=sagemaker_url),
        default_bucket=bucket,  # otherwise the SDK asks STS for the account to name one
    )


def deploy_with_capture(sm_session: Session, endpoint: str, model_url: str, bucket: str) -> tuple[Model, Any]:
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
        endpoint_name=endpoint,
        data_capture_config=capture,
        wait=False,
    )
    return model, sm_session.wait_for_endpoint(endpoint, poll=1)


def wait_for_execution(monitor: DefaultModelMonitor, timeout: float = 90) -> tuple[Any, list[str]]:
    """The schedule's first execution once it has ended, and the job log lines `wait()` printed meanwhile."""
    deadline = time.monotonic() + timeout
    while not (executions := monitor.list_executions()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no execution of {monitor.monitoring_schedule_name} within {timeout}s")
        time.sleep(0.5)
    latest = executions[-1]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        latest.wait()  # logs=True, its default
    return latest, printed.getvalue().splitlines()


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

    # 1. Baseline from the local training CSV (label first): the SDK uploads it, submits the job and, with
    #    logs=True (its default), prints the job's log from CloudWatch Logs, which Watchkeeper serves too.
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        monitor.suggest_baseline(
            baseline_dataset=args.training,
            dataset_format=DatasetFormat.csv(header=True, output_columns_position="START"),
            wait=True,
        )
    job = monitor.latest_baselining_job
    report["baseline"] = {
        "job_name": job.job_name,
        "status": job.describe()["ProcessingJobStatus"],
        "output_uri": job.outputs[0].destination,
        "dataset_uri": job.inputs[0].source,
        "statistics": monitor.baseline_statistics().body_dict,
        "constraints": monitor.suggested_constraints().body_dict,
        "printed_log": printed.getvalue().splitlines(),
    }

    # 2. An endpoint that captures, and traffic through InvokeEndpoint (features only: the model answers).
    model, described = deploy_with_capture(sm_session, args.endpoint, args.model_url, args.bucket)
    predictor = Predictor(args.endpoint, sagemaker_session=sm_session, serializer=CSVSerializer())
    rows = [line.split(",", 1)[1] for line in Path(args.training).read_text().splitlines()[1 : 1 + args.rows]]
    predictions = [predictor.predict(row).decode() for row in rows]
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
        monitor_schedule_name=args.schedule,
        endpoint_input=EndpointInput(endpoint_name=args.endpoint, destination="/opt/ml/processing/input/endpoint"),
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
    execution, report["execution_printed_log"] = wait_for_execution(monitor)
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
    # Another notebook picks the schedule up by name; the reports are also reachable from the execution.
    attached = DefaultModelMonitor.attach(args.schedule, sagemaker_session=sm_session)
    report["attached"] = {
        "job_definition_name": attached.job_definition_name,
        "image_uri": attached.image_uri,
        "role": attached.role,
        "env": attached.env,
    }
    report["execution_reports"] = {
        "statistics_item_count": execution.statistics().body_dict["dataset"]["item_count"],
        "violations": len(execution.constraint_violations().body_dict["violations"]),
    }
    report["alerts"] = list_alerts(monitor)

    # The one-off looked right: run it hourly. An update swaps in a new job definition and waits out Pending.
    monitor.update_monitoring_schedule(
        schedule_cron_expression=CronExpressionGenerator.hourly(), max_runtime_in_seconds=1200
    )
    updated = monitor.describe_schedule()
    new_definition = updated["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"]
    report["update"] = {
        "status": updated["MonitoringScheduleStatus"],
        "definition": new_definition,
        "expression": updated["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"],
        "old_definition": error_code(
            lambda: sm_session.sagemaker_client.describe_data_quality_job_definition(
                JobDefinitionName=report["job_definition_name"]
            )
        ),
        "max_runtime": sm_session.sagemaker_client.describe_data_quality_job_definition(
            JobDefinitionName=new_definition
        )["StoppingCondition"]["MaxRuntimeInSeconds"],
    }

    monitor.stop_monitoring_schedule()
    report["status_after_stop"] = monitor.describe_schedule()["MonitoringScheduleStatus"]
    monitor.start_monitoring_schedule()
    report["status_after_start"] = monitor.describe_schedule()["MonitoringScheduleStatus"]
    definition = monitor.job_definition_name
    monitor.delete_monitoring_schedule()
    report["deleted"] = {
        "schedule": error_code(lambda: sm_session.describe_monitoring_schedule(args.schedule)),
        "job_definition": error_code(
            lambda: sm_session.sagemaker_client.describe_data_quality_job_definition(JobDefinitionName=definition)
        ),
    }
    # Tear down as a notebook's last cell does.
    predictor.delete_endpoint()  # DeleteEndpointConfig + DeleteEndpoint
    model.delete_model()
    report["deleted"]["endpoint"] = error_code(
        lambda: sm_session.sagemaker_client.describe_endpoint(EndpointName=args.endpoint)
    )
    report["deleted"]["endpoint_config"] = error_code(
        lambda: sm_session.sagemaker_client.describe_endpoint_config(EndpointConfigName=args.endpoint)
    )
    report["deleted"]["model"] = error_code(lambda: sm_session.sagemaker_client.describe_model(ModelName=model.name))
    return report


def list_alerts(monitor: DefaultModelMonitor) -> list[dict[str, Any]] | dict[str, str]:
    """The schedule's alerts as the SDK parses them, or the error code the server answered with."""
    try:
        alerts, _ = monitor.list_monitoring_alerts()
    except Exception as exc:
        return {"error": getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)}
    return [
        {"name": a.alert_name, "status": a.alert_status, "dashboard": a.actions.model_dashboard_indicator.enabled}
        for a in alerts
    ]


def error_code(call: Any) -> str | None:
    """The AWS error code a call raised, or None when it succeeded."""
    try:
        call()
    except Exception as exc:
        return getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
    return None


def main() -> None:
    quick_sdk_waits(SDK2)  # the SDK's 5-10 s poll sleeps, shortened (tests/sdk/quick_waits.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sagemaker-url", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--endpoint", default="churn-sdk")
    parser.add_argument("--schedule", default="churn-sdk-now")
    parser.add_argument("--model-url", required=True)
    parser.add_argument("--training", required=True, help="the churn training CSV, label first, with header")
    parser.add_argument("--rows", type=int, default=40, help="how many training rows to send as traffic")
    parser.add_argument("--capture-settle", type=float, default=1.0, help="seconds for the capture flush")
    args = parser.parse_args()
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # the SDK prints progress on stdout
        try:
            report = run(args)
        except Exception:
            # The SDK installs rich's excepthook, which prints to stdout: keep stdout for the report alone.
            traceback.print_exc(file=sys.stderr)
            sys.exit(1)
    out.write(json.dumps(report, default=str) + "\n")


if __name__ == "__main__":
    main()
