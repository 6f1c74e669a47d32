"""Against the real AWS baseline analysis.json and execution violations (adult, facet Sex=0, label 1,
group Age)."""

from __future__ import annotations

import json
import re

import numpy as np
import polars as pl

from tests.analysis_bias.adult import FOLDER, adult_config, adult_table, load, metric_values
from tests.aws_fixtures import aws_fixture
from watchkeeper.analysis.bias.config import bias_config
from watchkeeper.analysis.bias.drift import bias_drift_violations, violations_document
from watchkeeper.analysis.bias.report import analysis_json, bias_analysis


def test_pre_training_reproduces_the_real_baseline_exactly() -> None:
    real = load("bias-baseline-analysis.json")
    ours = bias_analysis(adult_table(), bias_config(adult_config()), predicted=None, pre_training=True,
                         post_training=False)
    assert list(ours) == ["version", "pre_training_bias_metrics"]
    assert ours["pre_training_bias_metrics"] == real["pre_training_bias_metrics"]  # names, order, == values
    assert list(ours["pre_training_bias_metrics"]) == list(real["pre_training_bias_metrics"])


def test_analysis_json_text_is_the_real_file_byte_for_byte() -> None:
    path = aws_fixture(FOLDER, "bias-baseline-analysis.json")
    assert analysis_json(json.loads(path.read_text())) == path.read_text()


def _counts_behind_the_baseline(table: pl.DataFrame, real: dict[str, float]) -> tuple[int, int, int, int]:
    """The predicted-positive and true-positive counts of a and d that give the baseline's DPPL and DAR
    (searched: the predictions themselves were not published)."""
    d = (table["Sex"] == 0).to_numpy()
    y = table["Target"].to_numpy() == 1
    n_a, n_d, pos_a, pos_d = int((~d).sum()), int(d.sum()), int(y[~d].sum()), int(y[d].sum())
    found = [(pa, pd_, ta, td)
             for pa in range(1, n_a + 1) for pd_ in range(1, n_d + 1) if pa / n_a - pd_ / n_d == real["DPPL"]
             for ta in range(min(pa, pos_a) + 1) for td in range(min(pd_, pos_d) + 1)
             if ta / pa - td / pd_ == real["DAR"]]
    assert len(found) == 1
    return found[0]


def test_post_training_confusion_metrics_reproduce_the_baseline_given_matching_predictions() -> None:
    """Predictions with the confusion counts the baseline implies reproduce its confusion-matrix metrics
    exactly; GE to the last bits (its float sum depends on which rows carry which prediction)."""
    table = adult_table()
    real = metric_values(load("bias-baseline-analysis.json")["post_training_bias_metrics"])
    predicted_a, predicted_d, true_a, true_d = _counts_behind_the_baseline(table, real)
    d = (table["Sex"] == 0).to_numpy()
    y = table["Target"].to_numpy() == 1
    prediction = np.zeros(table.height, dtype=np.int64)
    for group, n_predicted, n_true in ((~d, predicted_a, true_a), (d, predicted_d, true_d)):
        positives, negatives = np.flatnonzero(group & y), np.flatnonzero(group & ~y)
        prediction[positives[:n_true]] = 1
        prediction[negatives[:n_predicted - n_true]] = 1
    ours = bias_analysis(table.with_columns(pl.Series("predicted", prediction)), bias_config(adult_config()),
                         predicted="predicted", pre_training=False, post_training=True)
    values = metric_values(ours["post_training_bias_metrics"])
    assert list(values) == list(real)
    for name in ("AD", "DAR", "DCA", "DCR", "DI", "DPPL", "DRR", "RD", "SD", "TE"):
        assert values[name] == real[name], name
    assert abs(values["GE"] - real["GE"]) < 1e-15


def test_drift_reproduces_the_real_execution_violations() -> None:
    """The current values are the ones the real violation texts print; every other metric equals its
    baseline. Every real violation comes back, text for text, in order, and nothing else."""
    baseline = load("bias-baseline-analysis.json")
    real = load("bias-execution-constraint_violations.json")
    current = json.loads(json.dumps(baseline))
    printed = {v["metric_name"]: re.match(r"Metric value (\S+) doesn't", v["description"]).group(1)
               for v in real["violations"]}
    for metric in current["post_training_bias_metrics"]["facets"]["Sex"][0]["metrics"]:
        if metric["name"] in printed:
            metric["value"] = float(printed[metric["name"]])  # float("Infinity") is inf
    # Pre-training metrics far from their baseline are not checked (only post-training ones are).
    for metric in current["pre_training_bias_metrics"]["facets"]["Sex"][0]["metrics"]:
        metric["value"] = metric["value"] * 3
    violations = bias_drift_violations(current, baseline)
    assert violations_document(violations) == real
    assert [list(v) for v in violations] == [list(v) for v in real["violations"]]
