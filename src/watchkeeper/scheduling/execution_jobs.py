"""What a monitoring execution runs: the processing-job request SageMaker builds for it (spec §2.6, §4.2).

Pure: from the schedule's (normalised) job definition, the endpoint's capture location, the fire time and
the window (one `ExecutionInputs`), each builder makes the CreateProcessingJob request of one job of an
execution's plan (services/monitoring_types.py names, per type, which builders run in which order). A builder
that cannot make its job from what the schedule gives raises `CannotPlan` with the execution's failure reason.
"""

from __future__ import annotations

import json
import posixpath
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from watchkeeper.capture.batch_staging import TooManyFolders, staged_folders
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


class CannotPlan(Exception):
    """The execution cannot run as configured; the message is its FailureReason."""


@dataclass(frozen=True)
class ExecutionInputs:
    """What every job request of one execution is built from."""

    monitoring_type: str
    definition: dict[str, Any]
    schedule_name: str
    scheduled_time: float
    window: Window
    capture: CaptureSource | None
    suffix: str  # `<yyyymmddHHMM>-<24 hex>`, shared by the jobs of one execution
    # Batch monitoring: the objects the window's batch-capture manifests name (read by the starter).
    manifest_objects: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        monitoring_type: str,
        definition: dict[str, Any],
        schedule_name: str,
        scheduled_time: float,
        window: Window,
        capture: CaptureSource | None,
        manifest_objects: tuple[str, ...] = (),
    ) -> ExecutionInputs:
        suffix = job_name("x", scheduled_time).split("-", 1)[1]
        return cls(
            monitoring_type, definition, schedule_name, scheduled_time, window, capture, suffix, manifest_objects
        )

    @property
    def ground_truth_uri(self) -> str | None:
        return (self.definition["MonitoringInputs"][0].get("GroundTruthS3Input") or {}).get("S3Uri")

    def needs_capture(self) -> CaptureSource:
        if self.capture is None:
            raise CannotPlan(
                f"A {self.monitoring_type} schedule needs an endpoint input whose endpoint captures its traffic."
            )
        return self.capture

    def needs_ground_truth(self) -> str:
        if not self.ground_truth_uri:
            raise CannotPlan(f"A {self.monitoring_type} schedule needs a GroundTruthS3Input.")
        return self.ground_truth_uri


def job_name(prefix: str, scheduled_time: float) -> str:
    stamp = datetime.fromtimestamp(scheduled_time, UTC).strftime("%Y%m%d%H%M")
    return f"{prefix}-{stamp}-{secrets.token_hex(12)}"


def s3_input(name: str, uri: str, local_path: str) -> dict[str, Any]:
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


