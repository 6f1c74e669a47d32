"""Property tests: whatever arrives at `POST /`, the answer is a well-formed AWS JSON 1.1 response.

Random bytes, random JSON, random targets and headers, and random member values built from each supported
operation's input shape in botocore's model are sent to a server of their own (so fuzzed creates cannot
crowd the shared one). Every answer must be a 200 that botocore parses with the operation's output shape,
or a 4xx with an AWS error body: never a 5xx, never a hang (5 s per request).
"""

from __future__ import annotations

import base64
import copy
import re
import string
from collections.abc import Iterator
from typing import Any

import botocore.session
import httpx
import orjson
import pytest
from botocore.model import ServiceModel, Shape
from botocore.parsers import create_parser
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from tests.api.conftest import hourly_config, job_definition_request
from tests.server_process import ServerProcess
from tests.signing import SigV4
from watchkeeper.api.sagemaker import OPERATIONS

MODEL: ServiceModel = botocore.session.get_session().get_service_model("sagemaker")
SUPPORTED = sorted(OPERATIONS)
ERROR_CODES = {
    "ValidationException",
    "SerializationException",
    "UnknownOperationException",
    "ResourceNotFound",
    "ResourceInUse",
    "ResourceLimitExceeded",
    "ConflictException",
}
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
MAX_DEPTH = 7
FUZZ_KEYS = ("AKIAFUZZ0000000000", "fuzz-secret", "123456789012")
NAME_POOL = ["fuzz-a", "fuzz-b", "Fuzz-A"]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # Auth on: every fuzzed request is signed, so the fuzz reaches the handlers through the SigV4 edge.
    process = ServerProcess(tmp_path_factory.mktemp("fuzz-server"), keys={"fuzz": FUZZ_KEYS}).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def http(fuzz_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fuzz_server.url, timeout=5.0, auth=SigV4(FUZZ_KEYS[:2])) as client:
        yield client


def send(http: httpx.Client, target: str | None, body: bytes, headers: dict[str, str] | None = None) -> None:
    sent = {"Content-Type": "application/x-amz-json-1.1", **(headers or {})}
    if target is not None:
        sent["X-Amz-Target"] = target
    check(http.post("/", content=body, headers=sent), target)


def check(response: httpx.Response, target: str | None) -> None:
    """The response contract every request must meet, whatever it carried."""
    assert response.headers.get("x-amzn-RequestId"), "missing x-amzn-RequestId"
    assert response.headers["content-type"].startswith("application/x-amz-json-1.1")
    body = orjson.loads(response.content)
    assert isinstance(body, dict)
    # `pytest --hypothesis-show-statistics` shows how far the fuzz gets past validation.
    event(f"{response.status_code} {body.get('__type', 'OK')}")
    if response.status_code == 200:
        operation = MODEL.operation_model(target.removeprefix("SageMaker.")) if target else None
        assert operation is not None and operation.name in OPERATIONS
        if operation.output_shape is not None:
            parsed = create_parser("json").parse(
                {"status_code": 200, "headers": dict(response.headers), "body": response.content},
                operation.output_shape,
            )
            assert "Error" not in parsed
        return
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    assert set(body) == {"__type", "message"}, body
    assert body["__type"] in ERROR_CODES, body
    assert isinstance(body["message"], str) and 0 < len(body["message"]) <= 1024


# --- strategies -----------------------------------------------------------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def _text_for(shape: Shape) -> st.SearchStrategy[str]:
    meta = shape.metadata
    longest = min(int(meta.get("max", 40)) + 2, 300)
    plain = st.text(max_size=longest)
    pattern = meta.get("pattern")
    # Hypothesis's regex generator cannot read \uXXXX ranges (a few model patterns use them): plain text there.
    if pattern and pattern not in (".*", "[\\S\\s]*") and "\\u" not in pattern:
        try:
            re.compile(pattern)
        except re.error:  # Java-only classes such as \p{L}: fall back to a similar Python class
            pattern = pattern.replace("\\p{L}\\p{Z}\\p{N}", "\\w ")
        return st.from_regex(pattern, fullmatch=True).map(lambda s: s[:longest]) | plain
    return plain


def _timestamp() -> st.SearchStrategy[Any]:
    return (
        st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
        | st.integers(min_value=-(2**63), max_value=2**64 - 1)
        | st.datetimes().map(lambda d: d.isoformat())
        | st.text(max_size=30)
    )


