"""AWS's model-quality notebook (amazon-sagemaker-examples, deploy_and_monitor/
sm-model_monitor_model_quality_monitoring, Apache-2.0), Section 5 "Analyze model quality CloudWatch metrics":
its three code cells run unchanged (`exec` of their text, below as published) against the real server, after a
ModelQuality execution with `enable_cloudwatch_metrics=True` (publish_cloudwatch_metrics Enabled) published its
metrics. The notebook's client is `boto3.Session().client("cloudwatch")`: AWS_ENDPOINT_URL_CLOUDWATCH points it
here, as docs/cloudwatch.md says for notebooks. Then what its "5.3 Validation" checks in the console: the alarm
exists, first INSUFFICIENT_DATA, then ALARM."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.endpoint_helpers import FAST_ENV, capture_config, deploy, read_capture
from tests.monitoring.test_model_quality_flow import cli, labels_file, send_traffic
from tests.monitoring.test_monitoring_flow import ANALYZER, ROLE
from tests.server_process import ServerProcess
from tests.waiting import poll

# Cells 74, 75 and 77 of sm-model_monitor_model_quality_monitoring.ipynb, verbatim.
CELL_74 = '''# Create CloudWatch client
cw_client = boto3.Session().client("cloudwatch")

namespace = "aws/sagemaker/Endpoints/model-metrics"

cw_dimensions = [
    {"Name": "Endpoint", "Value": endpoint_name},
    {"Name": "MonitoringSchedule", "Value": churn_monitor_schedule_name},
]
'''
CELL_75 = '''# List metrics through the pagination interface
paginator = cw_client.get_paginator("list_metrics")

for response in paginator.paginate(Dimensions=cw_dimensions, Namespace=namespace):
    model_quality_metrics = response["Metrics"]
    for metric in model_quality_metrics:
        print(metric["MetricName"])
'''
CELL_77 = '''alarm_name = "MODEL_QUALITY_F2_SCORE"
alarm_desc = (
    "Trigger an CloudWatch alarm when the f2 score drifts away from the baseline constraints"
)
mdoel_quality_f2_drift_threshold = (
    0.625  ##Setting this threshold purposefully low to see the alarm quickly.
)
metric_name = "f2"
namespace = "aws/sagemaker/Endpoints/model-metrics"

cw_client.put_metric_alarm(
    AlarmName=alarm_name,
    AlarmDescription=alarm_desc,
    ActionsEnabled=True,
    MetricName=metric_name,
    Namespace=namespace,
    Statistic="Average",
    Dimensions=[
        {"Name": "Endpoint", "Value": endpoint_name},
        {"Name": "MonitoringSchedule", "Value": churn_monitor_schedule_name},
    ],
    Period=600,
    EvaluationPeriods=1,
    DatapointsToAlarm=1,
    Threshold=mdoel_quality_f2_drift_threshold,
    ComparisonOperator="LessThanOrEqualToThreshold",
    TreatMissingData="breaching",
)
'''
ENDPOINT, SCHEDULE = "DEMO-xgb-churn-model-quality", "DEMO-xgb-churn-monitoring-schedule"


def model_quality_execution(server: ServerProcess, sm: Any) -> dict[str, Any]:
    """A ModelQuality NOW schedule over the last hour, publishing CloudWatch metrics; its final execution."""
    sm.create_model_quality_job_definition(
        JobDefinitionName=f"{ENDPOINT}-mq",
        ModelQualityAppSpecification={
            "ImageUri": ANALYZER,
            "ProblemType": "BinaryClassification",
            "Environment": {"publish_cloudwatch_metrics": "Enabled"},  # the SDK's enable_cloudwatch_metrics=True
        },
        ModelQualityBaselineConfig={"ConstraintsResource": {"S3Uri": "s3://mq/baseline/constraints.json"}},
        ModelQualityJobInput={
            "EndpointInput": {
                "EndpointName": ENDPOINT,
                "LocalPath": "/opt/ml/processing/input/endpoint",
                "ProbabilityAttribute": "0",
                "ProbabilityThresholdAttribute": 0.5,
            },
            "GroundTruthS3Input": {"S3Uri": f"s3://mq/ground-truth/{ENDPOINT}"},
        },
        ModelQualityJobOutputConfig={
            "MonitoringOutputs": [{"S3Output": {"S3Uri": "s3://mq/reports", "LocalPath": "/opt/ml/processing/output"}}]
        },
        JobResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}},
        RoleArn=ROLE,
    )
    sm.create_monitoring_schedule(
        MonitoringScheduleName=SCHEDULE,
        MonitoringScheduleConfig={
            "ScheduleConfig": {
                "ScheduleExpression": "NOW",
                "DataAnalysisStartTime": "-PT1H",
                "DataAnalysisEndTime": "PT0H",
            },
            "MonitoringJobDefinitionName": f"{ENDPOINT}-mq",
            "MonitoringType": "ModelQuality",
        },
    )

    def latest() -> list[dict[str, Any]]:
        return sm.list_monitoring_executions(MonitoringScheduleName=SCHEDULE)["MonitoringExecutionSummaries"]

    found = poll(latest, lambda s: s and s[0]["MonitoringExecutionStatus"] not in ("Pending", "InProgress"), 120, 0.3)
    return found[0]


def test_notebook_cloudwatch_cells(
    tmp_path: Any, model_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ServerProcess(tmp_path / "data", env={**FAST_ENV, "WATCHKEEPER_ALARM_EVALUATION_SECONDS": "1"}).start()
    try:
        sm = server.client()
        deploy(sm, ENDPOINT, model_url, capture=capture_config(f"s3://mq/capture/{ENDPOINT}"))
        scores = send_traffic(server, ENDPOINT, 60)
        read_capture(server.data_dir / f"s3/mq/capture/{ENDPOINT}", expected=60)
        validation = server.data_dir / "validation.csv"
        rows = [f"{p},{int(p >= 0.5) ^ (i % 10 == 0)}" for i, p in enumerate(scores)]
        validation.write_text("probability,label\n" + "\n".join(rows) + "\n")
        cli(server, "baseline", "--analysis-type", "model-quality", "--problem-type", "BinaryClassification",
            "--probability-attribute", "probability", "--ground-truth-attribute", "label",
            "--dataset", str(validation), "--format", "csv", "--header",
            "--output", str(server.data_dir / "s3/mq/baseline"))
        cli(server, "ground-truth", "put", "--destination", f"s3://mq/ground-truth/{ENDPOINT}", "--file", "-",
            stdin=labels_file(ENDPOINT, scores, invert=False))
        execution = model_quality_execution(server, sm)
        assert execution["MonitoringExecutionStatus"] == "Completed", execution
        job = sm.describe_processing_job(ProcessingJobName=execution["ProcessingJobArn"].split("/")[-1])
        assert job["Environment"]["publish_cloudwatch_metrics"] == "Enabled"
        report = server.data_dir / "s3" / job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"][5:]
        statistics = orjson.loads((report / "statistics.json").read_bytes())["binary_classification_metrics"]

        # The notebook's cells, unchanged, with what it defined before them.
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", server.url)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "any")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "any")
        import boto3

        scope: dict[str, Any] = {"boto3": boto3, "endpoint_name": ENDPOINT, "churn_monitor_schedule_name": SCHEDULE}
        capsys.readouterr()
        exec(CELL_74, scope)
        exec(CELL_75, scope)
        printed = capsys.readouterr().out.split()
        # Every scalar metric the execution's statistics.json reports is listed (not the curves nor the
        # confusion matrix), f2 among them: the alarm's metric.
        scalars = {name for name, v in statistics.items() if isinstance(v.get("value"), int | float)}
        assert "f2" in printed and scalars <= set(printed), (sorted(printed), sorted(statistics))
        exec(CELL_77, scope)

        cw = scope["cw_client"]
        assert cw.meta.endpoint_url == server.url
        dimensions = scope["cw_dimensions"]
        window = execution["ScheduledTime"].timestamp() - 3600
        f2 = cw.get_metric_statistics(
            Namespace="aws/sagemaker/Endpoints/model-metrics", MetricName="f2", Dimensions=dimensions,
            StartTime=window - 60, EndTime=window + 60, Period=60, Statistics=["Average"],
        )["Datapoints"]
        assert [p["Average"] for p in f2] == [statistics["f2"]["value"]]

        # 5.3 Validation: the alarm exists, starts INSUFFICIENT_DATA and moves into ALARM (missing data in the
        # latest 10 minutes is breaching: an hourly schedule's metric is there once an hour).
        def alarm() -> dict[str, Any]:
            return cw.describe_alarms(AlarmNames=["MODEL_QUALITY_F2_SCORE"])["MetricAlarms"][0]

        assert poll(alarm, lambda a: a["StateValue"] == "ALARM")["StateValue"] == "ALARM"
        described = alarm()
        assert (described["MetricName"], described["Threshold"], described["ComparisonOperator"]) == (
            "f2", 0.625, "LessThanOrEqualToThreshold"
        )
        assert described["AlarmDescription"].startswith("Trigger an CloudWatch alarm when the f2 score")
        history = cw.describe_alarm_history(AlarmName="MODEL_QUALITY_F2_SCORE", ScanBy="TimestampAscending")
        assert [h["HistorySummary"] for h in history["AlarmHistoryItems"]][:2] == [
            'Alarm "MODEL_QUALITY_F2_SCORE" created', "Alarm updated from INSUFFICIENT_DATA to ALARM"
        ]
    finally:
        server.stop()
