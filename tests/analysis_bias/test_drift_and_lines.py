"""The drift rule's edges, and CloudWatch metric lines of the real baseline."""

from __future__ import annotations

import math

import pytest

from tests.analysis_bias.adult import load
from watchkeeper.analysis.bias.drift import bias_drift_violations
from watchkeeper.analysis.bias.metric_lines import INFINITY_VALUE, bias_metric_lines


def _doc(values: dict, key: str = "post_training_bias_metrics", facet_value: str = "0") -> dict:
    metrics = [{"name": n, "description": n, "value": v} for n, v in sorted(values.items())]
    return {"version": "1.0", key: {"label": "Target", "label_value_or_threshold": "1",
                                    "facets": {"Sex": [{"value_or_threshold": facet_value, "metrics": metrics}]}}}


@pytest.mark.parametrize(("name", "current", "baseline", "flagged"), [
    ("DPPL", -0.3, 0.2, True),  # AWS's own example: farther from 0
    ("DPPL", 0.1, 0.2, False),
    ("DPPL", 0.2, 0.2, False),
    ("DI", 0.5, 0.8, True),  # |0.5 - 1| > |0.8 - 1|
    ("DI", 1.1, 0.8, False),
    ("DI", 1.3, 0.8, True),
    ("TE", math.inf, 2.9, True),
    ("DCA", -math.inf, -0.5, True),
    ("TE", math.inf, math.inf, False),
    ("TE", 3.0, math.inf, False),
    ("AD", math.nan, 0.1, False),
    ("AD", None, 0.1, False),
    ("AD", 0.5, None, False),
])
def test_rule(name: str, current: float | None, baseline: float | None, flagged: bool) -> None:
    assert bool(bias_drift_violations(_doc({name: current}), _doc({name: baseline}))) is flagged


def test_texts_for_negative_infinity_and_unmatched_entries() -> None:
    [violation] = bias_drift_violations(_doc({"DCA": -math.inf}), _doc({"DCA": -0.5}))
    assert violation["description"] == "Metric value -Infinity doesn't meet the baseline constraint requirement -0.5"
    # A facet value the baseline does not have, and pre-training drift, are not checked.
    assert bias_drift_violations(_doc({"AD": 0.9}, facet_value="1"), _doc({"AD": 0.1})) == []
    pre = "pre_training_bias_metrics"
    assert bias_drift_violations(_doc({"CI": 0.9}, pre), _doc({"CI": 0.1}, pre)) == []
    assert len(bias_drift_violations(_doc({"CI": 0.9}, pre), _doc({"CI": 0.1}, pre), sections=[pre])) == 1


def test_metric_lines_of_the_real_baseline() -> None:
    document = load("bias-baseline-analysis.json")
    lines = bias_metric_lines(document, dimensions={"Endpoint": "ep", "MonitoringSchedule": "s"},
                              timestamp="2024-01-19T20:00:00Z")
    assert len(lines) == 13 + 8
    first = lines[0]
    assert first == {"MetricName": "bias_metric_AD", "Timestamp": "2024-01-19T20:00:00Z",
                     "Dimensions": [{"Name": "Endpoint", "Value": "ep"}, {"Name": "MonitoringSchedule", "Value": "s"},
                                    {"Name": "BiasStage", "Value": "Post-training"},
                                    {"Name": "Label", "Value": "Target"}, {"Name": "LabelValue", "Value": "1"},
                                    {"Name": "Facet", "Value": "Sex"}, {"Name": "FacetValue", "Value": "0"}],
                     "Value": -0.15156641604010024}
    ci = next(line for line in lines if line["MetricName"] == "bias_metric_CI")
    assert ci["Dimensions"][2] == {"Name": "BiasStage", "Value": "Pre-training"}
    assert ci["Value"] == 0.36936936936936937


def test_infinities_are_published_as_the_cloudwatch_stand_in_and_nulls_skipped() -> None:
    lines = bias_metric_lines(_doc({"TE": math.inf, "DCA": -math.inf, "AD": None, "DI": math.nan}),
                              dimensions={}, timestamp="t")
    assert {line["MetricName"]: line["Value"] for line in lines} == {"bias_metric_DCA": -INFINITY_VALUE,
                                                                     "bias_metric_TE": INFINITY_VALUE}
    assert INFINITY_VALUE == 2.348543e108
