"""AWS JSON 1.1 wire details, checked through boto3 and through raw HTTP (spec §1.1).

boto3 hides the wire (it parses errors, converts timestamps, signs requests), so each property is checked
at the level where it is visible: raw httpx for bodies and headers, boto3 for what users see.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import hourly_config, job_definition_request
from tests.server_process import ServerProcess

JSON_11 = "application/x-amz-json-1.1"
OTHER_ACCOUNT = "210987654321"
ARN = re.compile(r"arn:aws:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<type>[a-z-]+)/(?P<name>.+)")


def post(
    server: ServerProcess,
    target: str | None,
    body: bytes | dict[str, Any],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = {"Content-Type": JSON_11, **(headers or {})}
    if target is not None:
        sent["X-Amz-Target"] = target
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return httpx.post(f"{server.url}/", content=content, headers=sent, timeout=10)


def assert_aws_error(response: httpx.Response, code: str) -> str:
    """An AWS-shaped client error: HTTP 400, JSON 1.1 body with exactly `__type` and `message`."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(JSON_11)
    body = orjson.loads(response.content)
    assert set(body) == {"__type", "message"}
    assert body["__type"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert_request_id(response)
    return body["message"]


def assert_request_id(response: httpx.Response) -> None:
    request_id = response.headers.get("x-amzn-RequestId")
    assert request_id, f"no x-amzn-RequestId on {response.status_code} response"
    uuid.UUID(request_id)


def sigv4(region: str) -> dict[str, str]:
    """The Authorization header botocore sends; the credential scope carries the region."""
    return {
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/{region}/sagemaker/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64
        )
    }


def create_schedule(client: Any, name: str) -> str:
    return client.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config())[
        "MonitoringScheduleArn"
    ]


def region_of(arn: str) -> str:
    match = ARN.fullmatch(arn)
    assert match is not None, arn
    return match["region"]


def error_code(error: ClientError) -> str:
    return error.response["Error"]["Code"]


# --- x-amzn-RequestId ---------------------------------------------------------------------------


def test_request_id_on_success_and_error_and_unique(server: ServerProcess) -> None:
    ok = post(server, "SageMaker.ListMonitoringSchedules", {})
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith(JSON_11)
    assert_request_id(ok)
    not_found = post(server, "SageMaker.DescribeMonitoringSchedule", {"MonitoringScheduleName": "no-such-x"})
    assert_aws_error(not_found, "ResourceNotFound")
    ids = {post(server, "SageMaker.ListMonitoringSchedules", {}).headers["x-amzn-RequestId"] for _ in range(5)}
    assert len(ids) == 5


def test_boto3_sees_request_id_in_response_metadata_and_errors(sm: Any, name: str) -> None:
    listed = sm.list_monitoring_schedules(NameContains=name)
    uuid.UUID(listed["ResponseMetadata"]["RequestId"])
    with pytest.raises(ClientError) as caught:
        sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    uuid.UUID(caught.value.response["ResponseMetadata"]["RequestId"])
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# --- error bodies and boto3 exception classes ------------------------------------------------------


def test_modeled_errors_map_to_boto3_exception_classes(sm: Any, name: str) -> None:
    with pytest.raises(sm.exceptions.ResourceNotFound) as missing:
        sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert error_code(missing.value) == "ResourceNotFound"
    assert name in missing.value.response["Error"]["Message"]

    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config())
    with pytest.raises(sm.exceptions.ResourceInUse) as duplicate:
        sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config())
    assert error_code(duplicate.value) == "ResourceInUse"


def test_validation_exception_is_a_client_error_with_its_code(sm: Any) -> None:
    with pytest.raises(ClientError) as caught:
        sm.list_monitoring_schedules(SortOrder="Sideways")
    assert error_code(caught.value) == "ValidationException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_error_body_shape_on_the_wire(server: ServerProcess, name: str) -> None:
    response = post(server, "SageMaker.DescribeMonitoringSchedule", {"MonitoringScheduleName": name})
    message = assert_aws_error(response, "ResourceNotFound")
    assert name in message


# --- unknown operation and target header ----------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "SageMaker.NoSuchOperation",
        "SageMaker.",
        "SageMaker.listMonitoringSchedules",  # operation names are case-sensitive
        "DynamoDB_20120810.ListTables",
        "ListMonitoringSchedules",
        "",
    ],
)
def test_unknown_or_foreign_target_is_unknown_operation(server: ServerProcess, target: str) -> None:
    assert_aws_error(post(server, target, {}), "UnknownOperationException")


def test_missing_target_header_is_unknown_operation(server: ServerProcess) -> None:
    assert_aws_error(post(server, None, {}), "UnknownOperationException")


def test_boto3_parses_unknown_operation(server: ServerProcess) -> None:
    client = server.client()

    def retarget(request: Any, **_: Any) -> None:
        request.headers.replace_header("X-Amz-Target", "SageMaker.NoSuchOperation")

    client.meta.events.register("before-sign.sagemaker.ListMonitoringSchedules", retarget)
    with pytest.raises(ClientError) as caught:
        client.list_monitoring_schedules()
    assert error_code(caught.value) == "UnknownOperationException"


