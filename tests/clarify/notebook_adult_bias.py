"""AWS's notebook `deploy_and_monitor/sm-clarify_model_bias_monitor_for_endpoint`, cell by cell, against Watchkeeper.

Runs in `.venv-sdk` (started by tests/clarify/test_notebooks.py). Changes from the notebook, and only these:
the clients point at Watchkeeper (endpoint URLs), the role is a full ARN, the model names its server
(`WATCHKEEPER_UPSTREAM_URL`: a linear-learner server of our own serving the notebook's model), the traffic is
the first `--rows` test records instead of an endless thread, and the hourly schedule is a one-off `NOW`
schedule over the last hour (the test cannot wait for the top of the hour). Prints one JSON report on stdout.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import boto3
import sagemaker
from sagemaker.model_monitor import CronExpressionGenerator

from tests.sdk.quick_waits import SDK2, quick_sdk_waits

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
ALL_HEADERS = ["Age", "Workclass", "fnlwgt", "Education", "Education-Num", "Marital Status", "Occupation",
               "Relationship", "Ethnic group", "Sex", "Capital Gain", "Capital Loss", "Hours per week", "Country",
               "Target"]


def session(url: str, bucket: str) -> sagemaker.Session:
    boto_session = boto3.Session(region_name=REGION)
    return sagemaker.Session(
        boto_session=boto_session,
        sagemaker_client=boto_session.client("sagemaker", endpoint_url=url),
        sagemaker_runtime_client=boto_session.client("sagemaker-runtime", endpoint_url=url),
        default_bucket=bucket,
    )


def ground_truth_with_id(inference_id: int) -> dict[str, Any]:
    random.seed(inference_id)  # to get consistent results
    label = 1 if random.random() < 0.7 else 0  # randomly generate positive labels 70% of the time
    return {
        "groundTruthData": {"data": json.dumps({"label": label}), "encoding": "JSON"},
        "eventMetadata": {"eventId": str(inference_id)},
        "eventVersion": "0",
    }


def wait_for_execution_to_finish(monitor: Any, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        summary = monitor.describe_schedule().get("LastMonitoringExecutionSummary")
        if summary and summary["MonitoringExecutionStatus"] in ("Completed", "CompletedWithViolations", "Failed",
                                                                 "Stopped"):
            return summary
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution did not finish: {summary}")
        time.sleep(1)


def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {}
    sagemaker_session = session(args.sagemaker_url, args.bucket)
    bucket = sagemaker_session.default_bucket()  # as the notebook does: creates it
    s3_key = f"s3://{bucket}/sagemaker/DEMO-ClarifyModelMonitor"
    data_capture_s3_uri = f"{s3_key}/data-capture"
    ground_truth_s3_uri = f"{s3_key}/ground-truth"
    baselining_output_s3_uri = f"{s3_key}/baselining-output"
    monitor_output_s3_uri = f"{s3_key}/monitor-output"
    data = Path(args.data)
    model_file = str(data / "ll-adult-prediction-model.tar.gz")
    train_dataset_path = str(data / "validation-dataset.jsonl")
    test_dataset_path = str(data / "test-dataset.jsonl")
    dataset_type = "application/jsonlines"

    model_url = sagemaker.s3.S3Uploader.upload(model_file, s3_key, sagemaker_session=sagemaker_session)
    train_data_s3_uri = sagemaker.s3.S3Uploader.upload(train_dataset_path, s3_key,
                                                        sagemaker_session=sagemaker_session)
    model_name = sagemaker.utils.unique_name_from_base("DEMO-ll-adult-pred-model-monitor")
    endpoint_name = model_name
    image_uri = sagemaker.image_uris.retrieve("linear-learner", REGION, "1")
    model = sagemaker.model.Model(role=ROLE, name=model_name, image_uri=image_uri, model_data=model_url,
                                  sagemaker_session=sagemaker_session,
                                  env={"WATCHKEEPER_UPSTREAM_URL": args.model_url})
    data_capture_config = sagemaker.model_monitor.DataCaptureConfig(
        enable_capture=True, sampling_percentage=100, destination_s3_uri=data_capture_s3_uri,
        json_content_types=[dataset_type])
    model.deploy(initial_instance_count=1, instance_type="ml.m5.xlarge", endpoint_name=endpoint_name,
                 data_capture_config=data_capture_config, wait=False)
    sagemaker_session.wait_for_endpoint(endpoint_name, poll=1)

    test_data = Path(test_dataset_path).read_text().splitlines()[: args.rows]
    answers = []
    for index, record in enumerate(test_data):
        response = sagemaker_session.sagemaker_runtime_client.invoke_endpoint(
            EndpointName=endpoint_name, ContentType=dataset_type, Accept=dataset_type, Body=record,
            InferenceId=str(index))
        answers.append(response["Body"].read().decode("utf-8"))
    report["first_answer"] = answers[0]
    records = [json.dumps(ground_truth_with_id(i)) for i in range(len(test_data))]
    upload_time = datetime.datetime.now(datetime.UTC)
    sagemaker.s3.S3Uploader.upload_string_as_file_body(
        "\n".join(records), f"{ground_truth_s3_uri}/{upload_time:%Y/%m/%d/%H/%M%S}.jsonl",
        sagemaker_session=sagemaker_session)

    model_bias_monitor = sagemaker.model_monitor.ModelBiasMonitor(
        role=ROLE, sagemaker_session=sagemaker_session, max_runtime_in_seconds=1800)
    features_jmespath = "features"
    ground_truth_label_jmespath = "label"
    data_config = sagemaker.clarify.DataConfig(
        s3_data_input_path=train_data_s3_uri, s3_output_path=baselining_output_s3_uri, features=features_jmespath,
        label=ground_truth_label_jmespath, headers=ALL_HEADERS, dataset_type=dataset_type)
    model_config = sagemaker.clarify.ModelConfig(
        model_name=model_name, instance_type="ml.m5.xlarge", instance_count=1, content_type=dataset_type,
        accept_type=dataset_type, content_template='{"features":$features}')
    predicted_label_jmespath = "predicted_label"
    model_predicted_label_config = sagemaker.clarify.ModelPredictedLabelConfig(label=predicted_label_jmespath)
    bias_config = sagemaker.clarify.BiasConfig(
        label_values_or_threshold=[1], facet_name="Sex", facet_values_or_threshold=[0], group_name="Age")
    model_bias_monitor.suggest_baseline(bias_config=bias_config, data_config=data_config,
                                        model_config=model_config,
                                        model_predicted_label_config=model_predicted_label_config)
    model_bias_monitor.latest_baselining_job.wait(logs=False)
    constraints = model_bias_monitor.suggested_constraints()
    report["baseline_uri"] = constraints.file_s3_uri
    report["baseline"] = json.loads(sagemaker.s3.S3Downloader.read_file(constraints.file_s3_uri,
                                                                         sagemaker_session=sagemaker_session))

    time.sleep(args.capture_settle)
    model_bias_monitor.create_monitoring_schedule(
        analysis_config=None,
        endpoint_input=sagemaker.model_monitor.EndpointInput(
            endpoint_name=endpoint_name, destination="/opt/ml/processing/input/endpoint",
            features_attribute=features_jmespath, inference_attribute=predicted_label_jmespath,
            start_time_offset="-PT1H", end_time_offset="-PT0H"),
        ground_truth_input=ground_truth_s3_uri,
        output_s3_uri=monitor_output_s3_uri,
        schedule_cron_expression=CronExpressionGenerator.now(),
        data_analysis_start_time="-PT1H",
        data_analysis_end_time="-PT0H",
    )
    summary = wait_for_execution_to_finish(model_bias_monitor)
    report["execution"] = {k: str(v) for k, v in summary.items()}
    merged = sagemaker.s3.S3Downloader.list(f"{monitor_output_s3_uri}/merge", sagemaker_session=sagemaker_session)
    report["merged_files"] = merged
    if merged:
        report["merged_record"] = json.loads(sagemaker.s3.S3Downloader.read_file(
            merged[-1], sagemaker_session=sagemaker_session).splitlines()[-1])
    if summary["MonitoringExecutionStatus"] in ("Completed", "CompletedWithViolations"):
        execution = model_bias_monitor.list_executions()[-1]
        report["report_uri"] = execution.output.destination
        report["report_files"] = sorted(sagemaker.s3.S3Downloader.list(execution.output.destination,
                                                                       sagemaker_session=sagemaker_session))
        violations = model_bias_monitor.latest_monitoring_constraint_violations()
        report["violations"] = violations.body_dict if violations is not None else None
    model_bias_monitor.stop_monitoring_schedule()
    model_bias_monitor.delete_monitoring_schedule()
    sagemaker_session.delete_endpoint(endpoint_name=endpoint_name)
    sagemaker_session.delete_model(model_name=model_name)
    return report


def main() -> None:
    quick_sdk_waits(SDK2)  # the SDK's 5-10 s poll sleeps, shortened (tests/sdk/quick_waits.py)
    parser = argparse.ArgumentParser()
    parser.add_argument("--sagemaker-url", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--model-url", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--capture-settle", type=float, default=2.0)
    args = parser.parse_args()
    try:
        report = run(args)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
    print("\n" + json.dumps(report, default=str))  # after the SDK's progress marks


if __name__ == "__main__":
    main()
