"""The Clarify analyzer: what the `sagemaker-clarify-processing` image runs (spec §10, §11).

Two ways in:
- a Clarify processing job (`SageMakerClarifyProcessor.run_*`, `ModelBiasMonitor` /
  `ModelExplainabilityMonitor.suggest_baseline`): `analysis_config.json` in /opt/ml/processing/input/config,
  the dataset in /opt/ml/processing/input/data, `analysis.json` and `report.html` to /opt/ml/processing/output.
  Post-training bias and SHAP need the model: it is called through `jobs/toolkit/predictor.py`.
- a monitoring execution's job (its Environment has `dataset_source`): jobs/analyzers/clarify_monitor.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from watchkeeper.analysis.bias.config import bias_config
from watchkeeper.analysis.bias.report import bias_analysis
from watchkeeper.jobs.analyzers import clarify_monitor
from watchkeeper.jobs.analyzers.clarify_explain import shap_analysis
from watchkeeper.jobs.toolkit.clarify_config import ClarifyConfig, read_config
from watchkeeper.jobs.toolkit.clarify_dataset import ClarifyTable, read_dataset
from watchkeeper.jobs.toolkit.clarify_output import ClarifySummary, write_outputs
from watchkeeper.jobs.toolkit.clarify_records import PREDICTED
from watchkeeper.jobs.toolkit.inputs import ProgressFn, list_files
from watchkeeper.jobs.toolkit.job_log import JobLog
from watchkeeper.jobs.toolkit.predictor import ModelClient, ModelServer, predictor_file
from watchkeeper.jobs.toolkit.summary import JobFailed

CONFIG_INPUT = "/opt/ml/processing/input/config"
DATA_INPUT = "/opt/ml/processing/input/data"
OUTPUT = "/opt/ml/processing/output"
SUPPORTED_METHODS = frozenset({"pre_training_bias", "post_training_bias", "shap", "report"})


def local(environment: Mapping[str, str], container_path: str) -> Path:
    """A container path under the job's root (the worker's view of /opt/ml)."""
    root = environment.get("WATCHKEEPER_JOB_ROOT")
    return Path(root) / container_path.lstrip("/") if root else Path(container_path)


def model_client(environment: Mapping[str, str], config: ClarifyConfig, features: tuple[str, ...]) -> ModelClient:
    if config.predictor is None:
        raise JobFailed("ClientError: analysis_config.json has no 'predictor', which post-training bias and SHAP "
                        "need (the model to call)")
    return ModelClient(ModelServer.load(predictor_file(environment)), config.predictor, features)


def run(environment: Mapping[str, str], *, log: JobLog, progress: ProgressFn | None = None) -> ClarifySummary:
    if environment.get("dataset_source"):
        return clarify_monitor.run(environment, log=log)
    config = read_config(local(environment, CONFIG_INPUT))
    unknown = sorted(set(config.methods) - SUPPORTED_METHODS)
    if unknown:
        raise JobFailed(f"ClientError: analysis methods {', '.join(unknown)} are not supported by Watchkeeper "
                        f"(supported: pre_training_bias, post_training_bias, shap)")
    if not config.methods:
        raise JobFailed("ClientError: analysis_config.json asks for no method (methods.pre_training_bias, "
                        "post_training_bias or shap)")
    table = read_dataset(list_files(local(environment, DATA_INPUT)), config)
    log.info(f"Dataset: {table.height} records, {len(table.features)} features, label {table.label!r}"
             + (f", {table.bad_records} unreadable records" if table.bad_records else ""))
    if table.height == 0:
        raise JobFailed("ClientError: the dataset has no records")
    pre = "pre_training_bias" in config.methods
    post = "post_training_bias" in config.methods
    client = model_client(environment, config, table.features) if post or "shap" in config.methods else None
    analysis: dict = {"version": "1.0"}
    try:
        if pre or post:
            analysis.update(_bias(config, table, client, pre=pre, post=post))
        if "shap" in config.methods:
            assert client is not None
            analysis["explanations"] = shap_analysis(config, table, client, log, local(environment, OUTPUT))
    finally:
        if client is not None:
            client.close()
    outputs = write_outputs(local(environment, OUTPUT), analysis, None, "Clarify analysis")
    calls = client.counter.calls if client else 0
    if client:
        log.info(f"Model calls: {client.counter.calls} requests, {client.counter.rows} records, "
                 f"{client.counter.seconds:.1f} s")
    return ClarifySummary(table.height, None, {"unreadable record": table.bad_records} if table.bad_records else {},
                          calls, outputs)


def _bias(config: ClarifyConfig, table: ClarifyTable, client: ModelClient | None, *, pre: bool,
          post: bool) -> dict:
    if table.label is None:
        raise JobFailed("ClientError: bias analysis needs the label: set 'label' in analysis_config.json")
    try:
        bias = dataclasses.replace(bias_config(config.document), label=table.label)
    except ValueError as exc:
        raise JobFailed(f"ClientError: analysis_config.json: {exc}") from None
    frame = table.frame
    predicted = None
    if post:
        assert client is not None
        threshold = bias.probability_threshold
        if config.predictor and config.predictor.probability_threshold is not None:
            threshold = config.predictor.probability_threshold
        labels = client.predicted_labels(table.frame.select(table.features), threshold)
        frame = frame.with_columns(labels.alias(PREDICTED))
        predicted = PREDICTED
    try:
        document = bias_analysis(frame, bias, predicted=predicted, pre_training=pre,
                                 post_training=post)
    except ValueError as exc:
        raise JobFailed(f"ClientError: {exc}") from None
    document.pop("version", None)
    return document