def _typed(shape: Shape, depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "structure":
        if depth >= MAX_DEPTH:
            return st.just({})
        members = {name: for_shape(member, depth + 1) for name, member in shape.members.items()}
        required = {name: members[name] for name in shape.required_members}
        optional = {name: s for name, s in members.items() if name not in required}
        complete = st.fixed_dictionaries(required, optional=optional)
        return complete | st.fixed_dictionaries({}, optional=members)
    if kind == "list":
        if depth >= MAX_DEPTH:
            return st.just([])
        return st.lists(for_shape(shape.member, depth + 1), max_size=3)
    if kind == "map":
        if depth >= MAX_DEPTH:
            return st.just({})
        return st.dictionaries(_text_for(shape.key), for_shape(shape.value, depth + 1), max_size=3)
    if kind == "string":
        if shape.enum:
            return st.sampled_from(shape.enum) | st.text(max_size=20)
        return _text_for(shape)
    if kind in ("integer", "long"):
        low, high = int(shape.metadata.get("min", -10)), int(shape.metadata.get("max", 1000))
        return st.integers(low - 2, high + 2) | st.integers(-(2**63), 2**64 - 1)
    if kind in ("float", "double"):
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return _timestamp()
    return JSON_SCALARS


def for_shape(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Mostly values of the member's type, sometimes any JSON value (a wrong type)."""
    return st.integers(0, 9).flatmap(lambda n: JSON_VALUES if n == 0 else _typed(shape, depth))


_REQUESTS: dict[str, st.SearchStrategy[Any]] = {}


def request_for(operation: str) -> st.SearchStrategy[Any]:
    if operation not in _REQUESTS:
        _REQUESTS[operation] = _typed(MODEL.operation_model(operation).input_shape, 0)
    return _REQUESTS[operation]


@st.composite
def operation_requests(draw: st.DrawFn) -> tuple[str, Any]:
    operation = draw(st.sampled_from(SUPPORTED))
    return operation, draw(request_for(operation))


def header_text(size: int) -> st.SearchStrategy[str]:
    """Printable header values; HTTP clients refuse surrounding whitespace, so none is drawn."""
    return st.text(alphabet=string.printable.strip("\r\n\x0b\x0c"), max_size=size).map(str.strip)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"offset": offset})).decode()


# --- properties --------------------------------------------------------------------------------------------


@FUZZ
@given(operation=st.sampled_from(SUPPORTED), body=st.binary(max_size=300))
@example(operation="ListMonitoringSchedules", body=b"\x00")
@example(operation="CreateMonitoringSchedule", body=b'{"MonitoringScheduleName": "\xed\xa0\x80"}')
@example(operation="ListMonitoringSchedules", body=b'{"MaxResults": 1e999}')
@example(operation="ListMonitoringSchedules", body=b'{"MaxResults": 123456789012345678901234567890}')
def test_random_bytes(http: httpx.Client, operation: str, body: bytes) -> None:
    send(http, f"SageMaker.{operation}", body)


@FUZZ
@given(operation=st.sampled_from(SUPPORTED), body=JSON_VALUES)
def test_random_json(http: httpx.Client, operation: str, body: Any) -> None:
    send(http, f"SageMaker.{operation}", orjson.dumps(body))


@FUZZ
@given(
    target=st.one_of(
        st.none(),
        header_text(60),
        st.sampled_from(MODEL.operation_names).map(lambda name: f"SageMaker.{name}"),
        st.text(alphabet=string.ascii_letters, max_size=30).map(lambda name: f"SageMaker.{name}"),
    )
)
def test_random_targets(http: httpx.Client, target: str | None) -> None:
    send(http, target, b"{}")


@FUZZ
@given(request=operation_requests())
@example(request=("ListMonitoringSchedules", {"NextToken": _token(2**63)}))
@example(request=("ListMonitoringSchedules", {"NextToken": _token(2**64 - 1)}))
@example(request=("ListMonitoringExecutions", {"NextToken": _token(2**63 - 1), "MaxResults": 100}))
@example(request=("ListMonitoringSchedules", {"CreationTimeAfter": "nan"}))
@example(request=("ListMonitoringSchedules", {"LastModifiedTimeBefore": "-inf"}))
def test_random_members_from_the_model(http: httpx.Client, request: tuple[str, Any]) -> None:
    operation, body = request
    send(http, f"SageMaker.{operation}", orjson.dumps(body))


