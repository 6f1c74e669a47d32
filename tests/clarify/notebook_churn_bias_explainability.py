"""AWS's notebook `deploy_and_monitor/sm-model_monitor_bias_and_explainability_monitoring`, against Watchkeeper.

Runs in `.venv-sdk` (started by tests/clarify/test_notebooks.py). Changes from the notebook, and only these:
the clients point at Watchkeeper, the role is a full ARN, the model names its server (`WATCHKEEPER_UPSTREAM_URL`:
an XGBoost server of our own serving the notebook's model), the traffic is the first `--rows` test rows once
instead of an endless thread, and each hourly schedule is a one-off `NOW` schedule over the last hour. Prints
one JSON report on stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from notebook_adult_bias import ROLE, session, wait_for_execution_to_finish
from sagemaker import image_uris
from sagemaker.clarify import BiasConfig, DataConfig, ModelConfig, ModelPredictedLabelConfig, SHAPConfig
from sagemaker.model import Model
from sagemaker.model_monitor import (
    CronExpressionGenerator,
    DataCaptureConfig,
    EndpointInput,
    ModelBiasMonitor,
    ModelExplainabilityMonitor,
)
from sagemaker.s3 import S3Downloader, S3Uploader

from tests.sdk.quick_waits import SDK2, quick_sdk_waits


def ground_truth_with_id(inference_id: int) -> dict[str, Any]:
    random.seed(inference_id)  # to get consistent results
    rand = random.random()
    return {
        "groundTruthData": {"data": "1" if rand < 0.7 else "0", "encoding": "CSV"},
        "eventMetadata": {"eventId": str(inference_id)},
        "eventVersion": "0",
    }


def execution_report(monitor: Any, sagemaker_session: Any) -> dict[str, Any]:
    summary = wait_for_execution_to_finish(monitor)
    report: dict[str, Any] = {"execution": {k: str(v) for k, v in summary.items()}}
    if summary["MonitoringExecutionStatus"] in ("Completed", "CompletedWithViolations"):
        execution = monitor.list_executions()[-1]
        report["report_uri"] = execution.output.destination
        report["report_files"] = sorted(S3Downloader.list(execution.output.destination,
                                                          sagemaker_session=sagemaker_session))
        report["analysis"] = json.loads(S3Downloader.read_file(f"{execution.output.destination}/analysis.json",
                                                               sagemaker_session=sagemaker_session))
        violations = execution.constraint_violations()
        report["violations"] = violations.body_dict if violations else None
    return report


def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {}
    sagemaker_session = session(args.sagemaker_url, args.bucket)
    sagemaker_runtime_client = sagemaker_session.sagemaker_runtime_client
    bucket = sagemaker_session.default_bucket()
    s3_key = f"s3://{bucket}/sagemaker/DEMO-ClarifyModelMonitor-20200901"
    s3_capture_upload_path = f"{s3_key}/datacapture"
    ground_truth_upload_path = f"{s3_key}/ground_truth_data/{datetime.now():%Y-%m-%d-%H-%M-%S}"
    s3_report_path = f"{s3_key}/reports"
    baseline_results_uri = f"{s3_key}/baselining"
    data = Path(args.data)
    model_file = str(data / "xgb-churn-prediction-model.tar.gz")
    test_dataset = str(data / "test-dataset-input-cols.csv")
    validation_dataset = str(data / "validation-dataset-with-header.csv")
    dataset_type = "text/csv"
    with open(validation_dataset) as f:
        headers_line = f.readline().rstrip()
    all_headers = headers_line.split(",")
    label_header = all_headers[0]

    model_url = S3Uploader.upload(model_file, s3_key, sagemaker_session=sagemaker_session)
    model_name = f"DEMO-xgb-churn-pred-model-monitor-{datetime.utcnow():%Y-%m-%d-%H%M}"
    endpoint_name = f"DEMO-xgb-churn-model-monitor-{datetime.utcnow():%Y-%m-%d-%H%M}"
    image_uri = image_uris.retrieve("xgboost", sagemaker_session.boto_region_name, "0.90-1")
    model = Model(role=ROLE, name=model_name, image_uri=image_uri, model_data=model_url,
                  sagemaker_session=sagemaker_session, env={"WATCHKEEPER_UPSTREAM_URL": args.model_url})
    data_capture_config = DataCaptureConfig(enable_capture=True, sampling_percentage=100,
                                            destination_s3_uri=s3_capture_upload_path)
    model.deploy(initial_instance_count=1, instance_type="ml.m5.large", endpoint_name=endpoint_name,
                 data_capture_config=data_capture_config, wait=False)
    sagemaker_session.wait_for_endpoint(endpoint_name, poll=1)

    test_dataset_size = 0
    with open(test_dataset) as f:
        for row in f:
            if test_dataset_size < args.rows:
                response = sagemaker_runtime_client.invoke_endpoint(
                    EndpointName=endpoint_name, Body=row.rstrip("\n"), ContentType=dataset_type,
                    InferenceId=str(test_dataset_size))
                response["Body"].read()
            test_dataset_size += 1
    test_dataset_size = min(test_dataset_size, args.rows)
    records = [json.dumps(ground_truth_with_id(i)) for i in range(test_dataset_size)]
    S3Uploader.upload_string_as_file_body("\n".join(records),
                                          f"{ground_truth_upload_path}/{datetime.utcnow():%Y/%m/%d/%H/%M%S}.jsonl",
                                          sagemaker_session=sagemaker_session)

    # Model bias
    model_bias_monitor = ModelBiasMonitor(role=ROLE, sagemaker_session=sagemaker_session,
                                          max_runtime_in_seconds=1800)
    model_bias_data_config = DataConfig(s3_data_input_path=validation_dataset,
                                        s3_output_path=f"{baseline_results_uri}/model_bias", label=label_header,
                                        headers=all_headers, dataset_type=dataset_type)
    model_bias_config = BiasConfig(label_values_or_threshold=[1], facet_name="Account Length",
                                   facet_values_or_threshold=[100])
    model_predicted_label_config = ModelPredictedLabelConfig(probability_threshold=0.8)
    model_config = ModelConfig(model_name=model_name, instance_count=1, instance_type="ml.m5.large",
                               content_type=dataset_type, accept_type=dataset_type)
    model_bias_monitor.suggest_baseline(model_config=model_config, data_config=model_bias_data_config,
                                        bias_config=model_bias_config,
                                        model_predicted_label_config=model_predicted_label_config)
    model_bias_monitor.latest_baselining_job.wait(logs=False)
    report["bias_baseline"] = json.loads(S3Downloader.read_file(
        model_bias_monitor.suggested_constraints().file_s3_uri, sagemaker_session=sagemaker_session))
    time.sleep(args.capture_settle)
    model_bias_monitor.create_monitoring_schedule(
        analysis_config=None, output_s3_uri=s3_report_path,
        endpoint_input=EndpointInput(endpoint_name=endpoint_name, destination="/opt/ml/processing/input/endpoint",
                                     start_time_offset="-PT1H", end_time_offset="-PT0H",
                                     probability_threshold_attribute=0.8),
        ground_truth_input=ground_truth_upload_path,
        schedule_cron_expression=CronExpressionGenerator.now(),
        data_analysis_start_time="-PT1H", data_analysis_end_time="-PT0H")
    report["bias"] = execution_report(model_bias_monitor, sagemaker_session)

    # Model explainability
    model_explainability_monitor = ModelExplainabilityMonitor(role=ROLE, sagemaker_session=sagemaker_session,
                                                              max_runtime_in_seconds=1800)
    model_explainability_data_config = DataConfig(
        s3_data_input_path=validation_dataset, s3_output_path=f"{baseline_results_uri}/model_explainability",
        label=label_header, headers=all_headers, dataset_type=dataset_type)
    test_dataframe = pd.read_csv(test_dataset, header=None)
    shap_baseline = [list(test_dataframe.mean())]
    shap_config = SHAPConfig(baseline=shap_baseline, num_samples=100, agg_method="mean_abs",
                             save_local_shap_values=False)
    model_explainability_monitor.suggest_baseline(data_config=model_explainability_data_config,
                                                  model_config=model_config, explainability_config=shap_config)
    model_explainability_monitor.latest_baselining_job.wait(logs=False)
    report["explainability_baseline"] = json.loads(S3Downloader.read_file(
        model_explainability_monitor.suggested_constraints().file_s3_uri, sagemaker_session=sagemaker_session))
    report["shap_baseline_row"] = shap_baseline[0]
    model_explainability_monitor.create_monitoring_schedule(
        output_s3_uri=s3_report_path, endpoint_input=endpoint_name,
        schedule_cron_expression=CronExpressionGenerator.now(),
        data_analysis_start_time="-PT1H", data_analysis_end_time="-PT0H")
    report["explainability"] = execution_report(model_explainability_monitor, sagemaker_session)

    for monitor in (model_bias_monitor, model_explainability_monitor):
        monitor.stop_monitoring_schedule()
        monitor.delete_monitoring_schedule()
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
    parser.add_argument("--rows", type=int, default=120)
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
