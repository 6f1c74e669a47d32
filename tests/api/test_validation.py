"""Server-side validation against botocore's SageMaker model, in AWS's Coral message style (spec §1.1-1.2).

boto3 checks only required members, Python types and `min` before sending, so `max`, patterns, enums and
upper bounds are sent through boto3, and what boto3 would refuse to send goes over raw HTTP. Expected
constraint values are read from botocore's model, the same source the server uses, never from our output.
"""

from __future__ import annotations

import copy
from typing import Any

import botocore.session
import httpx
import orjson
import pytest
from botocore.exceptions import ClientError
from botocore.model import ServiceModel

from tests.api.conftest import data_quality_definition, hourly_config, job_definition_request
from tests.server_process import ServerProcess

JSON_11 = "application/x-amz-json-1.1"
MODEL: ServiceModel = botocore.session.get_session().get_service_model("sagemaker")


def meta(shape: str) -> dict[str, Any]:
    return MODEL.shape_for(shape).metadata


def post(server: ServerProcess, operation: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{server.url}/",
        content=orjson.dumps(body),
        headers={"X-Amz-Target": f"SageMaker.{operation}", "Content-Type": JSON_11},
        timeout=10,
    )


def validation_message(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    body = orjson.loads(response.content)
    assert body["__type"] == "ValidationException", body
    return body["message"]


def boto_validation_message(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException", error
    return error["Message"]


def violation(value: str | None, path: str, constraint: str) -> str:
    """One Coral-style violation: `Value 'x' at 'path' failed to satisfy constraint: ...`."""
    shown = "null" if value is None else f"'{value}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


def only(text: str) -> str:
    return f"1 validation error detected: {text}"


def pattern_rule(shape: str) -> str:
    pattern = meta(shape)["pattern"]
    anchored = pattern if pattern.startswith("^") else f"^{pattern}"
    return f"Member must satisfy regular expression pattern: {anchored}"


def max_length_rule(shape: str) -> str:
    return f"Member must have length less than or equal to {meta(shape)['max']}"


def enum_rule(shape: str) -> str:
    return f"Member must satisfy enum value set: [{', '.join(MODEL.shape_for(shape).enum)}]"


def create_body(name: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"MonitoringScheduleName": name, "MonitoringScheduleConfig": config or hourly_config()}


# --- length -------------------------------------------------------------------------------------------


def test_max_length_exact_message(sm: Any) -> None:
    too_long = "a" * (meta("NameContains")["max"] + 1)
    message = boto_validation_message(sm.list_monitoring_schedules, NameContains=too_long)
    assert message == only(violation(too_long, "nameContains", max_length_rule("NameContains")))


def test_a_name_one_over_the_limit_breaks_length_and_pattern(sm: Any) -> None:
    too_long = "n" * (meta("MonitoringScheduleName")["max"] + 1)
    message = boto_validation_message(sm.describe_monitoring_schedule, MonitoringScheduleName=too_long)
    assert message.startswith("2 validation errors detected: ")
    assert violation(too_long, "monitoringScheduleName", max_length_rule("MonitoringScheduleName")) in message
    assert violation(too_long, "monitoringScheduleName", pattern_rule("MonitoringScheduleName")) in message


def test_a_name_at_the_limit_is_valid(sm: Any) -> None:
    at_limit = "n" * meta("MonitoringScheduleName")["max"]
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_monitoring_schedule(MonitoringScheduleName=at_limit)


def test_min_length_via_raw_http(server: ServerProcess) -> None:
    message = validation_message(post(server, "DescribeMonitoringSchedule", {"MonitoringScheduleName": ""}))
    assert message.startswith("2 validation errors detected: ")
    assert violation("", "monitoringScheduleName", "Member must have length greater than or equal to 1") in message


def test_list_length_bounds_name_the_list(server: ServerProcess, name: str) -> None:
    config = hourly_config()
    inputs = config["MonitoringJobDefinition"]["MonitoringInputs"]
    config["MonitoringJobDefinition"]["MonitoringInputs"] = inputs * 2
    message = validation_message(post(server, "CreateMonitoringSchedule", create_body(name, config)))
    assert message.startswith("1 validation error detected: ")
    assert "at 'monitoringScheduleConfig.monitoringJobDefinition.monitoringInputs'" in message
    assert "Member must have length less than or equal to 1" in message


# --- patterns (anchored) ------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [" ", "\n", "\t", "_", "-"], ids=["space", "newline", "tab", "underscore", "dash"])
def test_pattern_is_anchored_at_both_ends(sm: Any, name: str, suffix: str) -> None:
    bad = name + suffix
    message = boto_validation_message(sm.describe_monitoring_schedule, MonitoringScheduleName=bad)
    assert message == only(violation(bad, "monitoringScheduleName", pattern_rule("MonitoringScheduleName")))


@pytest.mark.parametrize("prefix", [" ", "\n", "-"], ids=["space", "newline", "dash"])
def test_pattern_is_anchored_at_the_start(sm: Any, name: str, prefix: str) -> None:
    bad = prefix + name
    message = boto_validation_message(sm.describe_monitoring_schedule, MonitoringScheduleName=bad)
    assert message == only(violation(bad, "monitoringScheduleName", pattern_rule("MonitoringScheduleName")))


def test_role_arn_pattern_in_a_nested_member(sm: Any, name: str) -> None:
    bad = "arn:aws:iam::12345:role/TooShortAccount"
    config = hourly_config(RoleArn=bad)
    message = boto_validation_message(
        sm.create_monitoring_schedule, MonitoringScheduleName=name, MonitoringScheduleConfig=config
    )
    path = "monitoringScheduleConfig.monitoringJobDefinition.roleArn"
    assert message == only(violation(bad, path, pattern_rule("RoleArn")))


def test_nested_list_member_path(sm: Any, name: str) -> None:
    config = hourly_config(endpoint="churn endpoint")
    message = boto_validation_message(
        sm.create_monitoring_schedule, MonitoringScheduleName=name, MonitoringScheduleConfig=config
    )
    path = "monitoringScheduleConfig.monitoringJobDefinition.monitoringInputs.1.member.endpointInput.endpointName"
    assert message == only(violation("churn endpoint", path, pattern_rule("EndpointName")))


def test_tag_patterns_accept_unicode_letters_and_reject_other_symbols(sm: Any, name: str) -> None:
    arn = sm.create_monitoring_schedule(
        MonitoringScheduleName=name,
        MonitoringScheduleConfig=hourly_config(),
        Tags=[{"Key": "équipe:données", "Value": "Zürich team_1 @ops"}],
    )["MonitoringScheduleArn"]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "équipe:données", "Value": "Zürich team_1 @ops"}]
    message = boto_validation_message(sm.add_tags, ResourceArn=arn, Tags=[{"Key": "cost#centre", "Value": "x"}])
    assert message == only(violation("cost#centre", "tags.1.member.key", pattern_rule("TagKey")))


