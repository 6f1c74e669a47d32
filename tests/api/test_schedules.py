"""Monitoring schedules through the real boto3 client: the calls DefaultModelMonitor and users make."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import data_quality_definition, hourly_config, job_definition_request
from tests.waiting import poll


def wait_status(sm: Any, name: str, wanted: str, timeout: float = 10.0) -> dict[str, Any]:
    return poll(
        lambda: sm.describe_monitoring_schedule(MonitoringScheduleName=name),
        until=lambda described: described["MonitoringScheduleStatus"] == wanted,
        timeout=timeout,
    )


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def test_create_then_describe_echoes_config_and_resolves_fields(sm: Any, name: str) -> None:
    config = hourly_config(endpoint="Churn-Endpoint")
    arn = sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config)[
        "MonitoringScheduleArn"
    ]
    assert arn == f"arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/{name.lower()}"

    described = sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert described["MonitoringScheduleStatus"] == "Pending"
    assert described["MonitoringScheduleName"] == name
    assert described["MonitoringScheduleArn"] == arn
    assert described["MonitoringType"] == "DataQuality"
    assert described["EndpointName"] == "Churn-Endpoint"
    assert "LastMonitoringExecutionSummary" not in described
    echoed = described["MonitoringScheduleConfig"]
    assert echoed["ScheduleConfig"] == config["ScheduleConfig"]
    # The SDK's attach() indexes Environment directly: it is always echoed.
    assert echoed["MonitoringJobDefinition"] == {**config["MonitoringJobDefinition"], "Environment": {}}
    assert described["CreationTime"] <= described["LastModifiedTime"]

    assert wait_status(sm, name, "Scheduled")["MonitoringScheduleStatus"] == "Scheduled"


def test_network_config_echo_carries_both_booleans(sm: Any, name: str) -> None:
    config = hourly_config(
        NetworkConfig={"EnableNetworkIsolation": True}, Environment={"publish_cloudwatch_metrics": "Disabled"}
    )
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config)
    definition = sm.describe_monitoring_schedule(MonitoringScheduleName=name)["MonitoringScheduleConfig"][
        "MonitoringJobDefinition"
    ]
    assert definition["NetworkConfig"] == {
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": False,
    }
    assert definition["Environment"] == {"publish_cloudwatch_metrics": "Disabled"}


def test_names_are_unique_case_insensitively_and_found_in_any_case(sm: Any, name: str) -> None:
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config())
    with pytest.raises(sm.exceptions.ResourceInUse) as excinfo:
        sm.create_monitoring_schedule(MonitoringScheduleName=name.upper(), MonitoringScheduleConfig=hourly_config())
    assert name.upper() in error_of(excinfo)[1]
    assert sm.describe_monitoring_schedule(MonitoringScheduleName=name.upper())["MonitoringScheduleName"] == name


def test_missing_schedule_is_resource_not_found_for_every_call(sm: Any, name: str) -> None:
    calls = [
        lambda: sm.describe_monitoring_schedule(MonitoringScheduleName=name),
        lambda: sm.update_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config()),
        lambda: sm.delete_monitoring_schedule(MonitoringScheduleName=name),
        lambda: sm.start_monitoring_schedule(MonitoringScheduleName=name),
        lambda: sm.stop_monitoring_schedule(MonitoringScheduleName=name),
    ]
    for call in calls:
        with pytest.raises(sm.exceptions.ResourceNotFound) as excinfo:
            call()
        assert name in error_of(excinfo)[1]


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 * ? * * *)",
        "cron(0 0 ? * * *)",
        "cron(0 23 ? * * *)",
        "cron(0 17/12 ? * * *)",
        "cron(0 0/2 ? * * *)",
    ],
)
def test_accepted_schedule_expressions(sm: Any, name: str, expression: str) -> None:
    config = hourly_config()
    config["ScheduleConfig"] = {"ScheduleExpression": expression}
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config)
    echoed = sm.describe_monitoring_schedule(MonitoringScheduleName=name)["MonitoringScheduleConfig"]
    assert echoed["ScheduleConfig"]["ScheduleExpression"] == expression


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 hour)",
        "cron(5 * ? * * *)",
        "cron(0 24 ? * * *)",
        "cron(0 0/25 ? * * *)",
        "cron(0 * ? * MON *)",
        "Hourly: cron(0 * ? * * *)",
        "now",
    ],
)
def test_unsupported_schedule_expressions_list_the_accepted_forms(sm: Any, name: str, expression: str) -> None:
    config = hourly_config()
    config["ScheduleConfig"] = {"ScheduleExpression": expression}
    with pytest.raises(ClientError) as excinfo:
        sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config)
    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert expression in message and "cron(0 * ? * * *)" in message and "NOW" in message
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_monitoring_schedule(MonitoringScheduleName=name)


def test_schedule_without_schedule_config_is_daily(sm: Any, name: str) -> None:
    config = hourly_config()
    del config["ScheduleConfig"]
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config)
    assert (
        "ScheduleConfig" not in sm.describe_monitoring_schedule(MonitoringScheduleName=name)["MonitoringScheduleConfig"]
    )


def test_one_time_now_schedule_needs_a_window_of_at_most_a_day(sm: Any, name: str) -> None:
    config = hourly_config()
    config["ScheduleConfig"] = {
        "ScheduleExpression": "NOW",
        "DataAnalysisStartTime": "-PT2H",
        "DataAnalysisEndTime": "-PT0H",
    }
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config)

    bad_windows = [
        ({"ScheduleExpression": "NOW"}, "requires both"),
        ({"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT1H"}, "requires both"),
        (
            {"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-P2D", "DataAnalysisEndTime": "-PT0H"},
            "24 hours",
        ),
        (
            {"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT1H", "DataAnalysisEndTime": "-PT2H"},
            "earlier",
        ),
        (
            {
                "ScheduleExpression": "NOW",
                "DataAnalysisStartTime": "yesterday",
                "DataAnalysisEndTime": "-PT0H",
            },
            "ISO-8601",
        ),
    ]
    for schedule_config, fragment in bad_windows:
        config["ScheduleConfig"] = schedule_config
        with pytest.raises(ClientError) as excinfo:
            sm.create_monitoring_schedule(MonitoringScheduleName=f"{name}-x", MonitoringScheduleConfig=config)
        code, message = error_of(excinfo)
        assert code == "ValidationException" and fragment in message, message


def test_max_runtime_is_limited_by_type_and_frequency(sm: Any, name: str) -> None:
    ok = hourly_config(StoppingCondition={"MaxRuntimeInSeconds": 3600})
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=ok)

    too_long = hourly_config(StoppingCondition={"MaxRuntimeInSeconds": 3601})
    with pytest.raises(ClientError) as excinfo:
        sm.create_monitoring_schedule(MonitoringScheduleName=f"{name}-a", MonitoringScheduleConfig=too_long)
    code, message = error_of(excinfo)
    assert code == "ValidationException" and "3600" in message

    # Every 6 hours: the limit grows with the period.
    six_hourly = hourly_config(StoppingCondition={"MaxRuntimeInSeconds": 21600})
    six_hourly["ScheduleConfig"] = {"ScheduleExpression": "cron(0 0/6 ? * * *)"}
    sm.create_monitoring_schedule(MonitoringScheduleName=f"{name}-b", MonitoringScheduleConfig=six_hourly)


def test_model_quality_hourly_limit_is_1800_through_its_job_definition(sm: Any, name: str) -> None:
    request = job_definition_request("ModelQuality", f"{name}-def")
    request["StoppingCondition"] = {"MaxRuntimeInSeconds": 3600}
    sm.create_model_quality_job_definition(**request)
    config = {
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
        "MonitoringJobDefinitionName": f"{name}-def",
        "MonitoringType": "ModelQuality",
    }
    with pytest.raises(ClientError) as excinfo:
        sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config)
    code, message = error_of(excinfo)
    assert code == "ValidationException" and "1800" in message


def test_schedule_referencing_a_job_definition(sm: Any, name: str) -> None:
    definition = f"{name}-mq"
    sm.create_model_quality_job_definition(**job_definition_request("ModelQuality", definition, endpoint="mq-ep"))
    config = {
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
        "MonitoringJobDefinitionName": definition,
        "MonitoringType": "ModelQuality",
    }
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config)
    described = sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    # As the real 2021 output: the echo does not inline the definition; type and endpoint are resolved.
    assert described["MonitoringScheduleConfig"] == config
    assert described["MonitoringType"] == "ModelQuality"
    assert described["EndpointName"] == "mq-ep"

    with pytest.raises(sm.exceptions.ResourceInUse):
        sm.delete_model_quality_job_definition(JobDefinitionName=definition)
    sm.delete_monitoring_schedule(MonitoringScheduleName=name)
    sm.delete_model_quality_job_definition(JobDefinitionName=definition)


def test_referenced_definition_must_exist_with_that_type(sm: Any, name: str) -> None:
    sm.create_data_quality_job_definition(**job_definition_request("DataQuality", f"{name}-dq"))
    config = {"MonitoringJobDefinitionName": f"{name}-dq", "MonitoringType": "ModelBias"}
    with pytest.raises(sm.exceptions.ResourceNotFound) as excinfo:
        sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config)
    assert f"{name}-dq" in error_of(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        sm.create_monitoring_schedule(
            MonitoringScheduleName=name,
            MonitoringScheduleConfig={"MonitoringJobDefinitionName": f"{name}-dq"},
        )
    assert error_of(excinfo)[0] == "ValidationException"


@pytest.mark.parametrize("shape", ["both", "neither"])
def test_config_needs_exactly_one_definition_and_one_input(sm: Any, name: str, shape: str) -> None:
    config = hourly_config()
    if shape == "both":
        config["MonitoringJobDefinitionName"] = "some-definition"
        config["MonitoringType"] = "DataQuality"
    else:
        del config["MonitoringJobDefinition"]
    with pytest.raises(ClientError) as excinfo:
        sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config)
    assert error_of(excinfo)[0] == "ValidationException"

    two_inputs = data_quality_definition()
    two_inputs["MonitoringInputs"][0]["BatchTransformInput"] = {
        "DataCapturedDestinationS3Uri": "s3://bucket/batch",
        "DatasetFormat": {"Csv": {"Header": False}},
        "LocalPath": "/opt/ml/processing/input",
    }
    with pytest.raises(ClientError) as excinfo:
        sm.create_monitoring_schedule(
            MonitoringScheduleName=name, MonitoringScheduleConfig={"MonitoringJobDefinition": two_inputs}
        )
    assert "exactly one of EndpointInput or BatchTransformInput" in error_of(excinfo)[1]


def test_batch_transform_schedule_has_no_endpoint(sm: Any, name: str) -> None:
    definition = data_quality_definition()
    definition["MonitoringInputs"] = [
        {
            "BatchTransformInput": {
                "DataCapturedDestinationS3Uri": "s3://bucket/batch-capture",
                "DatasetFormat": {"Csv": {"Header": False}},
                "LocalPath": "/opt/ml/processing/input",
            }
        }
    ]
    sm.create_monitoring_schedule(
        MonitoringScheduleName=name, MonitoringScheduleConfig={"MonitoringJobDefinition": definition}
    )
    assert "EndpointName" not in sm.describe_monitoring_schedule(MonitoringScheduleName=name)


def test_stop_start_update_delete_lifecycle(sm: Any, name: str) -> None:
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config())
    created = wait_status(sm, name, "Scheduled")

    sm.stop_monitoring_schedule(MonitoringScheduleName=name)
    stopped = sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert stopped["MonitoringScheduleStatus"] == "Stopped"
    assert stopped["LastModifiedTime"] >= created["LastModifiedTime"]
    sm.stop_monitoring_schedule(MonitoringScheduleName=name)  # stopping twice is harmless

    # Updating a stopped schedule keeps it stopped; the config is replaced whole.
    new_config = hourly_config(endpoint="other-endpoint")
    new_config["ScheduleConfig"] = {"ScheduleExpression": "cron(0 6 ? * * *)"}
    sm.update_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=new_config)
    updated = sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert updated["MonitoringScheduleStatus"] == "Stopped"
    assert updated["EndpointName"] == "other-endpoint"
    assert updated["MonitoringScheduleConfig"]["ScheduleConfig"] == {"ScheduleExpression": "cron(0 6 ? * * *)"}

    sm.start_monitoring_schedule(MonitoringScheduleName=name)
    assert wait_status(sm, name, "Scheduled")["MonitoringScheduleStatus"] == "Scheduled"

    sm.update_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config())
    assert sm.describe_monitoring_schedule(MonitoringScheduleName=name)["MonitoringScheduleStatus"] == "Pending"
    assert wait_status(sm, name, "Scheduled")["EndpointName"] == "churn-endpoint"

    sm.delete_monitoring_schedule(MonitoringScheduleName=name)
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    # The name is free again.
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config())


def test_invalid_update_changes_nothing(sm: Any, name: str) -> None:
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config())
    before = sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    bad = hourly_config(endpoint="other")
    bad["ScheduleConfig"] = {"ScheduleExpression": "cron(30 * ? * * *)"}
    with pytest.raises(ClientError):
        sm.update_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=bad)
    after = sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert after["MonitoringScheduleConfig"] == before["MonitoringScheduleConfig"]
    assert after["LastModifiedTime"] == before["LastModifiedTime"]


def test_bad_time_offsets_are_rejected(sm: Any, name: str) -> None:
    definition = data_quality_definition()
    definition["MonitoringInputs"][0]["EndpointInput"]["StartTimeOffset"] = "-PTXH"
    with pytest.raises(ClientError) as excinfo:
        sm.create_monitoring_schedule(
            MonitoringScheduleName=name, MonitoringScheduleConfig={"MonitoringJobDefinition": definition}
        )
    assert error_of(excinfo)[0] == "ValidationException"


def test_a_schedule_has_its_monitoring_alert(sm: Any, name: str) -> None:
    # One alert per schedule, created with it (docs/alerts.md); the evaluation is tested in tests/alerts/.
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config())
    (alert,) = sm.list_monitoring_alerts(MonitoringScheduleName=name)["MonitoringAlertSummaries"]
    assert (alert["MonitoringAlertName"], alert["AlertStatus"]) == ("DataQualityAlert", "OK")
    assert sm.list_monitoring_alert_history(MonitoringScheduleName=name)["MonitoringAlertHistory"] == []
    with pytest.raises(sm.exceptions.ResourceNotFound) as excinfo:
        sm.update_monitoring_alert(
            MonitoringScheduleName=name, MonitoringAlertName="drift", DatapointsToAlert=1, EvaluationPeriod=1
        )
    assert "drift" in error_of(excinfo)[1]
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.list_monitoring_alerts(MonitoringScheduleName=f"{name}-missing")
