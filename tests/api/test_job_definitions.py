"""The four monitoring job-definition families through boto3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import job_definition_request

KINDS = {
    "DataQuality": ("data_quality", "data-quality-job-definition"),
    "ModelQuality": ("model_quality", "model-quality-job-definition"),
    "ModelBias": ("model_bias", "model-bias-job-definition"),
    "ModelExplainability": ("model_explainability", "model-explainability-job-definition"),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_create_describe_list_delete(sm: Any, name: str, kind: str) -> None:
    snake, arn_type = KINDS[kind]
    request = job_definition_request(kind, name)
    request["NetworkConfig"] = {"EnableNetworkIsolation": True}
    request["StoppingCondition"] = {"MaxRuntimeInSeconds": 1800}
    request["Tags"] = [{"Key": "team", "Value": "risk"}]

    arn = getattr(sm, f"create_{snake}_job_definition")(**request)["JobDefinitionArn"]
    assert arn == f"arn:aws:sagemaker:us-east-1:123456789012:{arn_type}/{name}"

    described = getattr(sm, f"describe_{snake}_job_definition")(JobDefinitionName=name)
    assert described["JobDefinitionArn"] == arn
    assert described["JobDefinitionName"] == name
    assert described["CreationTime"].year >= 2024
    for member in (
        f"{kind}AppSpecification",
        f"{kind}JobInput",
        f"{kind}JobOutputConfig",
        "JobResources",
        "RoleArn",
    ):
        assert described[member] == request[member]
    assert described["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}
    assert described["NetworkConfig"] == {
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": False,
    }
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "risk"}]

    listed = getattr(sm, f"list_{snake}_job_definitions")(NameContains=name)["JobDefinitionSummaries"]
    assert listed == [
        {
            "MonitoringJobDefinitionName": name,
            "MonitoringJobDefinitionArn": arn,
            "CreationTime": described["CreationTime"],
            "EndpointName": "churn-endpoint",
        }
    ]

    with pytest.raises(sm.exceptions.ResourceInUse):
        getattr(sm, f"create_{snake}_job_definition")(**request)

    getattr(sm, f"delete_{snake}_job_definition")(JobDefinitionName=name)
    with pytest.raises(sm.exceptions.ResourceNotFound):
        getattr(sm, f"describe_{snake}_job_definition")(JobDefinitionName=name)
    with pytest.raises(sm.exceptions.ResourceNotFound):
        getattr(sm, f"delete_{snake}_job_definition")(JobDefinitionName=name)
    with pytest.raises(ClientError):  # its tags went with it
        sm.list_tags(ResourceArn=arn)


def test_same_name_in_two_families_is_allowed(sm: Any, name: str) -> None:
    sm.create_data_quality_job_definition(**job_definition_request("DataQuality", name))
    sm.create_model_quality_job_definition(**job_definition_request("ModelQuality", name))
    assert sm.describe_model_quality_job_definition(JobDefinitionName=name)["JobDefinitionName"] == name


def test_job_input_needs_exactly_one_source(sm: Any, name: str) -> None:
    request = job_definition_request("DataQuality", name)
    del request["DataQualityJobInput"]["EndpointInput"]
    with pytest.raises(ClientError) as excinfo:
        sm.create_data_quality_job_definition(**request)
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert "exactly one of EndpointInput or BatchTransformInput" in excinfo.value.response["Error"]["Message"]


def test_batch_transform_definition_lists_without_endpoint(sm: Any, name: str) -> None:
    request = job_definition_request("DataQuality", name)
    request["DataQualityJobInput"] = {
        "BatchTransformInput": {
            "DataCapturedDestinationS3Uri": "s3://bucket/batch",
            "DatasetFormat": {"Json": {"Line": True}},
            "LocalPath": "/opt/ml/processing/input",
        }
    }
    sm.create_data_quality_job_definition(**request)
    summary = sm.list_data_quality_job_definitions(NameContains=name)["JobDefinitionSummaries"][0]
    assert "EndpointName" not in summary
    assert (
        sm.describe_data_quality_job_definition(JobDefinitionName=name)["DataQualityJobInput"]
        == request["DataQualityJobInput"]
    )
