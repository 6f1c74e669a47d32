"""One shared server for the API tests; tests use unique names so they do not see each other."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server_process import ServerProcess


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("api-server")).start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def sm(server: ServerProcess) -> Any:
    return server.client()


@pytest.fixture
def name() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def data_quality_definition(endpoint: str = "churn-endpoint", **overrides: Any) -> dict[str, Any]:
    """An inline MonitoringJobDefinition as DefaultModelMonitor sends it."""
    definition: dict[str, Any] = {
        "BaselineConfig": {
            "ConstraintsResource": {"S3Uri": "s3://bucket/baseline/constraints.json"},
            "StatisticsResource": {"S3Uri": "s3://bucket/baseline/statistics.json"},
        },
        "MonitoringInputs": [
            {"EndpointInput": {"EndpointName": endpoint, "LocalPath": "/opt/ml/processing/input/endpoint"}}
        ],
        "MonitoringOutputConfig": {
            "MonitoringOutputs": [
                {"S3Output": {"S3Uri": "s3://bucket/reports", "LocalPath": "/opt/ml/processing/output"}}
            ]
        },
        "MonitoringResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}
        },
        "MonitoringAppSpecification": {
            "ImageUri": "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
        },
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
    }
    definition.update(overrides)
    return definition


def hourly_config(endpoint: str = "churn-endpoint", **overrides: Any) -> dict[str, Any]:
    return {
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
        "MonitoringJobDefinition": data_quality_definition(endpoint, **overrides),
    }


def job_definition_request(kind: str, name: str, endpoint: str = "churn-endpoint") -> dict[str, Any]:
    """Create<kind>JobDefinition arguments, as the SDK's ModelQualityMonitor & co. send them."""
    app_spec: dict[str, Any] = {
        "ImageUri": "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
    }
    job_input: dict[str, Any] = {
        "EndpointInput": {"EndpointName": endpoint, "LocalPath": "/opt/ml/processing/input/endpoint"}
    }
    if kind == "ModelQuality":
        app_spec["ProblemType"] = "BinaryClassification"
        job_input["EndpointInput"].update(
            {"InferenceAttribute": "0", "StartTimeOffset": "-PT1H", "EndTimeOffset": "-PT0H"}
        )
        job_input["GroundTruthS3Input"] = {"S3Uri": "s3://bucket/ground-truth"}
    if kind == "ModelBias":
        app_spec = {"ImageUri": app_spec["ImageUri"], "ConfigUri": "s3://bucket/analysis_config.json"}
        job_input["GroundTruthS3Input"] = {"S3Uri": "s3://bucket/ground-truth"}
    if kind == "ModelExplainability":
        app_spec = {"ImageUri": app_spec["ImageUri"], "ConfigUri": "s3://bucket/analysis_config.json"}
    return {
        "JobDefinitionName": name,
        f"{kind}AppSpecification": app_spec,
        f"{kind}JobInput": job_input,
        f"{kind}JobOutputConfig": {
            "MonitoringOutputs": [
                {"S3Output": {"S3Uri": "s3://bucket/reports", "LocalPath": "/opt/ml/processing/output"}}
            ]
        },
        "JobResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}},
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
    }


def fresh_dir(tmp_path: Path, label: str) -> Path:
    path = tmp_path / label
    path.mkdir()
    return path
