"""LocalPaths and S3 URIs are refused at create time (boto3 against the real server), never first when a
schedule fires, a job runs or capture is written; and every such member of botocore's model is covered."""

from __future__ import annotations

import copy
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import data_quality_definition, hourly_config, job_definition_request
from watchkeeper.api.sagemaker import OPERATIONS
from watchkeeper.errors import ValidationError
from watchkeeper.services.locations import RULES, check_local_path, check_s3_uri

BAD_LOCAL_PATHS = [
    "/tmp/x",
    "/opt/ml/processing/../../../etc",
    "/opt/ml/processing/output/../../x",
    "/opt/ml/processing/./output",
    "/opt/ml/processing//output",
    "/opt/ml/processing",
    "/opt/ml/processing/",
    "opt/ml/processing/output",
    "/opt/ml/processingX/output",
    "/opt/ml/processing/out\nput",
]
BAD_URIS = [
    "s3://cap/../x",
    "s3://cap/a/../../x",
    "s3://cap/./x",
    "s3://cap//x",
    "s3://cap/a\\..\\x",
    "https://cap.s3.amazonaws.com/x",
    "s3://../x",
]


def refused(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    error = excinfo.value.response["Error"]
    assert error["Code"] == "ValidationException", error
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(error["Message"])


@pytest.mark.parametrize("path", BAD_LOCAL_PATHS)
def test_local_path_rule(path: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        check_local_path(path, "X.LocalPath")
    assert excinfo.value.message.startswith("X.LocalPath '")


@pytest.mark.parametrize("uri", BAD_URIS)
def test_uri_rule(uri: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        check_s3_uri(uri, "X.S3Uri")
    assert excinfo.value.message.startswith("X.S3Uri")


@pytest.mark.parametrize("uri", ["s3://bucket", "s3://bucket/", "s3://b/reports/", "s3://b/a/b.json", "s3://b/a..b/c"])
def test_good_uris(uri: str) -> None:
    check_s3_uri(uri, "X.S3Uri")


@pytest.mark.parametrize("path", ["/opt/ml/processing/output", "/opt/ml/processing/output/", "/opt/ml/processing/a..b"])
def test_good_local_paths(path: str) -> None:
    check_local_path(path, "X.LocalPath")


def test_schedule_output_local_path_outside_processing_is_refused(sm: Any, name: str) -> None:
    config = hourly_config()
    config["MonitoringJobDefinition"]["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["LocalPath"] = (
        "/opt/ml/processing/../../../tmp/evil"
    )
    message = refused(sm.create_monitoring_schedule, MonitoringScheduleName=name, MonitoringScheduleConfig=config)
    assert "MonitoringOutputs[0].S3Output.LocalPath '/opt/ml/processing/../../../tmp/evil'" in message
    assert "/opt/ml/processing/" in message
    with pytest.raises(ClientError):
        sm.describe_monitoring_schedule(MonitoringScheduleName=name)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("MonitoringInputs", 0, "EndpointInput", "LocalPath"), "/etc"),
        (("MonitoringOutputConfig", "MonitoringOutputs", 0, "S3Output", "S3Uri"), "s3://bucket/../reports"),
        (("BaselineConfig", "ConstraintsResource", "S3Uri"), "s3://bucket/a/../../constraints.json"),
        (("BaselineConfig", "StatisticsResource", "S3Uri"), "s3://bucket//statistics.json"),
        (("MonitoringAppSpecification", "RecordPreprocessorSourceUri"), "s3://bucket/../pre.py"),
        (("MonitoringAppSpecification", "PostAnalyticsProcessorSourceUri"), "s3://bucket/./post.py"),
    ],
)
def test_schedule_create_and_update_refuse_each_member(sm: Any, name: str, where: tuple[Any, ...], value: str) -> None:
    good = hourly_config()
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=good)
    bad = copy.deepcopy(good)
    node = bad["MonitoringJobDefinition"]
    for key in where[:-1]:
        node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
    node[where[-1]] = value
    member = where[-1]
    message = refused(sm.update_monitoring_schedule, MonitoringScheduleName=name, MonitoringScheduleConfig=bad)
    assert f"{member} '{value}'" in message or (member in message and value in message)
    described = sm.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert (
        described["MonitoringScheduleConfig"]["MonitoringJobDefinition"]["MonitoringOutputConfig"]
        == (good["MonitoringJobDefinition"]["MonitoringOutputConfig"])
    )
    other = f"{name}-x"
    refused(sm.create_monitoring_schedule, MonitoringScheduleName=other, MonitoringScheduleConfig=bad)
    with pytest.raises(ClientError):
        sm.describe_monitoring_schedule(MonitoringScheduleName=other)


