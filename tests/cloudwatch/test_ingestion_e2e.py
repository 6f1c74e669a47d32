"""A data-quality schedule execution run by `watchkeeper run` leads to its metrics in CloudWatch: ListMetrics
and GetMetricStatistics through the real boto3 `cloudwatch` client, on the real server with keys."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tests.cloudwatch.conftest import BOB
from tests.endpoint_helpers import FAST_ENV, capture_config, deploy
from tests.monitoring.test_cli_runs import cli, write_capture
from tests.monitoring.test_monitoring_flow import ANALYZER, ROLE, TRAINING
from tests.server_process import ServerProcess

# The CLI acts for WATCHKEEPER_ACCOUNT_ID (123456789012): the key that creates the schedule is of that account.
OPERATOR = ("AKIAOPERATOR0000001", "operator-secret-0123456789", "123456789012")
DATA_METRICS = "aws/sagemaker/Endpoints/data-metrics"


def schedule_config() -> dict[str, Any]:
    return {
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
    }


def test_data_quality_execution_metrics_in_cloudwatch(tmp_path: Path, model_url: str) -> None:
    server = ServerProcess(tmp_path / "data", env=FAST_ENV, keys={"operator": OPERATOR, "bob": BOB}).start()
    try:
        sm = server.client()
        baseline = cli(server, "baseline", "--dataset", str(TRAINING), "--format", "csv", "--header",
                       "--output", str(server.data_dir / "s3/m/baseline"))
        assert baseline.returncode == 0, baseline.stderr
        deploy(sm, "churn", model_url, capture=capture_config("s3://m/capture"))
        write_capture(server, TRAINING.read_text().splitlines()[1:])
        sm.create_monitoring_schedule(MonitoringScheduleName="churn-hourly", MonitoringScheduleConfig=schedule_config())

        run = cli(server, "run", "churn-hourly", "--start", "2026-01-10T00:00:00Z", "--end", "2026-01-10T03:00:00Z")
        assert run.returncode == 0, run.stdout + run.stderr
        report = run.stdout.split("Reports: ")[1].strip()
        written = {
            datum["MetricName"]: datum
            for f in (server.data_dir / "s3" / report.removeprefix("s3://") / "metrics").iterdir()
            for line in f.read_text().splitlines()
            for datum in (orjson.loads(line).get("MetricData") or [orjson.loads(line)])
        }
        drift_names = sorted(n for n in written if n.startswith("feature_baseline_drift_"))
        assert drift_names

        cw = server.client("cloudwatch")
        dimensions = [{"Name": "Endpoint", "Value": "churn"}, {"Name": "MonitoringSchedule", "Value": "churn-hourly"}]
        listed = cw.list_metrics(Namespace=DATA_METRICS, Dimensions=dimensions)["Metrics"]
        names = {m["MetricName"] for m in listed}
        assert set(drift_names) <= names and names == set(written)
        assert all(sorted(m["Dimensions"], key=lambda d: d["Name"]) == dimensions for m in listed)

        name = drift_names[0]
        window = datetime(2026, 1, 10, tzinfo=UTC)  # the analyzer's Timestamp: the window start
        points = cw.get_metric_statistics(
            Namespace=DATA_METRICS, MetricName=name, Dimensions=dimensions,
            StartTime=window, EndTime=datetime(2026, 1, 10, 1, tzinfo=UTC), Period=3600,
            Statistics=["Average", "SampleCount"],
        )["Datapoints"]
        assert [(p["Timestamp"], p["SampleCount"]) for p in points] == [(window, 1)]
        assert points[0]["Average"] == written[name]["Value"]

        # feature_data_<name> carries a statistic set: every statistic is answered from it.
        data_name = next(n for n in written if n.startswith("feature_data_"))
        stats = written[data_name]["StatisticValues"]
        got = cw.get_metric_statistics(
            Namespace=DATA_METRICS, MetricName=data_name, Dimensions=dimensions,
            StartTime=window, EndTime=datetime(2026, 1, 10, 1, tzinfo=UTC), Period=3600,
            Statistics=["Sum", "Minimum", "Maximum", "SampleCount"],
        )["Datapoints"][0]
        assert (got["Sum"], got["Minimum"], got["Maximum"], got["SampleCount"]) == (
            stats["Sum"], stats["Minimum"], stats["Maximum"], stats["SampleCount"]
        )
        # Another account sees none of it.
        assert server.client("cloudwatch", keys=BOB[:2]).list_metrics(Namespace=DATA_METRICS)["Metrics"] == []
    finally:
        server.stop()
