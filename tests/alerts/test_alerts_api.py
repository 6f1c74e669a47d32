"""The alert calls through the real boto3 `sagemaker` client on the real server with keys: shapes, AWS's
error codes, and the scope of an account."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import hourly_config
from tests.endpoint_helpers import FAST_ENV
from tests.server_process import ServerProcess

# The CLI acts for WATCHKEEPER_ACCOUNT_ID (123456789012): the key that creates the schedule is of that account.
OPERATOR = ("AKIAOPERATOR0000001", "operator-secret-0123456789", "123456789012")
OTHER = ("AKIAOTHER000000002", "other-secret-key-9876543210", "222222222222")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("alerts"), env=FAST_ENV, keys={"operator": OPERATOR, "other": OTHER}
    ).start()
    yield process
    process.stop()


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_alert_calls_with_boto3(server: ServerProcess, tmp_path: Path) -> None:
    sm = server.client()
    sm.create_monitoring_schedule(MonitoringScheduleName="churn", MonitoringScheduleConfig=hourly_config())
    created = sm.describe_monitoring_schedule(MonitoringScheduleName="churn")
    listed = sm.list_monitoring_alerts(MonitoringScheduleName="churn")
    (alert,) = listed["MonitoringAlertSummaries"]
    assert "NextToken" not in listed
    assert alert == {
        "MonitoringAlertName": "DataQualityAlert",
        "CreationTime": created["CreationTime"],
        "LastModifiedTime": created["CreationTime"],
        "AlertStatus": "OK",
        "DatapointsToAlert": 1,
        "EvaluationPeriod": 1,
        "Actions": {"ModelDashboardIndicator": {"Enabled": True}},
    }
    answer = sm.update_monitoring_alert(
        MonitoringScheduleName="churn", MonitoringAlertName="DataQualityAlert", DatapointsToAlert=2, EvaluationPeriod=3
    )
    assert (answer["MonitoringScheduleArn"], answer["MonitoringAlertName"]) == (
        created["MonitoringScheduleArn"], "DataQualityAlert"
    )
    alert = sm.list_monitoring_alerts(MonitoringScheduleName="churn")["MonitoringAlertSummaries"][0]
    assert (alert["DatapointsToAlert"], alert["EvaluationPeriod"]) == (2, 3)
    assert alert["LastModifiedTime"] > alert["CreationTime"]

    # Errors: AWS's codes; the model's ranges are checked by the server (botocore only checks minimums).
    update = sm.update_monitoring_alert
    base = {"MonitoringScheduleName": "churn", "MonitoringAlertName": "DataQualityAlert"}
    code, message = error_of(update, **base, DatapointsToAlert=3, EvaluationPeriod=2)
    assert code == "ValidationException" and "DatapointsToAlert (3)" in message
    code, message = error_of(update, **base, DatapointsToAlert=1, EvaluationPeriod=101)
    assert code == "ValidationException" and "evaluationPeriod" in message
    assert error_of(update, **{**base, "MonitoringAlertName": "drift"}, DatapointsToAlert=1, EvaluationPeriod=1)[0] == (
        "ResourceNotFound"
    )
    assert error_of(sm.list_monitoring_alerts, MonitoringScheduleName="nope")[0] == "ResourceNotFound"
    assert error_of(sm.list_monitoring_alert_history, MonitoringScheduleName="nope")[0] == "ResourceNotFound"
    assert error_of(sm.list_monitoring_alert_history, StatusEquals="Bad")[0] == "ValidationException"
    assert error_of(sm.list_monitoring_alert_history, NextToken="garbage")[0] == "ValidationException"
    assert sm.list_monitoring_alert_history()["MonitoringAlertHistory"] == []
    # Another account sees nothing of this schedule, and cannot change its alert.
    other = server.client(keys=OTHER[:2])
    assert error_of(other.list_monitoring_alerts, MonitoringScheduleName="churn")[0] == "ResourceNotFound"
    assert error_of(other.update_monitoring_alert, **base, DatapointsToAlert=1, EvaluationPeriod=1)[0] == (
        "ResourceNotFound"
    )
    # The paginator walks the pages (one alert per schedule: one page).
    pages = list(sm.get_paginator("list_monitoring_alerts").paginate(MonitoringScheduleName="churn"))
    assert [a["MonitoringAlertName"] for p in pages for a in p["MonitoringAlertSummaries"]] == ["DataQualityAlert"]


def test_a_topic_without_webhook_stops_the_server_at_start(tmp_path: Path) -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:ml-ops"
    server = ServerProcess(tmp_path / "data", env={"WATCHKEEPER_MONITORING_ALERT_TOPICS": topic})
    with pytest.raises(RuntimeError, match="has no webhook in WATCHKEEPER_ALARM_WEBHOOKS"):
        server.start()