@FUZZ
@given(
    authorization=st.one_of(
        header_text(200),
        st.from_regex(
            r"AWS4-HMAC-SHA256 Credential=[A-Z]{4}/[0-9]{8}/[a-z0-9-]{0,80}/sagemaker/aws4_request",
            fullmatch=True,
        ),
    )
)
def test_random_authorization_headers(http: httpx.Client, authorization: str) -> None:
    send(http, "SageMaker.ListMonitoringSchedules", b"{}", {"Authorization": authorization})


# --- near-valid requests: a real request with one member replaced by a random value -------------------


def _near_valid_schedule() -> st.SearchStrategy[dict[str, Any]]:
    offsets = st.text(max_size=16) | st.from_regex(
        r"[-+]?P([0-9]{1,12}D)?(T([0-9]{1,12}H)?([0-9]{1,12}M)?([0-9]{1,12}S)?)?", fullmatch=True
    )
    expressions = (
        st.text(max_size=40)
        | st.sampled_from(["NOW", "cron(0 * ? * * *)", "cron(0 12 ? * * *)", "cron(0 0/6 ? * * *)"])
        | st.from_regex(r"cron\(0 (\*|[0-9]{1,3}(/[0-9]{1,3})?) \? \* \* \*\)", fullmatch=True)
    )

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        config = hourly_config()
        schedule: dict[str, Any] = {"ScheduleExpression": draw(expressions)}
        if draw(st.booleans()):
            schedule["DataAnalysisStartTime"] = draw(offsets)
            schedule["DataAnalysisEndTime"] = draw(offsets)
        config["ScheduleConfig"] = schedule
        definition = config["MonitoringJobDefinition"]
        endpoint_input = definition["MonitoringInputs"][0]["EndpointInput"]
        if draw(st.booleans()):
            endpoint_input["StartTimeOffset"] = draw(offsets)
            endpoint_input["EndTimeOffset"] = draw(offsets)
        if draw(st.booleans()):
            definition["StoppingCondition"] = {"MaxRuntimeInSeconds": draw(st.integers(-5, 90000))}
        if draw(st.booleans()):
            config = {
                "ScheduleConfig": schedule,
                "MonitoringJobDefinitionName": draw(st.sampled_from(["fuzz-dq", "fuzz-mq", "missing"])),
                "MonitoringType": draw(st.sampled_from(["DataQuality", "ModelQuality", "ModelBias", "Other"])),
            }
        name = draw(st.sampled_from(NAME_POOL))  # few names, so creates collide and updates find a schedule
        return {"MonitoringScheduleName": name, "MonitoringScheduleConfig": config}

    return build()


@FUZZ
@given(body=_near_valid_schedule(), update=st.booleans())
def test_near_valid_schedules(http: httpx.Client, body: dict[str, Any], update: bool) -> None:
    for kind, name in (("DataQuality", "fuzz-dq"), ("ModelQuality", "fuzz-mq")):
        http.post(
            "/",
            content=orjson.dumps(job_definition_request(kind, name)),
            headers={"X-Amz-Target": f"SageMaker.Create{kind}JobDefinition"},
        )
    target = "SageMaker.UpdateMonitoringSchedule" if update else "SageMaker.CreateMonitoringSchedule"
    send(http, target, orjson.dumps(body))
    send(
        http,
        "SageMaker.DescribeMonitoringSchedule",
        orjson.dumps({"MonitoringScheduleName": body["MonitoringScheduleName"]}),
    )


@FUZZ
@given(max_results=st.integers(0, 2**64 - 1), token=st.integers(-5, 2**64 - 1) | st.none())
@example(max_results=2**63 - 1, token=None)
@example(max_results=50, token=2**63 - 10)
def test_list_tags_bounds_on_an_existing_resource(
    http: httpx.Client, fuzz_server: ServerProcess, max_results: int, token: int | None
) -> None:
    name = "fuzz-tagged"
    created = http.post(
        "/",
        content=orjson.dumps(
            {
                "MonitoringScheduleName": name,
                "MonitoringScheduleConfig": hourly_config(),
                "Tags": [{"Key": "a", "Value": "1"}],
            }
        ),
        headers={"X-Amz-Target": "SageMaker.CreateMonitoringSchedule"},
    )
    assert created.status_code in (200, 400)
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/{name}"
    body: dict[str, Any] = {"ResourceArn": arn, "MaxResults": max_results}
    if token is not None:
        body["NextToken"] = _token(token)
    send(http, "SageMaker.ListTags", orjson.dumps(body))


