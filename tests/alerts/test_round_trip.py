"""Issue 12's round trip, end to end on the real server with keys: a data-quality schedule publishing CloudWatch
metrics, a CloudWatch alarm on one feature's drift metric with AlarmActions and OKActions naming an SNS topic
mapped to a webhook on loopback; a drifted execution (`watchkeeper run`) → ALARM, then a clean one → OK; the
webhook receives exactly one message per transition, and the schedule's Model Monitor alert goes InAlert → OK
with one message each."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.alerts.test_alerts_api import OPERATOR
from tests.cloudwatch.test_alarms import Receiver
from tests.cloudwatch.test_ingestion_e2e import DATA_METRICS, schedule_config
from tests.endpoint_helpers import FAST_ENV, capture_config, deploy
from tests.monitoring.test_cli_runs import cli
from tests.monitoring.test_monitoring_flow import TRAINING
from tests.server_process import ServerProcess
from tests.waiting import poll
from watchkeeper.capture.records import CaptureConfig, encode_record

TOPIC = "arn:aws:sns:us-east-1:123456789012:ml-ops"
FEATURE = "Day Mins"
DIMENSIONS = [{"Name": "Endpoint", "Value": "churn"}, {"Name": "MonitoringSchedule", "Value": "churn-hourly"}]


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_hour(data_dir: Path, hour: float, rows: list[str]) -> None:
    """Captured requests of one hour (CSV features in, label out), filed as the capture writer files them."""
    config = CaptureConfig.from_data_capture_config(capture_config("s3://m/capture"))
    folder = data_dir / "s3/m/capture/churn/AllTraffic" / datetime.fromtimestamp(hour, UTC).strftime("%Y/%m/%d/%H")
    folder.mkdir(parents=True)
    lines = b"".join(
        encode_record(
            config,
            inference_time=hour + 60 + i * 0.5,
            input_body=row.split(",", 1)[1],
            input_content_type="text/csv",
            output_body=row.split(",", 1)[0],
            output_content_type="text/csv",
        )
        for i, row in enumerate(rows)
    )
    (folder / "01-00-000-file.jsonl").write_bytes(lines)


def drifted(rows: list[str], column: int) -> list[str]:
    """`column` of every row moved far beyond the baseline's range."""
    out = []
    for row in rows:
        cells = row.split(",")
        cells[column] = str(float(cells[column]) + 10_000)
        out.append(",".join(cells))
    return out


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def test_drift_alarm_and_alert_round_trip(tmp_path: Path, receiver: Receiver) -> None:
    env = {
        **FAST_ENV,
        "WATCHKEEPER_ALARM_EVALUATION_SECONDS": "0.3",
        "WATCHKEEPER_ALARM_WEBHOOKS": f"{TOPIC}={receiver.url}/hook",
        "WATCHKEEPER_MONITORING_ALERT_TOPICS": TOPIC,
    }
    server = ServerProcess(tmp_path / "data", env=env, keys={"operator": OPERATOR}).start()
    try:
        sm, cw = server.client(), server.client("cloudwatch")
        header, *rows = TRAINING.read_text().splitlines()
        column = header.split(",").index(FEATURE)
        baseline = cli(server, "baseline", "--dataset", str(TRAINING), "--format", "csv", "--header",
                       "--output", str(server.data_dir / "s3/m/baseline"))
        assert baseline.returncode == 0, baseline.stderr
        deploy(sm, "churn", None, capture=capture_config("s3://m/capture"))
        config = schedule_config()  # as the SDK's enable_cloudwatch_metrics=True sends it
        config["MonitoringJobDefinition"]["Environment"] = {"publish_cloudwatch_metrics": "Enabled"}
        sm.create_monitoring_schedule(MonitoringScheduleName="churn-hourly", MonitoringScheduleConfig=config)
        assert sm.describe_monitoring_schedule(MonitoringScheduleName="churn-hourly")["MonitoringScheduleConfig"][
            "MonitoringJobDefinition"
        ]["Environment"]["publish_cloudwatch_metrics"] == "Enabled"

        # Two recent hours: the older drifted, the newer clean (the training data itself).
        clean_hour = (time.time() // 3600 - 1) * 3600
        drift_hour = clean_hour - 3600
        write_hour(server.data_dir, drift_hour, drifted(rows[:300], column))
        write_hour(server.data_dir, clean_hour, rows)
        metric = f"feature_baseline_drift_{FEATURE}"
        cw.put_metric_alarm(
            AlarmName="churn-day-mins-drift", Namespace=DATA_METRICS, MetricName=metric, Dimensions=DIMENSIONS,
            Statistic="Maximum", Period=3600, EvaluationPeriods=1, Threshold=0.5,
            ComparisonOperator="GreaterThanThreshold", TreatMissingData="missing",
            AlarmActions=[TOPIC], OKActions=[TOPIC],
        )

        def alarm_state() -> str:
            return cw.describe_alarms(AlarmNames=["churn-day-mins-drift"])["MetricAlarms"][0]["StateValue"]

        def alert() -> dict[str, Any]:
            return sm.list_monitoring_alerts(MonitoringScheduleName="churn-hourly")["MonitoringAlertSummaries"][0]

        assert poll(alarm_state, lambda s: s == "INSUFFICIENT_DATA", timeout=3) == "INSUFFICIENT_DATA"
        assert alert()["AlertStatus"] == "OK"

        # The drifted execution: violations, a drift far past the threshold, ALARM and InAlert.
        run = cli(server, "run", "churn-hourly", "--start", iso(drift_hour), "--end", iso(drift_hour + 3600))
        assert run.returncode == 0 and run.stdout.startswith("churn-hourly: CompletedWithViolations"), run.stdout
        point = cw.get_metric_statistics(
            Namespace=DATA_METRICS, MetricName=metric, Dimensions=DIMENSIONS, StartTime=drift_hour,
            EndTime=drift_hour + 3600, Period=3600, Statistics=["Maximum"],
        )["Datapoints"]
        assert len(point) == 1 and point[0]["Maximum"] > 0.5
        assert poll(alarm_state, lambda s: s == "ALARM") == "ALARM"
        assert alert()["AlertStatus"] == "InAlert"
        poll(lambda: len(receiver.received), lambda n: n >= 2)

        # The clean execution: back to OK, both.
        run = cli(server, "run", "churn-hourly", "--start", iso(clean_hour), "--end", iso(clean_hour + 3600))
        assert run.returncode == 0 and run.stdout.startswith("churn-hourly: Completed."), run.stdout
        clean = cw.get_metric_statistics(
            Namespace=DATA_METRICS, MetricName=metric, Dimensions=DIMENSIONS, StartTime=clean_hour,
            EndTime=clean_hour + 3600, Period=3600, Statistics=["Maximum"],
        )["Datapoints"]
        assert len(clean) == 1 and clean[0]["Maximum"] < 0.5
        assert poll(alarm_state, lambda s: s == "OK") == "OK"
        assert alert()["AlertStatus"] == "OK"
        poll(lambda: len(receiver.received), lambda n: n >= 4)
        time.sleep(2)  # several more evaluation and delivery rounds: nothing more may arrive

        texts = [body["text"] for path, body in receiver.received if path == "/hook"]
        alarm_texts = [t for t in texts if "*churn-day-mins-drift*" in t]
        alert_texts = [t for t in texts if "*DataQualityAlert*" in t]
        assert len(texts) == 4 and len(alarm_texts) == 2 and len(alert_texts) == 2, texts
        assert "is now *ALARM* (was INSUFFICIENT_DATA)" in alarm_texts[0]
        assert "is now *OK* (was ALARM)" in alarm_texts[1]
        assert "is now *InAlert* (was OK)" in alert_texts[0] and "is now *OK* (was InAlert)" in alert_texts[1]
        history = sm.list_monitoring_alert_history(MonitoringScheduleName="churn-hourly", SortOrder="Ascending")
        assert [h["AlertStatus"] for h in history["MonitoringAlertHistory"]] == ["InAlert", "OK"]
        states = cw.describe_alarm_history(AlarmName="churn-day-mins-drift", HistoryItemType="StateUpdate",
                                           ScanBy="TimestampAscending")["AlarmHistoryItems"]
        assert [orjson.loads(s["HistoryData"])["newState"]["stateValue"] for s in states] == ["ALARM", "OK"]
    finally:
        server.stop()
