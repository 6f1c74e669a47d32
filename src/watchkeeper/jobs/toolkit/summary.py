"""What a job did and how it says so: `JobFailed` (its text is the FailureReason), `JobSummary` (with the
analysis's typed result), the one-line completion message with bad-record counts, and the files a job
writes (documents, the message file, the machine-readable result file, CloudWatch metric lines)."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchkeeper.analysis import aws_json
from watchkeeper.analysis.report import COMPLETED
from watchkeeper.analysis.result import RESULT_VERSION, AnalysisResult

NO_DATA_REASON = "Job inputs had no data"

STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
VIOLATIONS_FILE = "constraint_violations.json"
STATE_FILE = "baseline_state.json.gz"  # a baseline's mergeable DatasetState (analysis/state_file.py)
METRICS_DIRECTORY = "/opt/ml/output/metrics/cloudwatch"
RESULT_FILE_NAME = "result.json"  # beside the message file: /opt/ml/output/result.json
FAILED = "Failed"

# Reasons a dataset record is bad (capture records have theirs in `capture.reader`).
WRONG_WIDTH = "row has an unexpected number of columns"
BAD_JSON = "line is not a JSON object"


class JobFailed(Exception):
    """The job cannot complete; `str(error)` is the failure reason for the message file."""


@dataclass
class JobSummary:
    """What a job did: rows analysed, bad records by reason, violations, and the output message."""

    item_count: int
    bad_records: dict[str, int]
    message: str
    output_path: Path
    outputs: list[str]
    statistics: dict[str, Any]
    constraints: dict[str, Any] | None = None
    violations: list[dict[str, str]] | None = None
    input_files: int = 0
    skipped_records: dict[str, int] = field(default_factory=dict)
    baseline_statistics: dict[str, Any] | None = None
    baseline_constraints: dict[str, Any] | None = None
    result: AnalysisResult | None = None  # the typed result every file above was written from

    @property
    def bad_record_count(self) -> int:
        return sum(self.bad_records.values())

    @property
    def status(self) -> str:
        """`Completed` or `CompletedWithViolations`, from the typed result (never from the message)."""
        return self.result.status if self.result is not None else COMPLETED

    def result_document(self) -> dict[str, Any]:
        """The job's `result.json`: the result's status and counts, with what reading left out."""
        document = self.result.result_document() if self.result is not None else {
            "version": RESULT_VERSION, "status": self.status, "item_count": self.item_count}
        document["bad_records"] = dict(self.bad_records)
        document["skipped_records"] = dict(self.skipped_records)
        document["input_files"] = self.input_files
        return document

    def describe(self) -> str:
        """One line for people: the message, rows analysed and bad records."""
        bad = f", {self.bad_record_count} bad records" if self.bad_records else ""
        skipped = sum(self.skipped_records.values())
        skipped_text = f", {skipped} records skipped" if skipped else ""
        return f"{self.message} Analysed {self.item_count} rows from {self.input_files} files{bad}{skipped_text}."


@functools.cache
def short_reasons() -> dict[str, str]:
    """Short names of bad-record reasons for the one-line message (the job log has the long ones).

    Built when a message names a reason: the capture reader, whose reasons these are too, stays unimported
    by jobs that read no capture."""
    from watchkeeper.capture import reader as capture_reader

    return {
        capture_reader.UNPARSEABLE: "not JSON",
        capture_reader.NO_DATA: "no captured data",
        capture_reader.BAD_BASE64: "BASE64 not UTF-8",
        capture_reader.NESTED_JSON: "nested JSON payload",
        capture_reader.MULTI_LINE: "multi-line payload",
        capture_reader.NO_TIME: "no inferenceTime",
        capture_reader.WRONG_WIDTH: "unexpected number of columns",
        WRONG_WIDTH: "unexpected number of columns",
        BAD_JSON: "not JSON",
    }


@functools.cache
def analysed_anyway() -> frozenset[str]:
    """Reasons counted as bad, but analysed all the same (padded or cut, as Spark does)."""
    from watchkeeper.capture import reader as capture_reader

    return frozenset({capture_reader.WRONG_WIDTH, WRONG_WIDTH})


MAX_REASONS = 6  # reasons named in a message; the rest are summed


def reason_counts(counts: Mapping[str, int]) -> str:
    """`2 not JSON, 1 no captured data` (most frequent first, at most MAX_REASONS named)."""
    items = sorted(((r, n) for r, n in counts.items() if n), key=lambda item: (-item[1], item[0]))
    parts = [f"{n} {_clip(short_reasons().get(r, r))}" for r, n in items[:MAX_REASONS]]
    rest = items[MAX_REASONS:]
    if rest:
        parts.append(f"{sum(n for _, n in rest)} for {len(rest)} other reasons (see the job log)")
    return ", ".join(parts)


def _clip(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def bad_records_sentence(bad: Mapping[str, int], used: int, *, verb: str = "parsed") -> str:
    """What the completion message says about bad records ('' when there were none):
    `3 of 1000 records could not be parsed (2 not JSON, 1 no captured data).`"""
    anyway = analysed_anyway() if bad else frozenset()
    lost = {r: n for r, n in bad.items() if n and r not in anyway}
    odd = sum(n for r, n in bad.items() if r in anyway)
    sentences = []
    if lost:
        total = sum(lost.values())
        sentences.append(f"{total} of {used + total} records could not be {verb} ({reason_counts(lost)}).")
    if odd:
        sentences.append(f"{odd} {'record' if odd == 1 else 'records'} had an unexpected number of columns "
                         "(analysed, padded or cut).")
    return " ".join(sentences)


def with_bad_records(message: str, bad: Mapping[str, int], used: int, *, verb: str = "parsed") -> str:
    """The completion message (it keeps its leading `Completed:` / `CompletedWithViolations:` word) with the
    bad-record counts, within ExitMessage's 1024 characters."""
    sentence = bad_records_sentence(bad, used, verb=verb)
    text = f"{message} {sentence}" if sentence else message
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