# --- serialization errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"{", b"{bad json}", b'{"MaxResults": 1,}', b"\xff\xfe\x00", b"NaN", b"{'single': 'quotes'}"],
    ids=["truncated", "bare-words", "trailing-comma", "not-utf8", "nan", "single-quotes"],
)
def test_malformed_json_is_serialization_exception(server: ServerProcess, body: bytes) -> None:
    assert_aws_error(post(server, "SageMaker.ListMonitoringSchedules", body), "SerializationException")


@pytest.mark.parametrize("body", [b"[]", b"[{}]", b'"text"', b"42", b"true", b"null"])
def test_non_object_body_is_serialization_exception(server: ServerProcess, body: bytes) -> None:
    assert_aws_error(post(server, "SageMaker.ListMonitoringSchedules", body), "SerializationException")


def test_empty_body_is_an_empty_request(server: ServerProcess) -> None:
    response = post(server, "SageMaker.ListMonitoringSchedules", b"")
    assert response.status_code == 200
    assert "MonitoringScheduleSummaries" in orjson.loads(response.content)


@pytest.mark.parametrize(
    ("target", "body", "where"),
    [
        ("SageMaker.ListMonitoringSchedules", {"MaxResults": "10"}, "maxResults"),
        ("SageMaker.ListMonitoringSchedules", {"MaxResults": 2.5}, "maxResults"),
        ("SageMaker.ListMonitoringSchedules", {"MaxResults": True}, "maxResults"),
        ("SageMaker.ListMonitoringSchedules", {"NameContains": 7}, "nameContains"),
        ("SageMaker.ListMonitoringSchedules", {"CreationTimeAfter": "yesterday"}, "creationTimeAfter"),
        ("SageMaker.ListMonitoringSchedules", {"CreationTimeAfter": [1]}, "creationTimeAfter"),
        ("SageMaker.ListMonitoringSchedules", {"CreationTimeAfter": "nan"}, "creationTimeAfter"),
        ("SageMaker.ListMonitoringSchedules", {"LastModifiedTimeBefore": "-inf"}, "lastModifiedTimeBefore"),
        ("SageMaker.DescribeMonitoringSchedule", {"MonitoringScheduleName": ["a"]}, "monitoringScheduleName"),
        (
            "SageMaker.CreateMonitoringSchedule",
            {"MonitoringScheduleName": "a", "MonitoringScheduleConfig": []},
            "monitoringScheduleConfig",
        ),
        (
            "SageMaker.AddTags",
            {"ResourceArn": "arn:aws:sagemaker:us-east-1:123456789012:x/y", "Tags": {}},
            "tags",
        ),
    ],
)
def test_wrong_json_type_is_serialization_exception(
    server: ServerProcess, target: str, body: dict[str, Any], where: str
) -> None:
    message = assert_aws_error(post(server, target, body), "SerializationException")
    assert where in message


def test_nested_wrong_type_names_the_path(server: ServerProcess, name: str) -> None:
    config = hourly_config()
    config["MonitoringJobDefinition"]["MonitoringResources"]["ClusterConfig"]["InstanceCount"] = "one"
    message = assert_aws_error(
        post(
            server,
            "SageMaker.CreateMonitoringSchedule",
            {"MonitoringScheduleName": name, "MonitoringScheduleConfig": config},
        ),
        "SerializationException",
    )
    path = "monitoringScheduleConfig.monitoringJobDefinition.monitoringResources.clusterConfig.instanceCount"
    assert path in message


# --- timestamps ---------------------------------------------------------------------------------------


def test_timestamps_are_epoch_seconds_with_milliseconds(server: ServerProcess, sm: Any, name: str) -> None:
    before = datetime.now(UTC).timestamp()
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config())
    after = datetime.now(UTC).timestamp()
    raw = orjson.loads(post(server, "SageMaker.DescribeMonitoringSchedule", {"MonitoringScheduleName": name}).content)
    for member in ("CreationTime", "LastModifiedTime"):
        value = raw[member]
        assert isinstance(value, int | float) and not isinstance(value, bool)
        assert value * 1000 == pytest.approx(round(value * 1000), abs=1e-3)  # no finer than a millisecond
        # The server's clock and ours are the same machine's; allow a millisecond of rounding.
        assert before - 0.001 <= value <= after + 0.001

    described = sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert described["CreationTime"].tzinfo is not None
    assert described["CreationTime"].timestamp() == pytest.approx(raw["CreationTime"], abs=1e-6)


def test_timestamp_filters_accept_epoch_numbers_and_iso_strings(server: ServerProcess, sm: Any, name: str) -> None:
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config())
    created = sm.describe_monitoring_schedule(MonitoringScheduleName=name)["CreationTime"]
    earlier = created.timestamp() - 60
    for value in (earlier, int(earlier), datetime.fromtimestamp(earlier, UTC).isoformat()):
        response = post(server, "SageMaker.ListMonitoringSchedules", {"NameContains": name, "CreationTimeAfter": value})
        assert response.status_code == 200, response.text
        names = [s["MonitoringScheduleName"] for s in orjson.loads(response.content)["MonitoringScheduleSummaries"]]
        assert names == [name]


