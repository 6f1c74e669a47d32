"""The data-quality analyzer: what SageMaker runs as `sagemaker-model-monitor-analyzer` (spec §4, §6).

Reads a dataset or a capture folder (through `jobs.toolkit.inputs`, with the record preprocessor of
spec §4.4 when given), folds it into a `DatasetState`, builds the typed result from it once
(`analysis.result.data_quality_result`: statistics, drift, violations, status), and writes `statistics.json`,
`constraints.json` and (when analysing against a baseline) `constraint_violations.json` from that result;
the post-analytics script (spec §4.5) runs last. Returns a `JobSummary` holding the result.

- `suggest_baseline(...)` and `analyze(...)` are the library entries (the CLI calls them);
- `run(environment)` takes the processing job's container Environment of spec §4.2 (`dataset_source`,
  `output_path`, `dataset_format`, `baseline_statistics`, ...) and decides between the two as the container
  does (the registry in `jobs.analyzers.registry` calls it).

A baseline job also writes its mergeable state (`baseline_state.json.gz`, `analysis.state_file`), so the baseline
can be merged with more data later. A job that cannot complete raises `JobFailed`, whose text is the
FailureReason AWS would give (for example "Job inputs had no data"). Script output and tracebacks go to the job log.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from watchkeeper.analysis.columns import Tabular
from watchkeeper.analysis.result import DataQualityResult, data_quality_result
from watchkeeper.analysis.statistics import DatasetState, feature_names
from watchkeeper.analysis.suggest import default_monitoring_config
from watchkeeper.capture.batch import select_inputs
from watchkeeper.capture.window import parse_time
from watchkeeper.jobs.toolkit.documents import load_feature_document, shown_path
from watchkeeper.jobs.toolkit.formats import DatasetFormat
from watchkeeper.jobs.toolkit.inputs import (
    InputStats,
    ProgressFn,
    capture_batches,
    dataset_batches,
    list_files,
    open_capture_reader,
)
from watchkeeper.jobs.toolkit.job_log import JobLog
from watchkeeper.jobs.toolkit.scripts import (
    Preprocessor,
    post_process,
    preprocessed_capture_batches,
    preprocessed_dataset_batches,
)
from watchkeeper.jobs.toolkit.summary import (
    CONSTRAINTS_FILE,
    NO_DATA_REASON,
    STATE_FILE,
    STATISTICS_FILE,
    VIOLATIONS_FILE,
    JobFailed,
    JobSummary,
    job_message,
    publish_metric_lines,
    publishes_metrics,
    reason_counts,
    write_document,
)

METRICS_FILE = "data-quality-metrics.jsonl"


@dataclass
class Computed:
    """The state of the data read, with what reading left out."""

    state: DatasetState
    bad: dict[str, int]  # bad records by reason
    skipped: dict[str, int]  # records not analysed (outside the window, shadow traffic) by reason
    files: int  # input files read
    notes: tuple[str, ...] = ()  # objects left out and why (not in the format, batch manifests not followed)


# How the input becomes a state: `_compute` in this process; jobs/analyzers/distributed.py over a Dask cluster.
Compute = Callable[..., Computed]


def _compute(source: str | os.PathLike[str], fmt: DatasetFormat, *, names: Sequence[str] | None,
             start_time: Any, end_time: Any, preprocessor: Preprocessor | None, log: JobLog,
             progress: ProgressFn | None) -> Computed:
    """Read the input and fold it into a state; raises JobFailed when no record can be analysed."""
    if preprocessor is not None and fmt.kind == "parquet":
        raise JobFailed("Preprocessor script not supported for format parquet.")
    files = list_files(source)
    state = DatasetState()
    skipped: dict[str, int] = {}
    if fmt.kind in ("capture", "merge"):
        reader = open_capture_reader(fmt, names, start_time, end_time)
        frames: Iterable[pl.DataFrame | Tabular]
        if preprocessor is not None:
            frames = preprocessed_capture_batches(files, reader, preprocessor, progress)
        else:
            frames = capture_batches(files, reader, progress)
        for frame in frames:
            state.update(frame)
        bad = dict(reader.stats.bad)
        if reader.stats.compiled:
            log.info(f"Capture lines read by the compiled pass: {reader.stats.compiled} of {reader.stats.lines}")
        if reader.stats.out_of_window:
            skipped["outside the analysis window"] = reader.stats.out_of_window
        if reader.stats.shadow:
            skipped["shadow variant traffic"] = reader.stats.shadow
        file_count = reader.stats.files
    else:
        # capture/batch.py: batch-capture manifests followed, files not in the dataset's format named
        selection = select_inputs(source, fmt.kind, start=start_time, end=end_time)
        files, notes = selection.files, tuple(selection.notes(fmt.kind, shown_path(source)))
        for note in notes:
            log.info(note)
        if selection.outside_window:
            skipped["batch-capture manifests outside the analysis window"] = selection.outside_window
        if not files and notes:
            raise JobFailed(" ".join(notes))
        stats = InputStats()
        if preprocessor is not None:
            frames = preprocessed_dataset_batches(files, fmt, preprocessor, names, stats, progress)
        else:
            frames = dataset_batches(files, fmt, stats, progress, names)
        for frame in frames:
            state.update(frame)
        bad = dict(stats.bad)
        file_count = stats.files
    for reason, count in sorted(bad.items()):
        log.info(f"Bad records: {count} x {reason}")
    for reason, count in sorted(skipped.items()):
        log.info(f"Skipped records: {count} x {reason}")
    if state.item_count == 0:
        if any(bad.values()):
            if fmt.kind in ("capture", "merge"):
                records = reader.stats.lines - reader.stats.out_of_window - reader.stats.shadow
                where = "in the window" if start_time is not None or end_time is not None else "in the input"
            else:
                records, where = sum(bad.values()), "in the input"
            raise JobFailed(f"{records} records {where}, none parseable: {reason_counts(bad)}")
        raise JobFailed(NO_DATA_REASON)
    return Computed(state, bad, skipped, file_count, notes if fmt.kind not in ("capture", "merge") else ())


def _monitoring_config(override_method: str | None) -> dict[str, Any] | None:
    if not override_method:
        return None
    config = default_monitoring_config()
    config["distribution_constraints"]["categorical_drift_method"] = override_method
    return config


def suggest_baseline(
    dataset_source: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    dataset_format: str | Mapping[str, Any] | DatasetFormat | None = None,
    *,
    record_preprocessor_script: str | os.PathLike[str] | None = None,
    post_analytics_processor_script: str | os.PathLike[str] | None = None,
    monitoring_config: Mapping[str, Any] | None = None,
    categorical_drift_method: str | None = None,
    environment: Mapping[str, str] | None = None,
    log: JobLog | None = None,
    progress: ProgressFn | None = None,
    compute: Compute | None = None,
) -> JobSummary:
    """A baselining job: statistics.json and suggested constraints.json of a dataset (spec §6.2)."""
    log = log or JobLog()
    fmt = dataset_format if isinstance(dataset_format, DatasetFormat) else DatasetFormat.parse(dataset_format)
    preprocessor = Preprocessor(record_preprocessor_script, log) if record_preprocessor_script else None
    computed = (compute or _compute)(dataset_source, fmt, names=None, start_time=None, end_time=None,
                        preprocessor=preprocessor, log=log, progress=progress)
    result = data_quality_result(computed.state,
                                 monitoring_config=monitoring_config or _monitoring_config(categorical_drift_method))
    return _write(result, computed, output_path, post_analytics_processor_script, environment, log,
                  state=computed.state)


def analyze(
    dataset_source: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    dataset_format: str | Mapping[str, Any] | DatasetFormat | None = None,
    *,
    baseline_statistics: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    baseline_constraints: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    start_time: Any = None,
    end_time: Any = None,
    record_preprocessor_script: str | os.PathLike[str] | None = None,
    post_analytics_processor_script: str | os.PathLike[str] | None = None,
    environment: Mapping[str, str] | None = None,
    log: JobLog | None = None,
    progress: ProgressFn | None = None,
    compute: Compute | None = None,
) -> JobSummary:
    """A monitoring job: statistics.json of the data (capture records in [start_time, end_time), or a
    dataset), constraint_violations.json against the baseline, and constraints.json suggested from the
    data with the baseline's monitoring_config (the real report folder holds all three, spec §4.3)."""
    log = log or JobLog()
    fmt = dataset_format if isinstance(dataset_format, DatasetFormat) else DatasetFormat.parse(
        dataset_format or {"sagemakerCaptureJson": {}})
    base_stats = load_feature_document(baseline_statistics, "baseline statistics")
    base_constraints = load_feature_document(baseline_constraints, "baseline constraints")
    baseline_files = " and ".join(
        f"{what} {shown_path(value)}" for what, value in
        (("baseline statistics", baseline_statistics), ("baseline constraints", baseline_constraints))
        if value is not None
    )
    names = feature_names(base_stats or base_constraints or {}) or None
    preprocessor = Preprocessor(record_preprocessor_script, log) if record_preprocessor_script else None
    try:
        start, end = parse_time(start_time), parse_time(end_time)
    except ValueError as error:
        raise JobFailed(f"Invalid analysis window: {error}") from error
    computed = (compute or _compute)(dataset_source, fmt, names=names, start_time=start, end_time=end,
                        preprocessor=preprocessor, log=log, progress=progress)
    try:
        result = data_quality_result(computed.state, baseline_statistics=base_stats,
                                     baseline_constraints=base_constraints)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as error:
        raise JobFailed(f"ClientError: {baseline_files} could not be applied to the data: a value in them is not "
                        f"of the shape SageMaker writes ({type(error).__name__}: {error})") from error
    return _write(result, computed, output_path, post_analytics_processor_script, environment, log,
                  baseline_statistics=base_stats, baseline_constraints=base_constraints)


