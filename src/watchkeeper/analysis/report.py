"""What a data-quality job reports besides statistics: the violations document, the job's status and the
one-line message that becomes the processing job's ExitMessage (spec §2.5, §4.3), and CloudWatch-style metric
lines (spec §8). Pure: documents in, documents and strings out. `analysis.result` holds a window's typed
result and calls these; drift distances come measured (`analysis.drift`), never read back out of a
violation's text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from watchkeeper.analysis.types import NUMERIC_TYPES

# An analysis job's status, as the execution reports it (spec §2.5): the leading word of the message.
COMPLETED = "Completed"
COMPLETED_WITH_VIOLATIONS = "CompletedWithViolations"


def violations_document(violations: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """`constraint_violations.json` for data quality: `{"violations": [...]}`, no `version` key
    (spec §7.1), written even when empty (spec §4.3's recommendation)."""
    return {
        "violations": [
            {
                "feature_name": v["feature_name"],
                "constraint_check_type": v["constraint_check_type"],
                "description": v["description"],
            }
            for v in violations
        ]
    }


def status_of(violation_count: int) -> str:
    """`Completed` without violations, `CompletedWithViolations` with any."""
    return COMPLETED_WITH_VIOLATIONS if violation_count else COMPLETED


def completion_message(violations: Sequence[Any] | int) -> str:
    """The container's `/opt/ml/output/message` line; N is the number of violation entries (spec §2.5),
    given as the entries or their count. Its first word is the status (`status_of`).

    The real texts only show N > 1 ("with 60 violations."); 1 is written as "1 violations." on the
    assumption that the container does not special-case the plural.
    """
    count = violations if isinstance(violations, int) else len(violations)
    if not count:
        return f"{COMPLETED}: Job completed successfully with no violations."
    return f"{status_of(count)}: Job completed successfully with {count} violations."


def metric_lines(
    statistics: Mapping[str, Any],
    drift: Mapping[str, float] | None = None,
    *,
    endpoint: str | None = None,
    schedule: str | None = None,
    metric_time: str | None = None,
    constraints: Mapping[str, Any] | None = None,
) -> list[str]:
    """CloudWatch metric datums for one data-quality window, one JSON object per line (spec §8).

    Per feature of `statistics`, in order:
    - `feature_data_<name>` with `StatisticValues` (SampleCount, Sum, Minimum, Maximum) for numeric
      features with at least one value, so Average/Min/Max/Sum/SampleCount are all queryable;
    - `feature_non_null_<name>`: completeness, num_present / (num_present + num_missing);
    - `feature_baseline_drift_<name>`: the feature's drift distance in `drift` (`drift.distances` of the
      window's measures: every comparable feature, violated or not), when it has one.
    Dimensions: `Endpoint` (when given) and `MonitoringSchedule` (when given); a batch-transform
    schedule has no endpoint. `Timestamp` is `metric_time` (the window start, `YYYY-MM-DDTHH:MM:SSZ`);
    it is left out when None. With `constraints` whose `monitoring_config.emit_metrics` is `Disabled`,
    nothing is emitted.
    """
    if constraints is not None:
        flag = (constraints.get("monitoring_config") or {}).get("emit_metrics", "Enabled")
        if str(flag).strip().lower() == "disabled":
            return []
    distances = dict(drift or {})
    dimensions = [
        {"Name": key, "Value": value}
        for key, value in (("Endpoint", endpoint), ("MonitoringSchedule", schedule))
        if value is not None
    ]
    lines: list[str] = []

    def emit(name: str, **payload: Any) -> None:
        datum: dict[str, Any] = {"MetricName": name}
        if metric_time is not None:
            datum["Timestamp"] = metric_time
        datum["Dimensions"] = dimensions
        datum.update(payload)
        lines.append(json.dumps(datum))

    for feature in statistics.get("features") or []:
        name = feature["name"]
        numeric = feature.get("inferred_type") in NUMERIC_TYPES and "numerical_statistics" in feature
        stats = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
        common = stats.get("common") or {}
        present = int(common.get("num_present", 0))
        missing = int(common.get("num_missing", 0))
        if numeric and present > 0 and all(_finite(stats.get(k)) for k in ("sum", "min", "max")):
            emit(
                f"feature_data_{name}",
                StatisticValues={
                    "SampleCount": float(present),
                    "Sum": float(stats["sum"]),
                    "Minimum": float(stats["min"]),
                    "Maximum": float(stats["max"]),
                },
            )
        if present + missing > 0:
            emit(f"feature_non_null_{name}", Value=present / (present + missing))
        if _finite(distances.get(name)):
            emit(f"feature_baseline_drift_{name}", Value=float(distances[name]))
    return lines


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