def test_s3_uri_pattern(sm: Any, name: str) -> None:
    definition = data_quality_definition()
    definition["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["S3Uri"] = "ftp://bucket/reports"
    message = boto_validation_message(
        sm.create_monitoring_schedule,
        MonitoringScheduleName=name,
        MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringJobDefinition": definition,
        },
    )
    path = (
        "monitoringScheduleConfig.monitoringJobDefinition.monitoringOutputConfig.monitoringOutputs.1.member"
        ".s3Output.s3Uri"
    )
    assert message == only(violation("ftp://bucket/reports", path, pattern_rule("MonitoringS3Uri")))


# --- enums --------------------------------------------------------------------------------------------


def test_sort_order_enum(sm: Any) -> None:
    message = boto_validation_message(sm.list_monitoring_schedules, SortOrder="ascending")
    assert message == only(violation("ascending", "sortOrder", enum_rule("SortOrder")))


def test_status_equals_enum(sm: Any) -> None:
    message = boto_validation_message(sm.list_monitoring_schedules, StatusEquals="Running")
    assert message == only(violation("Running", "statusEquals", enum_rule("ScheduleStatus")))


def test_execution_sort_key_enum_differs_from_schedule_sort_key(sm: Any) -> None:
    sm.list_monitoring_executions(SortBy="ScheduledTime")
    message = boto_validation_message(sm.list_monitoring_schedules, SortBy="ScheduledTime")
    assert message == only(violation("ScheduledTime", "sortBy", enum_rule("MonitoringScheduleSortKey")))


def test_instance_type_enum_in_a_nested_structure(sm: Any, name: str) -> None:
    config = hourly_config()
    config["MonitoringJobDefinition"]["MonitoringResources"]["ClusterConfig"]["InstanceType"] = "m5.xlarge"
    message = boto_validation_message(
        sm.create_monitoring_schedule, MonitoringScheduleName=name, MonitoringScheduleConfig=config
    )
    path = "monitoringScheduleConfig.monitoringJobDefinition.monitoringResources.clusterConfig.instanceType"
    assert message.startswith(
        f"1 validation error detected: Value 'm5.xlarge' at '{path}' failed to satisfy "
        "constraint: Member must satisfy enum value set: ["
    )
    assert "ml.m5.xlarge" in message


# --- integer ranges -----------------------------------------------------------------------------------


def test_max_results_above_the_range(sm: Any) -> None:
    message = boto_validation_message(sm.list_monitoring_schedules, MaxResults=101)
    assert message == only(violation("101", "maxResults", "Member must have value less than or equal to 100"))


