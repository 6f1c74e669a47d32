"""The SageMaker Python SDK 3.x monitoring flow against Watchkeeper, as a 3.x notebook runs it.

Runs in `.venv-sdk3` (`make test` builds it from tests/sdk3/requirements.txt), started by
tests/sdk3/test_sdk3_flow.py. In 3.x, Model Monitor lives in `sagemaker.core.model_monitor` (the 2.x classes,
ported: DefaultModelMonitor, EndpointInput, CronExpressionGenerator, DatasetFormat) and the session in
`sagemaker.core.helper.session_helper`; endpoints are deployed with sagemaker-core's resource classes
(`sagemaker.core.resources.Model / EndpointConfig / Endpoint`), which take their clients from boto3's
environment (`AWS_ENDPOINT_URL`). What each step returned is printed as one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import boto3
from sagemaker.core.helper.session_helper import Session
from sagemaker.core.model_monitor import CronExpressionGenerator, DefaultModelMonitor, EndpointInput
from sagemaker.core.model_monitor.dataset_format import DatasetFormat
from sagemaker.core.resources import Endpoint, EndpointConfig, Model
from sagemaker.core.shapes import (
    CaptureContentTypeHeader,
    CaptureOption,
    ContainerDefinition,
    DataCaptureConfig,
    DesiredWeightAndCapacity,
    ProductionVariant,
)

from tests.sdk.quick_waits import SDK3, quick_sdk_waits

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def deploy_with_capture(name: str, model_url: str, bucket: str) -> Endpoint:
    """sagemaker-core's resources: the three Create calls a 2.x Model.deploy made, spelled out."""
    Model.create(
        model_name=name,
        primary_container=ContainerDefinition(
            image="my-registry/churn-xgb:1", environment={"WATCHKEEPER_UPSTREAM_URL": model_url}
        ),
        execution_role_arn=ROLE,
    )
    EndpointConfig.create(
        endpoint_config_name=name,
        production_variants=[
            ProductionVariant(
                variant_name="AllTraffic", model_name=name, initial_instance_count=1, instance_type="ml.m5.large"
            )
        ],
        data_capture_config=DataCaptureConfig(
            enable_capture=True,
            initial_sampling_percentage=100,
            destination_s3_uri=f"s3://{bucket}/churn/capture",
            capture_options=[CaptureOption(capture_mode="Input"), CaptureOption(capture_mode="Output")],
            capture_content_type_header=CaptureContentTypeHeader(csv_content_types=["text/csv"]),
        ),
    )
    endpoint = Endpoint.create(endpoint_name=name, endpoint_config_name=name)
    endpoint.wait_for_status("InService", poll=1, timeout=60)
    return endpoint


def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {}
    session = Session(boto_session=boto3.Session(region_name=REGION), default_bucket=args.bucket)
    monitor = DefaultModelMonitor(
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.xlarge",
        volume_size_in_gb=20,
        max_runtime_in_seconds=600,
        sagemaker_session=session,
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
        # 3.x's inputs and outputs are sagemaker-core shapes (2.x: .source, .destination).
        "output_uri": job.outputs[0].s3_output.s3_uri,
        "dataset_uri": job.inputs[0].s3_input.s3_uri,
        "statistics": monitor.baseline_statistics().body_dict,
        "constraints": monitor.suggested_constraints().body_dict,
    }

    # 2. An endpoint that captures, and traffic through Endpoint.invoke (features only: the model answers).
    endpoint = deploy_with_capture(args.endpoint, args.model_url, args.bucket)
    rows = [line.split(",", 1)[1] for line in Path(args.training).read_text().splitlines()[1 : 1 + args.rows]]
    predictions = [endpoint.invoke(body=row, content_type="text/csv").body.read().decode() for row in rows]
    endpoint.refresh()
    report["endpoint"] = {
        "status": endpoint.endpoint_status,
        "capture_enabled": endpoint.data_capture_config.enable_capture,
        "invocations": len(predictions),
        "first_prediction": predictions[0],
    }
    time.sleep(args.capture_settle)  # the capture writer flushes on a timer

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

    # 4. The execution runs; the SDK lists it and reads the latest reports.
    deadline = time.monotonic() + 120
    while True:
        executions = monitor.list_executions()
        status = executions[-1].describe()["ProcessingJobStatus"] if executions else None
        if status not in (None, "InProgress", "Stopping"):
            break
        if time.monotonic() > deadline:
            raise TimeoutError("the schedule's execution did not end within 120 s")
        time.sleep(0.5)
    report["executions"] = [
        {
            "job_name": e.processing_job_name,
            "status": e.describe()["ProcessingJobStatus"],
            "exit_message": e.describe().get("ExitMessage"),
            "output_uri": e.output.s3_output.s3_uri,
        }
        for e in executions
    ]
    statistics = monitor.latest_monitoring_statistics()
    violations = monitor.latest_monitoring_constraint_violations()
    report["latest_statistics"] = statistics.body_dict if statistics else None
    report["latest_violations"] = violations.body_dict if violations else None
    schedule = monitor.describe_schedule()
    report["schedule"] = {
        "type": schedule.get("MonitoringType"),
        "last_status": schedule.get("LastMonitoringExecutionSummary", {}).get("MonitoringExecutionStatus"),
    }

    # 5. 3.x's resource API reaches UpdateEndpointWeightsAndCapacities too.
    endpoint.update_weights_and_capacities(
        desired_weights_and_capacities=[DesiredWeightAndCapacity(variant_name="AllTraffic", desired_weight=2.0)]
    )
    endpoint.wait_for_status("InService", poll=1, timeout=60)
    endpoint.refresh()
    variant = endpoint.production_variants[0]
    report["reweighted"] = {"current": variant.current_weight, "desired": variant.desired_weight}

    # 6. Tear down.
    monitor.delete_monitoring_schedule()
    endpoint.delete()
    EndpointConfig.get(args.endpoint).delete()
    Model.get(args.endpoint).delete()
    report["deleted"] = error_code(lambda: session.sagemaker_client.describe_endpoint(EndpointName=args.endpoint))
    return report


def error_code(call: Any) -> str | None:
    try:
        call()
    except Exception as exc:
        return getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
    return None


def main() -> None:
    quick_sdk_waits(SDK3)  # the SDK's 5-10 s poll sleeps, shortened (tests/sdk/quick_waits.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--endpoint", default="churn-sdk3")
    parser.add_argument("--schedule", default="churn-sdk3-now")
    parser.add_argument("--model-url", required=True)
    parser.add_argument("--training", required=True, help="the churn training CSV, label first, with header")
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--capture-settle", type=float, default=1.0)
    args = parser.parse_args()
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # the SDK prints progress on stdout
        try:
            report = run(args)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            sys.exit(1)
    out.write(json.dumps(report, default=str) + "\n")


if __name__ == "__main__":
    main()
