"""Which built-in analyzer runs a job: keyed by the image (the analyzer or the ground-truth merger) and the
container Environment's `analysis_type`, and the one entry that runs it (`run_environment`).

Each analyzer is a function `run(environment, *, log, progress)` returning a summary with a one-line
`message`, its `status` and a `result_document()`; a job that cannot complete raises `JobFailed`. Adding an
analyzer is one entry in `ANALYZERS`. `run_environment` writes the message file (SageMaker's
contract) and, beside it, the machine-readable `result.json` the runner can take the status from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol

from watchkeeper.jobs.analyzers import clarify, data_quality, ground_truth_merge, model_quality
from watchkeeper.jobs.contract import is_merge_image
from watchkeeper.jobs.predictor_binding import CLARIFY_IMAGE, is_clarify_image
from watchkeeper.jobs.toolkit.inputs import ProgressFn
from watchkeeper.jobs.toolkit.job_log import JobLog
from watchkeeper.jobs.toolkit.summary import JobFailed, failure_document, result_file, write_message, write_result

ANALYZER_IMAGE = "sagemaker-model-monitor-analyzer"
MERGE_IMAGE = "groundtruth-merger"
DATA_QUALITY = "DATA_QUALITY"  # the analyzer image without `analysis_type` (or with one it has no job for)
MODEL_QUALITY = "MODEL_QUALITY"


class Outcome(Protocol):
    @property
    def message(self) -> str: ...

    @property
    def status(self) -> str: ...

    def result_document(self) -> dict[str, Any]: ...


class Analyzer(Protocol):
    def __call__(self, environment: Mapping[str, str], *, log: JobLog,
                 progress: ProgressFn | None = None) -> Outcome: ...


ANALYZERS: dict[tuple[str, str], Analyzer] = {
    (ANALYZER_IMAGE, DATA_QUALITY): data_quality.run,
    (ANALYZER_IMAGE, MODEL_QUALITY): model_quality.run,
    (MERGE_IMAGE, ""): ground_truth_merge.run,
    (CLARIFY_IMAGE, ""): clarify.run,
}


def analyzer_for(image_uri: str | None, environment: Mapping[str, str]) -> Analyzer:
    """The analyzer of a job: the merger image merges; the analyzer image runs the job of its
    `analysis_type`, data quality by default (as the container does)."""
    if image_uri and is_merge_image(image_uri):
        return ANALYZERS[(MERGE_IMAGE, "")]
    if image_uri and is_clarify_image(image_uri):
        return ANALYZERS[(CLARIFY_IMAGE, "")]
    analysis_type = str(environment.get("analysis_type") or "").upper()
    return ANALYZERS.get((ANALYZER_IMAGE, analysis_type)) or ANALYZERS[(ANALYZER_IMAGE, DATA_QUALITY)]


def run_environment(
    environment: Mapping[str, str],
    *,
    image_uri: str | None = None,
    log: JobLog | None = None,
    progress: ProgressFn | None = None,
    message_file: str | os.PathLike[str] | None = None,
) -> Outcome:
    """Run the job's analyzer as the container does from its Environment (spec §4.2).

    The one-line message (ExitMessage, or FailureReason on failure) is written to `message_file` when given,
    and the result (`{"status": ..., "violations": N, ...}`, or `{"status": "Failed", "failure_reason": ...}`)
    to `result.json` beside it. Failures raise `JobFailed` after writing both; a missing required Environment
    entry is one."""
    log = log or JobLog()
    results = result_file(message_file) if message_file else None
    try:
        summary = analyzer_for(image_uri, environment)(environment, log=log, progress=progress)
    except JobFailed as error:
        _failed(message_file, results, str(error))
        log.info(f"Job failed: {error}")
        raise
    except KeyError as error:
        reason = f"Missing required Environment entry {error.args[0]!r}"
        _failed(message_file, results, reason)
        raise JobFailed(reason) from error
    write_result(results, summary.result_document())
    write_message(message_file, summary.message)
    return summary


def _failed(message_file: str | os.PathLike[str] | None, results: os.PathLike[str] | None, reason: str) -> None:
    write_result(results, failure_document(reason))
    write_message(message_file, reason)


__all__ = ["ANALYZERS", "Analyzer", "analyzer_for", "run_environment"]
