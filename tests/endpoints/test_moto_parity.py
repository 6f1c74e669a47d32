"""moto's own SageMaker endpoint tests (tests/test_sagemaker/test_sagemaker_endpoint.py), ported to a real server.

Each test keeps moto's calls and checks; where moto departs from AWS the assertion follows AWS and says so
(docs/api-coverage.md, "moto's endpoint tests"): SageMaker lower-cases the name inside an ARN, an endpoint is
`Creating` (and `Updating` after a change) before `InService`, a resource holds at most 50 tags, and
validation messages name the member by its full Coral path.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/FakeRole"
TAGS = [{"Key": "newkey1", "Value": "newval1"}, {"Key": "newkey2", "Value": "newval2"}]
VARIANT = "MyProductionVariant"
WAIT = {"Delay": 0.2, "MaxAttempts": 100}


@pytest.fixture
def names() -> dict[str, str]:
    """moto's mixed-case names, made unique on the shared server."""
    suffix = uuid.uuid4().hex[:8]
    return {"model": f"MyModel-{suffix}", "config": f"MyEndpointConfig-{suffix}", "endpoint": f"MyEndpoint-{suffix}"}


def instance_variants(model: str, *variant_names: str) -> list[dict[str, Any]]:
    return [
        {"VariantName": v, "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.t2.medium"}
        for v in variant_names or (VARIANT,)
    ]


def serverless_variants(model: str, memory: int = 1024) -> list[dict[str, Any]]:
    config = {"MemorySizeInMB": memory, "MaxConcurrency": 10}
    return [{"VariantName": VARIANT, "ModelName": model, "ServerlessConfig": config}]


def create_model(sm: Any, name: str) -> None:
    sm.create_model(
        ModelName=name,
        PrimaryContainer={
            "Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/factorization-machines:1",
            "ModelDataUrl": "s3://MyBucket/model.tar.gz",
        },
        ExecutionRoleArn=ROLE,
    )


def set_up(sm: Any, names: dict[str, str], variants: list[dict[str, Any]] | None = None) -> None:
    create_model(sm, names["model"])
    sm.create_endpoint_config(
        EndpointConfigName=names["config"], ProductionVariants=variants or instance_variants(names["model"])
    )
    sm.create_endpoint(EndpointName=names["endpoint"], EndpointConfigName=names["config"])
    sm.get_waiter("endpoint_in_service").wait(EndpointName=names["endpoint"], WaiterConfig=WAIT)


def arn(kind: str, name: str) -> str:
    # AWS lower-cases the name part (moto keeps the case it was given).
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{name.lower()}"


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


@pytest.mark.parametrize("kind", ["instance", "serverless", "async"])
def test_create_endpoint_config(sm: Any, names: dict[str, str], kind: str) -> None:
    variants = serverless_variants(names["model"]) if kind == "serverless" else instance_variants(names["model"])
    extra: dict[str, Any] = {}
    if kind == "async":
        extra["AsyncInferenceConfig"] = {
            "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 3},
            "OutputConfig": {"S3OutputPath": "s3://output-bucket", "NotificationConfig": {}},
        }
    with pytest.raises(ClientError) as excinfo:
        sm.create_endpoint_config(EndpointConfigName=names["config"], ProductionVariants=variants, **extra)
    assert error(excinfo)[1].startswith("Could not find model")

    create_model(sm, names["model"])
    created = sm.create_endpoint_config(EndpointConfigName=names["config"], ProductionVariants=variants, **extra)
    assert created["EndpointConfigArn"] == arn("endpoint-config", names["config"])
    described = sm.describe_endpoint_config(EndpointConfigName=names["config"])
    assert described["EndpointConfigArn"] == arn("endpoint-config", names["config"])
    assert described["EndpointConfigName"] == names["config"]
    assert described["ProductionVariants"] == variants
    for key, value in extra.items():
        assert described[key] == value


