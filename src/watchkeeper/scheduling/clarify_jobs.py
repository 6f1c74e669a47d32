"""The Clarify jobs of ModelBias and ModelExplainability executions (spec §10.1, §11): their
CreateProcessingJob requests, built as execution_jobs.py builds the others.

- ModelBias: after the ground-truth merge, `model-bias-monitoring-<stamp>-<hex>` reads the window's merged
  records from `<output>/merge`.
- ModelExplainability: `model-explainability-<stamp>-<hex>` (job names have 63 characters at most) reads the
  window's captured records.
Both stage the job definition's `ConfigUri` (analysis_config.json) at /opt/ml/processing/input/config and the
baseline's analysis.json (`ConstraintsResource`, or the baselining job's output resolved when the execution
starts) at /opt/ml/processing/baseline/constraints, and write the report to
`<S3Uri>/<endpoint>/<schedule>/yyyy/mm/dd/hh`. The Environment names are Watchkeeper's (AWS's own are not
documented); the job definition's Environment is applied over them.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

from watchkeeper.scheduling.execution_jobs import (
    BASELINE_CONSTRAINTS_PATH,
    CAPTURE_FORMAT,
    DEFAULT_ENDPOINT_LOCAL_PATH,
    MERGE_INPUT_ROOT,
    MERGED_FORMAT,
    CannotPlan,
    ExecutionInputs,
    hour_inputs,
    merged_root,
    s3_input,
)
from watchkeeper.scheduling.fire_times import hour_path, iso
from watchkeeper.storage import join_uri

CONFIG_PATH = "/opt/ml/processing/input/config"
ATTRIBUTES = (
    ("features_attribute", "FeaturesAttribute"),
    ("inference_attribute", "InferenceAttribute"),
    ("probability_attribute", "ProbabilityAttribute"),
    ("probability_threshold_attribute", "ProbabilityThresholdAttribute"),
)


def _endpoint_source(inputs: ExecutionInputs) -> dict[str, Any]:
    source = inputs.definition["MonitoringInputs"][0]
    if "EndpointInput" not in source:
        raise CannotPlan(f"{inputs.monitoring_type} monitoring of batch transform jobs is not supported by this "
                         "Watchkeeper version yet; monitor an endpoint.")
    return source["EndpointInput"]


def _request(inputs: ExecutionInputs, name: str, analysis_type: str, data_inputs: list[dict[str, Any]],
             dataset: dict[str, Any], dataset_source: str) -> dict[str, Any]:
    capture = inputs.needs_capture()
    definition, window = inputs.definition, inputs.window
    app = definition["MonitoringAppSpecification"]
    source = _endpoint_source(inputs)
    output = definition["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]
    config_uri = app.get("ConfigUri")
    if not config_uri:
        raise CannotPlan(f"The {inputs.monitoring_type} job definition has no ConfigUri (its analysis_config.json).")
    job_inputs = [s3_input("analysis_config", config_uri, CONFIG_PATH), *data_inputs]
    environment = {
        "analysis_type": analysis_type,
        "analysis_config": CONFIG_PATH,
        "dataset_format": json.dumps(dataset),
        "dataset_source": dataset_source,
        "output_path": output["LocalPath"],
        "publish_cloudwatch_metrics": "Enabled",
        "sagemaker_endpoint_name": capture.endpoint,
        "sagemaker_monitoring_schedule_name": inputs.schedule_name,
        "start_time": iso(window.start),
        "end_time": iso(window.end),
        "metric_time": iso(window.start),
    }
    for key, member in ATTRIBUTES:
        if source.get(member) not in (None, ""):
            environment[key] = str(source[member])
    baseline_uri = ((definition.get("BaselineConfig") or {}).get("ConstraintsResource") or {}).get("S3Uri")
    if baseline_uri:
        job_inputs.append(s3_input("constraints", baseline_uri, BASELINE_CONSTRAINTS_PATH))
        environment["baseline_constraints"] = posixpath.join(BASELINE_CONSTRAINTS_PATH,
                                                             posixpath.basename(baseline_uri.rstrip("/")))
    environment.update(app.get("Environment") or {})
    environment.update(definition.get("Environment") or {})
    request: dict[str, Any] = {
        "ProcessingJobName": f"{name}-{inputs.suffix}",
        "ProcessingInputs": job_inputs,
        "ProcessingOutputConfig": {"Outputs": [{
            "OutputName": "result",
            "AppManaged": False,
            "S3Output": {
                "S3Uri": join_uri(output["S3Uri"], capture.endpoint, inputs.schedule_name,
                                  hour_path(inputs.scheduled_time)),
                "LocalPath": output["LocalPath"],
                "S3UploadMode": output.get("S3UploadMode", "EndOfJob"),
            },
        }]},
        "ProcessingResources": definition.get("MonitoringResources") or {},
        "StoppingCondition": definition.get("StoppingCondition") or {"MaxRuntimeInSeconds": 1800},
        "AppSpecification": {"ImageUri": app["ImageUri"]},
        "Environment": environment,
        "RoleArn": definition.get("RoleArn"),
    }
    if definition.get("NetworkConfig"):
        request["NetworkConfig"] = definition["NetworkConfig"]
    return request


def model_bias_request(inputs: ExecutionInputs) -> dict[str, Any]:
    """The second job of a model-bias execution: bias of the merged records against the baseline."""
    capture = inputs.needs_capture()
    _endpoint_source(inputs)
    merged = hour_inputs(inputs, capture, merged_root(inputs))
    return _request(inputs, "model-bias-monitoring", "MODEL_BIAS", merged, MERGED_FORMAT, MERGE_INPUT_ROOT)


def model_explainability_request(inputs: ExecutionInputs) -> dict[str, Any]:
    """The one job of a model-explainability execution: SHAP of the window's captured records."""
    capture = inputs.needs_capture()
    source = _endpoint_source(inputs)
    local_root = source.get("LocalPath") or DEFAULT_ENDPOINT_LOCAL_PATH
    captured = hour_inputs(inputs, capture, capture.destination, local_root)
    return _request(inputs, "model-explainability", "MODEL_EXPLAINABILITY", captured, CAPTURE_FORMAT,
                    local_root)
