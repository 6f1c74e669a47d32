"""What one task of a distributed analysis computes: a part of the input (jobs/toolkit/partitions.py) folded
into the analyzer's mergeable state, with what reading it counted. Runs on a Dask worker (or anywhere):
plain functions of picklable arguments, reading through the same readers as the single-process analyzers.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from watchkeeper.analysis import model_quality_metrics as mqm
from watchkeeper.analysis.columns import Tabular, flatten_nested, read_ndjson, spark_json_columns
from watchkeeper.analysis.statistics import DatasetState
from watchkeeper.jobs.analyzers.model_quality import _Folder
from watchkeeper.jobs.toolkit.formats import DatasetFormat
from watchkeeper.jobs.toolkit.inputs import InputStats, capture_batches, dataset_batches, open_capture_reader
from watchkeeper.jobs.toolkit.labelled import (
    Attributes,
    Columns,
    Reading,
    _column,
    json_batches,
    merge_batches,
    table_batches,
)
from watchkeeper.jobs.toolkit.partitions import CsvLayout, Part, Segment, csv_frames
from watchkeeper.jobs.toolkit.summary import BAD_JSON, JobFailed


@dataclass
class Folded:
    """A part's state and counts. `layout` is the CSV layout after the part (the first part's sets the
    others'); `positive_label` the binary label a model-quality state chose."""

    state: Any = None
    files: int = 0
    bad: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    lines: int = 0  # capture lines read (the "none parseable" message counts them)
    layout: CsvLayout | None = None
    schema: str | None = None  # a JSON Lines range's inferred columns and types (checked against the file's)

    def absorb(self, other: Folded) -> None:
        """Fold a later part in (states merged in part order)."""
        if other.state is not None:
            self.state = other.state if self.state is None else self.state.merge(other.state)
        self.files += other.files
        self.bad.update(other.bad)
        self.skipped.update(other.skipped)
        self.lines += other.lines


def data_quality_part(part: Part, fmt: DatasetFormat, names: Sequence[str] | None, layout: CsvLayout | None,
                      start: Any, end: Any) -> Folded:
    """A part of a data-quality input as a `DatasetState` (data_quality.py `_compute`, one part)."""
    state = DatasetState()
    if fmt.kind in ("capture", "merge"):
        reader = open_capture_reader(fmt, names, start, end)
        _update(state, capture_batches(part.files, reader, None))
        stats = reader.stats
        skipped = Counter()
        if stats.out_of_window:
            skipped["outside the analysis window"] = stats.out_of_window
        if stats.shadow:
            skipped["shadow variant traffic"] = stats.shadow
        return Folded(state, stats.files, Counter(stats.bad), skipped, stats.lines)
    inputs = InputStats()
    if fmt.kind == "csv":
        layout = dataclasses.replace(layout or CsvLayout(fmt.header, list(names) if names and not fmt.header
                                                         else None))
        _update(state, csv_frames(part, layout, inputs))
    elif fmt.kind == "json" and fmt.lines and len(part.segments) == 1 and not part.segments[0].whole:
        frame = _json_lines_range(part.segments[0], inputs)
        _update(state, [frame] if frame.height else [])
        return Folded(state, inputs.files, Counter(inputs.bad), schema=str(frame.schema))
    else:
        _update(state, dataset_batches(part.files, fmt, inputs, None, names))
    return Folded(state, inputs.files, Counter(inputs.bad), layout=layout)


def _json_lines_range(segment: Segment, stats: InputStats) -> pl.DataFrame:
    """A range of a JSON Lines file as inputs.py `dataset_batches` reads a whole one. Its types are inferred
    from the range alone: the driver keeps it only when every range of the file infers the same columns."""
    if segment.start == 0:
        stats.files += 1
    data = segment.read()
    batch = read_ndjson(data)
    stats.count(BAD_JSON, batch.bad_rows)
    stats.bytes += len(data)
    return spark_json_columns(flatten_nested(batch.frame))


def _update(state: DatasetState, frames: Iterable[pl.DataFrame | Tabular]) -> None:
    for frame in frames:
        state.update(frame)


def model_quality_part(part: Part, fmt: DatasetFormat, problem_type: str, attrs: Attributes,
                       layout: CsvLayout | None, start: Any, end: Any, seed: int) -> Folded:
    """A part of a model-quality input as a `ModelQualityState` (model_quality.py `compute_state`, one part).
    Each part draws its own standard-deviation samples (`seed`)."""
    reading = Reading()
    folder = _Folder(problem_type, attrs, reading, seed)
    if fmt.kind == "merge":
        batches: Iterable[Columns] = merge_batches(part.files, fmt, attrs, reading, None, start, end)
    elif fmt.kind == "csv":
        layout = dataclasses.replace(layout or CsvLayout(fmt.header))
        batches = (_columns(frame, attrs) for frame in csv_frames(part, layout, reading.stats))
    elif fmt.kind == "json":
        batches = json_batches(part.files, fmt, attrs, reading, None)
    else:  # parquet: whole files, as table_batches reads them
        batches = table_batches(part.files, fmt, attrs, reading, None)
    for columns in batches:
        folder.add(columns)
    return Folded(folder.state, reading.stats.files, Counter(reading.stats.bad), Counter(reading.skipped),
                  layout=layout)


def _columns(frame: pl.DataFrame, attrs: Attributes) -> Columns:
    """labelled.py `table_batches`, one frame."""
    actual = _column(frame, attrs.ground_truth, "ground_truth_attribute")
    if actual is None:
        raise JobFailed("ground_truth_attribute is required for a dataset (the column with the labels).")
    return Columns(actual, _column(frame, attrs.inference, "inference_attribute"),
                   _column(frame, attrs.probability, "probability_attribute"))


def positive_label(folded: Folded) -> str | None:
    state = folded.state
    return state.positive_label if isinstance(state, mqm.ModelQualityState) else None


__all__ = ["Folded", "data_quality_part", "model_quality_part", "positive_label"]
