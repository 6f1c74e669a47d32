"""The built-in model-quality job: what SageMaker runs with `analysis_type=MODEL_QUALITY` (spec §9).

Reads a validation dataset with predictions (CSV, JSON Lines, JSON, Parquet) or merged capture +
ground-truth records (`{"sagemakerMergeJson": {"captureIndexNames": ["endpointOutput"]}}`, spec §3.5), picks
the ground-truth, inference and probability attributes, folds them into a `ModelQualityState` batch by
batch, and writes `statistics.json` + `constraints.json` (baseline) and, against `baseline_constraints`,
`constraint_violations.json` too. Returns the data-quality job's `JobSummary`.

Attributes (`inference_attribute`, `probability_attribute`, `ground_truth_attribute`):
- CSV and Parquet datasets: a column name, or a 0-based column index ("0");
- JSON (Lines) datasets and JSON payloads: a key or path (`score`, `prediction.label`, `$.scores[1]`), or an
  index into a JSON array;
- merged records: `inference_attribute`/`probability_attribute` in the endpointOutput payload (endpointInput
  when only it is selected): CSV payloads by index, JSON payloads by path or index; the label is
  `groundTruthData.data` (a single value) unless `ground_truth_attribute` picks an index or path in it.
Without an inference attribute, binary predictions come from the probability: positive when
probability >= probability_threshold_attribute (default 0.5).

Rows whose values are missing or unreadable are counted by reason and left out; no usable row fails the job.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import polars as pl

from watchkeeper.analysis import aws_json
from watchkeeper.analysis import model_quality as mq
from watchkeeper.analysis.columns import read_ndjson
from watchkeeper.analysis.report import completion_message
from watchkeeper.capture.reader import parse_time
from watchkeeper.jobs.builtin import (
    CONSTRAINTS_FILE,
    NO_DATA_REASON,
    STATISTICS_FILE,
    VIOLATIONS_FILE,
    DatasetFormat,
    InputStats,
    JobFailed,
    JobLog,
    JobSummary,
    ProgressFn,
    dataset_batches,
    list_files,
    read_json_document,
    shown_path,
    with_bad_records,
)

DEFAULT_THRESHOLD = 0.5
METRICS_FILE = "model-quality-metrics.jsonl"

# Reasons a row is left out, as reported in the log and the summary.
NO_LABEL = "ground truth is missing"
BAD_LABEL = "ground truth is not a number"
NO_PREDICTION = "prediction is missing or unreadable"
NO_PROBABILITY = "probability is missing or not a number"
BAD_RECORD = "line is not a JSON record"
NO_TIME = "merged record has no valid inferenceTime"

_SIDE = pl.Struct({"observedContentType": pl.String, "mode": pl.String, "data": pl.String, "encoding": pl.String})
MERGE_SCHEMA = {
    "groundTruthData": pl.Struct({"data": pl.String, "encoding": pl.String}),
    "captureData": pl.Struct({"endpointInput": _SIDE, "endpointOutput": _SIDE}),
    "eventMetadata": pl.Struct({"eventId": pl.String, "inferenceId": pl.String, "inferenceTime": pl.String}),
}
_INDEX = re.compile(r"^\s*\d+\s*$")


@dataclass(frozen=True)
class Attributes:
    """Where the label, prediction and probability are, and how to read a binary prediction."""

    ground_truth: str | None = None
    inference: str | None = None
    probability: str | None = None
    threshold: float | None = None
    positive_label: str | None = None

    @classmethod
    def create(cls, *, ground_truth: str | None, inference: str | None, probability: str | None,
               threshold: str | float | None, positive_label: str | None) -> Attributes:
        value = None
        if threshold not in (None, ""):
            try:
                value = float(threshold)  # type: ignore[arg-type]
            except ValueError as error:
                raise JobFailed(f"probability_threshold_attribute must be a number, got {threshold!r}") from error
        return cls(_blank(ground_truth), _blank(inference), _blank(probability), value, _blank(positive_label))


def _blank(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


@dataclass
class Columns:
    """One batch: the ground truth, the prediction and the probability as text (None when not read)."""

    actual: pl.Series
    predicted: pl.Series | None
    probability: pl.Series | None


@dataclass
class Reading:
    stats: InputStats = field(default_factory=InputStats)
    skipped: Counter = field(default_factory=Counter)


# ------------------------------------------------------------------------------------------- reading


def _column(frame: pl.DataFrame, attribute: str | None, what: str) -> pl.Series | None:
    if attribute is None:
        return None
    if attribute in frame.columns:
        return frame.get_column(attribute).cast(pl.String)
    if _INDEX.match(attribute):
        index = int(attribute)
        if index < frame.width:
            return frame.to_series(index).cast(pl.String)
    raise JobFailed(f"The {what} {attribute!r} is not a column of the dataset (columns: "
                    f"{', '.join(frame.columns)}); give a column name or a 0-based index.")


def _table_batches(files: Sequence[Path], fmt: DatasetFormat, attrs: Attributes, reading: Reading,
                   progress: ProgressFn | None) -> Iterator[Columns]:
    if fmt.kind == "parquet":
        frames: Iterator[pl.DataFrame] = _parquet_frames(files, reading, progress)
    else:
        frames = dataset_batches(files, fmt, reading.stats, progress)
    for frame in frames:
        actual = _column(frame, attrs.ground_truth, "ground_truth_attribute")
        if actual is None:
            raise JobFailed("ground_truth_attribute is required for a dataset (the column with the labels).")
        yield Columns(actual, _column(frame, attrs.inference, "inference_attribute"),
                      _column(frame, attrs.probability, "probability_attribute"))


def _parquet_frames(files: Sequence[Path], reading: Reading, progress: ProgressFn | None) -> Iterator[pl.DataFrame]:
    for path in files:
        reading.stats.files += 1
        size = path.stat().st_size
        reading.stats.bytes += size
        if progress:
            progress(size)
        yield pl.read_parquet(path)


def _lines(data: bytes) -> pl.Series:
    """Non-blank lines of a file as a String series (no per-line Python objects)."""
    frame = pl.read_csv(io.BytesIO(data), has_header=False, separator="\x1f", quote_char=None,
                        schema={"line": pl.String}, truncate_ragged_lines=True)
    lines = frame.get_column("line").str.strip_chars()
    return lines.filter(lines.is_not_null() & (lines != ""))


def json_path(attribute: str | None) -> str:
    """A JSONPath for an attribute: `$` for none, `$[i]` for an index, `$.a.b` for `a.b`, as is for `$...`."""
    if attribute is None:
        return "$"
    if attribute.startswith("$"):
        return attribute
    if _INDEX.match(attribute):
        return f"$[{int(attribute)}]"
    return "$." + attribute if not attribute.startswith("[") else "$" + attribute


def _json_values(texts: pl.Series, attribute: str | None) -> pl.Series:
    """Values at `attribute` in JSON texts (scalars as text, objects/arrays as JSON); null where absent.
    Index 0 of a scalar is the scalar (an endpoint answering `0.93` has one output value)."""
    values = texts.str.json_path_match(json_path(attribute))
    if attribute is not None and _INDEX.match(attribute) and int(attribute) == 0:
        scalar = texts.str.json_path_match("$")
        is_scalar = ~texts.str.strip_chars_start().str.starts_with("[") & ~texts.str.strip_chars_start() \
            .str.starts_with("{")
        values = pl.select(pl.when(values.is_null() & is_scalar.fill_null(False)).then(scalar)
                           .otherwise(values)).to_series()
    return values


def _json_batches(files: Sequence[Path], fmt: DatasetFormat, attrs: Attributes, reading: Reading,
                  progress: ProgressFn | None) -> Iterator[Columns]:
    if attrs.ground_truth is None:
        raise JobFailed("ground_truth_attribute is required for a dataset (the key with the labels).")
    for path in files:
        reading.stats.files += 1
        data = path.read_bytes()
        reading.stats.bytes += len(data)
        if progress:
            progress(len(data))
        if fmt.lines:
            texts = _lines(data)
        else:  # one JSON document (an object or a list of objects): rare and small, re-encoded as lines
            try:
                value = orjson.loads(data)
            except orjson.JSONDecodeError as error:
                raise JobFailed(f"{path.name} is not JSON ({error}); for JSON Lines use "
                                '{"json": {"lines": true}}') from error
            records = value if isinstance(value, list) else [value]
            texts = pl.Series([orjson.dumps(record).decode() for record in records], dtype=pl.String)
        valid = texts.str.json_path_match("$").is_not_null() & texts.str.starts_with("{")
        reading.stats.count(BAD_RECORD, int((~valid).sum()))
        texts = texts.filter(valid)
        if texts.len():
            yield Columns(_json_values(texts, attrs.ground_truth),
                          None if attrs.inference is None else _json_values(texts, attrs.inference),
                          None if attrs.probability is None else _json_values(texts, attrs.probability))


def _payload_values(side: pl.DataFrame, attribute: str | None) -> pl.Series:
    """Values at `attribute` of one capture side or ground-truth payload (`data`, `encoding`, and
    `observedContentType` when present): CSV by index, JSON by path or index, BASE64 decoded first."""
    data = side.get_column("data")
    encoding = side.get_column("encoding").fill_null("CSV").str.to_uppercase()
    content_type = (side.get_column("observedContentType") if "observedContentType" in side.columns
                    else pl.Series([""] * side.height)).fill_null("").str.to_lowercase()
    is_base64 = encoding == "BASE64"
    if is_base64.any():
        decoded = data.str.decode("base64", strict=False).cast(pl.String, strict=False)
        data = pl.select(pl.when(is_base64).then(decoded).otherwise(data)).to_series()
    is_json = (encoding == "JSON") | (is_base64 & content_type.str.contains("json"))
    data = data.str.strip_chars()
    json_values = _json_values(data, attribute)
    if attribute is None:
        csv_values = data
    elif _INDEX.match(attribute):
        csv_values = data.str.split(",").list.get(int(attribute), null_on_oob=True)
    else:
        csv_values = pl.Series([None] * side.height, dtype=pl.String)
    return pl.select(pl.when(is_json).then(json_values).otherwise(csv_values)).to_series()


def _merge_batches(files: Sequence[Path], fmt: DatasetFormat, attrs: Attributes, reading: Reading,
                   progress: ProgressFn | None, start: Any, end: Any) -> Iterator[Columns]:
    order = [s for s in ("endpointOutput", "endpointInput") if s in fmt.capture_indices]
    if not order:
        raise JobFailed(f"captureIndexNames selects no capture side: {list(fmt.capture_indices)}")
    for path in files:
        reading.stats.files += 1
        data = path.read_bytes()
        reading.stats.bytes += len(data)
        if progress:
            progress(len(data))
        batch = read_ndjson(data, MERGE_SCHEMA)
        reading.stats.count(BAD_RECORD, batch.bad_rows)
        frame = _in_window(batch.frame, start, end, reading)
        if frame.height == 0:
            continue
        truth = frame.get_column("groundTruthData").struct.unnest()
        output = frame.get_column("captureData").struct.field(order[0]).struct.unnest()
        yield Columns(_payload_values(truth, attrs.ground_truth),
                      None if attrs.inference is None else _payload_values(output, attrs.inference),
                      None if attrs.probability is None else _payload_values(output, attrs.probability))


def _in_window(frame: pl.DataFrame, start: Any, end: Any, reading: Reading) -> pl.DataFrame:
    """Records whose inferenceTime is in [start, end) when a window is given."""
    if (start is None and end is None) or frame.height == 0:
        return frame
    times = frame.select(pl.col("eventMetadata").struct.field("inferenceTime")
                         .str.to_datetime(strict=False, time_unit="us", time_zone="UTC")).to_series()
    inside = times.is_not_null()
    reading.stats.count(NO_TIME, times.null_count())
    if start is not None:
        inside &= times >= start
    if end is not None:
        inside &= times < end
    outside = int(len(times) - times.null_count() - inside.sum())
    if outside:
        reading.skipped["outside the analysis window"] += outside
    return frame.filter(inside)


# ---------------------------------------------------------------------------------------- computing


class _Folder:
    """Turns batches of text columns into state updates, counting rows it cannot use."""

    def __init__(self, problem_type: str, attrs: Attributes, reading: Reading, seed: int | None) -> None:
        self.problem_type = problem_type
        self.attrs = attrs
        self.reading = reading
        self.seed = seed
        self.state: mq.ModelQualityState | None = None
        if attrs.inference is None and (problem_type != mq.BINARY or attrs.probability is None):
            needs = "inference_attribute" if problem_type != mq.BINARY else \
                "inference_attribute or probability_attribute"
            raise JobFailed(f"{needs} is required for {problem_type} (where the model's prediction is).")

    def add(self, columns: Columns) -> None:
        count = self.reading.stats.count
        if self.problem_type == mq.REGRESSION:
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
        actual = mq.canonical_labels(columns.actual)
        ok = (actual.is_not_null() & (actual != "")).to_numpy()
        count(NO_LABEL, int((~ok).sum()))
        scores = None
        if columns.probability is not None and self.problem_type == mq.BINARY:
            scores = _numbers(columns.probability)
            bad = ok & ~np.isfinite(scores)
            count(NO_PROBABILITY, int(bad.sum()))
            ok &= ~bad
        labels = actual.to_numpy()
        if columns.predicted is not None:
            predicted = mq.canonical_labels(columns.predicted)
            bad = ok & ~(predicted.is_not_null() & (predicted != "")).to_numpy()
            count(NO_PREDICTION, int(bad.sum()))
            ok &= ~bad
            predictions = predicted.to_numpy()
        state = self._state(labels[ok], None if columns.predicted is None else predictions[ok])
        if columns.predicted is None:
            threshold = DEFAULT_THRESHOLD if self.attrs.threshold is None else self.attrs.threshold
            predictions = np.full(len(labels), "", dtype=object)
            predictions[ok] = mq.threshold_predictions(scores[ok], threshold, state.positive_label or "1")
        state.update(labels[ok].astype(str), predictions[ok].astype(str), None if scores is None else scores[ok])

    def _state(self, labels: np.ndarray | None = None, predictions: np.ndarray | None = None) -> mq.ModelQualityState:
        if self.state is None:
            positive = None
            if self.problem_type == mq.BINARY:
                positive = self._positive_label(labels, predictions)
            self.state = mq.ModelQualityState(self.problem_type, positive_label=positive, seed=self.seed)
        return self.state

    def _positive_label(self, labels: np.ndarray | None, predictions: np.ndarray | None) -> str:
        if self.attrs.positive_label is not None:
            return mq.canonical_labels(pl.Series([self.attrs.positive_label])).item()
        seen = set() if labels is None else set(np.unique(labels).tolist())
        if predictions is not None:
            seen |= set(np.unique(predictions.astype(str)).tolist())
        positive = mq.default_positive_label(seen)
        if positive is None:
            raise JobFailed(f"positive_label is required for binary labels {sorted(seen)[:10]}: say which "
                            "label is the positive class.")
        return positive


def _numbers(texts: pl.Series) -> np.ndarray:
    values = texts.cast(pl.String).str.strip_chars().str.strip_chars('"').cast(pl.Float64, strict=False)
    return values.fill_null(np.nan).to_numpy().astype(np.float64)


def compute_state(source: str | os.PathLike[str], fmt: DatasetFormat, problem_type: str, attrs: Attributes, *,
                  start_time: Any = None, end_time: Any = None, seed: int | None = 0, log: JobLog | None = None,
                  progress: ProgressFn | None = None) -> tuple[mq.ModelQualityState, Reading]:
    """Read the input and fold it into a state; raises JobFailed when no row can be evaluated."""
    log = log or JobLog()
    if problem_type not in mq.PROBLEM_TYPES:
        raise JobFailed(f"problem_type must be one of {', '.join(mq.PROBLEM_TYPES)}, got {problem_type!r}")
    files = list_files(source)
    reading = Reading()
    folder = _Folder(problem_type, attrs, reading, seed)
    if fmt.kind == "merge":
        try:
            start, end = parse_time(start_time), parse_time(end_time)
        except ValueError as error:
            raise JobFailed(f"Invalid analysis window: {error}") from error
        batches = _merge_batches(files, fmt, attrs, reading, progress, start, end)
    elif fmt.kind in ("csv", "parquet"):
        batches = _table_batches(files, fmt, attrs, reading, progress)
    elif fmt.kind == "json":
        batches = _json_batches(files, fmt, attrs, reading, progress)
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
) -> JobSummary:
    """A model-quality baseline (no `baseline_constraints`) or monitoring job; see the module docstring."""
    log = log or JobLog()
    fmt = dataset_format if isinstance(dataset_format, DatasetFormat) else DatasetFormat.parse(dataset_format)
    attrs = Attributes.create(ground_truth=ground_truth_attribute, inference=inference_attribute,
                              probability=probability_attribute, threshold=probability_threshold_attribute,
                              positive_label=positive_label)
    baseline = _load_constraints(baseline_constraints)
    state, reading = compute_state(dataset_source, fmt, problem_type, attrs, start_time=start_time,
                                   end_time=end_time, seed=seed, log=log, progress=progress)
    statistics = state.to_document()
    constraints = mq.suggest_constraints(statistics)
    violations = None
    if baseline is not None:
        try:
            violations = mq.find_violations(statistics, baseline)
        except ValueError as error:
            raise JobFailed(f"The baseline constraints cannot be checked: {error}") from error
        except (AttributeError, TypeError, KeyError, IndexError) as error:
            raise JobFailed(
                f"ClientError: baseline constraints {shown_path(baseline_constraints)} could not be applied: a value "
                f"in them is not of the shape SageMaker writes ({type(error).__name__}: {error})"
            ) from error
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    outputs = [_write(out / STATISTICS_FILE, statistics), _write(out / CONSTRAINTS_FILE, constraints)]
    if violations is not None:
        outputs.append(_write(out / VIOLATIONS_FILE, mq.violations_document(violations)))
    message = with_bad_records(completion_message(violations or []), reading.stats.bad, state.count,
                               verb="evaluated")
    return JobSummary(state.count, dict(reading.stats.bad), message, out, outputs,
                      statistics, constraints, violations, input_files=reading.stats.files,
                      skipped_records=dict(reading.skipped), baseline_constraints=baseline)


def _write(path: Path, document: Mapping[str, Any]) -> str:
    path.write_text(aws_json.dumps(document), encoding="utf-8")
    return path.name


def run_model_quality(environment: Mapping[str, str], *, log: JobLog | None = None,
                      progress: ProgressFn | None = None) -> JobSummary:
    """The job from the processing job's Environment (spec §2.6, §4.2), as `builtin.run_environment` calls
    it for `analysis_type=MODEL_QUALITY`; writes CloudWatch metric lines when publishing is Enabled."""
    log = log or JobLog()
    publish = str(environment.get("publish_cloudwatch_metrics", "Disabled")).lower() == "enabled"
    if publish and not environment.get("sagemaker_monitoring_schedule_name"):
        raise JobFailed("CloudWatch publishing is available only for jobs from MonitoringSchedules.")
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
        log=log, progress=progress,
    )
    if publish:
        lines = mq.metric_lines(summary.statistics, endpoint=environment.get("sagemaker_endpoint_name") or None,
                                schedule=environment.get("sagemaker_monitoring_schedule_name") or None,
                                metric_time=environment.get("metric_time") or environment.get("start_time") or None)
        folder = Path(environment.get("CLOUDWATCH_METRICS_DIRECTORY") or "/opt/ml/output/metrics/cloudwatch")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / METRICS_FILE).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return summary


__all__ = ["Attributes", "compute_state", "model_quality_job", "run_model_quality"]
