"""CloudWatch metric lines of an explainability analysis (spec §8): `feature_<name>` per global SHAP value and
`ExpectedValue`, per label, with the dimensions the Clarify container adds to the caller's (Endpoint and
MonitoringSchedule): ExplainabilityMethod=KernelShap, Label, ValueType=GlobalShapValues|ExpectedValue.
Namespace (the caller's): aws/sagemaker/Endpoints/explainability-metrics, batch .../ModelMonitoring/... .
Non-finite values are not published (CloudWatch rejects them)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def explainability_metric_lines(document: Mapping[str, Any], *, dimensions: Mapping[str, str],
                                timestamp: str) -> list[dict[str, Any]]:
    """One datum per global SHAP value and per expected value of every label of the analysis document."""
    lines: list[dict[str, Any]] = []
    base = [{"Name": name, "Value": value} for name, value in dimensions.items()]
    for label, entry in document.get("explanations", {}).get("kernel_shap", {}).items():
        own = [*base, {"Name": "ExplainabilityMethod", "Value": "KernelShap"}, {"Name": "Label", "Value": label}]
        for feature, value in entry.get("global_shap_values", {}).items():
            _add(lines, f"feature_{feature}", own, "GlobalShapValues", value, timestamp)
        if "expected_value" in entry:
            _add(lines, "ExpectedValue", own, "ExpectedValue", entry["expected_value"], timestamp)
    return lines


def _add(lines: list[dict[str, Any]], name: str, dimensions: list[dict[str, str]], value_type: str,
         value: Any, timestamp: str) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return
    lines.append({
        "MetricName": name,
        "Timestamp": timestamp,
        "Dimensions": [*dimensions, {"Name": "ValueType", "Value": value_type}],
        "Value": float(value),
    })