def _write(result: DataQualityResult, computed: Computed, output_path: str | os.PathLike[str],
           post_analytics_processor_script: str | os.PathLike[str] | None, environment: Mapping[str, str] | None,
           log: JobLog, *, state: DatasetState | None = None, **baseline: dict[str, Any] | None) -> JobSummary:
    """The job's output files, all from the result (and a baseline's mergeable `state`, analysis/state_file.py);
    then the post-analytics script; then the summary."""
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    outputs = [write_document(out / STATISTICS_FILE, result.statistics),
               write_document(out / CONSTRAINTS_FILE, result.constraints)]
    if state is not None:
        from watchkeeper.analysis import state_file  # a baseline's state file: only baselines write it

        state_file.save(out / STATE_FILE, state)
        outputs.append(STATE_FILE)
    if result.checked:
        outputs.append(write_document(out / VIOLATIONS_FILE, result.violations_document()))
    post_process(post_analytics_processor_script, environment, log)
    message = job_message(result, computed.bad, result.item_count, notes=computed.notes)
    violations = list(result.violations) if result.violations is not None else None
    return JobSummary(result.item_count, computed.bad, message, out, outputs, dict(result.statistics),
                      dict(result.constraints), violations, input_files=computed.files,
                      skipped_records=computed.skipped, result=result, **baseline)


