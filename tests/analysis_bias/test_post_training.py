"""Post-training metrics against the plain reference (tests/analysis_bias/reference.py), on random data and
on the edge cases: empty groups, no predicted positives, infinities."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.analysis_bias.reference import post_training_reference
from watchkeeper.analysis.bias.config import bias_config
from watchkeeper.analysis.bias.report import bias_analysis


def _analyse(y, y_hat, facet, group=None, *, values=(1,)):
    columns = {"facet": facet, "x": np.arange(len(y), dtype=np.float64), "label": y, "prediction": y_hat}
    config = {"label": "label", "label_values_or_threshold": [1],
              "facet": [{"name_or_index": "facet", "value_or_threshold": list(values)}]}
    if group is not None:
        columns["group"] = group
        config["group_variable"] = "group"
    document = bias_analysis(pl.DataFrame(columns), bias_config(config), predicted="prediction",
                             pre_training=False, post_training=True)
    return {m["name"]: m for m in document["post_training_bias_metrics"]["facets"]["facet"][0]["metrics"]}


def _close(ours: float, expected: float) -> bool:
    if math.isinf(expected) or math.isinf(ours):
        return ours == expected
    return math.isclose(ours, expected, rel_tol=1e-12, abs_tol=1e-12)


def _check(y, y_hat, facet, group) -> None:
    metrics = _analyse(y, y_hat, facet, group)
    expected = post_training_reference(y, y_hat, facet == 1, group)
    for name, value in expected.items():
        assert _close(metrics[name]["value"], value), (name, metrics[name], value)


@pytest.mark.parametrize("seed", range(5))
def test_random_data_matches_the_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2000
    facet = (rng.random(n) < 0.3).astype(np.int64)
    y = (rng.random(n) < 0.4 + 0.1 * facet).astype(np.int64)
    y_hat = np.where(rng.random(n) < 0.8, y, 1 - y)
    _check(y, y_hat, facet, rng.integers(0, 7, n))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(0, 1), st.integers(0, 3)),
                min_size=2, max_size=40))
def test_any_small_table_matches_the_reference(rows) -> None:
    y, y_hat, facet, group = (np.array(column, dtype=np.int64) for column in zip(*rows, strict=True))
    if facet.all() or not facet.any() or not y.any():
        return  # empty groups and positive-free labels are the edge-case tests' business
    if (y_hat - y + 1).sum() == 0:
        return
    _check(y, y_hat, facet, group)


def test_no_predicted_positives_gives_infinities_as_the_division_rule_says() -> None:
    y = np.array([1, 0, 1, 0, 1, 0, 1, 1])
    y_hat = np.array([1, 0, 1, 1, 0, 0, 0, 0])
    facet = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    metrics = _analyse(y, y_hat, facet)
    assert metrics["DI"]["value"] == 0.0  # q_hat_d = 0
    assert metrics["DCA"]["value"] == -math.inf  # c_d = 3 positives / 0 predicted positives
    assert metrics["DAR"]["value"] == 2 / 3  # precision_a 2/3, precision_d is 0/0 = 0
    assert metrics["TE"]["value"] == math.inf  # FN_d = 3, FP_d = 0
    _check(y, y_hat, facet, None)


def test_both_groups_infinite_give_zero_differences() -> None:
    y = np.array([1, 1, 0, 1, 1, 0])
    y_hat = np.array([0, 0, 0, 0, 0, 0])
    facet = np.array([0, 0, 0, 1, 1, 1])
    metrics = _analyse(y, y_hat, facet)
    assert metrics["DCA"]["value"] == 0.0  # inf - inf
    assert metrics["TE"]["value"] == 0.0  # FN/FP infinite in both groups
    assert metrics["DI"]["value"] == 0.0  # 0/0
    _check(y, y_hat, facet, None)


def test_advantaged_favoured_in_prediction_only_gives_infinite_disparate_impact() -> None:
    y = np.array([1, 0, 1, 0])
    y_hat = np.array([0, 0, 1, 1])
    metrics = _analyse(y, y_hat, np.array([0, 0, 1, 1]))
    assert metrics["DI"]["value"] == math.inf


def test_an_empty_sensitive_group_gives_errors_not_numbers() -> None:
    y = np.array([1, 0, 1, 0])
    metrics = _analyse(y, y, np.array([0, 0, 0, 0]))
    assert metrics["AD"]["value"] is None
    assert metrics["AD"]["error"] == "AD: facet set is empty. Check that x[facet] has non-zero length."
    assert metrics["CDDPL"]["value"] is None
    assert metrics["GE"]["value"] == 0.0  # GE looks at every row, not at facets
    assert list(metrics["AD"]) == ["name", "description", "value", "error"]


def test_an_empty_advantaged_group_gives_errors() -> None:
    y = np.array([1, 0, 1, 0])
    metrics = _analyse(y, y, np.array([1, 1, 1, 1]))
    assert all(m["value"] is None for name, m in metrics.items() if name != "GE")
    assert "advantaged group is empty" in metrics["DPPL"]["error"]


def test_without_group_variable_the_conditional_metric_is_an_error() -> None:
    y = np.array([1, 0, 1, 0])
    metrics = _analyse(y, y, np.array([0, 1, 0, 1]))
    assert metrics["CDDPL"] == {"name": "CDDPL",
                                "description": "Conditional Demographic Disparity in Predicted Labels (CDDPL)",
                                "value": None, "error": "Group variable is empty or not provided"}
