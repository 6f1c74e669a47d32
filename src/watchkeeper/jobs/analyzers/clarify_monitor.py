"""A Clarify monitoring execution's job (spec §10.3-10.4, §11): ModelBias over the window's merged records,
ModelExplainability over its captured records.

Environment (built by scheduling/clarify_jobs.py): `analysis_type` MODEL_BIAS | MODEL_EXPLAINABILITY,
`analysis_config` (the schedule's ConfigUri, staged), `dataset_source` + `dataset_format` (merged or captured
records), `features_attribute`, `inference_attribute`, `probability_attribute`,
`probability_threshold_attribute`, `baseline_constraints` (the baseline's analysis.json), `output_path`, the
window (`start_time`, `end_time`) and the CloudWatch fields. The baseline analysis.json is the constraint:
`bias_drift_check` / `feature_attribution_drift_check` violations are written only when there are some.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from watchkeeper.analysis.bias.config import bias_config
from watchkeeper.analysis.bias.drift import bias_drift_violations
from watchkeeper.analysis.bias.metric_lines import bias_metric_lines
from watchkeeper.analysis.bias.report import bias_analysis
from watchkeeper.analysis.explain.drift import attribution_drift_violations
from watchkeeper.analysis.explain.metric_lines import explainability_metric_lines
from watchkeeper.capture.reader import parse_time
from watchkeeper.jobs.analyzers.clarify_explain import shap_analysis
from watchkeeper.jobs.toolkit.clarify_config import CSV, ClarifyConfig, PredictorSpec, read_config
from watchkeeper.jobs.toolkit.clarify_output import ClarifySummary, write_outputs
from watchkeeper.jobs.toolkit.clarify_records import (
    PREDICTED,
    RecordAttributes,
    RecordReading,
    read_records,
    require_rows,
)
from watchkeeper.jobs.toolkit.formats import DatasetFormat
from watchkeeper.jobs.toolkit.inputs import list_files
from watchkeeper.jobs.toolkit.job_log import JobLog
from watchkeeper.jobs.toolkit.predictor import ModelClient, ModelServer, predictor_file
from watchkeeper.jobs.toolkit.summary import JobFailed, publishes_metrics, write_metric_lines

BIAS = "MODEL_BIAS"
EXPLAINABILITY = "MODEL_EXPLAINABILITY"
BIAS_METRICS_FILE = "bias-metrics.jsonl"
EXPLAINABILITY_METRICS_FILE = "explainability-metrics.jsonl"


def run(environment: Mapping[str, str], *, log: JobLog) -> ClarifySummary:

    kind = str(environment.get("analysis_type") or BIAS).upper()
    if kind not in (BIAS, EXPLAINABILITY):
        raise JobFailed(f"ClientError: analysis_type {kind!r} is not a Clarify monitoring type")
    config = read_config(Path(environment["analysis_config"]))
    fmt = DatasetFormat.parse(environment.get("dataset_format"))
    merged = fmt.kind == "merge"
    if kind == BIAS and not merged:
        raise JobFailed("ClientError: bias monitoring reads merged records (captured data joined with ground truth)")
    attrs = _attributes(environment, config)
    reading = RecordReading()
    table = read_records(list_files(environment["dataset_source"]), lambda width: _feature_names(config, width),
                         attrs, merged=merged, start=parse_time(environment.get("start_time")),
                         end=parse_time(environment.get("end_time")), reading=reading)
    require_rows(table, reading, "merged records" if merged else "captured records")
    log.info(f"Records: {table.height} from {reading.requests} captured requests in {reading.files} files"
             + (f"; left out: {dict(reading.bad)}" if reading.bad else "")
             + (f"; skipped: {dict(reading.skipped)}" if reading.skipped else ""))
    baseline = _baseline(environment)
    calls = 0
    if kind == BIAS:
        analysis = _bias(config, table)
        violations = bias_drift_violations(analysis, baseline) if baseline else []
        lines = bias_metric_lines(analysis, dimensions=_dimensions(environment), timestamp=_time(environment))
        metrics_file = BIAS_METRICS_FILE
    else:
        client = ModelClient(ModelServer.load(predictor_file(environment)),
                             config.predictor or PredictorSpec.parse({}, CSV), table.features)
        try:
            analysis = {"version": "1.0", "explanations": shap_analysis(config, table, client, log)}
        finally:
            client.close()
        calls = client.counter.calls
        violations = attribution_drift_violations(analysis, baseline) if baseline else []
        lines = explainability_metric_lines(analysis, dimensions=_dimensions(environment),
                                            timestamp=_time(environment))
        metrics_file = EXPLAINABILITY_METRICS_FILE
    outputs = write_outputs(Path(environment["output_path"]), analysis, violations,
                            "Model bias monitoring" if kind == BIAS else "Model explainability monitoring")
    if publishes_metrics(environment):
        write_metric_lines(environment, metrics_file, [orjson.dumps(line).decode() for line in lines])
    return ClarifySummary(table.height, violations, dict(reading.bad), calls, outputs, dict(reading.skipped))


def _attributes(environment: Mapping[str, str], config: ClarifyConfig) -> RecordAttributes:
    threshold = environment.get("probability_threshold_attribute") or config.document.get("probability_threshold")
    try:
        cut = 0.5 if threshold in (None, "") else float(threshold)
    except ValueError:
        raise JobFailed(f"ClientError: probability_threshold_attribute must be a number, got {threshold!r}") from None
    return RecordAttributes(
        features=environment.get("features_attribute") or config.features,
        inference=environment.get("inference_attribute") or None,
        probability=environment.get("probability_attribute") or None,
        threshold=cut,
        label=None if config.label is None else str(config.label_name),
    )


def _feature_names(config: ClarifyConfig, width: int) -> list[str]:
    """The records' feature names from `headers`: all of them, or all but the label."""
    headers = list(config.headers or [])
    without_label = [h for h in headers if h != config.label_name]
    for names in (headers, without_label, headers[:width] if len(headers) == width + 1 else []):
        if len(names) == width:
            return names
    if not headers:
        return [f"feature_{i}" for i in range(width)]
    raise JobFailed(f"ClientError: the captured records have {width} features but analysis_config.json names "
                    f"{len(headers)} headers ({', '.join(headers[:20])})")


