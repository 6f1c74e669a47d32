"""The ground-truth merge job of a model-quality execution (SageMaker's `groundtruth-merger` image, spec §3.5).

Joins the window's captured inferences to the uploaded labels — ground truth `eventMetadata.eventId` matches a
capture record's `inferenceId` when it has one, else its `eventId` — and writes the merged records where AWS
writes them: `<output>/<endpoint>/<variant>/yyyy/mm/dd/hh/part-00000-<uuid>.c000.jsonl`, one line each:
`{"eventVersion","groundTruthData","captureData","eventMetadata"}`. Columnar (polars): the JSON parts are
sliced out of the raw lines and joined, never turned into Python objects.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from watchkeeper.analysis.report import COMPLETED
from watchkeeper.analysis.result import RESULT_VERSION
from watchkeeper.capture.hours import hour_path_expr
from watchkeeper.capture.window import parse_time, window_mask
from watchkeeper.jobs.toolkit.inputs import ProgressFn, capture_lines, text_lines
from watchkeeper.jobs.toolkit.job_log import JobLog
from watchkeeper.jobs.toolkit.summary import NO_DATA_REASON, JobFailed


@dataclass(frozen=True)
class MergeSummary:
    captured: int
    labelled: int
    merged: int
    unreadable: int
    message: str

    status = COMPLETED  # a merge has nothing to violate

    def result_document(self) -> dict[str, object]:
        """The job's `result.json` (docs/analysis.md)."""
        return {"version": RESULT_VERSION, "analysis_type": "GROUND_TRUTH_MERGE", "status": self.status,
                "captured": self.captured, "labelled": self.labelled, "merged": self.merged,
                "unreadable": self.unreadable}


def merge(
    dataset_source: str | Path,
    ground_truth_source: str | Path,
    output_path: str | Path,
    *,
    start_time: str | None = None,
    end_time: str | None = None,
    log: JobLog | None = None,
) -> MergeSummary:
    log = log or JobLog()
    line = pl.col("line").str
    captured = capture_lines(Path(dataset_source)).with_columns(
        key=pl.coalesce(
            line.json_path_match("$.eventMetadata.inferenceId"), line.json_path_match("$.eventMetadata.eventId")
        ),
        time=line.json_path_match("$.eventMetadata.inferenceTime"),
        source=line.json_path_match("$.eventMetadata.invocationSource"),
        capture=line.json_path_match("$.captureData"),
        metadata=line.json_path_match("$.eventMetadata"),
    )
    no_capture = captured.filter(pl.col("capture").is_null()).height
    no_key = captured.filter(pl.col("capture").is_not_null() & pl.col("key").is_null()).height
    no_time = captured.filter(
        pl.col("capture").is_not_null() & pl.col("key").is_not_null() & pl.col("time").is_null()
    ).height
    capture_unreadable = no_capture + no_key
    unreadable = capture_unreadable
    all_captured = captured.height
    captured = captured.drop_nulls(["capture", "key", "time"])
    if all_captured and captured.height == 0:
        reasons = ", ".join(
            f"{n} {what}" for n, what in (
                (no_capture, "not JSON or without captureData"), (no_key, "without inferenceId or eventId"),
                (no_time, "without inferenceTime"),
            ) if n
        )
        raise JobFailed(f"{all_captured} captured records, none parseable: {reasons}")
    try:  # the window rule (capture/window.py): shadow traffic skipped, times compared as instants
        start, end = parse_time(start_time or None), parse_time(end_time or None)
    except ValueError as error:
        raise JobFailed(f"Invalid analysis window: {error}") from error
    keep, counts = window_mask(captured.get_column("time"), captured.get_column("source"), start, end)
    captured = captured.filter(keep)
    if counts.shadow or counts.no_time:
        log.info(f"Ground-truth merge: {counts.shadow} shadow-traffic record(s) skipped, {counts.no_time} with an "
                 "unparseable inferenceTime")

    truth_files = sorted(p for p in Path(ground_truth_source).rglob("*") if p.is_file())
    truth = text_lines(truth_files).with_columns(
        key=line.json_path_match("$.eventMetadata.eventId"), truth=line.json_path_match("$.groundTruthData")
    )
    truth_unreadable = truth.filter(pl.col("key").is_null() | pl.col("truth").is_null()).height
    unreadable += truth_unreadable
    # A label uploaded twice: the last one counts (files are read in key order, i.e. upload hour).
    truth = truth.drop_nulls(["key", "truth"]).unique(subset="key", keep="last", maintain_order=True)

    merged = captured.join(truth.select("key", "truth"), on="key", how="inner").with_columns(
        merged=pl.concat_str(
            pl.lit('{"eventVersion":"0","groundTruthData":'),
            pl.col("truth"),
            pl.lit(',"captureData":'),
            pl.col("capture"),
            pl.lit(',"eventMetadata":'),
            pl.col("metadata"),
            pl.lit("}"),
        ),
        hour=hour_path_expr(pl.col("time")),
    )
    log.info(
        f"Ground-truth merge: {captured.height} captured inferences in the window, {truth.height} labels, "
        f"{merged.height} merged (join on inferenceId, else eventId); {unreadable} unreadable line(s) skipped"
    )
    if captured.height == 0:
        raise JobFailed(f"{NO_DATA_REASON}: no captured inferences in the window")
    if merged.height == 0:
        raise JobFailed(
            f"{NO_DATA_REASON}: none of the {captured.height} captured inferences of the window has a ground-truth "
            "label "
            f"({truth.height} labels read; labels match a capture's inferenceId, else its eventId)"
        )
    output = Path(output_path)
    for (endpoint, variant, hour), group in merged.group_by(["endpoint", "variant", "hour"], maintain_order=True):
        folder = output / str(endpoint) / str(variant) / str(hour)
        folder.mkdir(parents=True, exist_ok=True)
        text = "\n".join(group.get_column("merged").to_list()) + "\n"
        (folder / f"part-00000-{uuid.uuid4()}.c000.jsonl").write_text(text, encoding="utf-8")
    message = f"Completed: Merged {merged.height} of {captured.height} captured inferences with ground truth."
    if unreadable:
        where = ", ".join(f"{n} {what}" for n, what in ((capture_unreadable, "capture"),
                                                        (truth_unreadable, "ground truth")) if n)
        message += f" {unreadable} {'line' if unreadable == 1 else 'lines'} could not be parsed ({where})."
    return MergeSummary(captured.height, truth.height, merged.height, unreadable, message)


def run(environment: Mapping[str, str], *, log: JobLog, progress: ProgressFn | None = None) -> MergeSummary:
    """The job from the container's Environment: `dataset_source` (capture), `ground_truth_source`,
    `output_path` and the window's `start_time`/`end_time`."""
    return merge(
        environment["dataset_source"],
        environment["ground_truth_source"],
        environment["output_path"],
        start_time=environment.get("start_time"),
        end_time=environment.get("end_time"),
        log=log,
    )
