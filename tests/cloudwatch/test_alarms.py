"""Metric alarms through the real boto3 `cloudwatch` client against the real server: PutMetricAlarm,
DescribeAlarms, DeleteAlarms, SetAlarmState, DescribeAlarmHistory; evaluation over the metrics store; and
notifications to a webhook on loopback, exactly one per transition, with a dead letter after the last try."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from tests.cloudwatch.conftest import ALICE, BOB, error_of
from tests.endpoint_helpers import FAST_ENV
from tests.server_process import ServerProcess
from watchkeeper.metrics.notify import parse_webhooks

GOOD_TOPIC = "arn:aws:sns:us-east-1:111111111111:ops"
BAD_TOPIC = "arn:aws:sns:us-east-1:111111111111:broken"
UNKNOWN_TOPIC = "arn:aws:sns:us-east-1:111111111111:nobody-listens"


class Receiver:
    """A webhook on 127.0.0.1: records every POST; /fail answers 500."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.received.append((self.path, orjson.loads(body)))
                self.send_response(500 if self.path == "/fail" else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def texts(self, path: str, alarm: str) -> list[str]:
        return [body["text"] for p, body in self.received if p == path and f"*{alarm}*" in body["text"]]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[ServerProcess]:
    env = {
        **FAST_ENV,
        "WATCHKEEPER_ALARM_EVALUATION_SECONDS": "0.3",
        "WATCHKEEPER_ALARM_WEBHOOKS": f"{GOOD_TOPIC}={receiver.url}/hook, {BAD_TOPIC}={receiver.url}/fail",
        "WATCHKEEPER_ALARM_WEBHOOK_ATTEMPTS": "3",
        "WATCHKEEPER_ALARM_WEBHOOK_BACKOFF_SECONDS": "0.1",
    }
    process = ServerProcess(tmp_path_factory.mktemp("alarms"), env=env, keys={"alice": ALICE, "bob": BOB}).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def cw(server: ServerProcess) -> Any:
    return server.client("cloudwatch", keys=ALICE[:2])


def alarm(name: str, **overrides: Any) -> dict[str, Any]:
    config = {
        "AlarmName": name,
        "Namespace": "Test/Alarms",
        "MetricName": "drift",
        "Dimensions": [{"Name": "Endpoint", "Value": name}],
        "Statistic": "Average",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 5.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    config.update(overrides)
    return config


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def state_of(cw: Any, name: str) -> str:
    return str(cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"])


def test_put_describe_filter_page_delete(cw: Any) -> None:
    for name in ("page-a", "page-b", "page-c", "other"):
        cw.put_metric_alarm(**alarm(name, AlarmActions=[GOOD_TOPIC], AlarmDescription="d"))
    found = cw.describe_alarms(AlarmNames=["page-b"])["MetricAlarms"]
    assert len(found) == 1
    shown = found[0]
    assert shown["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:111111111111:alarm:page-b"
    assert shown["StateValue"] == "INSUFFICIENT_DATA"
    assert shown["StateReason"] == "Unchecked: Initial alarm creation"
    assert (shown["Threshold"], shown["DatapointsToAlarm"], shown["TreatMissingData"]) == (5.0, 1, "missing")
    assert shown["AlarmActions"] == [GOOD_TOPIC] and shown["OKActions"] == []
    first = cw.describe_alarms(AlarmNamePrefix="page-", MaxRecords=2)
    assert [a["AlarmName"] for a in first["MetricAlarms"]] == ["page-a", "page-b"]
    second = cw.describe_alarms(AlarmNamePrefix="page-", MaxRecords=2, NextToken=first["NextToken"])
    assert [a["AlarmName"] for a in second["MetricAlarms"]] == ["page-c"] and "NextToken" not in second
    assert cw.describe_alarms(AlarmNamePrefix="page-", StateValue="ALARM")["MetricAlarms"] == []
    # An update overwrites the configuration.
    cw.put_metric_alarm(**alarm("page-a", Threshold=9.0))
    assert cw.describe_alarms(AlarmNames=["page-a"])["MetricAlarms"][0]["Threshold"] == 9.0
    cw.delete_alarms(AlarmNames=["page-a", "page-b", "page-c", "other"])
    assert cw.describe_alarms(AlarmNamePrefix="page-")["MetricAlarms"] == []
    history = cw.describe_alarm_history(AlarmName="page-a", HistoryItemType="ConfigurationUpdate")
    summaries = [item["HistorySummary"] for item in history["AlarmHistoryItems"]]
    assert summaries == ['Alarm "page-a" deleted', 'Alarm "page-a" updated', 'Alarm "page-a" created']


def test_validation_errors(cw: Any) -> None:
    cases = [
        (alarm("v", DatapointsToAlarm=2), "InvalidParameterValue", "DatapointsToAlarm"),
        (alarm("v", Period=45), "InvalidParameterValue", "Period"),
        (alarm("v", AlarmActions=["arn:aws:automate:us-east-1:ec2:stop"]), "InvalidParameterValue", "SNS"),
        (alarm("v", ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold"), "InvalidParameterValue", ""),
        (alarm("v", TreatMissingData="sometimes"), "InvalidParameterValue", "TreatMissingData"),
        (alarm("v", Statistic="Sum", Period=86400, EvaluationPeriods=8), "InvalidParameterCombination", ""),
        ({k: v for k, v in alarm("v").items() if k != "Threshold"}, "MissingParameter", "Threshold"),
        (alarm("v", AlarmName="x" * 256), "ValidationError", "alarmName"),
    ]
    for request, code, words in cases:
        error = error_of(cw.put_metric_alarm, **request)
        assert error["Code"] == code, (request, error)
        assert words in error["Message"]
    assert error_of(cw.set_alarm_state, AlarmName="nope", StateValue="OK", StateReason="r")["Code"] == (
        "ResourceNotFound"
    )
    assert error_of(cw.delete_alarms, AlarmNames=["nope"])["Code"] == "ResourceNotFound"
    assert error_of(cw.describe_alarms, NextToken="!!")["Code"] == "InvalidNextToken"


def test_accounts_are_isolated(cw: Any, server: ServerProcess) -> None:
    bob = server.client("cloudwatch", keys=BOB[:2])
    cw.put_metric_alarm(**alarm("shared-name"))
    assert bob.describe_alarms(AlarmNames=["shared-name"])["MetricAlarms"] == []
    assert error_of(bob.set_alarm_state, AlarmName="shared-name", StateValue="OK", StateReason="r")["Code"] == (
        "ResourceNotFound"
    )
    bob.put_metric_alarm(**alarm("shared-name", Threshold=1.0))
    assert cw.describe_alarms(AlarmNames=["shared-name"])["MetricAlarms"][0]["Threshold"] == 5.0
    assert bob.describe_alarm_history(AlarmName="shared-name")["AlarmHistoryItems"][0]["HistorySummary"] == (
        'Alarm "shared-name" created'
    )
    assert len(cw.describe_alarm_history(AlarmName="shared-name")["AlarmHistoryItems"]) == 1
    cw.delete_alarms(AlarmNames=["shared-name"])
    assert bob.describe_alarms(AlarmNames=["shared-name"])["MetricAlarms"] != []


def test_set_alarm_state_notifies_once(cw: Any, receiver: Receiver) -> None:
    cw.put_metric_alarm(
        **alarm(
            "manual",
            AlarmActions=[GOOD_TOPIC, UNKNOWN_TOPIC],
            Namespace="Test/Manual",
            Threshold=1e9,
            TreatMissingData="ignore",
        )
    )
    cw.set_alarm_state(AlarmName="manual", StateValue="ALARM", StateReason="testing")
    assert state_of(cw, "manual") == "ALARM"
    texts = wait_for(lambda: receiver.texts("/hook", "manual"))
    assert len(texts) == 1 and "*ALARM*" in texts[0] and "testing" in texts[0]
    history = cw.describe_alarm_history(AlarmName="manual", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert history[0]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert orjson.loads(history[0]["HistoryData"])["newState"]["stateValue"] == "ALARM"
    assert (
        wait_for(lambda: cw.describe_alarm_history(AlarmName="manual", HistoryItemType="Action")["AlarmHistoryItems"])[
            0
        ]["HistorySummary"]
        == f"Successfully executed action {GOOD_TOPIC}"
    )
    time.sleep(1)  # no second message for one transition
    assert len(receiver.texts("/hook", "manual")) == 1
    cw.delete_alarms(AlarmNames=["manual"])


def test_failed_delivery_is_retried_then_dead_lettered(cw: Any, receiver: Receiver) -> None:
    cw.put_metric_alarm(
        **alarm("deadletter", AlarmActions=[BAD_TOPIC], Namespace="Test/Dead", TreatMissingData="ignore")
    )
    cw.set_alarm_state(AlarmName="deadletter", StateValue="ALARM", StateReason="testing")
    actions = wait_for(
        lambda: cw.describe_alarm_history(AlarmName="deadletter", HistoryItemType="Action")["AlarmHistoryItems"]
    )
    assert actions[0]["HistorySummary"] == f"Failed to execute action {BAD_TOPIC} after 3 tries"
    assert orjson.loads(actions[0]["HistoryData"])["error"] == "HTTP 500"
    assert len(receiver.texts("/fail", "deadletter")) == 3
    cw.delete_alarms(AlarmNames=["deadletter"])


def test_evaluation_alarm_then_ok_one_message_each(cw: Any, receiver: Receiver) -> None:
    # Both datapoints carry one timestamp, so they share a period even if a minute begins in between; with
    # TreatMissingData "ignore" the evaluation then finds that period among the latest (alarm_rules.LOOKBACK_PERIODS).
    config = alarm("evaluated", AlarmActions=[GOOD_TOPIC], OKActions=[GOOD_TOPIC], TreatMissingData="ignore")
    cw.put_metric_alarm(**config)
    datum = {"MetricName": "drift", "Dimensions": config["Dimensions"], "Timestamp": datetime.now(UTC)}
    cw.put_metric_data(Namespace="Test/Alarms", MetricData=[{**datum, "Value": 10.0}])
    assert wait_for(lambda: state_of(cw, "evaluated") == "ALARM", 5)
    shown = cw.describe_alarms(AlarmNames=["evaluated"])["MetricAlarms"][0]
    assert shown["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [10.0")
    assert orjson.loads(shown["StateReasonData"])["recentDatapoints"] == [10.0]
    # The period's average falls below the threshold.
    cw.put_metric_data(Namespace="Test/Alarms", MetricData=[{**datum, "Values": [0.0], "Counts": [99.0]}])
    assert wait_for(lambda: state_of(cw, "evaluated") == "OK", 5)
    time.sleep(1.5)  # several more evaluations: no further transitions, no further messages
    texts = receiver.texts("/hook", "evaluated")
    assert len(texts) == 2 and "*ALARM*" in texts[0] and "*OK*" in texts[1]
    summaries = [
        item["HistorySummary"]
        for item in cw.describe_alarm_history(AlarmName="evaluated", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    ]
    assert summaries == ["Alarm updated from ALARM to OK", "Alarm updated from INSUFFICIENT_DATA to ALARM"]


def test_missing_data_treated_as_breaching(cw: Any) -> None:
    cw.put_metric_alarm(**alarm("no-data", TreatMissingData="breaching", Namespace="Test/Empty"))
    assert wait_for(lambda: state_of(cw, "no-data") == "ALARM", 5)
    cw.put_metric_alarm(**alarm("no-data", TreatMissingData="notBreaching", Namespace="Test/Empty"))
    assert wait_for(lambda: state_of(cw, "no-data") == "OK", 5)


def test_webhook_setting_is_validated() -> None:
    assert parse_webhooks(f"{GOOD_TOPIC}=https://hooks.example.com/services/T/B/X") == {
        GOOD_TOPIC: "https://hooks.example.com/services/T/B/X"
    }
    for bad in (f"{GOOD_TOPIC}=ftp://host/x", f"{GOOD_TOPIC}=http:///x", "topic=http://host/x", GOOD_TOPIC):
        with pytest.raises(ValueError):
            parse_webhooks(bad)


def test_a_late_point_of_an_earlier_period_is_evaluated(cw: Any) -> None:
    # A monitoring execution's metrics carry its window's start, a period or more before they arrive.
    config = alarm("late", Namespace="Test/Late")
    cw.put_metric_alarm(**config)
    cw.put_metric_data(
        Namespace="Test/Late",
        MetricData=[
            {
                "MetricName": "drift",
                "Dimensions": config["Dimensions"],
                "Timestamp": datetime.fromtimestamp(time.time() - 90, UTC),
                "Value": 7.0,
            }
        ],
    )
    assert wait_for(lambda: state_of(cw, "late") == "ALARM", 5)
