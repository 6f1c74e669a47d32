"""What a monitoring execution runs: the processing-job request SageMaker builds for it (spec §2.6, §4.2).

Pure: from the schedule's (normalised) job definition, the endpoint's capture location, the fire time and
the window, build a CreateProcessingJob request.
"""

from __future__ import annotations

import json
import posixpath
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from watchkeeper.scheduling.fire_times import Window, hour_path, iso
from watchkeeper.storage import join_uri

CAPTURE_FORMAT = {"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}
DEFAULT_ENDPOINT_LOCAL_PATH = "/opt/ml/processing/input/endpoint"
BASELINE_STATS_PATH = "/opt/ml/processing/baseline/stats"
BASELINE_CONSTRAINTS_PATH = "/opt/ml/processing/baseline/constraints"
PREPROCESSOR_PATH = "/opt/ml/processing/code/preprocessing"
POSTPROCESSOR_PATH = "/opt/ml/processing/code/postprocessing"


def normalise_definition(kind: str, config: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any]:
    """An inline MonitoringJobDefinition as is, or a `<Type>JobDefinition` reshaped into that form."""
    if stored is None:
        return config["MonitoringJobDefinition"]
    app = dict(stored.get(f"{kind}AppSpecification") or {})
    return {
        "BaselineConfig": stored.get(f"{kind}BaselineConfig") or {},
        "MonitoringInputs": [stored.get(f"{kind}JobInput") or {}],
        "MonitoringOutputConfig": stored.get(f"{kind}JobOutputConfig") or {},
        "MonitoringResources": stored.get("JobResources") or {},
        "MonitoringAppSpecification": app,
        "StoppingCondition": stored.get("StoppingCondition"),
        "Environment": app.pop("Environment", None) or {},
        "NetworkConfig": stored.get("NetworkConfig"),
        "RoleArn": stored.get("RoleArn"),
    }


@dataclass(frozen=True)
class CaptureSource:
    """Where an endpoint's capture lives: `<destination>/<endpoint>/<variant>/yyyy/mm/dd/hh`."""

    destination: str
    endpoint: str
    variants: tuple[str, ...]


def job_name(prefix: str, scheduled_time: float) -> str:
    stamp = datetime.fromtimestamp(scheduled_time, UTC).strftime("%Y%m%d%H%M")
    return f"{prefix}-{stamp}-{secrets.token_hex(12)}"


def _s3_input(name: str, uri: str, local_path: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "AppManaged": False,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            "S3CompressionType": "None",
        },
    }


def _dataset_format(batch: dict[str, Any]) -> dict[str, Any]:
    """BatchTransformInput.DatasetFormat → the container's dataset_format (spec §3.4)."""
    fmt = batch.get("DatasetFormat") or {}
    if "Csv" in fmt:
        return {"csv": {"header": bool(fmt["Csv"].get("Header", False))}}
    if "Json" in fmt:
        return {"json": {"line": bool(fmt["Json"].get("Line", False))}}
    return {"parquet": {}}