def run(environment: Mapping[str, str], *, log: JobLog, progress: ProgressFn | None = None,
        compute: Compute | None = None) -> JobSummary:
    """The job from the container's Environment (spec §4.2): with `baseline_constraints` or
    `baseline_statistics` it analyses (monitoring), else it suggests a baseline; writes CloudWatch metric
    lines when `publish_cloudwatch_metrics` is Enabled."""
    source = environment["dataset_source"]
    output = environment["output_path"]
    fmt = DatasetFormat.parse(environment["dataset_format"])
    publish = publishes_metrics(environment)
    common: dict[str, Any] = {
        "record_preprocessor_script": environment.get("record_preprocessor_script") or None,
        "post_analytics_processor_script": environment.get("post_analytics_processor_script") or None,
        "environment": environment,
        "log": log,
        "progress": progress,
        "compute": compute,
    }
    log.info("Performing analysis with input: " + json.dumps({
        "dataset_source": source, "dataset_format": json.loads(environment["dataset_format"])
        if isinstance(environment["dataset_format"], str) else environment["dataset_format"],
        "output_path": output, "start_time": environment.get("start_time"),
        "end_time": environment.get("end_time"),
    }))
    if environment.get("baseline_constraints") or environment.get("baseline_statistics"):
        summary = analyze(
            source, output, fmt,
            baseline_statistics=environment.get("baseline_statistics") or None,
            baseline_constraints=environment.get("baseline_constraints") or None,
            start_time=environment.get("start_time") or None,
            end_time=environment.get("end_time") or None,
            **common,
        )
    else:
        summary = suggest_baseline(
            source, output, fmt, categorical_drift_method=environment.get("categorical_drift_method") or None,
            **common,
        )
    if publish:
        publish_metric_lines(environment, METRICS_FILE, summary.result)
    return summary


__all__ = ["Computed", "analyze", "run", "suggest_baseline"]