def test_batch_transform_input_members_are_checked(sm: Any, name: str) -> None:
    definition = data_quality_definition()
    batch = {
        "DataCapturedDestinationS3Uri": "s3://bucket/batch/../../elsewhere",
        "DatasetFormat": {"Csv": {"Header": False}},
        "LocalPath": "/opt/ml/processing/input",
    }
    definition["MonitoringInputs"] = [{"BatchTransformInput": batch}]
    message = refused(
        sm.create_monitoring_schedule,
        MonitoringScheduleName=name,
        MonitoringScheduleConfig={"MonitoringJobDefinition": definition},
    )
    assert "DataCapturedDestinationS3Uri 's3://bucket/batch/../../elsewhere'" in message
    batch["DataCapturedDestinationS3Uri"] = "s3://bucket/batch"
    batch["LocalPath"] = "/var/lib"
    message = refused(
        sm.create_monitoring_schedule,
        MonitoringScheduleName=name,
        MonitoringScheduleConfig={"MonitoringJobDefinition": definition},
    )
    assert "BatchTransformInput.LocalPath '/var/lib'" in message


@pytest.mark.parametrize("kind", ["DataQuality", "ModelQuality", "ModelBias", "ModelExplainability"])
def test_job_definitions_refuse_bad_local_paths_and_uris(sm: Any, name: str, kind: str) -> None:
    create = getattr(sm, f"create_{''.join('_' + c.lower() if c.isupper() else c for c in kind)[1:]}_job_definition")
    describe = getattr(
        sm, f"describe_{''.join('_' + c.lower() if c.isupper() else c for c in kind)[1:]}_job_definition"
    )
    cases: list[tuple[tuple[Any, ...], str]] = [
        ((f"{kind}JobInput", "EndpointInput", "LocalPath"), "/opt/ml/input"),
        ((f"{kind}JobOutputConfig", "MonitoringOutputs", 0, "S3Output", "LocalPath"), "/opt/ml/processing/../x"),
        ((f"{kind}JobOutputConfig", "MonitoringOutputs", 0, "S3Output", "S3Uri"), "s3://bucket/../reports"),
        ((f"{kind}BaselineConfig", "ConstraintsResource", "S3Uri"), "s3://bucket/../constraints.json"),
    ]
    if kind in ("ModelQuality", "ModelBias"):
        cases.append(((f"{kind}JobInput", "GroundTruthS3Input", "S3Uri"), "s3://bucket/../labels"))
    if kind in ("ModelBias", "ModelExplainability"):
        cases.append(((f"{kind}AppSpecification", "ConfigUri"), "s3://bucket/../analysis_config.json"))
    if kind in ("DataQuality", "ModelQuality"):
        cases.append(((f"{kind}AppSpecification", "RecordPreprocessorSourceUri"), "s3://bucket/../pre.py"))
    for where, value in cases:
        request = job_definition_request(kind, name)
        node = request
        for key in where[:-1]:
            node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
        node[where[-1]] = value
        message = refused(create, **request)
        assert f"{where[-1]} '{value}'" in message, message
        with pytest.raises(ClientError):
            describe(JobDefinitionName=name)
    create(**job_definition_request(kind, name))  # the untouched request is accepted


