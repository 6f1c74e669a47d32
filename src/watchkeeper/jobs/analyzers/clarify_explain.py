"""SHAP for a Clarify job: the records' features as a matrix, the background (the config's baseline rows or a
k-means summary of the data), Kernel SHAP with the model called in batches, and the `explanations` section
of analysis.json (spec §11). Used by the processing job and by the monitoring job alike."""

from __future__ import annotations

from pathlib import Path

import jmespath
import numpy as np
import polars as pl

from watchkeeper.analysis.explain.background import background_summary
from watchkeeper.analysis.explain.config import ShapConfig, explained_columns, shap_config
from watchkeeper.analysis.explain.kernel_shap import aggregate, explain
from watchkeeper.analysis.explain.report import explanation_analysis, label_names, local_shap_rows
from watchkeeper.jobs.toolkit.clarify_config import ClarifyConfig
from watchkeeper.jobs.toolkit.clarify_dataset import ClarifyTable
from watchkeeper.jobs.toolkit.job_log import JobLog
from watchkeeper.jobs.toolkit.predictor import ModelClient
from watchkeeper.jobs.toolkit.summary import JobFailed

MAX_RECORDS = 100_000  # Kernel SHAP costs num_samples model rows per record: past this, a sample is explained


def feature_matrix(table: ClarifyTable) -> np.ndarray:
    frame = table.frame.select(table.features)
    text = [name for name, dtype in frame.schema.items() if not dtype.is_numeric()]
    if text:
        raise JobFailed(f"ClientError: SHAP needs numeric features; {', '.join(text[:5])} "
                        f"{'is' if len(text) == 1 else 'are'} not numeric")
    return frame.cast({name: pl.Float64 for name in frame.columns}).to_numpy()


def _config(config: ClarifyConfig) -> ShapConfig:
    try:
        return shap_config(config.document)
    except ValueError as exc:
        raise JobFailed(f"ClientError: analysis_config.json: {exc}") from None


def _background(settings: ShapConfig, config: ClarifyConfig, records: np.ndarray, width: int) -> np.ndarray:
    """The config's baseline rows (lists, or JSON Lines objects read with the `features` JMESPath), else a
    k-means summary of the records."""
    baseline = settings.baseline
    if isinstance(baseline, str):
        raise JobFailed("ClientError: a SHAP baseline given as an S3 URI is not supported by Watchkeeper yet; "
                        "give the baseline rows in the config (SHAPConfig(baseline=[[...]]))")
    if baseline is None:
        return background_summary(records, settings.clusters or 1, settings.seed)
    rows = [jmespath.search(config.features, row) if isinstance(row, dict) and config.features else row
            for row in baseline]
    try:
        matrix = np.asarray(rows, dtype=float)
    except (TypeError, ValueError):
        raise JobFailed("ClientError: the SHAP baseline rows are not lists of numbers") from None
    matrix = matrix.reshape(1, -1) if matrix.ndim == 1 else matrix
    if matrix.ndim != 2 or matrix.shape[1] != width:
        raise JobFailed(f"ClientError: the SHAP baseline rows have {matrix.shape[-1]} values but the records have "
                        f"{width} features")
    return matrix


def shap_analysis(config: ClarifyConfig, table: ClarifyTable, client: ModelClient, log: JobLog,
                  output: Path | None = None) -> dict:
    """The `explanations` section; with `save_local_shap_values` and an `output` folder, each record's values
    in `explanations_shap/out.csv` too."""
    settings = _config(config)
    records = feature_matrix(table)
    if records.shape[0] > MAX_RECORDS:
        pick = np.random.default_rng(settings.seed).choice(records.shape[0], MAX_RECORDS, replace=False)
        records = records[np.sort(pick)]
        log.info(f"SHAP: explaining a sample of {MAX_RECORDS} of {table.height} records")
    background = _background(settings, config, records, records.shape[1])
    try:
        columns = explained_columns(settings, records.shape[1])
        result = explain(client.scores, records, background, num_samples=settings.num_samples, seed=settings.seed,
                         use_logit=settings.use_logit)
    except ValueError as exc:  # ExplainInputError: the model's answers or the inputs, named
        raise JobFailed(f"ClientError: {exc}") from None
    local = result.local[:, columns]
    global_values = aggregate(local, settings.agg_method)
    outputs = global_values.shape[1] if global_values.ndim == 2 else 1
    labels = label_names(config.predictor.label_headers if config.predictor else None, outputs)
    names = [table.features[i] for i in columns]
    log.info(f"SHAP: {records.shape[0]} records, {records.shape[1]} features, {result.model_calls} model calls "
             f"for {result.rows_sent} rows")
    if settings.save_local_shap_values and output is not None:
        header, values = local_shap_rows(names, labels, local)
        folder = output / "explanations_shap"
        folder.mkdir(parents=True, exist_ok=True)
        np.savetxt(folder / "out.csv", values, fmt="%.17g", delimiter=",", header=",".join(header), comments="")
    document = explanation_analysis(names, labels, global_values, result.expected_value)
    return document["explanations"]