# --- region from the SigV4 credential scope ------------------------------------------------------------


def test_region_comes_from_the_credential_scope(server: ServerProcess, sm: Any, name: str) -> None:
    eu = server.client(region="eu-west-1")
    arn = create_schedule(eu, name)
    assert region_of(arn) == "eu-west-1"
    assert eu.describe_monitoring_schedule(MonitoringScheduleName=name)["MonitoringScheduleArn"] == arn

    # us-east-1 is another region: the schedule does not exist there, and the name is free.
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert sm.list_monitoring_schedules(NameContains=name)["MonitoringScheduleSummaries"] == []
    us_arn = create_schedule(sm, name)
    assert region_of(us_arn) == "us-east-1"
    eu_listed = eu.list_monitoring_schedules(NameContains=name)["MonitoringScheduleSummaries"]
    assert [s["MonitoringScheduleArn"] for s in eu_listed] == [arn]


def test_raw_request_with_a_credential_scope_uses_its_region(server: ServerProcess, name: str) -> None:
    body = {"MonitoringScheduleName": name, "MonitoringScheduleConfig": hourly_config()}
    response = post(server, "SageMaker.CreateMonitoringSchedule", body, sigv4("ap-southeast-2"))
    assert response.status_code == 200, response.text
    assert region_of(orjson.loads(response.content)["MonitoringScheduleArn"]) == "ap-southeast-2"
    described = post(
        server,
        "SageMaker.DescribeMonitoringSchedule",
        {"MonitoringScheduleName": name},
        sigv4("ap-southeast-2"),
    )
    assert described.status_code == 200


def test_no_authorization_header_means_us_east_1(server: ServerProcess, sm: Any, name: str) -> None:
    body = {"MonitoringScheduleName": name, "MonitoringScheduleConfig": hourly_config()}
    response = post(server, "SageMaker.CreateMonitoringSchedule", body)
    assert response.status_code == 200, response.text
    arn = orjson.loads(response.content)["MonitoringScheduleArn"]
    assert region_of(arn) == "us-east-1"
    assert sm.describe_monitoring_schedule(MonitoringScheduleName=name)["MonitoringScheduleArn"] == arn


# --- ARNs: account id and lower-cased names ---------------------------------------------------------------


def test_arns_lower_case_the_name_and_describe_keeps_its_case(sm: Any) -> None:
    name = f"Churn-Monitor-{uuid.uuid4().hex[:8].upper()}"
    arn = create_schedule(sm, name)
    assert arn == f"arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/{name.lower()}"
    described = sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert described["MonitoringScheduleName"] == name
    assert described["MonitoringScheduleArn"] == arn


def test_job_definition_arn_lower_cases_the_name(sm: Any) -> None:
    name = f"DQ-Def-{uuid.uuid4().hex[:8].upper()}"
    arn = sm.create_data_quality_job_definition(**job_definition_request("DataQuality", name))["JobDefinitionArn"]
    match = ARN.fullmatch(arn)
    assert match is not None
    assert (match["account"], match["name"]) == ("123456789012", name.lower())


@pytest.fixture(scope="module")
def other_account_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # A local time zone far from UTC too, so that times without an offset show how they are read.
    env = {"WATCHKEEPER_ACCOUNT_ID": OTHER_ACCOUNT, "TZ": "Asia/Kolkata"}
    process = ServerProcess(tmp_path_factory.mktemp("other-account"), env=env).start()
    yield process
    process.stop()


def test_account_id_is_configurable(other_account_server: ServerProcess, name: str) -> None:
    client = other_account_server.client()
    arn = create_schedule(client, name)
    assert arn == f"arn:aws:sagemaker:us-east-1:{OTHER_ACCOUNT}:monitoring-schedule/{name}"
    tags = client.list_tags(ResourceArn=arn)["Tags"]
    assert tags == []


def test_iso_times_without_an_offset_are_utc(other_account_server: ServerProcess, name: str) -> None:
    client = other_account_server.client()
    create_schedule(client, name)
    created = client.describe_monitoring_schedule(MonitoringScheduleName=name)["CreationTime"].timestamp()

    def listed(after: float) -> list[str]:
        naive = datetime.fromtimestamp(after, UTC).replace(tzinfo=None).isoformat()
        response = post(
            other_account_server,
            "SageMaker.ListMonitoringSchedules",
            {"NameContains": name, "CreationTimeAfter": naive},
        )
        assert response.status_code == 200, response.text
        return [s["MonitoringScheduleName"] for s in orjson.loads(response.content)["MonitoringScheduleSummaries"]]

    # Read as local time (UTC+5:30) both would list the schedule: the second is 5.5 h too early.
    assert listed(created - 60) == [name]
    assert listed(created + 60) == []
