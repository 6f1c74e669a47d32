"""AWS's notebook `deploy_and_monitor/sm-model_monitor_batch_transform_data_quality_on_schedule`, cell by cell,
against Watchkeeper.

Runs in `.venv-sdk` (started by tests/transform/test_notebook.py). Changes from the notebook, and only these: the
clients point at Watchkeeper (endpoint URLs; S3 is Watchkeeper's own S3 API), the role is a full ARN, the model
names its server (`WATCHKEEPER_UPSTREAM_URL`: the churn XGBoost server of tests/notebook_models serving the
notebook's model), `transform(..., logs=False)` (the SDK's log tailing checks the job's status only every 30 s),
and the hourly schedule is a one-off `NOW` schedule over the last hour (a test cannot wait for the top of the
hour). Prints one JSON report on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import boto3
import sagemaker
from sagemaker.inputs import BatchDataCaptureConfig
from sagemaker.model import Model
from sagemaker.model_monitor import (
    BatchTransformInput,
    CronExpressionGenerator,
    DefaultModelMonitor,
    MonitoringDatasetFormat,
)
from sagemaker.model_monitor.dataset_format import DatasetFormat

from tests.sdk.quick_waits import SDK2, quick_sdk_waits

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def session(url: str, bucket: str) -> sagemaker.Session:
    boto_session = boto3.Session(region_name=REGION)
    return sagemaker.Session(boto_session=boto_session,
                             sagemaker_client=boto_session.client("sagemaker", endpoint_url=url),
                             sagemaker_runtime_client=boto_session.client("sagemaker-runtime", endpoint_url=url),
                             default_bucket=bucket)


def wait_for_execution(monitor: DefaultModelMonitor, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not monitor.list_executions():
        if time.monotonic() > deadline:
            raise TimeoutError("no execution started")
        time.sleep(1)


def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {}
    sagemaker_session = session(args.sagemaker_url, args.bucket)
    bucket = sagemaker_session.default_bucket()
    prefix = "sagemaker/DEMO-ModelMonitor"
    data_capture_prefix = f"{prefix}/datacapture"
    s3_capture_upload_path = f"s3://{bucket}/{data_capture_prefix}"
    reports_prefix = f"{prefix}/reports"
    s3_report_path = f"s3://{bucket}/{reports_prefix}"
    s3 = boto3.client("s3")
    data = Path(args.data)
    models = Path(args.models)

    # 1) Create model
    with open(models / "xgb-churn-prediction-model.tar.gz", "rb") as model_file:
        s3_key = os.path.join(prefix, "xgb-churn-prediction-model.tar.gz")
        boto3.Session().resource("s3").Bucket(bucket).Object(s3_key).upload_fileobj(model_file)
    model_url = f"s3://{bucket}/{prefix}/xgb-churn-prediction-model.tar.gz"
    image_uri = sagemaker.image_uris.retrieve("xgboost", REGION, "0.90-1")
    model = Model(image_uri=image_uri, model_data=model_url, role=ROLE, sagemaker_session=sagemaker_session,
                  env={"WATCHKEEPER_UPSTREAM_URL": args.model_url})

    # 2) Upload test data for batch inference
    s3.upload_file(str(models / "test-dataset-input-cols.csv"), bucket, "transform-input/test-dataset-input-cols.csv")

    # 3) Create the Batch Transform Job
    transformer = model.transformer(instance_count=1, instance_type="ml.m4.xlarge", accept="text/csv",
                                    assemble_with="Line")
    transformer.transform(f"s3://{bucket}/transform-input", content_type="text/csv", split_type="Line",
                          batch_data_capture_config=BatchDataCaptureConfig(destination_s3_uri=s3_capture_upload_path),
                          wait=True, logs=False)
    job = sagemaker_session.describe_transform_job(transformer.latest_transform_job.name)
    report["transform_job"] = {k: str(v) for k, v in job.items()}
    report["transform_output"] = sagemaker.s3.S3Downloader.read_file(
        f"{transformer.output_path.rstrip('/')}/test-dataset-input-cols.csv.out", sagemaker_session=sagemaker_session)

    # 4) Examine the Batch Transform Captured Data
    captured_input_s3_key = [k["Key"] for k in
                             s3.list_objects_v2(Bucket=bucket, Prefix=f"{data_capture_prefix}/input/")["Contents"]]
    assert len(captured_input_s3_key) > 0
    report["sample_input_content"] = json.loads(s3.get_object(Bucket=bucket, Key=captured_input_s3_key[0])["Body"]
                                                .read())
    captured_output_s3_key = [k["Key"] for k in
                              s3.list_objects_v2(Bucket=bucket, Prefix=f"{data_capture_prefix}/output/")["Contents"]]
    report["sample_output_content"] = json.loads(s3.get_object(Bucket=bucket, Key=captured_output_s3_key[0])["Body"]
                                                 .read())
    report["captured_keys"] = captured_input_s3_key + captured_output_s3_key

    # 5) Create a Baseline
    baseline_prefix = prefix + "/baselining"
    baseline_data_uri = f"s3://{bucket}/{baseline_prefix}/data"
    baseline_results_uri = f"s3://{bucket}/{baseline_prefix}/results"
    with open(data / "training-inputs-with-header.csv", "rb") as training_data_file:
        s3_key = os.path.join(baseline_prefix, "data", "training-inputs-with-header.csv")
        boto3.Session().resource("s3").Bucket(bucket).Object(s3_key).upload_fileobj(training_data_file)
    my_default_monitor = DefaultModelMonitor(role=ROLE, instance_count=1, instance_type="ml.m5.xlarge",
                                             volume_size_in_gb=20, max_runtime_in_seconds=3600,
                                             sagemaker_session=sagemaker_session)
    my_default_monitor.suggest_baseline(baseline_dataset=baseline_data_uri + "/training-inputs-with-header.csv",
                                        dataset_format=DatasetFormat.csv(header=True),
                                        output_s3_uri=baseline_results_uri, wait=True, logs=False)
    baseline_job = my_default_monitor.latest_baselining_job
    report["baseline_features"] = len(baseline_job.baseline_statistics().body_dict["features"])

    # 6) Monitoring Schedule (NOW over the last hour, instead of hourly)
    my_default_monitor.create_monitoring_schedule(
        monitor_schedule_name=sagemaker.utils.unique_name_from_base("DEMO-xgb-churn-pred-model-monitor-schedule"),
        batch_transform_input=BatchTransformInput(data_captured_destination_s3_uri=s3_capture_upload_path,
                                                  destination="/opt/ml/processing/input",
                                                  dataset_format=MonitoringDatasetFormat.csv(header=False)),
        output_s3_uri=s3_report_path,
        statistics=f"{baseline_results_uri}/statistics.json",
        constraints=f"{baseline_results_uri}/constraints.json",
        schedule_cron_expression=CronExpressionGenerator.now(),
        data_analysis_start_time="-PT1H",
        data_analysis_end_time="-PT0H",
        enable_cloudwatch_metrics=True,
    )
    report["schedule_status"] = my_default_monitor.describe_schedule()["MonitoringScheduleStatus"]

    # 7) List executions, inspect the latest
    wait_for_execution(my_default_monitor)
    latest_execution = my_default_monitor.list_executions()[-1]
    latest_execution.wait(logs=False)
    latest_job = latest_execution.describe()
    report["execution_status"] = latest_job["ProcessingJobStatus"]
    report["exit_message"] = latest_job.get("ExitMessage")
    report_uri = latest_execution.output.destination
    report["report_files"] = sorted(sagemaker.s3.S3Downloader.list(report_uri, sagemaker_session=sagemaker_session))
    report["statistics"] = json.loads(sagemaker.s3.S3Downloader.read_file(f"{report_uri}/statistics.json",
                                                                          sagemaker_session=sagemaker_session))
    violations = my_default_monitor.latest_monitoring_constraint_violations()
    report["violations"] = violations.body_dict["violations"] if violations is not None else None
    my_default_monitor.stop_monitoring_schedule()
    my_default_monitor.delete_monitoring_schedule()
    return report


def main() -> None:
    quick_sdk_waits(SDK2)  # the SDK's 5-10 s poll sleeps, shortened (tests/sdk/quick_waits.py)
    parser = argparse.ArgumentParser()
    parser.add_argument("--sagemaker-url", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--model-url", required=True)
    parser.add_argument("--data", required=True, help="the notebook's fixture folder")
    parser.add_argument("--models", required=True, help="the folder with the churn model and its test inputs")
    args = parser.parse_args()
    try:
        report = run(args)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
    print("\n" + json.dumps(report, default=str))  # after the SDK's progress marks


if __name__ == "__main__":
    main()
