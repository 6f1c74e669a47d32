"""The typed result of an analysis (analysis/result.py): built once from the states, read by every file.

The expected violations and metric lines below were produced by the code before the result existed
(checks + drift_distances + report.metric_lines, commit 69da5e1) on the same data: the result changes how
they are made, not what they say."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from watchkeeper.analysis import distance, drift
from watchkeeper.analysis.model_quality_metrics import ModelQualityState
from watchkeeper.analysis.result import data_quality_result, model_quality_result
from watchkeeper.analysis.statistics import DatasetState
from watchkeeper.analysis.suggest import suggest_constraints


def state(rows: list[tuple[str, str, str]]) -> DatasetState:
    columns = {"age": [r[0] for r in rows], "plan": [r[1] for r in rows], "score": [r[2] for r in rows]}
    result = DatasetState()
    result.update(pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String)))
    return result


BASELINE = state([(str(20 + i % 50), "abc"[i % 3], f"{(i % 10) / 10:.1f}") for i in range(300)]).to_document()
CONSTRAINTS = suggest_constraints(BASELINE)


def window() -> DatasetState:
    return state([(str(40 + i % 50), "aab"[i % 3], "0.5" if i % 7 else "x") for i in range(200)])


DIMENSIONS = [{"Name": "Endpoint", "Value": "ep"}, {"Name": "MonitoringSchedule", "Value": "hourly"}]
TODAY_VIOLATIONS = [
    {"feature_name": "age", "constraint_check_type": "baseline_drift_check",
     "description": "Numerical distance: 0.23568323274845018 exceeds numerical threshold: 0.1"},
    {"feature_name": "plan", "constraint_check_type": "baseline_drift_check",
     "description": "Categorical distance: 0.1723498994151169 exceeds categorical threshold: 0.1"},
    {"feature_name": "score", "constraint_check_type": "data_type_check",
     "description": "Data type match requirement is not met. Expected data type: Fractional, Expected match: "
                    "100.0%. Observed: Only 85.5% of data is Fractional."},
]
TODAY_METRIC_LINES = [json.dumps(line) for line in [
    {"MetricName": "feature_data_age", "Timestamp": "2024-01-01T00:00:00Z", "Dimensions": DIMENSIONS,
     "StatisticValues": {"SampleCount": 200.0, "Sum": 12900.0, "Minimum": 40.0, "Maximum": 89.0}},
    {"MetricName": "feature_non_null_age", "Timestamp": "2024-01-01T00:00:00Z", "Dimensions": DIMENSIONS,
     "Value": 1.0},
    {"MetricName": "feature_baseline_drift_age", "Timestamp": "2024-01-01T00:00:00Z", "Dimensions": DIMENSIONS,
     "Value": 0.23568323274845018},
    {"MetricName": "feature_non_null_plan", "Timestamp": "2024-01-01T00:00:00Z", "Dimensions": DIMENSIONS,
     "Value": 1.0},
    {"MetricName": "feature_baseline_drift_plan", "Timestamp": "2024-01-01T00:00:00Z", "Dimensions": DIMENSIONS,
     "Value": 0.1723498994151169},
    {"MetricName": "feature_non_null_score", "Timestamp": "2024-01-01T00:00:00Z", "Dimensions": DIMENSIONS,
     "Value": 1.0},
]]


def test_violations_and_metric_lines_from_the_result_are_todays():
    result = data_quality_result(window(), baseline_statistics=BASELINE, baseline_constraints=CONSTRAINTS)
    assert list(result.violations) == TODAY_VIOLATIONS
    assert result.violations_document() == {"violations": TODAY_VIOLATIONS}
    lines = result.metric_lines(endpoint="ep", schedule="hourly", metric_time="2024-01-01T00:00:00Z")
    assert lines == TODAY_METRIC_LINES  # the exact text, key order and float digits included


def test_the_status_comes_from_the_result():
    checked = data_quality_result(window(), baseline_statistics=BASELINE, baseline_constraints=CONSTRAINTS)
    assert (checked.status, checked.violation_count, checked.checked) == ("CompletedWithViolations", 3, True)
    assert checked.completion_message == "CompletedWithViolations: Job completed successfully with 3 violations."
    assert checked.violations_by_check() == {"baseline_drift_check": 2, "data_type_check": 1}
    assert checked.result_document() == {
        "version": 1, "analysis_type": "DATA_QUALITY", "status": "CompletedWithViolations", "violations": 3,
        "violations_by_check": {"baseline_drift_check": 2, "data_type_check": 1}, "item_count": 200}

    same = data_quality_result(state([(str(20 + i % 50), "abc"[i % 3], f"{(i % 10) / 10:.1f}") for i in range(300)]),
                               baseline_statistics=BASELINE, baseline_constraints=CONSTRAINTS)
    assert (same.status, same.violations, same.completion_message) == (
        "Completed", (), "Completed: Job completed successfully with no violations.")
    assert same.distances == {"age": 0.0, "plan": 0.0, "score": 0.0}

    baseline = data_quality_result(window())  # nothing checked: a baseline job
    assert (baseline.status, baseline.violations, baseline.checked, baseline.drift) == ("Completed", None, False, {})
    assert baseline.constraints == suggest_constraints(baseline.statistics)


def test_drift_is_computed_once_per_feature(monkeypatch):
    calls = {"numerical": 0, "categorical": 0}
    numerical, categorical = distance.numerical_distance, distance.categorical_distance

    def count_numerical(*args, **kwargs):
        calls["numerical"] += 1
        return numerical(*args, **kwargs)

    def count_categorical(*args, **kwargs):
        calls["categorical"] += 1
        return categorical(*args, **kwargs)

    monkeypatch.setattr(distance, "numerical_distance", count_numerical)
    monkeypatch.setattr(distance, "categorical_distance", count_categorical)
    result = data_quality_result(window(), baseline_statistics=BASELINE, baseline_constraints=CONSTRAINTS)
    result.metric_lines(endpoint="ep")
    result.violations_document()
    result.result_document()
    # age (numeric) and plan (categorical) are comparable; score has no sketch in the window (it became String)
    assert calls == {"numerical": 1, "categorical": 1}
    assert result.drift == {"age": drift.Drift(0.23568323274845018, drift.NUMERIC),
                            "plan": drift.Drift(0.1723498994151169, drift.LINF)}


def test_a_type_failure_keeps_its_drift_metric_but_no_drift_violation():
    rows = [(str(40 + i % 50) + ".5" if i % 4 == 0 else str(40 + i % 50), "abc"[i % 3], "0.5") for i in range(200)]
    constraints = suggest_constraints(state([(str(20 + i % 50), "abc"[i % 3], "0.1") for i in range(300)])
                                      .to_document())
    integral = state([(str(20 + i % 50), "abc"[i % 3], "0.1") for i in range(300)]).to_document()
    result = data_quality_result(state(rows), baseline_statistics=integral, baseline_constraints=constraints)
    checks = {(v["feature_name"], v["constraint_check_type"]) for v in result.violations}
    assert ("age", "data_type_check") in checks and ("age", "baseline_drift_check") not in checks
    assert result.distances["age"] > 0.1
    assert any(json.loads(line)["MetricName"] == "feature_baseline_drift_age" for line in result.metric_lines())


def test_emit_metrics_disabled_in_the_baseline_constraints_writes_no_lines():
    constraints = json.loads(json.dumps(CONSTRAINTS))
    constraints["monitoring_config"]["emit_metrics"] = "Disabled"
    result = data_quality_result(window(), baseline_statistics=BASELINE, baseline_constraints=constraints)
    assert result.metric_lines(endpoint="ep") == [] and result.violation_count == 3


def test_model_quality_result_status_and_violations():
    good = ModelQualityState("BinaryClassification", positive_label="1")
    good.update(*_labels(["1", "0", "1", "0"], ["1", "0", "1", "0"]))
    baseline = model_quality_result(good)
    assert (baseline.status, baseline.violations, baseline.problem_type) == ("Completed", None, "BinaryClassification")
    worse = ModelQualityState("BinaryClassification", positive_label="1")
    worse.update(*_labels(["1", "0", "1", "0"], ["0", "0", "1", "1"]))
    result = model_quality_result(worse, baseline.constraints)
    assert result.status == "CompletedWithViolations" and result.violation_count == len(result.violations) > 0
    assert result.violations_document() == {"violations": [dict(v) for v in result.violations]}
    assert result.result_document()["problem_type"] == "BinaryClassification"
    assert result.completion_message.startswith(f"CompletedWithViolations: Job completed successfully with "
                                                f"{result.violation_count} violations.")
    with pytest.raises(ValueError, match="this job is BinaryClassification"):
        model_quality_result(worse, {"regression_constraints": {}})


def _labels(actual, predicted):
    return np.array(actual, dtype=object), np.array(predicted, dtype=object), None
