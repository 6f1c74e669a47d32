"""Every metric against scikit-learn on random data, for the three problem types; states that merge."""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl
import pytest
from sklearn import metrics as skm
from sklearn.dummy import DummyClassifier

from watchkeeper.analysis import model_quality as mq
from watchkeeper.analysis import model_quality_metrics as mqm
from watchkeeper.analysis import model_quality_states as mqs

SEEDS = [0, 1, 2, 3]


def binary_data(seed: int, n: int = 500) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    actual = (rng.random(n) < rng.uniform(0.1, 0.6)).astype(int)
    # Scores related to the label, rounded so that ties occur.
    scores = np.round(np.clip(rng.normal(0.35 + 0.3 * actual, 0.25), 0, 1), 2)
    predicted = (scores >= 0.5).astype(int)
    return actual, predicted, scores


def binary_state(actual: np.ndarray, predicted: np.ndarray, scores: np.ndarray | None,
                 chunks: int = 1, seed: int = 0) -> mqm.ModelQualityState:
    state = mqm.ModelQualityState(mqs.BINARY, positive_label="1", seed=seed)
    for part in np.array_split(np.arange(len(actual)), chunks):
        state.update(actual[part].astype(str), predicted[part].astype(str),
                     None if scores is None else scores[part])
    return state


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_metrics_match_sklearn(seed):
    actual, predicted, scores = binary_data(seed)
    m = binary_state(actual, predicted, scores).metrics()
    tn, fp, fn, tp = skm.confusion_matrix(actual, predicted, labels=[0, 1]).ravel()
    assert m["confusion_matrix"] == {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}}
    expected = {
        "recall": skm.recall_score(actual, predicted, zero_division=0),
        "precision": skm.precision_score(actual, predicted, zero_division=0),
        "accuracy": skm.accuracy_score(actual, predicted),
        "true_positive_rate": skm.recall_score(actual, predicted, zero_division=0),
        "true_negative_rate": skm.recall_score(actual, predicted, pos_label=0, zero_division=0),
        "false_positive_rate": 1 - skm.recall_score(actual, predicted, pos_label=0, zero_division=0),
        "false_negative_rate": 1 - skm.recall_score(actual, predicted, zero_division=0),
        "auc": skm.roc_auc_score(actual, scores),
        "f0_5": skm.fbeta_score(actual, predicted, beta=0.5, zero_division=0),
        "f1": skm.f1_score(actual, predicted, zero_division=0),
        "f2": skm.fbeta_score(actual, predicted, beta=2, zero_division=0),
    }
    for name, value in expected.items():
        assert m[name] == pytest.approx(value, abs=1e-12), name


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_best_constant_classifier_matches_sklearn_dummy(seed):
    actual, predicted, scores = binary_data(seed)
    m = binary_state(actual, predicted, scores).metrics()
    constant = DummyClassifier(strategy="most_frequent").fit(np.zeros((len(actual), 1)), actual)
    guess = constant.predict(np.zeros((len(actual), 1)))
    assert m["accuracy_best_constant_classifier"] == pytest.approx(skm.accuracy_score(actual, guess))
    assert m["recall_best_constant_classifier"] == pytest.approx(skm.recall_score(actual, guess, zero_division=0))
    assert m["precision_best_constant_classifier"] == pytest.approx(
        skm.precision_score(actual, guess, zero_division=0))
    for name, beta in (("f0_5", 0.5), ("f1", 1), ("f2", 2)):
        assert m[f"{name}_best_constant_classifier"] == pytest.approx(
            skm.fbeta_score(actual, guess, beta=beta, zero_division=0))


def test_best_constant_classifier_predicting_positive():
    actual = np.array([1] * 70 + [0] * 30)
    m = binary_state(actual, actual, None).metrics()
    assert m["recall_best_constant_classifier"] == 1.0
    assert m["precision_best_constant_classifier"] == pytest.approx(0.7)
    assert m["f1_best_constant_classifier"] == pytest.approx(skm.f1_score(actual, np.ones(100, dtype=int)))