def _bias(config: ClarifyConfig, table: Any) -> dict[str, Any]:
    if PREDICTED not in table.frame.columns:
        raise JobFailed("ClientError: no predicted label could be read from the captured endpointOutput: set "
                        "the EndpointInput's InferenceAttribute or ProbabilityAttribute")
    try:
        settings = dataclasses.replace(bias_config({**config.document, "label": table.label}), label=table.label)
        return bias_analysis(table.frame, settings, predicted=PREDICTED, pre_training=True, post_training=True)
    except ValueError as exc:
        raise JobFailed(f"ClientError: {exc}") from None


def _baseline(environment: Mapping[str, str]) -> dict[str, Any] | None:
    path = environment.get("baseline_constraints")
    if not path:
        return None
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise JobFailed(f"ClientError: the baseline constraints (the baseline job's analysis.json) cannot be "
                        f"read: {exc}") from None
    if not isinstance(document, dict):
        raise JobFailed("ClientError: the baseline constraints file is not a JSON object")
    return document


def _dimensions(environment: Mapping[str, str]) -> dict[str, str]:
    dimensions = {}
    if environment.get("sagemaker_endpoint_name"):
        dimensions["Endpoint"] = environment["sagemaker_endpoint_name"]
    if environment.get("sagemaker_monitoring_schedule_name"):
        dimensions["MonitoringSchedule"] = environment["sagemaker_monitoring_schedule_name"]
    return dimensions


def _time(environment: Mapping[str, str]) -> str:
    return environment.get("metric_time") or environment.get("start_time") or ""