def test_max_results_at_the_range_ends_is_valid(sm: Any) -> None:
    for value in (1, 100):
        assert "MonitoringScheduleSummaries" in sm.list_monitoring_schedules(MaxResults=value)


def test_max_results_below_the_range_via_raw_http(server: ServerProcess) -> None:
    message = validation_message(post(server, "ListMonitoringSchedules", {"MaxResults": 0}))
    assert message == only(violation("0", "maxResults", "Member must have value greater than or equal to 1"))


def test_list_tags_max_results_minimum_is_50(server: ServerProcess) -> None:
    body = {"ResourceArn": "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/x", "MaxResults": 49}
    message = validation_message(post(server, "ListTags", body))
    assert message == only(violation("49", "maxResults", "Member must have value greater than or equal to 50"))


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (0, "Member must have value greater than or equal to 1"),
        (86401, "Member must have value less than or equal to 86400"),
        (-5, "Member must have value greater than or equal to 1"),
    ],
)
def test_max_runtime_range_via_raw_http(server: ServerProcess, name: str, value: int, rule: str) -> None:
    config = hourly_config(StoppingCondition={"MaxRuntimeInSeconds": value})
    message = validation_message(post(server, "CreateMonitoringSchedule", create_body(name, config)))
    path = "monitoringScheduleConfig.monitoringJobDefinition.stoppingCondition.maxRuntimeInSeconds"
    assert message == only(violation(str(value), path, rule))


# --- required and unknown members ---------------------------------------------------------------------


def test_required_member_missing(server: ServerProcess) -> None:
    message = validation_message(post(server, "DescribeMonitoringSchedule", {}))
    assert message == only(violation(None, "monitoringScheduleName", "Member must not be null"))


def test_required_member_null_is_missing(server: ServerProcess) -> None:
    message = validation_message(post(server, "DescribeMonitoringSchedule", {"MonitoringScheduleName": None}))
    assert message == only(violation(None, "monitoringScheduleName", "Member must not be null"))


def test_nested_required_members_are_each_reported(server: ServerProcess, name: str) -> None:
    config = hourly_config()
    del config["MonitoringJobDefinition"]["RoleArn"]
    del config["MonitoringJobDefinition"]["MonitoringResources"]["ClusterConfig"]["InstanceCount"]
    message = validation_message(post(server, "CreateMonitoringSchedule", create_body(name, config)))
    assert message.startswith("2 validation errors detected: ")
    prefix = "monitoringScheduleConfig.monitoringJobDefinition"
    assert violation(None, f"{prefix}.roleArn", "Member must not be null") in message
    assert (
        violation(None, f"{prefix}.monitoringResources.clusterConfig.instanceCount", "Member must not be null")
        in message
    )


def test_every_missing_top_level_member_of_a_job_definition(server: ServerProcess) -> None:
    message = validation_message(post(server, "CreateDataQualityJobDefinition", {}))
    required = MODEL.operation_model("CreateDataQualityJobDefinition").input_shape.required_members
    n = len(required)
    assert message.startswith(f"{n} validation errors detected: ")
    # Only the first ten are spelled out; every required member name appears when there are fewer.
    for member in required[:10]:
        assert f"at '{member[:1].lower() + member[1:]}'" in message


def test_unknown_member_is_rejected(server: ServerProcess) -> None:
    message = validation_message(post(server, "ListMonitoringSchedules", {"MaxResult": 5}))
    assert message.startswith("1 validation error detected: ")
    assert "MaxResult" in message and "ListMonitoringSchedulesRequest" in message


def test_unknown_nested_member_names_its_path(server: ServerProcess, name: str) -> None:
    config = hourly_config()
    config["ScheduleConfig"]["Timezone"] = "UTC"
    message = validation_message(post(server, "CreateMonitoringSchedule", create_body(name, config)))
    assert message.startswith("1 validation error detected: ")
    assert "'monitoringScheduleConfig.scheduleConfig.timezone'" in message
    assert "ScheduleConfig" in message


# --- several errors ------------------------------------------------------------------------------------


def test_several_errors_are_counted_and_listed(sm: Any) -> None:
    message = boto_validation_message(
        sm.list_monitoring_schedules, MaxResults=500, SortOrder="Up", SortBy="Size", StatusEquals="Bad"
    )
    assert message.startswith("4 validation errors detected: ")
    expected = [
        violation("500", "maxResults", "Member must have value less than or equal to 100"),
        violation("Up", "sortOrder", enum_rule("SortOrder")),
        violation("Size", "sortBy", enum_rule("MonitoringScheduleSortKey")),
        violation("Bad", "statusEquals", enum_rule("ScheduleStatus")),
    ]
    listed = message.removeprefix("4 validation errors detected: ").split("; ")
    assert sorted(listed) == sorted(expected)


