"""What CreateEndpointConfig refuses beyond botocore's model (services/endpoint_rules.py), and that a refused
config leaves nothing behind."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def model(sm: Any) -> str:
    name = f"rules-{uuid.uuid4().hex[:8]}"
    sm.create_model(
        ModelName=name,
        PrimaryContainer={"Image": "my-registry/churn-xgb:1"},
        ExecutionRoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
    )
    return name


def serverless(model: str, name: str = "A", **config: int) -> dict[str, Any]:
    return {
        "VariantName": name,
        "ModelName": model,
        "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5, **config},
    }


def instance(model: str, name: str = "B") -> dict[str, Any]:
    return {"VariantName": name, "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}


# MaxConcurrency below 1 botocore refuses before sending; above 200 only the server does.
@pytest.mark.parametrize(
    ("variants", "fragment"),
    [
        (lambda m: [serverless(m, MaxConcurrency=201)], "serverlessConfig.maxConcurrency' failed to satisfy"),
        (lambda m: [serverless(m, MemorySizeInMB=3000)], "Member must satisfy enum value set: [1024, 2048, 3072"),
        (lambda m: [serverless(m, ProvisionedConcurrency=6)], "ProvisionedConcurrency (6)"),
        (lambda m: [{**serverless(m), "InstanceType": "ml.m5.large"}], "either instance-based or serverless"),
        (lambda m: [serverless(m), instance(m)], "cannot mix serverless and instance-based"),
        (lambda m: [instance(m, "Same"), instance(m, "same")], 'The variant name "same" was non-unique'),
    ],
)
def test_refused_configs(sm: Any, model: str, variants: Any, fragment: str) -> None:
    name = f"cfg-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ClientError) as excinfo:
        sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=variants(model))
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert fragment in excinfo.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        sm.describe_endpoint_config(EndpointConfigName=name)


def test_accepted_serverless_config(sm: Any, model: str) -> None:
    name = f"cfg-{uuid.uuid4().hex[:8]}"
    for memory in (1024, 6144):
        variant = serverless(model, MemorySizeInMB=memory, MaxConcurrency=200, ProvisionedConcurrency=200)
        sm.create_endpoint_config(EndpointConfigName=f"{name}-{memory}", ProductionVariants=[variant])
        described = sm.describe_endpoint_config(EndpointConfigName=f"{name}-{memory}")
        assert described["ProductionVariants"] == [variant]
