"""Reading labels, predictions and probabilities for a model-quality job, batch by batch.

Attributes (`inference_attribute`, `probability_attribute`, `ground_truth_attribute`):
- CSV and Parquet datasets: a column name, or a 0-based column index ("0");
- JSON (Lines) datasets and JSON payloads: a key or path (`score`, `prediction.label`, `$.scores[1]`), or an
  index into a JSON array;
- merged records: `inference_attribute`/`probability_attribute` in the endpointOutput payload (endpointInput
  when only it is selected): CSV payloads by index, JSON payloads by path or index; the label is
  `groundTruthData.data` (a single value) unless `ground_truth_attribute` picks an index or path in it.

Each reader yields `Columns` (the three as text) and counts what it cannot read in a `Reading`.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from watchkeeper.analysis.columns import read_ndjson
from watchkeeper.capture import payloads
from watchkeeper.capture.window import OUTSIDE, SHADOW, select_frame
from watchkeeper.jobs.toolkit.formats import DatasetFormat
from watchkeeper.jobs.toolkit.inputs import InputStats, ProgressFn, dataset_batches
from watchkeeper.jobs.toolkit.summary import JobFailed

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
    "eventMetadata": pl.Struct({"eventId": pl.String, "inferenceId": pl.String, "inferenceTime": pl.String,
                                "invocationSource": pl.String}),
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


def table_batches(files: Sequence[Path], fmt: DatasetFormat, attrs: Attributes, reading: Reading,
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


def json_batches(files: Sequence[Path], fmt: DatasetFormat, attrs: Attributes, reading: Reading,
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
    decoded = payloads.decode(side)  # capture/payloads.py: CSV, JSON, BASE64 (undecodable: null)
    is_json = decoded.is_json
    data = decoded.text.str.strip_chars()
    json_values = _json_values(data, attribute)
    if attribute is None:
        csv_values = data
    elif _INDEX.match(attribute):
        csv_values = data.str.split(",").list.get(int(attribute), null_on_oob=True)
    else:
        csv_values = pl.Series([None] * side.height, dtype=pl.String)
    return pl.select(pl.when(is_json).then(json_values).otherwise(csv_values)).to_series()


def merge_batches(files: Sequence[Path], fmt: DatasetFormat, attrs: Attributes, reading: Reading,
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
    """The window rule (capture/window.py): shadow traffic skipped; with a window, records whose inferenceTime
    is in [start, end)."""
    if frame.height == 0:
        return frame
    frame, counts = select_frame(frame, start, end)
    reading.stats.count(NO_TIME, counts.no_time)
    for reason, n in ((OUTSIDE, counts.outside), (SHADOW, counts.shadow)):
        if n:
            reading.skipped[reason] += n
    return frame
