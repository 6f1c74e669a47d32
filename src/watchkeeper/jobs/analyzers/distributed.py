"""The driver of a distributed analysis: the input cut into parts (jobs/toolkit/partitions.py), each part
folded into a mergeable state by a task (jobs/analyzers/parts.py) wherever a `PartRunner` runs it (a Dask
cluster: jobs/executors/dask.py), the states merged here in part order. The analyzers take the result through
their `compute` hook, so results, checks and files are the single-process ones.

Exact against one process: counts, completeness, type counts, min/max, value counts, bad-record counts, every
constraint decision. Float sums, means and std_dev are summed part by part (as Spark sums partitions), so
their last bits may differ; KLL sketches merge per Deequ (docs/dask.md). Model quality: metrics are exact;
each part draws its own Bernoulli samples for the standard deviations.

A job with a record preprocessor stays in one process (the sandbox runs user code; docs/dask.md).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from watchkeeper.analysis import model_quality_states as mqs
from watchkeeper.analysis.statistics import DatasetState
from watchkeeper.capture.batch import select_inputs
from watchkeeper.capture.reader import parse_time
from watchkeeper.jobs.analyzers import data_quality, model_quality
from watchkeeper.jobs.analyzers.parts import Folded, data_quality_part, model_quality_part, positive_label
from watchkeeper.jobs.toolkit.documents import shown_path
from watchkeeper.jobs.toolkit.formats import DatasetFormat
from watchkeeper.jobs.toolkit.inputs import ProgressFn, list_files
from watchkeeper.jobs.toolkit.job_log import JobLog
from watchkeeper.jobs.toolkit.labelled import Attributes, Reading
from watchkeeper.jobs.toolkit.partitions import PART_BYTES, Part, Segment, plan
from watchkeeper.jobs.toolkit.summary import NO_DATA_REASON, JobFailed, reason_counts


class PartRunner(Protocol):
    """Runs `fold(part, *args)` for each part, wherever it likes; answers in part order. `progress`, when
    given, is told each finished part's size."""

    def map(self, fold: Callable[..., Folded], parts: Sequence[Part], args: Sequence[tuple[Any, ...]],
            progress: ProgressFn | None = None) -> list[Folded]: ...


class InProcess:
    """A PartRunner in this process (tests; the same cut and merge without a cluster)."""

    def map(self, fold: Callable[..., Folded], parts: Sequence[Part], args: Sequence[tuple[Any, ...]],
            progress: ProgressFn | None = None) -> list[Folded]:
        out = []
        for part, extra in zip(parts, args, strict=True):
            out.append(fold(part, *extra))
            if progress:
                progress(part.size)
        return out


def _merged(results: Sequence[Folded]) -> Folded:
    total = Folded()
    for result in results:
        total.absorb(result)
    return total


def _json_ranges_agree(runner: PartRunner, parts: Sequence[Part], results: list[Folded], args: tuple[Any, ...],
                       progress: ProgressFn | None) -> list[Folded]:
    """A JSON Lines file cut in ranges is kept so only when every range inferred the same columns and types
    (then the ranges' frames are the whole file's, row for row); any other file is read again whole, by one
    task, as one process reads it."""
    by_file: dict[str, list[int]] = {}
    for index, part in enumerate(parts):
        if results[index].schema is not None:
            by_file.setdefault(part.segments[0].path, []).append(index)
    redo = [indexes for indexes in by_file.values() if len({results[i].schema for i in indexes}) > 1]
    if not redo:
        return results
    wholes = runner.map(data_quality_part, [Part((Segment(parts[ix[0]].segments[0].path, 0,
                                                          parts[ix[-1]].segments[0].end),)) for ix in redo],
                        [args] * len(redo), progress)
    dropped = {index for indexes in redo for index in indexes[1:]}
    for indexes, whole in zip(redo, wholes, strict=True):
        results[indexes[0]] = whole
    return [result for index, result in enumerate(results) if index not in dropped]


