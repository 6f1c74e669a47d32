"""Explainability metric lines (spec §8) from AWS's real baseline analysis.json."""

from __future__ import annotations

import json

from tests.aws_fixtures import aws_fixture
from watchkeeper.analysis.explain.metric_lines import explainability_metric_lines

REAL = json.loads(aws_fixture("adult-clarify-bias-and-explainability", "explainability-baseline-analysis.json")
                  .read_text())


def test_one_line_per_feature_and_the_expected_value():
    lines = explainability_metric_lines(REAL, dimensions={"Endpoint": "ep", "MonitoringSchedule": "sched"},
                                        timestamp="2024-01-19T20:00:00Z")
    entry = REAL["explanations"]["kernel_shap"]["0.7956783771514893"]
    assert len(lines) == len(entry["global_shap_values"]) + 1
    first = lines[0]
    assert first == {
        "MetricName": "feature_Age",
        "Timestamp": "2024-01-19T20:00:00Z",
        "Dimensions": [
            {"Name": "Endpoint", "Value": "ep"},
            {"Name": "MonitoringSchedule", "Value": "sched"},
            {"Name": "ExplainabilityMethod", "Value": "KernelShap"},
            {"Name": "Label", "Value": "0.7956783771514893"},
            {"Name": "ValueType", "Value": "GlobalShapValues"},
        ],
        "Value": entry["global_shap_values"]["Age"],
    }
    names = [f"feature_{f}" for f in entry["global_shap_values"]]
    assert [line["MetricName"] for line in lines[:-1]] == names
    last = lines[-1]
    assert last["MetricName"] == "ExpectedValue" and last["Value"] == entry["expected_value"]
    assert last["Dimensions"][-1] == {"Name": "ValueType", "Value": "ExpectedValue"}


def test_non_finite_values_are_not_published():
    document = {"explanations": {"kernel_shap": {"label0": {"global_shap_values": {"a": float("nan"), "b": 1.0},
                                                            "expected_value": float("inf")}}}}
    lines = explainability_metric_lines(document, dimensions={}, timestamp="t")
    assert [line["MetricName"] for line in lines] == ["feature_b"]
