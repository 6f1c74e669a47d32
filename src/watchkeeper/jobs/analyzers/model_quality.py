"""The model-quality analyzer: what SageMaker runs with `analysis_type=MODEL_QUALITY` (spec §9).

Reads a validation dataset with predictions (CSV, JSON Lines, JSON, Parquet) or merged capture +
ground-truth records (`{"sagemakerMergeJson": {"captureIndexNames": ["endpointOutput"]}}`, spec §3.5) through
`jobs.toolkit.labelled`, folds the ground-truth, inference and probability attributes into a
`ModelQualityState` batch by batch, builds the typed result from it once (`analysis.result.model_quality_result`:
metrics, violations, status), and writes `statistics.json` + `constraints.json` (baseline) and, against
`baseline_constraints`, `constraint_violations.json` too, from that result. Returns the toolkit's `JobSummary`.

Without an inference attribute, binary predictions come from the probability: positive when
probability >= probability_threshold_attribute (default 0.5). Rows whose values are missing or unreadable
are counted by reason and left out; no usable row fails the job.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from watchkeeper.analysis import model_quality_metrics as mqm
from watchkeeper.analysis import model_quality_states as mqs
from watchkeeper.analysis.result import model_quality_result
from watchkeeper.capture.reader import parse_time
from watchkeeper.jobs.toolkit.documents import read_json_document, shown_path
from watchkeeper.jobs.toolkit.formats import DatasetFormat
from watchkeeper.jobs.toolkit.inputs import ProgressFn, list_files
from watchkeeper.jobs.toolkit.job_log import JobLog
from watchkeeper.jobs.toolkit.labelled import (
    BAD_LABEL,
    NO_LABEL,
    NO_PREDICTION,
    NO_PROBABILITY,
    Attributes,
    Columns,
    Reading,
    json_batches,
    merge_batches,
    table_batches,
)
from watchkeeper.jobs.toolkit.summary import (
    CONSTRAINTS_FILE,
    NO_DATA_REASON,
    STATISTICS_FILE,
    VIOLATIONS_FILE,
    JobFailed,
    JobSummary,
    job_message,
    publish_metric_lines,
    publishes_metrics,
    write_document,
)

DEFAULT_THRESHOLD = 0.5
METRICS_FILE = "model-quality-metrics.jsonl"



class _Folder:
    """Turns batches of text columns into state updates, counting rows it cannot use."""

    def __init__(self, problem_type: str, attrs: Attributes, reading: Reading, seed: int | None) -> None:
        self.problem_type = problem_type
        self.attrs = attrs
        self.reading = reading
        self.seed = seed
        self.state: mqm.ModelQualityState | None = None
        if attrs.inference is None and (problem_type != mqs.BINARY or attrs.probability is None):
            needs = "inference_attribute" if problem_type != mqs.BINARY else \
                "inference_attribute or probability_attribute"
            raise JobFailed(f"{needs} is required for {problem_type} (where the model's prediction is).")

    def add(self, columns: Columns) -> None:
        count = self.reading.stats.count
        if self.problem_type == mqs.REGRESSION:
            actual = _numbers(columns.actual)
            predicted = _numbers(columns.predicted)  # type: ignore[arg-type]
            ok_actual, ok_predicted = np.isfinite(actual), np.isfinite(predicted)
            missing = columns.actual.is_null().to_numpy()
            count(NO_LABEL, int(missing.sum()))
            count(BAD_LABEL, int((~ok_actual & ~missing).sum()))
            count(NO_PREDICTION, int((ok_actual & ~ok_predicted).sum()))
            keep = ok_actual & ok_predicted
            self._state().update(actual[keep], predicted[keep])
            return
        actual = mqs.canonical_labels(columns.actual)
        ok = (actual.is_not_null() & (actual != "")).to_numpy()
        count(NO_LABEL, int((~ok).sum()))
        scores = None
        if columns.probability is not None and self.problem_type == mqs.BINARY:
            scores = _numbers(columns.probability)
            bad = ok & ~np.isfinite(scores)
            count(NO_PROBABILITY, int(bad.sum()))
            ok &= ~bad
        labels = actual.to_numpy()
        if columns.predicted is not None:
            predicted = mqs.canonical_labels(columns.predicted)
            bad = ok & ~(predicted.is_not_null() & (predicted != "")).to_numpy()
            count(NO_PREDICTION, int(bad.sum()))
            ok &= ~bad
            predictions = predicted.to_numpy()
        state = self._state(labels[ok], None if columns.predicted is None else predictions[ok])
        if columns.predicted is None:
            threshold = DEFAULT_THRESHOLD if self.attrs.threshold is None else self.attrs.threshold
            predictions = np.full(len(labels), "", dtype=object)
            predictions[ok] = mqs.threshold_predictions(scores[ok], threshold, state.positive_label or "1")
        state.update(labels[ok].astype(str), predictions[ok].astype(str), None if scores is None else scores[ok])

    def _state(self, labels: np.ndarray | None = None, predictions: np.ndarray | None = None) -> mqm.ModelQualityState:
        if self.state is None:
            positive = None
            if self.problem_type == mqs.BINARY:
                positive = self._positive_label(labels, predictions)
            self.state = mqm.ModelQualityState(self.problem_type, positive_label=positive, seed=self.seed)
        return self.state

    def _positive_label(self, labels: np.ndarray | None, predictions: np.ndarray | None) -> str:
        if self.attrs.positive_label is not None:
            return mqs.canonical_labels(pl.Series([self.attrs.positive_label])).item()
        seen = set() if labels is None else set(np.unique(labels).tolist())
        if predictions is not None:
            seen |= set(np.unique(predictions.astype(str)).tolist())
        positive = mqs.default_positive_label(seen)
        if positive is None:
            raise JobFailed(f"positive_label is required for binary labels {sorted(seen)[:10]}: say which "
                            "label is the positive class.")
        return positive


def _numbers(texts: pl.Series) -> np.ndarray:
    values = texts.cast(pl.String).str.strip_chars().str.strip_chars('"').cast(pl.Float64, strict=False)
    return values.fill_null(np.nan).to_numpy().astype(np.float64)


def compute_state(source: str | os.PathLike[str], fmt: DatasetFormat, problem_type: str, attrs: Attributes, *,
                  start_time: Any = None, end_time: Any = None, seed: int | None = 0, log: JobLog | None = None,
                  progress: ProgressFn | None = None) -> tuple[mqm.ModelQualityState, Reading]:
    """Read the input and fold it into a state; raises JobFailed when no row can be evaluated."""
    log = log or JobLog()
    if problem_type not in mqs.PROBLEM_TYPES:
        raise JobFailed(f"problem_type must be one of {', '.join(mqs.PROBLEM_TYPES)}, got {problem_type!r}")
    files = list_files(source)
    reading = Reading()
    folder = _Folder(problem_type, attrs, reading, seed)
    if fmt.kind == "merge":
        try:
            start, end = parse_time(start_time), parse_time(end_time)
        except ValueError as error:
            raise JobFailed(f"Invalid analysis window: {error}") from error
        batches = merge_batches(files, fmt, attrs, reading, progress, start, end)
    elif fmt.kind in ("csv", "parquet"):
        batches = table_batches(files, fmt, attrs, reading, progress)
    elif fmt.kind == "json":
        batches = json_batches(files, fmt, attrs, reading, progress)
    else:
        raise JobFailed("A model-quality job reads a dataset (csv, json, parquet) or merged records "
                        '({"sagemakerMergeJson": {"captureIndexNames": ["endpointOutput"]}}), not capture data.')
    for columns in batches:
        folder.add(columns)
    for reason, count in sorted(reading.stats.bad.items()):
        log.info(f"Bad records: {count} x {reason}")
    for reason, count in sorted(reading.skipped.items()):
        log.info(f"Skipped records: {count} x {reason}")
    if folder.state is None or folder.state.count == 0:
        if not reading.stats.bad:
            raise JobFailed(NO_DATA_REASON)
        reasons = ", ".join(f"{count} x {reason}" for reason, count in sorted(reading.stats.bad.items()))
        raise JobFailed(f"{NO_DATA_REASON}: no record had both a usable ground truth and prediction ({reasons})")
    log.info(f"Evaluated {folder.state.count} rows from {reading.stats.files} files")
    return folder.state, reading


# How the input becomes a state: `compute_state` in this process; jobs/analyzers/distributed.py over Dask.
StateCompute = Callable[..., tuple[mqm.ModelQualityState, Reading]]


# ---------------------------------------------------------------------------------------------- job


def _load_constraints(value: Any) -> dict[str, Any] | None:
    if value is None or isinstance(value, Mapping):
        return dict(value) if value is not None else None
    document = read_json_document(value, "baseline constraints")
    if not isinstance(document, dict):
        raise JobFailed(f"ClientError: baseline constraints {shown_path(value)} is not a model-quality constraints "
                        f'document: expected a JSON object (e.g. with "binary_classification_constraints"), got '
                        f"{'a list' if isinstance(document, list) else type(document).__name__}")
    return document


def model_quality_job(
    dataset_source: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    dataset_format: str | Mapping[str, Any] | DatasetFormat | None,
    *,
    problem_type: str,
    ground_truth_attribute: str | None = None,
    inference_attribute: str | None = None,
    probability_attribute: str | None = None,
    probability_threshold_attribute: str | float | None = None,
    positive_label: str | None = None,
    baseline_constraints: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    start_time: Any = None,
    end_time: Any = None,
    seed: int | None = 0,
    log: JobLog | None = None,
    progress: ProgressFn | None = None,
    compute: StateCompute | None = None,
) -> JobSummary:
    """A model-quality baseline (no `baseline_constraints`) or monitoring job; see the module docstring."""
    log = log or JobLog()
    fmt = dataset_format if isinstance(dataset_format, DatasetFormat) else DatasetFormat.parse(dataset_format)
    attrs = Attributes.create(ground_truth=ground_truth_attribute, inference=inference_attribute,
                              probability=probability_attribute, threshold=probability_threshold_attribute,
                              positive_label=positive_label)
    baseline = _load_constraints(baseline_constraints)
    state, reading = (compute or compute_state)(dataset_source, fmt, problem_type, attrs, start_time=start_time,
                                   end_time=end_time, seed=seed, log=log, progress=progress)
    try:
        result = model_quality_result(state, baseline)
    except ValueError as error:
        raise JobFailed(f"The baseline constraints cannot be checked: {error}") from error
    except (AttributeError, TypeError, KeyError, IndexError) as error:
        raise JobFailed(
            f"ClientError: baseline constraints {shown_path(baseline_constraints)} could not be applied: a value "
            f"in them is not of the shape SageMaker writes ({type(error).__name__}: {error})"
        ) from error
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    outputs = [write_document(out / STATISTICS_FILE, result.statistics),
               write_document(out / CONSTRAINTS_FILE, result.constraints)]
    if result.checked:
        outputs.append(write_document(out / VIOLATIONS_FILE, result.violations_document()))
    message = job_message(result, reading.stats.bad, state.count, verb="evaluated")
    violations = list(result.violations) if result.violations is not None else None
    return JobSummary(state.count, dict(reading.stats.bad), message, out, outputs,
                      dict(result.statistics), dict(result.constraints), violations, input_files=reading.stats.files,
                      skipped_records=dict(reading.skipped), baseline_constraints=baseline, result=result)


def run(environment: Mapping[str, str], *, log: JobLog, progress: ProgressFn | None = None,
        compute: StateCompute | None = None) -> JobSummary:
    """The job from the processing job's Environment (spec §2.6, §4.2); writes CloudWatch metric lines when
    publishing is Enabled."""
    publish = publishes_metrics(environment)
    problem_type = environment.get("problem_type") or ""
    keys = ("problem_type", "inference_attribute", "probability_attribute", "ground_truth_attribute",
            "probability_threshold_attribute", "positive_label", "start_time", "end_time")
    log.info("Performing analysis with input: " + json.dumps({
        "dataset_source": environment["dataset_source"], "dataset_format": environment["dataset_format"],
        "output_path": environment["output_path"], "analysis_type": "MODEL_QUALITY",
        **{key: environment.get(key) for key in keys}}))
    summary = model_quality_job(
        environment["dataset_source"], environment["output_path"], environment["dataset_format"],
        problem_type=problem_type,
        ground_truth_attribute=environment.get("ground_truth_attribute"),
        inference_attribute=environment.get("inference_attribute"),
        probability_attribute=environment.get("probability_attribute"),
        probability_threshold_attribute=environment.get("probability_threshold_attribute"),
        positive_label=environment.get("positive_label"),
        baseline_constraints=environment.get("baseline_constraints") or None,
        start_time=environment.get("start_time") or None,
        end_time=environment.get("end_time") or None,
        log=log, progress=progress, compute=compute,
    )
    if publish:
        publish_metric_lines(environment, METRICS_FILE, summary.result)
    return summary


__all__ = ["compute_state", "model_quality_job", "run"]
