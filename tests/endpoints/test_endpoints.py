"""Models, endpoint configs and endpoints through boto3, with a real model server behind them."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.endpoint_helpers import capture_config, deploy


def code_and_message(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def test_deploy_and_describe_with_capture_summary(sm: Any, name: str, model_url: str) -> None:
    deploy(sm, name, model_url, capture=capture_config("s3://capture-bucket/churn", percent=30))
    described = sm.describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointArn"] == f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{name}"
    assert described["EndpointConfigName"] == name
    assert described["DataCaptureConfig"] == {
        "EnableCapture": True,
        "CaptureStatus": "Started",
        "CurrentSamplingPercentage": 30,
        "DestinationS3Uri": "s3://capture-bucket/churn",
        "KmsKeyId": "",
    }
    variant = described["ProductionVariants"][0]
    assert variant["VariantName"] == "AllTraffic"
    assert variant["CurrentWeight"] == 1.0 and variant["CurrentInstanceCount"] == 1
    assert variant["DeployedImages"][0]["SpecifiedImage"] == "my-registry/churn-xgb:1"

    model = sm.describe_model(ModelName=name)
    assert model["PrimaryContainer"]["Environment"]["WATCHKEEPER_UPSTREAM_URL"] == model_url
    config = sm.describe_endpoint_config(EndpointConfigName=name)
    assert config["DataCaptureConfig"]["InitialSamplingPercentage"] == 30
    assert config["ProductionVariants"][0]["ModelName"] == name
    assert [e["EndpointName"] for e in sm.list_endpoints(NameContains=name)["Endpoints"]] == [name]
    assert [m["ModelName"] for m in sm.list_models(NameContains=name)["Models"]] == [name]
    assert [c["EndpointConfigName"] for c in sm.list_endpoint_configs(NameContains=name)["EndpointConfigs"]] == [name]


def test_missing_and_duplicate_resources_answer_as_sagemaker_does(sm: Any, name: str, model_url: str) -> None:
    for call, fragment in (
        (lambda: sm.describe_endpoint(EndpointName=name), "Could not find endpoint"),
        (lambda: sm.delete_endpoint(EndpointName=name), "Could not find endpoint"),
        (lambda: sm.describe_model(ModelName=name), "Could not find model"),
        (lambda: sm.describe_endpoint_config(EndpointConfigName=name), "Could not find endpoint configuration"),
        (
            lambda: sm.create_endpoint(EndpointName=name, EndpointConfigName=name),
            "Could not find endpoint configuration",
        ),
        (
            lambda: sm.create_endpoint_config(
                EndpointConfigName=name, ProductionVariants=[{"VariantName": "A", "ModelName": name}]
            ),
            "Could not find model",
        ),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        code, message = code_and_message(excinfo)
        assert code == "ValidationException" and fragment in message and name in message

    deploy(sm, name, model_url)
    with pytest.raises(ClientError) as excinfo:
        sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    assert code_and_message(excinfo) == (
        "ValidationException",
        f'Cannot create already existing endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/{name}".',
    )
    with pytest.raises(ClientError):
        sm.create_model(ModelName=name, PrimaryContainer={"Image": "x"})


def test_endpoint_whose_model_server_never_answers_fails(sm: Any, name: str) -> None:
    deploy(sm, name, "http://127.0.0.1:9", wait=False)  # port 9 (discard): nothing listens
    with pytest.raises(WaiterError):
        sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig={"Delay": 0.3, "MaxAttempts": 40})
    described = sm.describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "Failed"
    assert "did not pass the ping health check" in described["FailureReason"]
    assert "http://127.0.0.1:9/ping" in described["FailureReason"]


def test_endpoint_without_model_server_is_in_service_for_capture_elsewhere(sm: Any, runtime: Any, name: str) -> None:
    deploy(sm, name, None, capture=capture_config("s3://elsewhere/capture"))
    assert sm.describe_endpoint(EndpointName=name)["DataCaptureConfig"]["DestinationS3Uri"] == "s3://elsewhere/capture"
    with pytest.raises(runtime.exceptions.ValidationError) as excinfo:
        runtime.invoke_endpoint(EndpointName=name, Body=b"1,2,3", ContentType="text/csv")
    assert "WATCHKEEPER_UPSTREAM_URL" in excinfo.value.response["Error"]["Message"]


def test_update_endpoint_switches_config_and_delete_waiter(sm: Any, name: str, model_url: str) -> None:
    deploy(sm, name, model_url, capture=capture_config("s3://bucket/a"))
    sm.create_endpoint_config(
        EndpointConfigName=f"{name}-v2",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": name, "InitialVariantWeight": 2.0}],
        DataCaptureConfig=capture_config("s3://bucket/b", percent=10),
    )
    sm.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-v2")
    assert sm.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Updating"
    with pytest.raises(ClientError):  # no second update while one is in progress
        sm.update_endpoint(EndpointName=name, EndpointConfigName=name)
    sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    described = sm.describe_endpoint(EndpointName=name)
    assert described["EndpointConfigName"] == f"{name}-v2"
    assert described["DataCaptureConfig"]["DestinationS3Uri"] == "s3://bucket/b"
    assert described["ProductionVariants"][0]["CurrentWeight"] == 2.0

    # RetainAllVariantProperties keeps the serving weights and capture unless capture is excluded.
    sm.update_endpoint(
        EndpointName=name,
        EndpointConfigName=name,
        RetainAllVariantProperties=True,
        ExcludeRetainedVariantProperties=[{"VariantPropertyType": "DataCaptureConfig"}],
    )
    sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    described = sm.describe_endpoint(EndpointName=name)
    assert described["ProductionVariants"][0]["CurrentWeight"] == 2.0
    assert described["DataCaptureConfig"]["DestinationS3Uri"] == "s3://bucket/a"

    sm.delete_endpoint(EndpointName=name)
    sm.get_waiter("endpoint_deleted").wait(EndpointName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 10})


def test_tags_on_endpoints(sm: Any, name: str, model_url: str) -> None:
    deploy(sm, name, model_url)
    arn = sm.describe_endpoint(EndpointName=name)["EndpointArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "risk"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "risk"}]
