"""A Clarify job's dataset as one table: a column per feature (named by `headers`) and the label.

Formats (analysis_config `dataset_type`): `text/csv` with or without a header row (a first row equal to
`headers` is a header; without `headers` the first row is), `application/jsonlines` and `application/json`
with `features`/`label` JMESPaths (the `jmespath` library, record by record: a Clarify job's cost is its model
calls, not this parse), `application/x-parquet`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jmespath
import orjson
import polars as pl

from watchkeeper.jobs.toolkit.clarify_config import CSV, JSON, JSON_LINES, PARQUET, ClarifyConfig
from watchkeeper.jobs.toolkit.clarify_values import numeric_columns
from watchkeeper.jobs.toolkit.summary import JobFailed

MAX_DATASET_BYTES = 2 * 1024 * 1024 * 1024


@dataclass(frozen=True)
class ClarifyTable:
    frame: pl.DataFrame  # the features in order, then the label (when there is one)
    features: tuple[str, ...]
    label: str | None
    bad_records: int = 0

    @property
    def height(self) -> int:
        return self.frame.height


def read_dataset(files: Sequence[Path], config: ClarifyConfig) -> ClarifyTable:
    if not files:
        raise JobFailed("ClientError: the dataset input (/opt/ml/processing/input/data) has no files")
    if sum(path.stat().st_size for path in files) > MAX_DATASET_BYTES:
        raise JobFailed(f"ClientError: the dataset is larger than {MAX_DATASET_BYTES >> 30} GB")
    if config.dataset_type == CSV:
        frame = pl.concat([_csv(path, config.headers) for path in files], how="vertical_relaxed")
        return _split_columns(frame, config)
    if config.dataset_type == PARQUET:
        return _split_columns(pl.concat([pl.read_parquet(p) for p in files], how="vertical_relaxed"), config)
    return _json_table(files, config)


def _csv(path: Path, headers: tuple[str, ...] | None) -> pl.DataFrame:
    data = path.read_bytes()
    raw = pl.read_csv(io.BytesIO(data), has_header=False, infer_schema=False, truncate_ragged_lines=True)
    if raw.height == 0:
        return raw
    first = [str(v).strip() if v is not None else "" for v in raw.row(0)]
    has_header = headers is None or [h.strip() for h in headers][: len(first)] == first
    names = first if headers is None else list(headers)
    if has_header:
        raw = raw.slice(1)
    if len(names) != raw.width:
        raise JobFailed(
            f"ClientError: {path.name} has {raw.width} columns but analysis_config.json names {len(names)} headers"
        )
    return numeric_columns(raw.rename(dict(zip(raw.columns, names, strict=True))))


def _split_columns(frame: pl.DataFrame, config: ClarifyConfig) -> ClarifyTable:
    label = _label_column(frame.columns, config)
    excluded = {_column_name(frame.columns, c, "excluded_columns") for c in config.excluded_columns}
    features = tuple(c for c in frame.columns if c != label and c not in excluded)
    frame = numeric_columns(frame.select([*features, *([label] if label else [])]).cast(
        {c: pl.String for c in frame.columns if frame.schema[c] == pl.Null}))
    return ClarifyTable(frame, features, label)


def _column_name(columns: Sequence[str], value: str | int, what: str) -> str:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit() and value not in columns):
        index = int(value)
        if 0 <= index < len(columns):
            return columns[index]
    elif value in columns:
        return str(value)
    raise JobFailed(f"ClientError: {what} {value!r} is not a column of the dataset (columns: {', '.join(columns)})")


def _label_column(columns: Sequence[str], config: ClarifyConfig) -> str | None:
    if config.label is None:
        return None
    return _column_name(columns, config.label, "label")


# ------------------------------------------------------------------------------------ JSON and JSON Lines


def _json_table(files: Sequence[Path], config: ClarifyConfig) -> ClarifyTable:
    if not config.features:
        raise JobFailed(f"ClientError: analysis_config.json needs 'features' (a JMESPath) for {config.dataset_type}")
    features: list[list[Any]] = []
    labels: list[Any] = []
    bad = 0
    for path in files:
        if config.dataset_type == JSON_LINES:
            rows, found, skipped = _json_lines(path.read_bytes(), config)
        else:
            rows, found, skipped = _json_document(path.read_bytes(), config)
        features.extend(rows)
        labels.extend(found)
        bad += skipped
    if not features:
        raise JobFailed(f"ClientError: no record of the dataset has features at {config.features!r}"
                        + (f" ({bad} records unreadable)" if bad else ""))
    width = len(features[0])
    if any(len(row) != width for row in features):
        raise JobFailed("ClientError: the dataset's records do not all have the same number of features")
    names = _json_feature_names(width, config)
    frame = pl.DataFrame({name: [row[i] for row in features] for i, name in enumerate(names)}, strict=False)
    label = None
    if config.label is not None:
        label = _json_label_name(width, config)
        frame = frame.with_columns(pl.Series(label, labels, strict=False))
    return ClarifyTable(numeric_columns(frame.cast({c: pl.String for c in frame.columns
                                            if frame.schema[c] in (pl.Null, pl.Object)})),
                        tuple(names), label, bad)


def _json_feature_names(width: int, config: ClarifyConfig) -> list[str]:
    headers = list(config.headers or [])
    if len(headers) in (width, width + 1):
        return headers[:width]
    if headers:
        raise JobFailed(f"ClientError: records have {width} features but analysis_config.json names "
                        f"{len(headers)} headers")
    return [f"feature_{i}" for i in range(width)]


def _json_label_name(width: int, config: ClarifyConfig) -> str:
    headers = list(config.headers or [])
    return headers[width] if len(headers) == width + 1 else str(config.label)


def _json_lines(data: bytes, config: ClarifyConfig) -> tuple[list[list[Any]], list[Any], int]:
    features_path = jmespath.compile(config.features or "")
    label_path = jmespath.compile(str(config.label)) if config.label is not None else None
    rows: list[list[Any]] = []
    labels: list[Any] = []
    bad = 0
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            bad += 1
            continue
        found = features_path.search(record)
        if not isinstance(found, list):
            bad += 1
            continue
        rows.append(found)
        labels.append(label_path.search(record) if label_path else None)
    return rows, labels, bad


def _json_document(data: bytes, config: ClarifyConfig) -> tuple[list[list[Any]], list[Any], int]:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise JobFailed(f"ClientError: the dataset is not a JSON document ({exc})") from None
    found = jmespath.search(config.features or "", document)
    if not isinstance(found, list) or not found or not all(isinstance(row, list) for row in found):
        raise JobFailed(f"ClientError: 'features' {config.features!r} does not select a list of feature lists")
    labels: list[Any] = [None] * len(found)
    if config.label is not None:
        selected = jmespath.search(str(config.label), document)
        if not isinstance(selected, list) or len(selected) != len(found):
            raise JobFailed(f"ClientError: 'label' {config.label!r} does not select one label per record")
        labels = selected
    return found, labels, 0


__all__ = ["JSON", "ClarifyTable", "read_dataset"]