MAX_MESSAGE = 1024  # ExitMessage and FailureReason are at most 1024 characters


def job_message(result: AnalysisResult, bad: Mapping[str, int], used: int, *, notes: Sequence[str] = (),
                verb: str = "parsed") -> str:
    """The job's one-line message: the result's completion sentence (its first word the status), notes on
    inputs left out, and the bad-record counts. The one place a job's message is composed."""
    return with_bad_records(" ".join([result.completion_message, *notes]), bad, used, verb=verb)



def write_document(path: Path, document: Mapping[str, Any]) -> str:
    """Write a JSON document as AWS's analyzer does; returns the file's name."""
    path.write_text(aws_json.dumps(document), encoding="utf-8")
    return path.name


def write_message(path: str | os.PathLike[str] | None, message: str) -> None:
    """The one-line message file (ExitMessage or FailureReason), at most MAX_MESSAGE characters."""
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(message[:MAX_MESSAGE], encoding="utf-8")


def result_file(message_file: str | os.PathLike[str]) -> Path:
    """Where the machine-readable result goes: beside the message file (`/opt/ml/output/result.json`)."""
    return Path(message_file).with_name(RESULT_FILE_NAME)


def write_result(path: str | os.PathLike[str] | None, document: Mapping[str, Any]) -> None:
    """The machine-readable result file (one JSON object; format in docs/analysis.md)."""
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(dict(document), sort_keys=False) + "\n", encoding="utf-8")


def failure_document(reason: str) -> dict[str, Any]:
    """`result.json` of a failed job."""
    return {"version": RESULT_VERSION, "status": FAILED, "failure_reason": reason[:MAX_MESSAGE]}


def publishes_metrics(environment: Mapping[str, str]) -> bool:
    """Whether the job is to write CloudWatch metric lines (`publish_cloudwatch_metrics` Enabled); only
    jobs of a monitoring schedule may."""
    publish = str(environment.get("publish_cloudwatch_metrics", "Disabled")).lower() == "enabled"
    if publish and not environment.get("sagemaker_monitoring_schedule_name"):
        raise JobFailed("CloudWatch publishing is available only for jobs from MonitoringSchedules.")
    return publish


def write_metric_lines(environment: Mapping[str, str], file_name: str, lines: list[str]) -> None:
    """CloudWatch metric lines into `CLOUDWATCH_METRICS_DIRECTORY` (or the container's default folder)."""
    folder = Path(environment.get("CLOUDWATCH_METRICS_DIRECTORY") or METRICS_DIRECTORY)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file_name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def publish_metric_lines(environment: Mapping[str, str], file_name: str, result: Any) -> None:
    """The result's CloudWatch metric lines with the job's dimensions and time, written once."""
    lines = result.metric_lines(
        endpoint=environment.get("sagemaker_endpoint_name") or None,
        schedule=environment.get("sagemaker_monitoring_schedule_name") or None,
        metric_time=environment.get("metric_time") or environment.get("start_time") or None,
    )
    write_metric_lines(environment, file_name, lines)