def data_quality_request(
    *,
    definition: dict[str, Any],
    schedule_name: str,
    scheduled_time: float,
    window: Window,
    capture: CaptureSource | None,
) -> dict[str, Any]:
    monitoring_input = definition["MonitoringInputs"][0]
    app = definition["MonitoringAppSpecification"]
    output = definition["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]
    inputs: list[dict[str, Any]] = []
    environment: dict[str, str] = {}

    if "EndpointInput" in monitoring_input:
        assert capture is not None
        source = monitoring_input["EndpointInput"]
        local_root = source.get("LocalPath") or DEFAULT_ENDPOINT_LOCAL_PATH
        for variant in capture.variants:
            for hour in window.hours:
                folder = f"{capture.endpoint}/{variant}/{hour_path(hour)}"
                inputs.append(
                    _s3_input(
                        f"input_{len(inputs) + 1}",
                        join_uri(capture.destination, folder),
                        posixpath.join(local_root, folder),
                    )
                )
        environment["dataset_format"] = json.dumps(CAPTURE_FORMAT)
        environment["sagemaker_endpoint_name"] = capture.endpoint
        report = join_uri(output["S3Uri"], capture.endpoint, schedule_name, hour_path(scheduled_time))
    else:
        source = monitoring_input["BatchTransformInput"]
        local_root = source["LocalPath"]
        inputs.append(_s3_input("input_1", source["DataCapturedDestinationS3Uri"], local_root))
        environment["dataset_format"] = json.dumps(_dataset_format(source))
        report = join_uri(output["S3Uri"], schedule_name, hour_path(scheduled_time))

    baseline = definition.get("BaselineConfig") or {}
    for key, resource, local in (
        ("baseline_statistics", "StatisticsResource", BASELINE_STATS_PATH),
        ("baseline_constraints", "ConstraintsResource", BASELINE_CONSTRAINTS_PATH),
    ):
        uri = (baseline.get(resource) or {}).get("S3Uri")
        if uri:
            input_name = "baseline" if key == "baseline_statistics" else "constraints"
            inputs.append(_s3_input(input_name, uri, local))
            environment[key] = posixpath.join(local, posixpath.basename(uri.rstrip("/")))
    for key, member, local, input_name in (
        ("record_preprocessor_script", "RecordPreprocessorSourceUri", PREPROCESSOR_PATH, "pre_processor_script"),
        (
            "post_analytics_processor_script",
            "PostAnalyticsProcessorSourceUri",
            POSTPROCESSOR_PATH,
            "post_processor_script",
        ),
    ):
        uri = app.get(member)
        if uri:
            inputs.append(_s3_input(input_name, uri, local))
            environment[key] = posixpath.join(local, posixpath.basename(uri.rstrip("/")))

    environment.update(
        {
            "dataset_source": local_root,
            "output_path": output["LocalPath"],
            "publish_cloudwatch_metrics": "Enabled",
            "sagemaker_monitoring_schedule_name": schedule_name,
            "start_time": iso(window.start),
            "end_time": iso(window.end),
            "metric_time": iso(window.start),
        }
    )
    environment.update(definition.get("Environment") or {})

    request: dict[str, Any] = {
        "ProcessingJobName": job_name("model-monitoring", scheduled_time),
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "result",
                    "AppManaged": False,
                    "S3Output": {
                        "S3Uri": report,
                        "LocalPath": output["LocalPath"],
                        "S3UploadMode": output.get("S3UploadMode", "Continuous"),
                    },
                }
            ]
        },
        "ProcessingResources": definition.get("MonitoringResources") or {},
        "StoppingCondition": definition.get("StoppingCondition") or {"MaxRuntimeInSeconds": 3600},
        "AppSpecification": {k: app[k] for k in ("ImageUri", "ContainerEntrypoint", "ContainerArguments") if k in app},
        "Environment": environment,
        "RoleArn": definition.get("RoleArn"),
    }
    if definition.get("NetworkConfig"):
        request["NetworkConfig"] = definition["NetworkConfig"]
    return request


MERGE_IMAGE = "sagemaker-model-monitor-groundtruth-merger"
MERGED_FORMAT = {"sagemakerMergeJson": {"captureIndexNames": ["endpointOutput"]}}
MERGE_INPUT_ROOT = "/opt/ml/processing/input_data"
GROUND_TRUTH_ROOT = "/opt/ml/processing/groundtruth"


def _merge_image(analyzer_image: str) -> str:
    """The merger image beside the analyzer's (same registry), as SageMaker pairs them."""
    registry = analyzer_image.split("/", 1)[0] if "/" in analyzer_image else "watchkeeper"
    return f"{registry}/{MERGE_IMAGE}"