@pytest.mark.parametrize("seed", SEEDS)
def test_roc_and_pr_curves_match_sklearn_points(seed):
    """Spark's points: sklearn's ROC (all thresholds) plus a closing (1,1); PR is sklearn's, highest score
    first, after a leading (recall 0, first precision)."""
    actual, predicted, scores = binary_data(seed)
    m = binary_state(actual, predicted, scores).metrics()
    roc = m["receiver_operating_characteristic_curve"]
    fpr, tpr, _ = skm.roc_curve(actual, scores, drop_intermediate=False)
    np.testing.assert_allclose(roc["false_positive_rates"], np.append(fpr, 1.0), atol=1e-15)
    np.testing.assert_allclose(roc["true_positive_rates"], np.append(tpr, 1.0), atol=1e-15)
    precision, recall, thresholds = skm.precision_recall_curve(actual, scores)
    points = len(thresholds)  # sklearn lists ascending thresholds, then its own (precision 1, recall 0) point
    pr = m["precision_recall_curve"]
    np.testing.assert_allclose(pr["precisions"][1:], precision[:points][::-1], atol=1e-15)
    np.testing.assert_allclose(pr["recalls"][1:], recall[:points][::-1], atol=1e-15)
    assert pr["recalls"][0] == 0.0 and pr["precisions"][0] == pr["precisions"][1]
    assert len(set(scores)) + 2 == len(roc["true_positive_rates"])


def test_auc_without_scores_uses_predictions():
    actual, predicted, _ = binary_data(5)
    m = binary_state(actual, predicted, None).metrics()
    assert m["auc"] == pytest.approx(skm.roc_auc_score(actual, predicted), abs=1e-12)


def test_binary_with_other_labels_and_positive_label():
    rng = np.random.default_rng(7)
    actual = rng.choice(["cat", "dog"], 300)
    predicted = np.where(rng.random(300) < 0.8, actual, rng.choice(["cat", "dog"], 300))
    state = mqm.ModelQualityState(mqs.BINARY, positive_label="dog")
    state.update(actual, predicted)
    m = state.metrics()
    assert m["recall"] == pytest.approx(skm.recall_score(actual, predicted, pos_label="dog"))
    assert m["precision"] == pytest.approx(skm.precision_score(actual, predicted, pos_label="dog"))
    assert list(m["confusion_matrix"]) == ["cat", "dog"]


@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_metrics_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    classes = rng.integers(3, 7)
    actual = rng.choice(classes, 600, p=rng.dirichlet(np.ones(classes)))
    predicted = np.where(rng.random(600) < 0.6, actual, rng.integers(0, classes + 1, 600))  # one unseen class
    state = mqm.ModelQualityState(mqs.MULTICLASS)
    state.update(actual.astype(str), predicted.astype(str))
    m = state.metrics()
    labels = sorted(set(actual) | set(predicted))
    matrix = skm.confusion_matrix(actual, predicted, labels=labels)
    assert m["confusion_matrix"] == {str(a): {str(p): int(matrix[i, j]) for j, p in enumerate(labels)}
                                     for i, a in enumerate(labels)}
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(actual, predicted))
    kw = {"average": "weighted", "zero_division": 0}
    assert m["weighted_recall"] == pytest.approx(skm.recall_score(actual, predicted, **kw))
    assert m["weighted_precision"] == pytest.approx(skm.precision_score(actual, predicted, **kw))
    for name, beta in (("f0_5", 0.5), ("f1", 1), ("f2", 2)):
        assert m[f"weighted_{name}"] == pytest.approx(skm.fbeta_score(actual, predicted, beta=beta, **kw)), name
    guess = DummyClassifier(strategy="most_frequent").fit(actual.reshape(-1, 1), actual).predict(
        actual.reshape(-1, 1))
    assert m["accuracy_best_constant_classifier"] == pytest.approx(skm.accuracy_score(actual, guess))
    assert m["weighted_recall_best_constant_classifier"] == pytest.approx(skm.recall_score(actual, guess, **kw))
    assert m["weighted_precision_best_constant_classifier"] == pytest.approx(
        skm.precision_score(actual, guess, **kw))
    for name, beta in (("f0_5", 0.5), ("f1", 1), ("f2", 2)):
        assert m[f"weighted_{name}_best_constant_classifier"] == pytest.approx(
            skm.fbeta_score(actual, guess, beta=beta, **kw)), name


