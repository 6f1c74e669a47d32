"""A real server with keys for two accounts and real executions to look at: a baseline made by
`watchkeeper baseline`, an endpoint capturing traffic, a data-quality schedule backfilled over three hours of
drifted traffic (so with violations), model-quality metrics put through the `cloudwatch` API, an alarm, and
another account's schedule that must stay invisible."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.cloudwatch.test_ingestion_e2e import schedule_config
from tests.endpoint_helpers import FAST_ENV, capture_config, deploy
from tests.monitoring.test_cli_runs import cli, write_capture
from tests.server_process import ServerProcess

# The CLI acts for WATCHKEEPER_ACCOUNT_ID (123456789012): the operator's key is of that account.
OPERATOR = ("AKIAOPERATOR0000001", "operator-secret-0123456789", "123456789012")
BOB = ("AKIABOB00000000002", "bob-secret-key-9876543210", "222222222222")
COLORS = ("red", "green", "blue")
MODEL_METRICS = "aws/sagemaker/Endpoints/model-metrics"
ACCURACY = [0.91, 0.89, 0.86, 0.80, 0.74]  # one a day


@dataclass
class Scenario:
    server: ServerProcess
    training: Path
    executions: list[dict[str, Any]]


def training_rows(n: int = 300) -> list[str]:
    """label, num_a (fractional), num_b (integral), color (string): a dataset with both kinds of feature."""
    return [f"{i % 2},{i * 0.5},{i % 7},{COLORS[i % 3]}" for i in range(n)]


def drifted_rows(n: int = 30) -> list[str]:
    """num_a far outside the baseline; color mostly a value the baseline never saw."""
    return [f"{i % 2},{1000 + i * 3.5},{i % 7},{'purple' if i % 4 else 'red'}" for i in range(n)]


def build(data_dir: Path, model_url: str) -> Scenario:
    server = ServerProcess(data_dir, env=FAST_ENV, keys={"operator": OPERATOR, "bob": BOB}).start()
    training = data_dir / "training.csv"
    training.write_text("label,num_a,num_b,color\n" + "\n".join(training_rows()) + "\n")
    baseline = cli(server, "baseline", "--dataset", str(training), "--format", "csv", "--header",
                   "--output", str(server.data_dir / "s3/m/baseline"))
    assert baseline.returncode == 0, baseline.stderr
    sm = server.client()
    deploy(sm, "churn", model_url, capture=capture_config("s3://m/capture"))
    write_capture(server, drifted_rows())
    sm.create_monitoring_schedule(MonitoringScheduleName="churn-hourly", MonitoringScheduleConfig=schedule_config())
    backfill = cli(server, "backfill", "churn-hourly", "--from", "2026-01-10T01:00:00Z", "--to", "2026-01-10T04:00:00Z")
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    executions = sm.list_monitoring_executions(
        MonitoringScheduleName="churn-hourly", SortBy="ScheduledTime", SortOrder="Ascending"
    )["MonitoringExecutionSummaries"]

    cw = server.client("cloudwatch")
    dimensions = [{"Name": "Endpoint", "Value": "churn"}, {"Name": "MonitoringSchedule", "Value": "churn-hourly"}]
    # PutMetricData takes the past two weeks only: one a day, ending yesterday.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    cw.put_metric_data(Namespace=MODEL_METRICS, MetricData=[
        {"MetricName": "accuracy", "Dimensions": dimensions, "Value": value,
         "Timestamp": today - timedelta(days=len(ACCURACY) - day)}
        for day, value in enumerate(ACCURACY)
    ])
    cw.put_metric_alarm(
        AlarmName="num-a-drift", Namespace="aws/sagemaker/Endpoints/data-metrics",
        MetricName="feature_baseline_drift_num_a", Dimensions=dimensions, Statistic="Maximum", Period=3600,
        EvaluationPeriods=1, Threshold=0.5, ComparisonOperator="GreaterThanThreshold",
    )
    # Bob's account has a schedule of its own, with a name only it uses.
    bob = server.client(keys=BOB[:2])
    deploy(bob, "bob-endpoint", None, capture=capture_config("s3://bobcap/capture"), wait=False)
    config = schedule_config()
    job = config["MonitoringJobDefinition"]
    job["MonitoringInputs"][0]["EndpointInput"]["EndpointName"] = "bob-endpoint"
    job["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["S3Uri"] = "s3://bobcap/reports"
    job.pop("BaselineConfig")
    bob.create_monitoring_schedule(MonitoringScheduleName="bob-private-schedule", MonitoringScheduleConfig=config)
    return Scenario(server, training, executions)