def test_delete_endpoint_config(sm: Any, names: dict[str, str]) -> None:
    create_model(sm, names["model"])
    sm.create_endpoint_config(EndpointConfigName=names["config"], ProductionVariants=instance_variants(names["model"]))
    assert sm.describe_endpoint_config(EndpointConfigName=names["config"])["EndpointConfigName"] == names["config"]
    sm.delete_endpoint_config(EndpointConfigName=names["config"])
    for call in (sm.describe_endpoint_config, sm.delete_endpoint_config):
        with pytest.raises(ClientError) as excinfo:
            call(EndpointConfigName=names["config"])
        assert error(excinfo)[1].startswith("Could not find endpoint configuration")


def test_create_endpoint_invalid_instance_type(sm: Any, names: dict[str, str]) -> None:
    create_model(sm, names["model"])
    variants = instance_variants(names["model"])
    variants[0]["InstanceType"] = "InvalidInstanceType"
    with pytest.raises(ClientError) as excinfo:
        sm.create_endpoint_config(EndpointConfigName=names["config"], ProductionVariants=variants)
    code, message = error(excinfo)
    assert code == "ValidationException"
    # moto: "at 'instanceType'"; AWS names the member by its path.
    assert (
        "Value 'InvalidInstanceType' at 'productionVariants.1.member.instanceType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [" in message
    )


def test_create_endpoint_invalid_memory_size(sm: Any, names: dict[str, str]) -> None:
    create_model(sm, names["model"])
    with pytest.raises(ClientError) as excinfo:
        sm.create_endpoint_config(
            EndpointConfigName=names["config"], ProductionVariants=serverless_variants(names["model"], 1111)
        )
    code, message = error(excinfo)
    assert code == "ValidationException"
    # moto: "at 'MemorySizeInMB'"; the set is the whole gigabytes from 1 to 6.
    sizes = ", ".join(str(1024 * g) for g in range(1, 7))
    assert message == (
        "1 validation error detected: Value '1111' at 'productionVariants.1.member.serverlessConfig.memorySizeInMB' "
        f"failed to satisfy constraint: Member must satisfy enum value set: [{sizes}]"
    )
    with pytest.raises(ClientError):
        sm.describe_endpoint_config(EndpointConfigName=names["config"])  # nothing was written


def test_create_endpoint(sm: Any, names: dict[str, str]) -> None:
    with pytest.raises(ClientError) as excinfo:
        sm.create_endpoint(EndpointName=names["endpoint"], EndpointConfigName="NonexistentEndpointConfig")
    assert error(excinfo)[1].startswith("Could not find endpoint configuration")

    create_model(sm, names["model"])
    sm.create_endpoint_config(EndpointConfigName=names["config"], ProductionVariants=instance_variants(names["model"]))
    created = sm.create_endpoint(EndpointName=names["endpoint"], EndpointConfigName=names["config"], Tags=TAGS)
    assert created["EndpointArn"] == arn("endpoint", names["endpoint"])
    # moto answers InService at once; AWS is Creating until the containers pass their health check.
    assert sm.describe_endpoint(EndpointName=names["endpoint"])["EndpointStatus"] in ("Creating", "InService")
    sm.get_waiter("endpoint_in_service").wait(EndpointName=names["endpoint"], WaiterConfig=WAIT)
    described = sm.describe_endpoint(EndpointName=names["endpoint"])
    assert described["EndpointArn"] == arn("endpoint", names["endpoint"])
    assert described["EndpointName"] == names["endpoint"]
    assert described["EndpointConfigName"] == names["config"]
    assert described["EndpointStatus"] == "InService"
    assert isinstance(described["CreationTime"], datetime.datetime)
    assert isinstance(described["LastModifiedTime"], datetime.datetime)
    assert described["ProductionVariants"][0]["VariantName"] == VARIANT
    assert sm.list_tags(ResourceArn=described["EndpointArn"])["Tags"] == TAGS