@pytest.mark.parametrize("seed", SEEDS)
def test_regression_metrics_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    actual = rng.normal(10, 3, 1000)
    predicted = actual + rng.normal(0.5, 2, 1000)
    state = mqm.ModelQualityState(mqs.REGRESSION)
    for part in np.array_split(np.arange(1000), 7):
        state.update(actual[part], predicted[part])
    m = state.metrics()
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(actual, predicted), rel=1e-12)
    assert m["mse"] == pytest.approx(skm.mean_squared_error(actual, predicted), rel=1e-12)
    assert m["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(actual, predicted)), rel=1e-12)
    assert m["r2"] == pytest.approx(skm.r2_score(actual, predicted), rel=1e-10)


def test_r2_of_constant_labels_is_sklearns():
    for predicted in ([2.0, 2.0, 2.0], [2.0, 3.0, 2.0]):
        state = mqm.ModelQualityState(mqs.REGRESSION)
        state.update(np.array([2.0, 2.0, 2.0]), np.array(predicted))
        assert state.metrics()["r2"] == skm.r2_score([2.0, 2.0, 2.0], predicted)


@pytest.mark.parametrize("problem_type", mqs.PROBLEM_TYPES)
def test_merged_states_equal_one_pass(problem_type):
    """Partitions folded separately and merged give the metrics of one pass over all rows, and the merged
    Bernoulli samples hold about 80% of the rows each."""
    rng = np.random.default_rng(11)
    n = 3000
    if problem_type == mqs.REGRESSION:
        actual = rng.normal(size=n)
        predicted, scores = actual + rng.normal(size=n), None
    else:
        actual = rng.integers(0, 2 if problem_type == mqs.BINARY else 4, n).astype(str)
        predicted = np.where(rng.random(n) < 0.7, actual, "1")
        scores = np.round(rng.random(n), 3) if problem_type == mqs.BINARY else None
    positive = "1" if problem_type == mqs.BINARY else None
    whole = mqm.ModelQualityState(problem_type, positive_label=positive)
    whole.update(actual, predicted, scores)
    parts = []
    for k, index in enumerate(np.array_split(rng.permutation(n), 5)):
        part = mqm.ModelQualityState(problem_type, positive_label=positive, seed=k)
        part.update(actual[index], predicted[index], None if scores is None else scores[index])
        parts.append(part)
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    ours, theirs = merged.metrics(), whole.metrics()
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        if isinstance(value, float):
            assert ours[name] == pytest.approx(value, rel=1e-12, abs=1e-15), name
        else:
            assert ours[name] == value, name
    for sample in merged.samples:
        count = sample.regression.count if problem_type == mqs.REGRESSION else sample.confusion.total
        assert abs(count - 0.8 * n) < 5 * math.sqrt(n * 0.8 * 0.2)  # five standard deviations of Binomial(n, .8)


def test_confusion_merge_with_disjoint_labels():
    a, b = mqs.ConfusionState(), mqs.ConfusionState()
    a.update(np.array(["x", "y"]), np.array(["x", "x"]))
    b.update(np.array(["z", "y"]), np.array(["z", "y"]))
    merged = a.merge(b).to_document()
    assert merged == {"x": {"x": 1, "y": 0, "z": 0}, "y": {"x": 1, "y": 1, "z": 0}, "z": {"x": 0, "y": 0, "z": 1}}
    assert b.merge(a).to_document() == merged


def test_standard_deviation_needs_200_rows():
    actual, predicted, scores = binary_data(3, n=199)
    small = binary_state(actual, predicted, scores).to_document()["binary_classification_metrics"]
    assert small["recall"]["standard_deviation"] == "NaN"
    actual, predicted, scores = binary_data(3, n=200)
    document = binary_state(actual, predicted, scores).to_document()
    metrics = document["binary_classification_metrics"]
    assert document["dataset"] == {"item_count": 200}
    assert all(isinstance(v["standard_deviation"], float) and v["standard_deviation"] > 0
               for k, v in metrics.items() if k in ("recall", "accuracy", "auc", "f1"))


def test_standard_deviation_is_that_of_five_80_percent_samples():
    """The std of accuracy equals np.std over the five samples' own accuracies (and each sample is a real subset)."""
    actual, predicted, scores = binary_data(9, n=1000)
    state = binary_state(actual, predicted, scores, chunks=3)
    sample_accuracy = [np.trace(p.confusion.counts) / p.confusion.total for p in state.samples]
    assert state.standard_deviations()["accuracy"] == pytest.approx(np.std(sample_accuracy))
    assert len({p.confusion.total for p in state.samples}) > 1  # independent draws


def test_canonical_labels():
    out = mqs.canonical_labels(pl.Series([" 1", "1.0", '"0"', "2.5", "yes", None, "1e3"])).to_list()
    assert out == ["1", "1", "0", "2.5", "yes", None, "1000"]
    assert mqs.label_order(["10", "9", "b", "a"]) == ["9", "10", "a", "b"]


def test_violation_names_and_texts():
    assert mq.violation_metric_name("true_positive_rate") == "truePositiveRate"
    assert mq.violation_metric_name("weighted_f0_5") == "weightedF0_5"
    assert mq.violation_metric_name("auc") == "auc"
    statistics = {"version": 0.0, "regression_metrics": {
        "mae": {"value": 2.5, "standard_deviation": 0.0005}, "mse": {"value": 1.0, "standard_deviation": "NaN"},
        "rmse": {"value": 1.0, "standard_deviation": 0.1}, "r2": {"value": 0.5, "standard_deviation": 0.01}}}
    constraints = {"version": 0.0, "regression_constraints": {
        "mae": {"threshold": 2.0, "comparison_operator": "GreaterThanThreshold"},
        "mse": {"threshold": 1.0, "comparison_operator": "GreaterThanOrEqualToThreshold"},
        "rmse": {"threshold": 1.0, "comparison_operator": "GreaterThanThreshold"},
        "r2": {"threshold": 0.5, "comparison_operator": "LessThanOrEqualToThreshold"}}}
    assert mq.find_violations(statistics, constraints) == [
        {"constraint_check_type": "GreaterThanThreshold",
         "description": "Metric mae with 2.5 +/- 5.0E-4 was GreaterThanThreshold '2.0'", "metric_name": "mae"},
        {"constraint_check_type": "GreaterThanOrEqualToThreshold",
         "description": "Metric mse with 1.0 +/- NaN was GreaterThanOrEqualToThreshold '1.0'", "metric_name": "mse"},
        {"constraint_check_type": "LessThanOrEqualToThreshold",
         "description": "Metric r2 with 0.5 +/- 0.01 was LessThanOrEqualToThreshold '0.5'", "metric_name": "r2"},
    ]


def test_violations_refuse_other_problem_types_and_operators():
    statistics = {"regression_metrics": {"mae": {"value": 1.0, "standard_deviation": 0.0}}}
    with pytest.raises(ValueError, match="BinaryClassification"):
        mq.find_violations(statistics, {"binary_classification_constraints": {}})
    with pytest.raises(ValueError, match="comparison_operator"):
        mq.find_violations(statistics, {"regression_constraints": {
            "mae": {"threshold": 0.0, "comparison_operator": "Above"}}})


@pytest.mark.parametrize("problem_type", mqs.PROBLEM_TYPES)
def test_suggested_constraints_are_values_with_aws_operators(problem_type):
    rng = np.random.default_rng(4)
    state = mqm.ModelQualityState(problem_type, positive_label="1" if problem_type == mqs.BINARY else None)
    if problem_type == mqs.REGRESSION:
        state.update(rng.normal(size=300), rng.normal(size=300))
    else:
        state.update(rng.integers(0, 3, 300).astype(str), rng.integers(0, 3, 300).astype(str))
    statistics = state.to_document()
    constraints = mq.suggest_constraints(statistics)
    suggested = constraints[mqs.CONSTRAINTS_KEY[problem_type]]
    metrics = statistics[mqs.METRICS_KEY[problem_type]]
    assert [name for name, _ in mq.SUGGESTED[problem_type]] == list(suggested)
    for name, constraint in suggested.items():
        assert constraint["threshold"] == metrics[name]["value"]
        lower_is_better = name in ("false_positive_rate", "false_negative_rate", "mae", "mse", "rmse")
        assert constraint["comparison_operator"] == ("GreaterThanThreshold" if lower_is_better
                                                     else "LessThanThreshold")
    assert mq.find_violations(statistics, constraints) == []  # a baseline never violates itself


def test_metric_lines():
    actual, predicted, scores = binary_data(1)
    statistics = binary_state(actual, predicted, scores).to_document()
    lines = [json.loads(line) for line in mq.metric_lines(
        statistics, endpoint="ep", schedule="sch", metric_time="2024-01-01T10:00:00Z")]
    names = [line["MetricName"] for line in lines]
    assert "confusion_matrix" not in names and "precision_recall_curve" not in names
    assert {"auc", "f0_5", "recall_best_constant_classifier", "false_positive_rate"} <= set(names)
    assert lines[0]["Dimensions"] == [{"Name": "Endpoint", "Value": "ep"}, {"Name": "MonitoringSchedule",
                                                                           "Value": "sch"}]
    auc = next(line for line in lines if line["MetricName"] == "auc")
    assert auc["Value"] == statistics["binary_classification_metrics"]["auc"]["value"]
    assert auc["Timestamp"] == "2024-01-01T10:00:00Z"


def test_long_curves_are_downsampled_and_auc_stays_exact(monkeypatch):
    monkeypatch.setattr(mqm, "MAX_CURVE_POINTS", 50)
    actual, predicted, _ = binary_data(8, n=2000)
    scores = np.random.default_rng(8).random(2000) * 0.5 + 0.5 * actual  # ~2000 distinct scores
    m = binary_state(actual, predicted, scores).metrics()
    roc = m["receiver_operating_characteristic_curve"]
    assert len(roc["true_positive_rates"]) <= 52 and roc["true_positive_rates"][-2:] == [1.0, 1.0]
    assert np.all(np.diff(roc["true_positive_rates"]) >= 0) and np.all(np.diff(roc["false_positive_rates"]) >= 0)
    assert m["auc"] == pytest.approx(skm.roc_auc_score(actual, scores), abs=1e-12)
    assert m["precision_recall_curve"]["recalls"][-1] == 1.0
