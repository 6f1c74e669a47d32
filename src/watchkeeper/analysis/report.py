"""What a data-quality job reports besides statistics: the violations document, the one-line message
that becomes the processing job's ExitMessage (spec §2.5, §4.3), and CloudWatch-style metric lines
(spec §8). Pure: documents in, documents and strings out.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from watchkeeper.analysis.types import NUMERIC_TYPES

# AWS's own report parser reads drift distances from descriptions with this pattern
# (amazon-sagemaker-examples, sagemaker_model_monitor/visualization/utils.py).
_DISTANCE = re.compile(r"distance(?: \([^)]*\))?: (\S+) (?:exceeds|is below)")


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


def completion_message(violations: Sequence[Any]) -> str:
    """The container's `/opt/ml/output/message` line; N is the number of violation entries (spec §2.5).

    The real texts only show N > 1 ("with 60 violations."); 1 is written as "1 violations." on the
    assumption that the container does not special-case the plural.
    """
    if not violations:
        return "Completed: Job completed successfully with no violations."
    return f"CompletedWithViolations: Job completed successfully with {len(violations)} violations."


def metric_lines(
    statistics: Mapping[str, Any],
    violations: Iterable[Mapping[str, Any]],
    *,
    endpoint: str | None = None,
    schedule: str | None = None,
    metric_time: str | None = None,
    drift: Mapping[str, float] | None = None,
    constraints: Mapping[str, Any] | None = None,
) -> list[str]:
    """CloudWatch metric datums for one data-quality window, one JSON object per line (spec §8).

    Per feature of `statistics`, in order:
    - `feature_data_<name>` with `StatisticValues` (SampleCount, Sum, Minimum, Maximum) for numeric
      features with at least one value, so Average/Min/Max/Sum/SampleCount are all queryable;
    - `feature_non_null_<name>`: completeness, num_present / (num_present + num_missing);
    - `feature_baseline_drift_<name>`: the drift distance — from `drift` (see
      `checks.drift_distances`) when given, else read from the feature's baseline_drift_check entry.
    Dimensions: `Endpoint` (when given) and `MonitoringSchedule` (when given); a batch-transform
    schedule has no endpoint. `Timestamp` is `metric_time` (the window start, `YYYY-MM-DDTHH:MM:SSZ`);
    it is left out when None. With `constraints` whose `monitoring_config.emit_metrics` is `Disabled`,
    nothing is emitted.
    """
    if constraints is not None:
        flag = (constraints.get("monitoring_config") or {}).get("emit_metrics", "Enabled")
        if str(flag).strip().lower() == "disabled":
            return []
    distances = dict(drift) if drift is not None else _distances_from(violations)
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


def _distances_from(violations: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    found: dict[str, float] = {}
    for violation in violations:
        if violation.get("constraint_check_type") != "baseline_drift_check":
            continue
        match = _DISTANCE.search(violation.get("description", ""))
        if match:
            try:
                found[violation["feature_name"]] = float(match.group(1))
            except ValueError:
                continue
    return found


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
