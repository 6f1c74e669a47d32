"""Feature attribution drift: nDCG as the AWS docs define it, and AWS's violation entries."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from tests.aws_fixtures import aws_fixture
from watchkeeper.analysis.explain.drift import attribution_drift_violations, ndcg
from watchkeeper.analysis.explain.report import explanation_analysis

REAL = json.loads(aws_fixture("adult-clarify-bias-and-explainability", "explainability-baseline-analysis.json")
                  .read_text())


def test_the_docs_college_admission_example():
    baseline = {"SAT score": 0.70, "GPA": 0.50, "Class rank": 0.05}
    live = {"SAT score": 0.10, "GPA": 0.20, "Class rank": 0.70}
    assert round(ndcg(baseline, live), 2) == 0.69
    assert ndcg(baseline, baseline) == 1.0


@pytest.mark.parametrize("seed", range(6))
def test_equals_scikit_learns_ndcg_score_which_the_docs_name(seed):
    rng = np.random.default_rng(seed)
    base = rng.random(12)
    now = np.round(rng.random(12), 1)  # rounded: ties, which scikit-learn averages
    names = [f"f{i}" for i in range(12)]
    ours = ndcg(dict(zip(names, base, strict=True)), dict(zip(names, now, strict=True)))
    assert ours == ndcg_score([base], [now])  # to the last digit: the violation text prints it


def test_violations_have_aws_text_and_key_order():
    features = list(next(iter(REAL["explanations"]["kernel_shap"].values()))["global_shap_values"])
    reversed_values = np.array([REAL["explanations"]["kernel_shap"]["0.7956783771514893"]["global_shap_values"][f]
                                for f in features])
    current = explanation_analysis(features, ["label0"], (1.0 / reversed_values)[:, None], np.array([0.3]))
    # the real baseline's label key is a number (spec §11): labels pair by position
    violations = attribution_drift_violations(current, REAL)
    (violation,) = violations
    assert list(violation) == ["label", "metric_name", "constraint_check_type", "description"]
    base = REAL["explanations"]["kernel_shap"]["0.7956783771514893"]["global_shap_values"]
    expected = ndcg_score([list(base.values())], [list(1.0 / reversed_values)])
    assert violation == {
        "label": "label0",
        "metric_name": "shap",
        "constraint_check_type": "feature_attribution_drift_check",
        "description": f"Feature attribution drift {expected!r} exceeds threshold 0.9",
    }
    assert expected < 0.9
    assert attribution_drift_violations(REAL, REAL) == []


def test_docs_description_format():
    # the docs' example: "Feature attribution drift 0.7639720923277322 exceeds threshold 0.9"
    baseline = explanation_analysis(["a", "b", "c"], ["label0", "label1"],
                                    np.array([[0.7, 0.7], [0.5, 0.5], [0.05, 0.05]]), np.array([0.1, 0.9]))
    current = explanation_analysis(["a", "b", "c"], ["label0", "label1"],
                                   np.array([[0.1, 0.7], [0.2, 0.5], [0.7, 0.05]]), np.array([0.1, 0.9]))
    (violation,) = attribution_drift_violations(current, baseline)
    assert violation["label"] == "label0"
    assert violation["description"] == f"Feature attribution drift {ndcg_score([[.7, .5, .05]], [[.1, .2, .7]])!r}" \
        " exceeds threshold 0.9"
    assert attribution_drift_violations(current, baseline, threshold=0.5) == []
    with pytest.raises(ValueError, match=r"explanations\.kernel_shap"):
        attribution_drift_violations({"version": "1.0"}, baseline)
