"""Model-quality documents as SageMaker's analyzer writes them (spec §9): suggested constraints.json,
constraint_violations.json and CloudWatch-style metric lines, from a statistics.json document (see
`model_quality_metrics` for the metrics and the state, `model_quality_states` for labels and counts).

Choices where AWS is silent are in docs/model-quality.md.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from watchkeeper.analysis.aws_json import java_double
from watchkeeper.analysis.model_quality_states import (
    BINARY,
    CONSTRAINTS_KEY,
    METRICS_KEY,
    MULTICLASS,
    PROBLEM_TYPES,
    REGRESSION,
)

LESS = "LessThanThreshold"
GREATER = "GreaterThanThreshold"
LESS_OR_EQUAL = "LessThanOrEqualToThreshold"
GREATER_OR_EQUAL = "GreaterThanOrEqualToThreshold"
_VIOLATED = {
    LESS: lambda value, threshold: value < threshold,
    GREATER: lambda value, threshold: value > threshold,
    LESS_OR_EQUAL: lambda value, threshold: value <= threshold,
    GREATER_OR_EQUAL: lambda value, threshold: value >= threshold,
}

# Suggested constraints, in the order of the real run (spec §9.3): thresholds are the baseline's values;
# rates that should stay low get GreaterThanThreshold.
SUGGESTED: dict[str, tuple[tuple[str, str], ...]] = {
    BINARY: (("recall", LESS), ("precision", LESS), ("accuracy", LESS), ("true_positive_rate", LESS),
             ("true_negative_rate", LESS), ("false_positive_rate", GREATER), ("false_negative_rate", GREATER),
             ("auc", LESS), ("f0_5", LESS), ("f1", LESS), ("f2", LESS)),
    MULTICLASS: (("accuracy", LESS), ("weighted_recall", LESS), ("weighted_precision", LESS),
                 ("weighted_f0_5", LESS), ("weighted_f1", LESS), ("weighted_f2", LESS)),
    REGRESSION: (("mae", GREATER), ("mse", GREATER), ("rmse", GREATER), ("r2", LESS)),
}

# AWS suggests an f0_5 constraint but never reports it: in both real executions (spec §12.2) f0_5 was far below
# its threshold (0.34 < 0.87) while every other violated metric was reported. Mirrored, multiclass by analogy.
NOT_CHECKED = frozenset({"f0_5", "weighted_f0_5"})


def problem_type_of(document: Mapping[str, Any]) -> str:
    """The problem type a statistics or constraints document is for."""
    for problem_type in PROBLEM_TYPES:
        if METRICS_KEY[problem_type] in document or CONSTRAINTS_KEY[problem_type] in document:
            return problem_type
    raise ValueError("not a model-quality document: it has none of "
                     + ", ".join(list(METRICS_KEY.values()) + list(CONSTRAINTS_KEY.values())))


def suggest_constraints(statistics: Mapping[str, Any]) -> dict[str, Any]:
    """constraints.json: each constrained metric's baseline value as its threshold (spec §9.3)."""
    problem_type = problem_type_of(statistics)
    metrics = statistics[METRICS_KEY[problem_type]]
    constraints: dict[str, Any] = {}
    for name, operator in SUGGESTED[problem_type]:
        value = _value(metrics.get(name))
        if value is not None and math.isfinite(value):
            constraints[name] = {"threshold": value, "comparison_operator": operator}
    return {"version": 0.0, CONSTRAINTS_KEY[problem_type]: constraints}


def violation_metric_name(name: str) -> str:
    """The name AWS puts in violations: the analyzer's camelCase field, i.e. Jackson's snake_case undone
    (`true_positive_rate` → `truePositiveRate`; an underscore before a digit stays: `f0_5`)."""
    head, *rest = name.split("_")
    out = [head]
    for part in rest:
        if part and part[0].isalpha():
            out.append(part[0].upper() + part[1:])
        else:
            out.append("_" + part)
    return "".join(out)


def find_violations(statistics: Mapping[str, Any], constraints: Mapping[str, Any]) -> list[dict[str, str]]:
    """Violations of `constraints` by `statistics`, in the constraints' order, with AWS's text:
    "Metric precision with 0.69 +/- 0.0089 was LessThanThreshold '1.0'". Metrics missing from the statistics
    or without a finite value are not checked, nor are NOT_CHECKED ones."""
    problem_type = problem_type_of(statistics)
    key = CONSTRAINTS_KEY[problem_type]
    if key not in constraints:
        raise ValueError(f"the baseline constraints are for {problem_type_of(constraints)}, "
                         f"this job is {problem_type}")
    metrics = statistics[METRICS_KEY[problem_type]]
    violations = []
    for name, constraint in (constraints.get(key) or {}).items():
        if name in NOT_CHECKED:
            continue
        operator = constraint.get("comparison_operator")
        if operator not in _VIOLATED:
            raise ValueError(f"constraint {name!r} has comparison_operator {operator!r}; use one of "
                             + ", ".join(_VIOLATED))
        threshold = float(constraint["threshold"])
        value = _value(metrics.get(name))
        if value is None or not math.isfinite(value) or not _VIOLATED[operator](value, threshold):
            continue
        std = metrics[name].get("standard_deviation")
        std_text = java_double(float(std)) if isinstance(std, int | float) else str(std)
        metric = violation_metric_name(name)
        violations.append({
            "constraint_check_type": operator,
            "description": f"Metric {metric} with {java_double(value)} +/- {std_text} was {operator} "
                           f"'{java_double(threshold)}'",
            "metric_name": metric,
        })
    return violations


def violations_document(violations: Iterable[Mapping[str, str]]) -> dict[str, Any]:
    return {"violations": [dict(v) for v in violations]}


def _value(entry: Any) -> float | None:
    if isinstance(entry, Mapping):
        entry = entry.get("value")
    if isinstance(entry, bool) or not isinstance(entry, int | float):
        return None
    return float(entry)


def metric_lines(statistics: Mapping[str, Any], *, endpoint: str | None = None, schedule: str | None = None,
                 metric_time: str | None = None) -> list[str]:
    """CloudWatch datums (spec §8, namespace aws/sagemaker/Endpoints/model-metrics): one line per scalar
    metric with a finite value, named as in statistics.json; dimensions Endpoint and MonitoringSchedule."""
    metrics = statistics[METRICS_KEY[problem_type_of(statistics)]]
    dimensions = [{"Name": key, "Value": value}
                  for key, value in (("Endpoint", endpoint), ("MonitoringSchedule", schedule)) if value is not None]
    lines = []
    for name, entry in metrics.items():
        value = _value(entry) if isinstance(entry, Mapping) and "value" in entry else None
        if value is None or not math.isfinite(value):
            continue
        datum: dict[str, Any] = {"MetricName": name}
        if metric_time is not None:
            datum["Timestamp"] = metric_time
        datum["Dimensions"] = dimensions
        datum["Value"] = value
        lines.append(json.dumps(datum))
    return lines
