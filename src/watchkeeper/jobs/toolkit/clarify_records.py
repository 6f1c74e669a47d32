"""Captured (and merged) records as a Clarify table: features from `endpointInput`, the prediction from
`endpointOutput`, the label from `groundTruthData` (spec §3.3, §3.5, §10.1).

Attributes, as the monitoring job definition's EndpointInput gives them:
- `features_attribute`: a JMESPath to the features in a JSON payload (required for JSON); CSV payloads are
  the features themselves.
- `inference_attribute`: the predicted label in the output (CSV index, or JMESPath); else
  `probability_attribute` (CSV index or JMESPath; the whole output when neither) compared with
  `probability_threshold_attribute` (default 0.5): score > threshold is label 1.
- the label: a JSON ground truth read with the analysis config's `label` (a JMESPath such as `label`),
  else the ground truth's text itself.
A request that carried several records (CSV or JSON Lines lines, or a JSON list of feature lists) gives one
row per record; records whose parts cannot be read are counted by reason and left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jmespath
import orjson
import polars as pl

from watchkeeper.analysis.columns import read_ndjson
from watchkeeper.capture import payloads
from watchkeeper.capture.window import select_frame
from watchkeeper.jobs.toolkit.clarify_dataset import ClarifyTable
from watchkeeper.jobs.toolkit.clarify_values import csv_records, label_text, numeric_columns, text_lines
from watchkeeper.jobs.toolkit.labelled import MERGE_SCHEMA
from watchkeeper.jobs.toolkit.summary import JobFailed

PREDICTED = "_predicted_label"
NOT_JSON = "line is not a JSON record"
NO_FEATURES = "features could not be read from endpointInput"
NO_PREDICTION = "prediction could not be read from endpointOutput"
NO_LABEL = "ground truth is missing or unreadable"
WRONG_WIDTH = "record has an unexpected number of features"
OUTSIDE = "inferenceTime outside the window"
OVER_BOUND = "over the job's record bound"
MAX_RECORDS = 2_000_000  # rows kept per job (Python lists until the table is built); the rest are counted


@dataclass(frozen=True)
class RecordAttributes:
    features: str | None = None
    inference: str | None = None
    probability: str | None = None
    threshold: float = 0.5
    label: str | None = None  # the analysis config's label: a JMESPath into a JSON ground truth


@dataclass
class RecordReading:
    bad: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    files: int = 0
    requests: int = 0


def read_records(files: Sequence[Path], names_for: Callable[[int], list[str]], attrs: RecordAttributes, *,
                 merged: bool, start: Any, end: Any, reading: RecordReading) -> ClarifyTable:
    """The window's records as a table: the feature columns (named by `names_for(width)`), then the label
    (merged records) and the predicted label (`PREDICTED`, when the output says it)."""
    rows: list[list[Any]] = []
    labels: list[Any] = []
    predicted: list[Any] = []
    for path in files:
        reading.files += 1
        batch = read_ndjson(path.read_bytes(), MERGE_SCHEMA)
        reading.bad[NOT_JSON] += batch.bad_rows
        if batch.frame.height == 0:
            continue
        frame, counts = select_frame(batch.frame, start, end)
        if counts.outside:
            reading.skipped[OUTSIDE] += counts.outside
        if frame.height == 0:
            continue
        capture = frame.get_column("captureData").struct
        inputs = _texts(capture.field("endpointInput").struct.unnest())
        outputs = _texts(capture.field("endpointOutput").struct.unnest())
        truths = _texts(frame.get_column("groundTruthData").struct.unnest()) if merged else None
        for index, (input_text, output_text) in enumerate(zip(inputs, outputs, strict=True)):
            reading.requests += 1
            found = _feature_rows(input_text, attrs.features)
            if not found:
                reading.bad[NO_FEATURES] += 1
                continue
            answers = _predictions(output_text, attrs, len(found))
            truth = _labels(truths[index], attrs.label, len(found)) if truths is not None else [None] * len(found)
            for row, answer, label in zip(found, answers, truth, strict=True):
                if merged and label is None:
                    reading.bad[NO_LABEL] += 1
                    continue
                if len(rows) >= MAX_RECORDS:
                    reading.skipped[OVER_BOUND] += 1
                    continue
                rows.append(row)
                labels.append(label)
                predicted.append(answer)
    width = len(rows[0]) if rows else 0
    names = names_for(width) if rows else []
    keep = [i for i, row in enumerate(rows) if len(row) == width]
    reading.bad[WRONG_WIDTH] += len(rows) - len(keep)
    data: dict[str, Any] = {name: [rows[i][j] for i in keep] for j, name in enumerate(names)}
    label_name = None
    if merged:
        label_name = attrs.label or "label"
        data[label_name] = [labels[i] for i in keep]
    if any(predicted[i] is not None for i in keep):
        data[PREDICTED] = [None if predicted[i] is None else str(predicted[i]) for i in keep]
    reading.bad = Counter({reason: n for reason, n in reading.bad.items() if n})
    frame = pl.DataFrame(data, strict=False)
    return ClarifyTable(numeric_columns(frame, keep_text=(PREDICTED,)), tuple(names), label_name,
                        sum(reading.bad.values()))


def _texts(side: pl.DataFrame) -> list[str | None]:
    return payloads.decode(side).text.to_list()


def _feature_rows(text: str | None, path: str | None) -> list[list[Any]]:
    if not text:
        return []
    stripped = text.strip()
    if stripped[:1] in "[{":
        if path is None:
            try:
                value = orjson.loads(stripped)
            except orjson.JSONDecodeError:
                return []
            return [value] if isinstance(value, list) and not any(isinstance(v, list) for v in value) else []
        rows = []
        for line in text_lines(stripped) if "\n" in stripped else [stripped]:
            try:
                found = jmespath.search(path, orjson.loads(line))
            except (orjson.JSONDecodeError, jmespath.exceptions.JMESPathError):
                return []
            if isinstance(found, list) and found and all(isinstance(v, list) for v in found):
                rows.extend(found)
            elif isinstance(found, list):
                rows.append(found)
            else:
                return []
        return rows
    return [line.split(",") for line in text_lines(stripped)]


def _predictions(text: str | None, attrs: RecordAttributes, count: int) -> list[Any]:
    """One predicted label per record (None where unreadable)."""
    if not text:
        return [None] * count
    stripped = text.strip()
    if stripped[:1] in "[{":
        items = _json_items(stripped, count)
        values = [_pick(item, attrs.inference if attrs.inference else attrs.probability) for item in items]
    else:
        lines = csv_records(stripped, count)
        values = [_csv_pick(line, attrs.inference if attrs.inference else attrs.probability) for line in lines]
    if len(values) != count:
        return [None] * count
    if attrs.inference:
        return [label_text(v) for v in values]
    return [_threshold(v, attrs.threshold) for v in values]


def _json_items(text: str, count: int) -> list[Any]:
    if "\n" in text:
        try:
            return [orjson.loads(line) for line in text_lines(text)]
        except orjson.JSONDecodeError:
            return []
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return []
    if isinstance(value, dict) and isinstance(value.get("predictions"), list) and count > 1:
        return value["predictions"]
    return [value] if count == 1 else (value if isinstance(value, list) else [])


def _pick(item: Any, path: str | None) -> Any:
    if path is None:
        return item
    if isinstance(item, list) and path.isdigit():
        return item[int(path)] if int(path) < len(item) else None
    try:
        return jmespath.search(path, item)
    except jmespath.exceptions.JMESPathError:
        return None


def _csv_pick(line: str, path: str | None) -> Any:
    parts = line.split(",")
    if path is None:
        return parts[0] if len(parts) == 1 else None
    return parts[int(path)].strip() if path.isdigit() and int(path) < len(parts) else None


def _threshold(value: Any, threshold: float) -> str | None:
    try:
        return "1" if float(value) > threshold else "0"
    except (TypeError, ValueError):
        return None


def _labels(text: str | None, path: str | None, count: int) -> list[Any]:
    if text is None or not text.strip():
        return [None] * count
    stripped = text.strip()
    lines = text_lines(stripped) if count > 1 else [stripped]
    if len(lines) != count:
        return [None] * count
    out = []
    for line in lines:
        if line[:1] in "[{":
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                out.append(None)
                continue
            out.append(label_text(_pick(value, path) if isinstance(value, dict) else value))
        else:
            out.append(label_text(line))
    return out


def require_rows(table: ClarifyTable, reading: RecordReading, what: str) -> None:
    if table.height == 0:
        reasons = ", ".join(f"{n} {reason}" for reason, n in reading.bad.most_common()) or "no records"
        raise JobFailed(f"ClientError: no {what} in the window to analyse ({reading.requests} captured requests "
                        f"in {reading.files} files; {reasons})")