# --- mutation: a valid request with one or two members replaced by random values of their shape ------------

_DELETE = object()


def _seeds() -> list[tuple[str, dict[str, Any]]]:
    tags = [{"Key": "team", "Value": "fuzz"}]
    schedule = {"MonitoringScheduleName": "fuzz-a", "MonitoringScheduleConfig": hourly_config()}
    seeds: list[tuple[str, dict[str, Any]]] = [
        ("CreateMonitoringSchedule", {**schedule, "Tags": tags}),
        ("UpdateMonitoringSchedule", schedule),
        (
            "ListMonitoringSchedules",
            {
                "EndpointName": "churn-endpoint",
                "SortBy": "Name",
                "SortOrder": "Ascending",
                "MaxResults": 5,
                "NameContains": "fuzz",
                "CreationTimeBefore": 4_000_000_000,
                "CreationTimeAfter": 0,
                "LastModifiedTimeBefore": 4_000_000_000,
                "LastModifiedTimeAfter": 0,
                "StatusEquals": "Scheduled",
                "MonitoringJobDefinitionName": "fuzz-def-a",
                "MonitoringTypeEquals": "DataQuality",
            },
        ),
        (
            "ListMonitoringExecutions",
            {
                "MonitoringScheduleName": "fuzz-a",
                "EndpointName": "churn-endpoint",
                "SortBy": "ScheduledTime",
                "ScheduledTimeAfter": 0,
                "StatusEquals": "Completed",
                "MonitoringTypeEquals": "ModelQuality",
            },
        ),
        (
            "AddTags",
            {"ResourceArn": "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/fuzz-a", "Tags": tags},
        ),
    ]
    for kind in ("DataQuality", "ModelQuality", "ModelBias", "ModelExplainability"):
        request = job_definition_request(kind, "fuzz-def-a")
        request["StoppingCondition"] = {"MaxRuntimeInSeconds": 1800}
        request["NetworkConfig"] = {"EnableNetworkIsolation": False}
        seeds.append((f"Create{kind}JobDefinition", {**request, "Tags": tags}))
        seeds.append((f"Delete{kind}JobDefinition", {"JobDefinitionName": "fuzz-def-a"}))
    return seeds


SEEDS = _seeds()


def _locations(shape: Shape, value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Shape]]:
    """Every member present in a request, with the shape the model gives it."""
    found: list[tuple[tuple[Any, ...], Shape]] = []
    children: list[tuple[Any, Shape, Any]] = []
    if shape.type_name == "structure" and isinstance(value, dict):
        children = [(k, shape.members[k], v) for k, v in value.items() if k in shape.members]
    elif shape.type_name == "list" and isinstance(value, list):
        children = [(i, shape.member, v) for i, v in enumerate(value)]
    elif shape.type_name == "map" and isinstance(value, dict):
        children = [(k, shape.value, v) for k, v in value.items()]
    for key, child_shape, child in children:
        found.append(((*path, key), child_shape))
        found.extend(_locations(child_shape, child, (*path, key)))
    return found


@st.composite
def mutated_requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    operation, seed = draw(st.sampled_from(SEEDS))
    request = copy.deepcopy(seed)
    shape = MODEL.operation_model(operation).input_shape
    for _ in range(draw(st.integers(1, 2))):
        locations = _locations(shape, request)
        if not locations:
            break
        path, member_shape = draw(st.sampled_from(locations))
        parent = request
        for key in path[:-1]:
            parent = parent[key]
        replacement = draw(st.just(_DELETE) | for_shape(member_shape))
        if replacement is _DELETE:
            del parent[path[-1]]
        else:
            parent[path[-1]] = replacement
    return operation, request


@FUZZ
@given(request=mutated_requests())
def test_mutated_valid_requests(http: httpx.Client, request: tuple[str, dict[str, Any]]) -> None:
    operation, body = request
    send(http, f"SageMaker.{operation}", orjson.dumps(body))
