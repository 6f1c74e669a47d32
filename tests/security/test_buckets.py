"""Buckets have owners: one account cannot name another's bucket in any S3 URI of a create or update call.

The real server with two users in two accounts (alice: 111111111111, bob: 222222222222). Alice's endpoint
config captures to `s3://alicecap/...`, which claims `alicecap`; every URI member of every call that stores
one (services/locations.RULES) is then refused for bob with the access-denied message, and nothing is created.
The claim service itself is checked on SQLite and PostgreSQL, including two claims racing.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore
import pytest
from alembic import command
from alembic.config import Config
from botocore.exceptions import ClientError
from sqlalchemy import text

from tests.api.conftest import data_quality_definition, job_definition_request
from tests.api.test_locations import processing_job
from tests.server_process import ServerProcess
from watchkeeper.errors import ValidationError
from watchkeeper.services.buckets import claim_or_check, owner_of
from watchkeeper.services.context import RequestContext
from watchkeeper.services.locations import RULES, URI
from watchkeeper.store import Database, database

ALICE = ("AKIAALICE000000001", "alice-secret-key-0123456789", "111111111111")
BOB = ("AKIABOB00000000002", "bob-secret-key-9876543210", "222222222222")
KEYS = {"alice": ALICE, "bob": BOB}
KINDS = ("DataQuality", "ModelQuality", "ModelBias", "ModelExplainability")
BATCH = "BatchTransformInput"
# A transform job needs a model server; none answers here (the jobs are refused or never looked at).
MODEL = {"Image": "x", "Environment": {"WATCHKEEPER_UPSTREAM_URL": "http://127.0.0.1:9"}}


def denied(uri: str, member: str) -> str:
    bucket = uri[5:].partition("/")[0]
    return f"Access denied to {uri} ({member}): bucket {bucket} belongs to another account"


# --- requests whose every S3 URI names one bucket -------------------------------------------------------


def _rebucket(value: Any, bucket: str) -> Any:
    if isinstance(value, dict):
        return {k: _rebucket(v, bucket) for k, v in value.items()}
    if isinstance(value, list):
        return [_rebucket(v, bucket) for v in value]
    if isinstance(value, str) and value.startswith("s3://"):
        return f"s3://{bucket}/" + value[5:].partition("/")[2]
    return value


def _set(request: dict[str, Any], path: str, value: Any) -> str:
    """Set the member at a RULES path (`A.B[].C`, first element of lists); return its name as errors show it."""
    node: Any = request
    parts = path.split(".")
    for part in parts[:-1]:
        name = part.removesuffix("[]")
        node = node.setdefault(name, [{}])[0] if part.endswith("[]") else node.setdefault(name, {})
    node[parts[-1]] = value
    return path.replace("[]", "[0]")


def _job_input(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    if "MonitoringSchedule" in operation:
        return request["MonitoringScheduleConfig"]["MonitoringJobDefinition"]["MonitoringInputs"][0]
    return request[operation.removeprefix("Create").removesuffix("JobDefinition") + "JobInput"]


def build(operation: str, name: str, bucket: str, batch: bool = False) -> dict[str, Any]:
    """A valid request for `operation` in which every URI member RULES knows is set, all on `bucket`."""
    request: dict[str, Any]
    if operation == "CreateEndpointConfig":
        request = {
            "EndpointConfigName": name,
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": name}],
            "DataCaptureConfig": {
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": "s3://x/capture",
                "CaptureOptions": [{"CaptureMode": "Input"}],
            },
        }
    elif operation == "CreateProcessingJob":
        request = processing_job(name)
    elif operation == "CreateTransformJob":
        request = {
            "TransformJobName": name,
            "ModelName": name,
            "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://x/in"}},
                               "ContentType": "text/csv", "SplitType": "Line"},
            "TransformOutput": {"S3OutputPath": "s3://x/out"},
            "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
            "DataCaptureConfig": {"DestinationS3Uri": "s3://x/capture"},
        }
    elif "MonitoringSchedule" in operation:
        request = {
            "MonitoringScheduleName": name,
            "MonitoringScheduleConfig": {
                "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                "MonitoringJobDefinition": data_quality_definition(),
            },
        }
    else:
        kind = operation.removeprefix("Create").removesuffix("JobDefinition")
        request = job_definition_request(kind, name)
    if batch:
        job_input = _job_input(operation, request)
        endpoint_input = job_input.pop("EndpointInput")
        job_input[BATCH] = {
            **{k: v for k, v in endpoint_input.items() if k not in ("EndpointName",)},
            "DataCapturedDestinationS3Uri": "s3://x/batch",
            "DatasetFormat": {"Csv": {"Header": False}},
            "LocalPath": "/opt/ml/processing/input/batch",
        }
    for path, rule in RULES[operation]:
        if rule == URI and (batch or BATCH not in path):
            _set(request, path, f"s3://x/{path.split('.')[-2].lower()}")
    return _rebucket(request, bucket)


def call(client: Any, operation: str, request: dict[str, Any]) -> Any:
    return getattr(client, botocore.xform_name(operation))(**request)


def exists(client: Any, operation: str, name: str) -> bool:
    noun = operation.removeprefix("Create").removeprefix("Update")
    member = {"CreateEndpointConfig": "EndpointConfigName", "CreateProcessingJob": "ProcessingJobName",
              "CreateTransformJob": "TransformJobName"}.get(
        operation, "MonitoringScheduleName" if "MonitoringSchedule" in operation else "JobDefinitionName"
    )
    try:
        getattr(client, "describe_" + botocore.xform_name(noun))(**{member: name})
    except ClientError:
        return False
    return True


def refusal(call_: Any, *args: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call_(*args)
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error["Code"], error["Message"]


CASES = [(operation, path) for operation, rules in RULES.items() for path, rule in rules if rule == URI]


# --- the real server, two accounts -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("buckets"), keys=KEYS).start()
    alice = process.client(keys=ALICE[:2])
    alice.create_model(ModelName="alice-model", PrimaryContainer=MODEL)
    request = build("CreateEndpointConfig", "alice-capture", "alicecap")
    request["ProductionVariants"][0]["ModelName"] = "alice-model"
    request["DataCaptureConfig"]["DestinationS3Uri"] = "s3://alicecap/capture"
    alice.create_endpoint_config(**request)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def alice(server: ServerProcess) -> Any:
    return server.client(keys=ALICE[:2])


@pytest.fixture(scope="module")
def bob(server: ServerProcess) -> Any:
    client = server.client(keys=BOB[:2])
    client.create_model(ModelName="bob-model", PrimaryContainer=MODEL)
    return client


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def prepared(client: Any, operation: str, request: dict[str, Any], owner: str) -> dict[str, Any]:
    """Point an endpoint config at the caller's model; an update needs the caller's schedule to exist."""
    if operation == "CreateEndpointConfig":
        request["ProductionVariants"][0]["ModelName"] = f"{owner}-model"
    if operation == "CreateTransformJob":
        request["ModelName"] = f"{owner}-model"
    if operation == "UpdateMonitoringSchedule":
        client.create_monitoring_schedule(
            MonitoringScheduleName=request["MonitoringScheduleName"],
            MonitoringScheduleConfig=build("CreateMonitoringSchedule", "x", f"{owner}own")["MonitoringScheduleConfig"],
        )
    return request


def test_the_capture_destination_of_another_account_is_refused(bob: Any) -> None:
    request = build("CreateEndpointConfig", "bob-capture", "bobcap")
    request["ProductionVariants"][0]["ModelName"] = "bob-model"
    request["DataCaptureConfig"]["DestinationS3Uri"] = "s3://alicecap/capture"
    code, message = refusal(lambda: bob.create_endpoint_config(**request))
    assert code == "ValidationException"
    assert message == (
        "Access denied to s3://alicecap/capture (DataCaptureConfig.DestinationS3Uri): "
        "bucket alicecap belongs to another account"
    )
    assert not exists(bob, "CreateEndpointConfig", "bob-capture")


@pytest.mark.parametrize(("operation", "path"), CASES, ids=[f"{o}:{p}" for o, p in CASES])
def test_every_uri_member_naming_another_accounts_bucket_is_refused(bob: Any, operation: str, path: str) -> None:
    name = unique()
    request = prepared(bob, operation, build(operation, name, "bobown", batch=BATCH in path), "bob")
    before = bob.describe_monitoring_schedule(MonitoringScheduleName=name) if "Update" in operation else None
    uri = "s3://alicecap/capture/x"
    member = _set(request, path, uri)
    code, message = refusal(call, bob, operation, request)
    assert (code, message) == ("ValidationException", denied(uri, member))
    if before is None:
        assert not exists(bob, operation, name)
    else:
        after = bob.describe_monitoring_schedule(MonitoringScheduleName=name)
        assert after["MonitoringScheduleConfig"] == before["MonitoringScheduleConfig"]


def test_bucket_names_are_compared_without_case(bob: Any) -> None:
    name = unique()
    request = build("CreateProcessingJob", name, "bobown")
    request["ProcessingInputs"][0]["S3Input"]["S3Uri"] = "s3://AliceCap/capture"
    _, message = refusal(call, bob, "CreateProcessingJob", request)
    assert message == denied("s3://AliceCap/capture", "ProcessingInputs[0].S3Input.S3Uri")
    assert not exists(bob, "CreateProcessingJob", name)


FORMS = [
    (operation, batch)
    for operation, rules in RULES.items()
    for batch in (False, True)
    if not batch or any(BATCH in path for path, _ in rules)
]


@pytest.mark.parametrize(("operation", "batch"), FORMS, ids=[f"{o}:{'batch' if b else 'endpoint'}" for o, b in FORMS])
def test_each_account_uses_its_own_buckets(alice: Any, bob: Any, operation: str, batch: bool) -> None:
    for client, owner, bucket in ((bob, "bob", "bobown"), (alice, "alice", "alicecap")):
        name = unique()
        request = prepared(client, operation, build(operation, name, bucket, batch=batch), owner)
        call(client, operation, request)
        assert exists(client, operation, name)


def test_a_refused_create_claims_nothing(alice: Any, bob: Any) -> None:
    fresh = unique("fresh")
    # Refused for alice's bucket in the output: the input's fresh bucket is not claimed by bob.
    request = build("CreateProcessingJob", unique(), fresh)
    request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] = "s3://alicecap/out"
    refusal(call, bob, "CreateProcessingJob", request)
    # Refused for another reason after the buckets were checked (a duplicate name): nothing claimed either.
    taken = unique()
    bob.create_data_quality_job_definition(**build("CreateDataQualityJobDefinition", taken, "bobown"))
    duplicate = build("CreateDataQualityJobDefinition", taken, fresh)
    code, _ = refusal(call, bob, "CreateDataQualityJobDefinition", duplicate)
    assert code == "ResourceInUse"
    # So alice may still claim it, and bob is then refused.
    call(alice, "CreateProcessingJob", build("CreateProcessingJob", unique(), fresh))
    name = unique()
    _, message = refusal(call, bob, "CreateProcessingJob", build("CreateProcessingJob", name, fresh))
    assert message == denied(f"s3://{fresh}/s3input", "ProcessingInputs[0].S3Input.S3Uri")


def test_two_users_of_one_account_share_its_buckets(tmp_path: Path) -> None:
    carol = ("AKIACAROL00000000003", "carol-secret-key-0123456789", ALICE[2])
    server = ServerProcess(tmp_path / "data", keys={"alice": ALICE, "carol": carol}).start()
    try:
        call(server.client(keys=ALICE[:2]), "CreateProcessingJob", build("CreateProcessingJob", "a", "shared"))
        call(server.client(keys=carol[:2]), "CreateProcessingJob", build("CreateProcessingJob", "b", "shared"))
    finally:
        server.stop()


def test_the_claim_survives_a_restart(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", keys=KEYS).start()
    try:
        call(server.client(keys=ALICE[:2]), "CreateProcessingJob", build("CreateProcessingJob", "a", "alicecap"))
    finally:
        server.stop()
    server = ServerProcess(tmp_path / "data", keys=KEYS).start()
    try:
        bob = server.client(keys=BOB[:2])
        _, message = refusal(call, bob, "CreateProcessingJob", build("CreateProcessingJob", "b", "alicecap"))
        assert message == denied("s3://alicecap/s3input", "ProcessingInputs[0].S3Input.S3Uri")
        call(server.client(keys=ALICE[:2]), "CreateProcessingJob", build("CreateProcessingJob", "c", "alicecap"))
    finally:
        server.stop()


# --- the claim service on both databases -----------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    sqlite = f"sqlite:///{tmp_path}/watchkeeper.db"
    url = sqlite if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    database = Database(url)
    database.migrate()
    yield database
    database.dispose()


A = RequestContext("111111111111", "us-east-1")
B = RequestContext("222222222222", "eu-west-1")


def test_claim_or_check(db: Database) -> None:
    bucket = unique("cap")
    with db.write() as conn:
        claim_or_check(conn, A, bucket, "M", f"s3://{bucket}/x")
        claim_or_check(conn, A, bucket, "M")  # again: still A's
    with db.write() as conn:
        claim_or_check(conn, RequestContext(A.account, "eu-west-1"), bucket.upper(), "M")  # any region, any case
        with pytest.raises(ValidationError) as caught:
            claim_or_check(conn, B, bucket.upper(), "DataCaptureConfig.DestinationS3Uri", f"s3://{bucket.upper()}/c")
    assert caught.value.message == denied(f"s3://{bucket.upper()}/c", "DataCaptureConfig.DestinationS3Uri")
    with db.read() as conn:
        assert owner_of(conn, bucket) == A.account


def test_a_rolled_back_claim_leaves_the_bucket_unclaimed(db: Database) -> None:
    bucket = unique("cap")
    with pytest.raises(RuntimeError), db.write() as conn:
        claim_or_check(conn, B, bucket, "M")
        raise RuntimeError("the create failed after the claim")
    with db.write() as conn:
        assert owner_of(conn, bucket) is None
        claim_or_check(conn, A, bucket, "M")
    with db.read() as conn:
        assert owner_of(conn, bucket) == A.account


def test_two_accounts_claiming_at_once_one_wins(db: Database) -> None:
    bucket = unique("race")
    outcome: dict[str, Any] = {}

    def second() -> None:
        try:
            with db.write() as conn:
                claim_or_check(conn, B, bucket, "M")
            outcome["b"] = "claimed"
        except ValidationError as exc:
            outcome["b"] = exc.message

    with db.write() as conn:
        claim_or_check(conn, A, bucket, "M")
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # B waits on A's transaction (SQLite's write lock, PostgreSQL's key lock)
        assert "b" not in outcome
    thread.join(timeout=30)
    assert outcome["b"] == denied(f"s3://{bucket}", "M")
    with db.read() as conn:
        assert owner_of(conn, bucket) == A.account


def test_requests_are_built_on_one_bucket() -> None:
    """The helper sets every URI member RULES knows, all on one bucket (so the server tests cover each one)."""
    for operation, batch in FORMS:
        text = repr(build(operation, "n", "only", batch=batch))
        assert text.count("s3://") == text.count("s3://only/"), (operation, text)
        expected = [p for p, rule in RULES[operation] if rule == URI and (batch or BATCH not in p)]
        assert text.count("s3://") == len(expected), (operation, text)


def test_buckets_of_an_existing_database_are_unclaimed_until_a_create_names_them(tmp_path: Path) -> None:
    """A database from before ownership (revision 0004) keeps its resources; their buckets have no owner."""
    db = Database(f"sqlite:///{tmp_path}/old.db")
    config = Config()
    config.set_main_option("script_location", str(database._MIGRATIONS))
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
        conn.execute(
            text(
                "INSERT INTO endpoint_configs (account, region, name, name_key, arn, creation_time, body) "
                "VALUES ('111111111111', 'us-east-1', 'old', 'old', 'arn', 0, :body)"
            ),
            {"body": '{"DataCaptureConfig": {"DestinationS3Uri": "s3://oldcap/capture"}}'},
        )
    db.migrate()
    with db.write() as conn:
        assert owner_of(conn, "oldcap") is None
        claim_or_check(conn, B, "oldcap", "M")  # the first create that names it claims it, whoever referenced it
    with db.write() as conn, pytest.raises(ValidationError):
        claim_or_check(conn, A, "oldcap", "M")
    db.dispose()