def model_quality_requests(
    *,
    definition: dict[str, Any],
    schedule_name: str,
    scheduled_time: float,
    window: Window,
    capture: CaptureSource,
    ground_truth_uri: str,
    problem_type: str | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two jobs of a model-quality execution (spec §2.5-2.6): `groundtruth-merge-<stamp>-<hex>` joins the
    window's capture to its labels into `<output>/merge`, then `model-quality-monitoring-<stamp>-<hex>` analyses
    the merged records. Labels are read from every ground-truth hour folder from the window's start up to the
    fire time, since labels are filed by the hour they were collected, usually after the inference."""
    source = definition["MonitoringInputs"][0]["EndpointInput"]
    app = definition["MonitoringAppSpecification"]
    output = definition["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]
    suffix = job_name("x", scheduled_time).split("-", 1)[1]  # <stamp>-<24 hex>, shared by both jobs
    resources = definition.get("MonitoringResources") or {}
    stopping = definition.get("StoppingCondition") or {"MaxRuntimeInSeconds": 1800}
    merged_root = join_uri(output["S3Uri"], "merge")
    times = {"start_time": iso(window.start), "end_time": iso(window.end)}

    capture_inputs = []
    analysis_inputs = []
    for variant in capture.variants:
        for hour in window.hours:
            folder = f"{capture.endpoint}/{variant}/{hour_path(hour)}"
            local = posixpath.join(MERGE_INPUT_ROOT, folder)
            capture_inputs.append(
                _s3_input(f"endpoint_input_{len(capture_inputs) + 1}", join_uri(capture.destination, folder), local)
            )
            analysis_inputs.append(
                _s3_input(f"endpoint_input_{len(analysis_inputs) + 1}", join_uri(merged_root, folder), local)
            )
    truth_hours = Window(window.start, max(window.end, scheduled_time)).hours
    truth_inputs = [
        _s3_input(
            f"groundtruth_input_{i}",
            join_uri(ground_truth_uri, hour_path(hour)),
            posixpath.join(GROUND_TRUTH_ROOT, hour_path(hour)),
        )
        for i, hour in enumerate(truth_hours, start=1)
    ]
    merge_request: dict[str, Any] = {
        "ProcessingJobName": f"groundtruth-merge-{suffix}",
        "ProcessingInputs": truth_inputs + capture_inputs,
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "result",
                    "AppManaged": False,
                    "S3Output": {
                        "S3Uri": merged_root,
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
        "ProcessingResources": resources,
        "StoppingCondition": stopping,
        "AppSpecification": {"ImageUri": _merge_image(app["ImageUri"])},
        "Environment": {
            "dataset_source": MERGE_INPUT_ROOT,
            "ground_truth_source": GROUND_TRUTH_ROOT,
            "output_path": "/opt/ml/processing/output",
            **times,
        },
        "RoleArn": definition.get("RoleArn"),
    }

    environment = {
        "analysis_type": "MODEL_QUALITY",
        "dataset_format": json.dumps(MERGED_FORMAT),
        "dataset_source": MERGE_INPUT_ROOT,
        "output_path": output["LocalPath"],
        "publish_cloudwatch_metrics": "Enabled",
        "sagemaker_endpoint_name": capture.endpoint,
        "sagemaker_monitoring_schedule_name": schedule_name,
        "metric_time": iso(window.start),
        **times,
    }
    if problem_type:
        environment["problem_type"] = problem_type
    for key, member in (
        ("inference_attribute", "InferenceAttribute"),
        ("probability_attribute", "ProbabilityAttribute"),
        ("probability_threshold_attribute", "ProbabilityThresholdAttribute"),
    ):
        if source.get(member) is not None:
            environment[key] = str(source[member])
    baseline_uri = ((definition.get("BaselineConfig") or {}).get("ConstraintsResource") or {}).get("S3Uri")
    if baseline_uri:
        analysis_inputs.append(_s3_input("constraints", baseline_uri, BASELINE_CONSTRAINTS_PATH))
        environment["baseline_constraints"] = posixpath.join(
            BASELINE_CONSTRAINTS_PATH, posixpath.basename(baseline_uri)
        )
    environment.update(definition.get("Environment") or {})
    analysis_request: dict[str, Any] = {
        "ProcessingJobName": f"model-quality-monitoring-{suffix}",
        "ProcessingInputs": analysis_inputs,
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "result",
                    "AppManaged": False,
                    "S3Output": {
                        "S3Uri": join_uri(output["S3Uri"], capture.endpoint, schedule_name, hour_path(scheduled_time)),
                        "LocalPath": output["LocalPath"],
                        "S3UploadMode": output.get("S3UploadMode", "Continuous"),
                    },
                }
            ]
        },
        "ProcessingResources": resources,
        "StoppingCondition": stopping,
        "AppSpecification": {k: app[k] for k in ("ImageUri", "ContainerEntrypoint", "ContainerArguments") if k in app},
        "Environment": environment,
        "RoleArn": definition.get("RoleArn"),
    }
    return merge_request, analysis_request