def data_quality_request(inputs: ExecutionInputs) -> dict[str, Any]:
    """The one job of a data-quality execution: `model-monitoring-<stamp>-<hex>` analyses the window's capture
    (or the batch transform's captured data) against the baseline."""
    definition, schedule_name, scheduled_time = inputs.definition, inputs.schedule_name, inputs.scheduled_time
    window = inputs.window
    monitoring_input = definition["MonitoringInputs"][0]
    app = definition["MonitoringAppSpecification"]
    output = definition["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]
    job_inputs: list[dict[str, Any]] = []
    environment: dict[str, str] = {}

    if "EndpointInput" in monitoring_input:
        capture = inputs.needs_capture()
        source = monitoring_input["EndpointInput"]
        local_root = source.get("LocalPath") or DEFAULT_ENDPOINT_LOCAL_PATH
        for variant in capture.variants:
            for hour in window.hours:
                folder = f"{capture.endpoint}/{variant}/{hour_path(hour)}"
                job_inputs.append(
                    s3_input(
                        f"input_{len(job_inputs) + 1}",
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
        job_inputs.append(s3_input("input_1", source["DataCapturedDestinationS3Uri"], local_root))
        # The manifests name the data; each folder of it is staged where the reader looks (capture/batch.py).
        try:
            folders = staged_folders(inputs.manifest_objects, local_root)
        except TooManyFolders as exc:
            raise CannotPlan(str(exc)) from None
        for index, (folder_uri, local_path) in enumerate(folders, start=1):
            job_inputs.append(s3_input(f"manifest_objects_{index}", folder_uri, local_path))
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
            job_inputs.append(s3_input(input_name, uri, local))
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
            job_inputs.append(s3_input(input_name, uri, local))
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
        "ProcessingJobName": f"model-monitoring-{inputs.suffix}",
        "ProcessingInputs": job_inputs,
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


def hour_inputs(inputs: ExecutionInputs, capture: CaptureSource, root: str,
                local_root: str = MERGE_INPUT_ROOT) -> list[dict[str, Any]]:
    """`endpoint_input_<n>`: one per variant and window hour, from `<root>/<endpoint>/<variant>/yyyy/mm/dd/hh`
    to the same layout under `local_root`."""
    items: list[dict[str, Any]] = []
    for variant in capture.variants:
        for hour in inputs.window.hours:
            folder = f"{capture.endpoint}/{variant}/{hour_path(hour)}"
            items.append(
                s3_input(f"endpoint_input_{len(items) + 1}", join_uri(root, folder), posixpath.join(local_root, folder))
            )
    return items


def merged_root(inputs: ExecutionInputs) -> str:
    return join_uri(inputs.definition["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["S3Uri"], "merge")


def ground_truth_merge_request(inputs: ExecutionInputs) -> dict[str, Any]:
    """The first job of a model-quality (and model-bias) execution (spec §2.5-2.6): `groundtruth-merge-<stamp>-<hex>`
    joins the window's capture to its labels into `<output>/merge`. Labels are read from every ground-truth hour
    folder from the window's start up to the fire time, since labels are filed by the hour they were collected,
    usually after the inference."""
    ground_truth_uri = inputs.needs_ground_truth()
    capture = inputs.needs_capture()
    definition, window = inputs.definition, inputs.window
    app = definition["MonitoringAppSpecification"]
    truth_hours = Window(window.start, max(window.end, inputs.scheduled_time)).hours
    truth_inputs = [
        s3_input(
            f"groundtruth_input_{i}",
            join_uri(ground_truth_uri, hour_path(hour)),
            posixpath.join(GROUND_TRUTH_ROOT, hour_path(hour)),
        )
        for i, hour in enumerate(truth_hours, start=1)
    ]
    return {
        "ProcessingJobName": f"groundtruth-merge-{inputs.suffix}",
        "ProcessingInputs": truth_inputs + hour_inputs(inputs, capture, capture.destination),
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "result",
                    "AppManaged": False,
                    "S3Output": {
                        "S3Uri": merged_root(inputs),
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
        "ProcessingResources": definition.get("MonitoringResources") or {},
        "StoppingCondition": definition.get("StoppingCondition") or {"MaxRuntimeInSeconds": 1800},
        "AppSpecification": {"ImageUri": _merge_image(app["ImageUri"])},
        "Environment": {
            "dataset_source": MERGE_INPUT_ROOT,
            "ground_truth_source": GROUND_TRUTH_ROOT,
            "output_path": "/opt/ml/processing/output",
            "start_time": iso(window.start),
            "end_time": iso(window.end),
        },
        "RoleArn": definition.get("RoleArn"),
    }


def model_quality_request(inputs: ExecutionInputs) -> dict[str, Any]:
    """The second job of a model-quality execution: `model-quality-monitoring-<stamp>-<hex>` analyses the records
    the merge job wrote under `<output>/merge`."""
    capture = inputs.needs_capture()
    definition, window, schedule_name = inputs.definition, inputs.window, inputs.schedule_name
    source = definition["MonitoringInputs"][0]["EndpointInput"]
    app = definition["MonitoringAppSpecification"]
    problem_type = app.get("ProblemType")
    output = definition["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]
    times = {"start_time": iso(window.start), "end_time": iso(window.end)}
    analysis_inputs = hour_inputs(inputs, capture, merged_root(inputs))
    scheduled_time = inputs.scheduled_time
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
        analysis_inputs.append(s3_input("constraints", baseline_uri, BASELINE_CONSTRAINTS_PATH))
        environment["baseline_constraints"] = posixpath.join(
            BASELINE_CONSTRAINTS_PATH, posixpath.basename(baseline_uri)
        )
    environment.update(definition.get("Environment") or {})
    analysis_request: dict[str, Any] = {
        "ProcessingJobName": f"model-quality-monitoring-{inputs.suffix}",
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
        "ProcessingResources": definition.get("MonitoringResources") or {},
        "StoppingCondition": definition.get("StoppingCondition") or {"MaxRuntimeInSeconds": 1800},
        "AppSpecification": {k: app[k] for k in ("ImageUri", "ContainerEntrypoint", "ContainerArguments") if k in app},
        "Environment": environment,
        "RoleArn": definition.get("RoleArn"),
    }
    return analysis_request
