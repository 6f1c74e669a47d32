"""An execution's report documents, read from the object store: its statistics.json and
constraint_violations.json (in the report folder, the job's first output), and the baseline statistics the
job was given (its input named `baseline`). Shared by the dashboard and `watchkeeper report`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from watchkeeper.storage.base import ObjectStore, StorageError, join_uri

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024  # a statistics.json with sketches of many features stays far below


@dataclass
class Report:
    report_uri: str | None
    baseline_uri: str | None = None
    statistics: dict[str, Any] | None = None
    violations: list[dict[str, Any]] = field(default_factory=list)
    baseline: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)  # what could not be read, said on the page

    @property
    def model_quality(self) -> dict[str, Any] | None:
        """The model-quality metrics block of statistics.json (binary, multiclass or regression), if any."""
        for key in ("binary_classification_metrics", "multiclass_classification_metrics", "regression_metrics"):
            block = (self.statistics or {}).get(key)
            if isinstance(block, dict):
                return {"kind": key, "metrics": block}
        return None


def job_locations(job: dict[str, Any]) -> tuple[str | None, str | None]:
    """(report folder, baseline statistics URI) of a DescribeProcessingJob answer."""
    outputs = (job.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    report = next(((o.get("S3Output") or {}).get("S3Uri") for o in outputs if (o.get("S3Output") or {}).get("S3Uri")),
                  None)
    baseline = next(
        ((i.get("S3Input") or {}).get("S3Uri") for i in job.get("ProcessingInputs") or []
         if i.get("InputName") == "baseline"),
        None,
    )
    return report, baseline


def read_json(store: ObjectStore, uri: str) -> tuple[Any, str | None]:
    """(document, None) or (None, why not)."""
    try:
        with store.open_read(uri) as stream:
            data = stream.read(MAX_DOCUMENT_BYTES + 1)
    except (StorageError, OSError) as exc:
        return None, f"{uri}: {type(exc).__name__}"
    if len(data) > MAX_DOCUMENT_BYTES:
        return None, f"{uri}: larger than {MAX_DOCUMENT_BYTES} bytes"
    try:
        return orjson.loads(data), None
    except orjson.JSONDecodeError as exc:
        return None, f"{uri}: not JSON ({exc})"


def _statistics_uri(uri: str) -> str:
    """A baseline named as a folder means its statistics.json."""
    return uri if uri.endswith(".json") else join_uri(uri.rstrip("/"), "statistics.json")


def load_report(store: ObjectStore, report_uri: str | None, baseline_uri: str | None,
                expect_violations: bool = True) -> Report:
    report = Report(report_uri, baseline_uri)
    if report_uri:
        statistics, problem = read_json(store, join_uri(report_uri.rstrip("/"), "statistics.json"))
        if isinstance(statistics, dict):
            report.statistics = statistics
        elif problem:
            report.problems.append(problem)
        violations, problem = read_json(store, join_uri(report_uri.rstrip("/"), "constraint_violations.json"))
        if isinstance(violations, dict):
            report.violations = [v for v in violations.get("violations") or [] if isinstance(v, dict)]
        elif problem and expect_violations:
            report.problems.append(problem)
    if baseline_uri:
        baseline, problem = read_json(store, _statistics_uri(baseline_uri))
        if isinstance(baseline, dict):
            report.baseline = baseline
        elif problem:
            report.problems.append(problem)
    return report