def processing_job(name: str) -> dict[str, Any]:
    return {
        "ProcessingJobName": name,
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}
        },
        "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"},
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "StoppingCondition": {"MaxRuntimeInSeconds": 60},
        "ProcessingInputs": [
            {
                "InputName": "data",
                "S3Input": {
                    "S3Uri": "s3://jobs/in/",
                    "LocalPath": "/opt/ml/processing/input",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "result",
                    "S3Output": {
                        "S3Uri": "s3://jobs/out",
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
    }


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("ProcessingInputs", 0, "S3Input", "LocalPath"), "/opt/ml/processing/input/../../../../etc"),
        (("ProcessingInputs", 0, "S3Input", "S3Uri"), "s3://jobs/../in"),
        (("ProcessingOutputConfig", "Outputs", 0, "S3Output", "LocalPath"), "/root"),
        (("ProcessingOutputConfig", "Outputs", 0, "S3Output", "S3Uri"), "s3://jobs/out/../../x"),
    ],
)
def test_processing_job_refuses_bad_local_paths_and_uris(
    sm: Any, name: str, where: tuple[Any, ...], value: str
) -> None:
    request = processing_job(name)
    node: Any = request
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    message = refused(sm.create_processing_job, **request)
    assert f"{where[-1]} '{value}'" in message, message
    with pytest.raises(ClientError):
        sm.describe_processing_job(ProcessingJobName=name)


def test_capture_destination_that_escapes_the_store_is_refused(sm: Any, name: str) -> None:
    sm.create_model(ModelName=name, PrimaryContainer={"Image": "x"})
    for destination in ("s3://cap/../x", "s3://cap/a/../../x", "s3://cap//x", "https://cap.example.com/x"):
        message = refused(
            sm.create_endpoint_config,
            EndpointConfigName=name,
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": name}],
            DataCaptureConfig={
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": destination,
                "CaptureOptions": [{"CaptureMode": "Input"}],
            },
        )
        assert "DataCaptureConfig.DestinationS3Uri" in message and destination in message
        with pytest.raises(ClientError):
            sm.describe_endpoint_config(EndpointConfigName=name)
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": name}],
        DataCaptureConfig={
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": "s3://cap/endpoints/",
            "CaptureOptions": [{"CaptureMode": "Input"}],
        },
    )


# --- every LocalPath and S3 URI member of the model is checked, or listed here as unused -----------------

PATH_SHAPES = {"ProcessingLocalPath", "S3Uri", "MonitoringS3Uri", "DestinationS3Uri", "S3ModelUri", "Url"}
# Members Watchkeeper accepts but never reads or writes (nothing is stored there, nothing is run from there).
UNUSED = {
    "CreateEndpointConfig": {
        "ProductionVariants[].CoreDumpConfig.DestinationS3Uri",
        "ShadowProductionVariants[].CoreDumpConfig.DestinationS3Uri",
        "AsyncInferenceConfig.OutputConfig.S3OutputPath",
        "AsyncInferenceConfig.OutputConfig.S3FailurePath",
        "ExplainerConfig.ClarifyExplainerConfig.ShapConfig.ShapBaselineConfig.ShapBaselineUri",
    },
    "CreateProcessingJob": {
        # DatasetDefinition inputs are refused whole (not supported).
        "ProcessingInputs[].DatasetDefinition.AthenaDatasetDefinition.OutputS3Uri",
        "ProcessingInputs[].DatasetDefinition.RedshiftDatasetDefinition.OutputS3Uri",
    },
}


def _model_paths(shape: Any, path: str = "", depth: int = 0) -> set[str]:
    found: set[str] = set()
    if depth > 12:
        return found
    if shape.type_name == "structure":
        for member, child in shape.members.items():
            here = f"{path}.{member}" if path else member
            if child.type_name == "string" and child.name in PATH_SHAPES:
                found.add(here)
            found |= _model_paths(child, here, depth + 1)
    elif shape.type_name == "list":
        found |= _model_paths(shape.member, path + "[]", depth + 1)
    return found


def test_every_path_member_of_the_supported_operations_is_checked() -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    for operation in sorted(OPERATIONS):
        if not operation.startswith(("Create", "Update")) or operation == "CreateModel":
            continue  # CreateModel's model-data URIs are not used: models only name their server
        shape = model.operation_model(operation).input_shape
        expected = _model_paths(shape) - UNUSED.get(operation, set())
        covered = {path for path, _ in RULES.get(operation, ())}
        assert expected <= covered, (operation, sorted(expected - covered))
        assert covered <= _model_paths(shape), (operation, sorted(covered - _model_paths(shape)))