def data_quality_compute(runner: PartRunner, part_bytes: int = PART_BYTES) -> data_quality.Compute:
    """data_quality.py's `_compute`, over parts."""

    def compute(source: str | os.PathLike[str], fmt: DatasetFormat, *, names: Sequence[str] | None,
                start_time: Any, end_time: Any, preprocessor: Any, log: JobLog,
                progress: ProgressFn | None) -> data_quality.Computed:
        if preprocessor is not None:  # user code runs in the job's sandbox, in one process
            log.info("A record preprocessor runs in one process: the input is not split.")
            return data_quality._compute(source, fmt, names=names, start_time=start_time, end_time=end_time,
                                         preprocessor=preprocessor, log=log, progress=progress)
        skipped: dict[str, int] = {}
        notes: tuple[str, ...] = ()
        if fmt.kind in ("capture", "merge"):
            files = list_files(source)
        else:
            selection = select_inputs(source, fmt.kind, start=start_time, end=end_time)
            files, notes = selection.files, tuple(selection.notes(fmt.kind, shown_path(source)))
            for note in notes:
                log.info(note)
            if selection.outside_window:
                skipped["batch-capture manifests outside the analysis window"] = selection.outside_window
            if not files and notes:
                raise JobFailed(" ".join(notes))
        json_lines = fmt.kind == "json" and fmt.lines
        parts = plan(files, split=fmt.kind == "csv" or json_lines, part_bytes=part_bytes)
        log.info(f"Analysing {len(files)} files in {len(parts)} parts on a cluster")

        def args(layout: Any) -> tuple[Any, ...]:
            return (fmt, names, layout, start_time, end_time)

        # A CSV's header names and width come from its first chunk: that part runs first, then the others.
        first = min(len(parts), 1 if fmt.kind == "csv" else 0)
        results = runner.map(data_quality_part, parts[:first], [args(None)] * first, progress)
        layout = results[0].layout if results else None
        results += runner.map(data_quality_part, parts[first:], [args(layout)] * (len(parts) - first), progress)
        if json_lines:
            results = _json_ranges_agree(runner, parts, results, args(None), progress)
        total = _merged(results)
        state = total.state if total.state is not None else DatasetState()
        bad = dict(total.bad)
        skipped.update(total.skipped)
        for reason, count in sorted(bad.items()):
            log.info(f"Bad records: {count} x {reason}")
        for reason, count in sorted(skipped.items()):
            log.info(f"Skipped records: {count} x {reason}")
        if state.item_count == 0:
            if any(bad.values()):
                if fmt.kind in ("capture", "merge"):
                    records = total.lines - sum(total.skipped.values())
                    where = "in the window" if start_time is not None or end_time is not None else "in the input"
                else:
                    records, where = sum(bad.values()), "in the input"
                raise JobFailed(f"{records} records {where}, none parseable: {reason_counts(bad)}")
            raise JobFailed(NO_DATA_REASON)
        return data_quality.Computed(state, bad, skipped, total.files,
                                     notes if fmt.kind not in ("capture", "merge") else ())

    return compute


def model_quality_compute(runner: PartRunner, part_bytes: int = PART_BYTES) -> model_quality.StateCompute:
    """model_quality.py's `compute_state`, over parts."""

    def compute(source: str | os.PathLike[str], fmt: DatasetFormat, problem_type: str, attrs: Attributes, *,
                start_time: Any = None, end_time: Any = None, seed: int | None = 0, log: JobLog | None = None,
                progress: ProgressFn | None = None) -> tuple[Any, Reading]:
        log = log or JobLog()
        if problem_type not in mqs.PROBLEM_TYPES:
            raise JobFailed(f"problem_type must be one of {', '.join(mqs.PROBLEM_TYPES)}, got {problem_type!r}")
        files = list_files(source)
        model_quality._Folder(problem_type, attrs, Reading(), seed)  # its argument checks, before any task
        start = end = None
        if fmt.kind == "merge":
            try:
                start, end = parse_time(start_time), parse_time(end_time)
            except ValueError as error:
                raise JobFailed(f"Invalid analysis window: {error}") from error
        elif fmt.kind not in ("csv", "parquet", "json"):
            raise JobFailed("A model-quality job reads a dataset (csv, json, parquet) or merged records "
                            '({"sagemakerMergeJson": {"captureIndexNames": ["endpointOutput"]}}), not capture data.')
        parts = plan(files, split=fmt.kind == "csv", part_bytes=part_bytes)
        log.info(f"Analysing {len(files)} files in {len(parts)} parts on a cluster")
        base = seed or 0

        def args(index: int, attributes: Attributes, layout: Any) -> tuple[Any, ...]:
            return (fmt, problem_type, attributes, layout, start, end, base + index)

        # The first part that yields rows fixes what the single process fixes on its first batch (the binary
        # positive label, a CSV's header and width); the parts after it run side by side.
        results: list[Folded] = []
        needs_first = fmt.kind == "csv" or (problem_type == mqs.BINARY and attrs.positive_label is None)
        while needs_first and len(results) < len(parts) and (not results or results[-1].state is None):
            index = len(results)
            layout = results[-1].layout if results else None
            results += runner.map(model_quality_part, parts[index:index + 1], [args(index, attrs, layout)], progress)
        if len(results) < len(parts):
            label = positive_label(results[-1]) if results else None
            attributes = dataclasses.replace(attrs, positive_label=label) if label is not None else attrs
            rest = range(len(results), len(parts))
            layout = results[-1].layout if results else None
            results += runner.map(model_quality_part, parts[len(results):],
                                  [args(index, attributes, layout) for index in rest], progress)
        total = _merged(results)
        reading = Reading()
        reading.stats.files = total.files
        reading.stats.bad.update(total.bad)
        reading.skipped.update(total.skipped)
        for reason, count in sorted(reading.stats.bad.items()):
            log.info(f"Bad records: {count} x {reason}")
        for reason, count in sorted(reading.skipped.items()):
            log.info(f"Skipped records: {count} x {reason}")
        if total.state is None or total.state.count == 0:
            if not reading.stats.bad:
                raise JobFailed(NO_DATA_REASON)
            reasons = ", ".join(f"{count} x {reason}" for reason, count in sorted(reading.stats.bad.items()))
            raise JobFailed(f"{NO_DATA_REASON}: no record had both a usable ground truth and prediction ({reasons})")
        log.info(f"Evaluated {total.state.count} rows from {reading.stats.files} files")
        return total.state, reading

    return compute


__all__ = ["InProcess", "PartRunner", "data_quality_compute", "model_quality_compute"]