def test_validation_comes_before_existence(sm: Any) -> None:
    # A malformed name is a ValidationException even though no such schedule exists.
    message = boto_validation_message(sm.delete_monitoring_schedule, MonitoringScheduleName="no such")
    assert "monitoringScheduleName" in message


# --- a rejected request writes nothing ---------------------------------------------------------------


def _listed(sm: Any, fragment: str) -> list[str]:
    summaries = sm.list_monitoring_schedules(NameContains=fragment, MaxResults=100)["MonitoringScheduleSummaries"]
    return [s["MonitoringScheduleName"] for s in summaries]


def _bad_configs(endpoint: str) -> dict[str, tuple[dict[str, Any], str]]:
    """Configs that pass the shape check or not, each with the error code AWS answers."""
    shape_error = hourly_config(endpoint, RoleArn="not-an-arn-but-long-enough")
    bad_cron = hourly_config(endpoint)
    bad_cron["ScheduleConfig"]["ScheduleExpression"] = "rate(5 minutes)"
    too_long_runtime = hourly_config(endpoint, StoppingCondition={"MaxRuntimeInSeconds": 3601})
    missing_definition = {
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
        "MonitoringJobDefinitionName": "no-such-definition-xyz",
        "MonitoringType": "DataQuality",
    }
    both_inputs = hourly_config(endpoint)
    both_inputs["MonitoringJobDefinition"]["MonitoringInputs"][0]["BatchTransformInput"] = {
        "DataCapturedDestinationS3Uri": "s3://bucket/capture",
        "DatasetFormat": {"Csv": {"Header": True}},
        "LocalPath": "/opt/ml/processing/input",
    }
    return {
        "shape": (shape_error, "ValidationException"),
        "cron": (bad_cron, "ValidationException"),
        "runtime": (too_long_runtime, "ValidationException"),
        "missing-definition": (missing_definition, "ResourceNotFound"),
        "both-inputs": (both_inputs, "ValidationException"),
    }


@pytest.mark.parametrize("case", list(_bad_configs("e")))
def test_rejected_create_writes_nothing(sm: Any, name: str, case: str) -> None:
    config, code = _bad_configs(f"{name}-endpoint")[case]
    tags = [{"Key": "owner", "Value": "tests"}]
    before = _listed(sm, name)
    with pytest.raises(ClientError) as caught:
        sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config, Tags=tags)
    assert caught.value.response["Error"]["Code"] == code
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert _listed(sm, name) == before == []
    assert sm.list_monitoring_schedules(EndpointName=f"{name}-endpoint")["MonitoringScheduleSummaries"] == []
    # The name stays free: a valid create afterwards succeeds, and carries only its own tags.
    arn = sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config())[
        "MonitoringScheduleArn"
    ]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []


def test_rejected_update_changes_nothing(sm: Any, name: str) -> None:
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config())
    before = sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    for config, _code in _bad_configs(f"{name}-endpoint").values():
        with pytest.raises(ClientError):
            sm.update_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config)
    after = sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    for member in ("MonitoringScheduleConfig", "LastModifiedTime", "CreationTime", "EndpointName"):
        assert after[member] == before[member]


@pytest.mark.parametrize("kind", ["DataQuality", "ModelQuality", "ModelBias", "ModelExplainability"])
def test_rejected_job_definition_create_writes_nothing(sm: Any, name: str, kind: str) -> None:
    snake = {
        "DataQuality": "data_quality",
        "ModelQuality": "model_quality",
        "ModelBias": "model_bias",
        "ModelExplainability": "model_explainability",
    }[kind]
    request = job_definition_request(kind, name)
    bad_offset = copy.deepcopy(request)
    bad_offset[f"{kind}JobInput"]["EndpointInput"]["StartTimeOffset"] = "-PT1H"
    bad_offset[f"{kind}JobInput"]["EndpointInput"]["EndTimeOffset"] = "Pnonsense"
    bad_role = {**copy.deepcopy(request), "RoleArn": "arn:aws:iam::123:role/x" + "y" * 10}
    for bad in (bad_offset, bad_role):
        with pytest.raises(ClientError) as caught:
            getattr(sm, f"create_{snake}_job_definition")(**bad)
        assert caught.value.response["Error"]["Code"] == "ValidationException"
        with pytest.raises(sm.exceptions.ResourceNotFound):
            getattr(sm, f"describe_{snake}_job_definition")(JobDefinitionName=name)
        listed = getattr(sm, f"list_{snake}_job_definitions")(NameContains=name)["JobDefinitionSummaries"]
        assert listed == []