def test_delete_endpoint(sm: Any, names: dict[str, str]) -> None:
    set_up(sm, names)
    sm.delete_endpoint(EndpointName=names["endpoint"])
    for call in (sm.describe_endpoint, sm.delete_endpoint):
        with pytest.raises(ClientError) as excinfo:
            call(EndpointName=names["endpoint"])
        assert error(excinfo)[1].startswith("Could not find endpoint")


def test_add_list_delete_tags_by_arn_in_the_names_case(sm: Any, names: dict[str, str]) -> None:
    set_up(sm, names)
    # moto's ARN keeps the name's case; AWS's is lower case, and either spelling finds the endpoint.
    resource_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{names['endpoint']}"
    assert resource_arn != arn("endpoint", names["endpoint"])
    assert sm.add_tags(ResourceArn=resource_arn, Tags=TAGS)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sm.list_tags(ResourceArn=resource_arn)["Tags"] == TAGS
    assert sm.list_tags(ResourceArn=arn("endpoint", names["endpoint"]))["Tags"] == TAGS
    sm.delete_tags(ResourceArn=resource_arn, TagKeys=[t["Key"] for t in TAGS])
    assert sm.list_tags(ResourceArn=resource_arn)["Tags"] == []
    # The same for a model and an endpoint config.
    for kind, name in (("model", names["model"]), ("endpoint-config", names["config"])):
        mixed = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{name}"
        sm.add_tags(ResourceArn=mixed, Tags=TAGS[:1])
        assert sm.list_tags(ResourceArn=arn(kind, name))["Tags"] == TAGS[:1]


def test_list_tags_pages(sm: Any, names: dict[str, str]) -> None:
    set_up(sm, names)
    resource_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{names['endpoint']}"
    tags = [{"Key": str(uuid.uuid4()), "Value": "myValue"} for _ in range(80)]
    # moto keeps 80 tags; AWS holds at most 50 per resource and refuses the request whole.
    with pytest.raises(ClientError) as excinfo:
        sm.add_tags(ResourceArn=resource_arn, Tags=tags)
    assert error(excinfo)[0] == "ValidationException"
    assert sm.list_tags(ResourceArn=resource_arn)["Tags"] == []
    sm.add_tags(ResourceArn=resource_arn, Tags=tags[:50])
    # ListTags' MaxResults is at least 50 (botocore's model): 50 tags, the most a resource holds, are one page.
    listed = sm.list_tags(ResourceArn=resource_arn)
    assert listed["Tags"] == tags[:50] and "NextToken" not in listed


@pytest.mark.parametrize("variant_names", [(VARIANT,), ("MyProductionVariant1", "MyProductionVariant2")])
def test_update_endpoint_weights_and_capacities(sm: Any, names: dict[str, str], variant_names: tuple[str, ...]) -> None:
    set_up(sm, names, instance_variants(names["model"], *variant_names))
    desired = [{"VariantName": v, "DesiredWeight": 1.5, "DesiredInstanceCount": 123} for v in variant_names]
    answer = sm.update_endpoint_weights_and_capacities(
        EndpointName=names["endpoint"], DesiredWeightsAndCapacities=desired
    )
    assert answer["EndpointArn"] == arn("endpoint", names["endpoint"])
    # moto is InService at once; AWS is Updating, its Desired* already the new values, Current* the old.
    updating = sm.describe_endpoint(EndpointName=names["endpoint"])
    if updating["EndpointStatus"] == "Updating":
        assert [(v["DesiredWeight"], v["CurrentWeight"]) for v in updating["ProductionVariants"]] == [(1.5, 1.0)] * len(
            variant_names
        )
    sm.get_waiter("endpoint_in_service").wait(EndpointName=names["endpoint"], WaiterConfig=WAIT)
    described = sm.describe_endpoint(EndpointName=names["endpoint"])
    assert described["EndpointConfigName"] == names["config"]
    assert described["EndpointStatus"] == "InService"
    assert [v["VariantName"] for v in described["ProductionVariants"]] == list(variant_names)
    for variant in described["ProductionVariants"]:
        assert variant["DesiredInstanceCount"] == variant["CurrentInstanceCount"] == 123
        assert variant["DesiredWeight"] == variant["CurrentWeight"] == 1.5


def test_update_endpoint_weights_and_capacities_errors(sm: Any, names: dict[str, str]) -> None:
    set_up(sm, names)
    before = sm.describe_endpoint(EndpointName=names["endpoint"])
    del before["ResponseMetadata"]
    one = {"DesiredWeight": 1.5, "DesiredInstanceCount": 123}
    cases = [
        (
            names["endpoint"],
            [{"VariantName": "SillyNotCorrectName", **one}],
            f'The variant name(s) "SillyNotCorrectName" is/are not present within endpoint configuration '
            f'"{names["config"]}".',
        ),
        (
            "SillyEndpointName",
            [{"VariantName": "SillyNotCorrectName", **one}],
            # moto keeps the name's case inside the ARN.
            f'Could not find endpoint "{arn("endpoint", "SillyEndpointName")}".',
        ),
        (
            names["endpoint"],
            [{"VariantName": VARIANT, **one}, {"VariantName": VARIANT, **one}],
            f'The variant name "{VARIANT}" was non-unique within the request.',
        ),
    ]
    for endpoint, desired, message in cases:
        with pytest.raises(ClientError) as excinfo:
            sm.update_endpoint_weights_and_capacities(EndpointName=endpoint, DesiredWeightsAndCapacities=desired)
        assert error(excinfo) == ("ValidationException", message)
        after = sm.describe_endpoint(EndpointName=names["endpoint"])
        del after["ResponseMetadata"]
        assert after == before


def test_list_endpoints_and_configs_with_filters(sm: Any) -> None:
    prefix = f"L{uuid.uuid4().hex[:6]}"
    trios = [
        {"model": f"{prefix}MyModel", "config": f"{prefix}MyEndpointConfig", "endpoint": f"{prefix}MyEndpoint"},
        {"model": f"{prefix}MyOtherModel", "config": f"{prefix}MyOtherEndpointConfig", "endpoint": f"{prefix}Other"},
        {"model": f"{prefix}MyModel2", "config": f"{prefix}MyEndpointConfig2", "endpoint": f"{prefix}MyEndpoint2"},
    ]
    for trio in trios:
        set_up(sm, trio)
    times = {
        "CreationTimeBefore": datetime.datetime(2099, 1, 1),
        "CreationTimeAfter": datetime.datetime(2021, 1, 1),
    }
    endpoints = sm.list_endpoints(
        SortBy="Name",  # moto also takes "name"; AWS's enum is Name | CreationTime | Status
        SortOrder="Ascending",
        NameContains=f"{prefix}MyEndpoint",
        LastModifiedTimeBefore=datetime.datetime(2099, 1, 1),
        LastModifiedTimeAfter=datetime.datetime(2021, 1, 1),
        StatusEquals="InService",
        **times,
    )["Endpoints"]
    assert [(e["EndpointName"], e["EndpointArn"], e["EndpointStatus"]) for e in endpoints] == [
        (t["endpoint"], arn("endpoint", t["endpoint"]), "InService") for t in (trios[0], trios[2])
    ]
    assert all(isinstance(e["CreationTime"], datetime.datetime) for e in endpoints)
    configs = sm.list_endpoint_configs(
        SortBy="Name", SortOrder="Ascending", NameContains=f"{prefix}MyEndpoint", **times
    )["EndpointConfigs"]
    assert [(c["EndpointConfigName"], c["EndpointConfigArn"]) for c in configs] == [
        (t["config"], arn("endpoint-config", t["config"])) for t in (trios[0], trios[2])
    ]
