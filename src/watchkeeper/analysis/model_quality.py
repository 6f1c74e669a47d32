"""Model-quality metrics, baselines and violations as SageMaker's analyzer computes them (spec §9).

Pure: label, prediction and score arrays in; mergeable states; statistics.json, constraints.json and
constraint_violations.json documents (AWS's key order) and CloudWatch-style metric lines out.

- `ModelQualityState` folds batches of rows into a confusion matrix (classification), distinct scores with
  their positive/negative counts (binary ROC/PR/AUC, exact) or error and label moments (regression). States
  of files, hours or workers `merge`; nothing per row is kept beyond the distinct scores.
- Standard deviations follow the docs: "randomly sampling 80% of the data 5 times, computing the metric,
  and taking the standard deviation", only with at least 200 rows (else the string "NaN"). Each of the five
  samples is itself a state, fed by a Bernoulli(0.8) draw per row as rows arrive, so the samples merge too
  (the union of Bernoulli samples of partitions is a Bernoulli sample of the whole).
- Curves and AUC are Spark MLlib's `BinaryClassificationMetrics` (the analyzer is a Spark job): one point
  per distinct score from the highest down, ROC framed by (0,0) and (1,1), PR starting at (0, first
  precision); AUC is the trapezoid area under that ROC (= Mann-Whitney with ties counted half).
- Ratios with a zero denominator are 0.0 (AWS's best-constant precision of an all-negative classifier is 0).

Choices where AWS is silent are in docs/model-quality.md.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from watchkeeper.analysis.aws_json import java_double

BINARY = "BinaryClassification"
MULTICLASS = "MulticlassClassification"
REGRESSION = "Regression"
PROBLEM_TYPES = (BINARY, MULTICLASS, REGRESSION)

METRICS_KEY = {BINARY: "binary_classification_metrics", MULTICLASS: "multiclass_classification_metrics",
               REGRESSION: "regression_metrics"}
CONSTRAINTS_KEY = {BINARY: "binary_classification_constraints",
                   MULTICLASS: "multiclass_classification_constraints", REGRESSION: "regression_constraints"}

STD_MIN_ROWS = 200  # docs: standard deviations "only when at least 200 samples are available"
STD_SAMPLES = 5
STD_FRACTION = 0.8
NAN_TEXT = "NaN"  # what AWS writes as standard_deviation below STD_MIN_ROWS (a JSON string)

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

_BETAS = (("f0_5", 0.5), ("f1", 1.0), ("f2", 2.0))

# Curves with more distinct scores than this keep every k-th threshold (Spark's `numBins` downsampling), so a
# million-row window writes a statistics.json of ~1 MB, not ~75 MB. AUC is always computed on the full curve.
MAX_CURVE_POINTS = 10_000

# AWS suggests an f0_5 constraint but never reports it: in both real executions (spec §12.2) f0_5 was far below
# its threshold (0.34 < 0.87) while every other violated metric was reported. Mirrored, multiclass by analogy.
NOT_CHECKED = frozenset({"f0_5", "weighted_f0_5"})


# ------------------------------------------------------------------------------------------- labels


def canonical_labels(values: pl.Series) -> pl.Series:
    """Class labels as the text keys of the confusion matrix: trimmed, surrounding quotes removed, and
    integral numbers written as integers (`1.0`, ` 1` and `1` are all "1", as in AWS's `{"0": {"1": …}}`)."""
    text = values.cast(pl.String).str.strip_chars().str.strip_chars('"')
    number = text.cast(pl.Float64, strict=False)
    integral = number.is_finite() & (number == number.round()) & (number.abs() < 2.0**53)
    as_int = number.cast(pl.Int64, strict=False).cast(pl.String)
    return pl.select(pl.when(integral.fill_null(False)).then(as_int).otherwise(text)).to_series()


def label_order(labels: Iterable[str]) -> list[str]:
    """Numeric labels in numeric order, others in text order (numbers first)."""
    def key(label: str) -> tuple[int, float, str]:
        try:
            number = float(label)
        except ValueError:
            return (1, 0.0, label)
        return (0, number, label) if math.isfinite(number) else (1, 0.0, label)

    return sorted(labels, key=key)


def default_positive_label(labels: Iterable[str]) -> str | None:
    """Without `positive_label`: "1" for 0/1 labels, "true" for booleans; None when it cannot be told."""
    seen = set(labels)
    for candidate in ("1", "true", "True", "TRUE", "yes", "Yes"):
        if candidate in seen:
            return candidate
    if seen <= {"0", "false", "False", "FALSE", "no", "No"}:
        return "1"  # only negatives in this window: 0/1 is the common case
    return None


def negative_label(positive: str) -> str:
    """The predicted label for a score below the threshold, when only probabilities are given."""
    return {"1": "0", "true": "false", "True": "False", "TRUE": "FALSE", "yes": "no", "Yes": "No"}.get(
        positive, f"not {positive}")


def threshold_predictions(scores: np.ndarray, threshold: float, positive: str) -> np.ndarray:
    """Labels from scores: positive at or above the threshold (Spark's convention)."""
    return np.where(scores >= threshold, positive, negative_label(positive)).astype(str)


# ------------------------------------------------------------------------------------------- states


@dataclass
class ConfusionState:
    """Counts of (actual, predicted) label pairs; `labels` sorted as text, `counts[actual, predicted]`."""

    labels: np.ndarray = field(default_factory=lambda: np.array([], dtype=str))
    counts: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def update(self, actual: np.ndarray, predicted: np.ndarray) -> None:
        actual, predicted = np.asarray(actual, dtype=str), np.asarray(predicted, dtype=str)
        if actual.size == 0:
            return
        labels = np.union1d(self.labels, np.union1d(actual, predicted))
        counts = self._on(labels)
        k = len(labels)
        pairs = np.searchsorted(labels, actual) * k + np.searchsorted(labels, predicted)
        counts += np.bincount(pairs, minlength=k * k).reshape(k, k)
        self.labels, self.counts = labels, counts

    def merge(self, other: ConfusionState) -> ConfusionState:
        labels = np.union1d(self.labels, other.labels).astype(str)
        return ConfusionState(labels, self._on(labels) + other._on(labels))

    def _on(self, labels: np.ndarray) -> np.ndarray:
        """This state's counts re-indexed onto a superset of its labels."""
        out = np.zeros((len(labels), len(labels)), dtype=np.int64)
        if len(self.labels):
            where = np.searchsorted(labels, self.labels)
            out[np.ix_(where, where)] = self.counts
        return out

    def matrix(self, labels: Sequence[str]) -> np.ndarray:
        """Counts in the given label order (labels not seen count 0)."""
        full = np.union1d(self.labels, np.asarray(labels, dtype=str))
        where = np.searchsorted(full, np.asarray(labels, dtype=str))
        return self._on(full)[np.ix_(where, where)]

    def to_document(self) -> dict[str, dict[str, int]]:
        """`{"<actual>": {"<predicted>": count}}` over every label seen, in `label_order`."""
        order = label_order(self.labels.tolist())
        counts = self.matrix(order)
        return {a: {p: int(counts[i, j]) for j, p in enumerate(order)} for i, a in enumerate(order)}


@dataclass
class ScoreState:
    """Distinct scores (ascending) with how many positive and negative rows carry each."""

    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    positives: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    negatives: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def update(self, scores: np.ndarray, is_positive: np.ndarray) -> None:
        scores = np.asarray(scores, dtype=np.float64)
        is_positive = np.asarray(is_positive, dtype=bool)
        if scores.size:
            merged = self.merge(ScoreState._of(scores, is_positive.astype(np.int64), (~is_positive).astype(np.int64)))
            self.scores, self.positives, self.negatives = merged.scores, merged.positives, merged.negatives

    def merge(self, other: ScoreState) -> ScoreState:
        return ScoreState._of(np.concatenate([self.scores, other.scores]),
                              np.concatenate([self.positives, other.positives]),
                              np.concatenate([self.negatives, other.negatives]))

    @staticmethod
    def _of(scores: np.ndarray, positives: np.ndarray, negatives: np.ndarray) -> ScoreState:
        distinct, inverse = np.unique(scores, return_inverse=True)
        return ScoreState(distinct,
                          np.bincount(inverse, weights=positives, minlength=len(distinct)).astype(np.int64),
                          np.bincount(inverse, weights=negatives, minlength=len(distinct)).astype(np.int64))


@dataclass
class RegressionState:
    """Row count, mean and centred sum of squares of the labels (Chan et al. merge), and error sums."""

    count: int = 0
    label_mean: float = 0.0
    label_m2: float = 0.0
    abs_error: float = 0.0
    squared_error: float = 0.0

    def update(self, actual: np.ndarray, predicted: np.ndarray) -> None:
        actual = np.asarray(actual, dtype=np.float64)
        if actual.size == 0:
            return
        error = actual - np.asarray(predicted, dtype=np.float64)
        mean = float(actual.mean())
        batch = RegressionState(int(actual.size), mean, float(((actual - mean) ** 2).sum()),
                                float(np.abs(error).sum()), float((error**2).sum()))
        merged = self.merge(batch)
        self.__dict__.update(merged.__dict__)

    def merge(self, other: RegressionState) -> RegressionState:
        n = self.count + other.count
        if n == 0:
            return RegressionState()
        delta = other.label_mean - self.label_mean
        return RegressionState(
            n,
            self.label_mean + delta * other.count / n,
            self.label_m2 + other.label_m2 + delta * delta * self.count * other.count / n,
            self.abs_error + other.abs_error,
            self.squared_error + other.squared_error,
        )


@dataclass
class _Part:
    """Everything the metrics of one (sub)sample need."""

    confusion: ConfusionState = field(default_factory=ConfusionState)
    scores: ScoreState = field(default_factory=ScoreState)
    regression: RegressionState = field(default_factory=RegressionState)

    def merge(self, other: _Part) -> _Part:
        return _Part(self.confusion.merge(other.confusion), self.scores.merge(other.scores),
                     self.regression.merge(other.regression))


class ModelQualityState:
    """The mergeable state of a model-quality job: the whole data and STD_SAMPLES Bernoulli samples.

    `update(actual, predicted, scores)`: labels as text (see `canonical_labels`) for classification,
    numbers for regression; `scores` (binary only, optional) are the positive class's probabilities.
    Without scores, binary AUC and curves use the predictions as 0/1 scores.
    """

    def __init__(self, problem_type: str, *, positive_label: str | None = None, seed: int | None = 0) -> None:
        if problem_type not in PROBLEM_TYPES:
            raise ValueError(f"problem_type must be one of {', '.join(PROBLEM_TYPES)}, got {problem_type!r}")
        self.problem_type = problem_type
        self.positive_label = positive_label
        self.full = _Part()
        self.samples = [_Part() for _ in range(STD_SAMPLES)]
        self._rng = np.random.default_rng(seed)

    @property
    def count(self) -> int:
        if self.problem_type == REGRESSION:
            return self.full.regression.count
        return self.full.confusion.total

    def update(self, actual: np.ndarray, predicted: np.ndarray, scores: np.ndarray | None = None) -> None:
        n = len(actual)
        if n == 0:
            return
        self._update(self.full, actual, predicted, scores)
        for part in self.samples:
            keep = self._rng.random(n) < STD_FRACTION
            self._update(part, np.asarray(actual)[keep], np.asarray(predicted)[keep],
                         None if scores is None else np.asarray(scores)[keep])

    def _update(self, part: _Part, actual: Any, predicted: Any, scores: np.ndarray | None) -> None:
        if self.problem_type == REGRESSION:
            part.regression.update(actual, predicted)
            return
        part.confusion.update(actual, predicted)
        if self.problem_type == BINARY:
            if self.positive_label is None:
                raise ValueError("a binary classification state needs its positive label")
            is_positive = np.asarray(actual, dtype=str) == self.positive_label
            if scores is None:
                scores = (np.asarray(predicted, dtype=str) == self.positive_label).astype(np.float64)
            part.scores.update(scores, is_positive)

    def merge(self, other: ModelQualityState) -> ModelQualityState:
        if (other.problem_type, other.positive_label) != (self.problem_type, self.positive_label):
            raise ValueError("cannot merge states of different problem types or positive labels")
        out = ModelQualityState(self.problem_type, positive_label=self.positive_label)
        out._rng = self._rng
        out.full = self.full.merge(other.full)
        out.samples = [a.merge(b) for a, b in zip(self.samples, other.samples, strict=True)]
        return out

    def metrics(self) -> dict[str, Any]:
        """Values of the whole data: scalars, plus `confusion_matrix` and curves where AWS has them."""
        return part_metrics(self.full, self.problem_type, self.positive_label)

    def standard_deviations(self, metrics: Mapping[str, Any] | None = None) -> dict[str, float | None]:
        """Population standard deviation of each scalar metric over the samples; None below STD_MIN_ROWS.

        ddof=0 because it matches AWS: simulated on the churn baseline, 5 Bernoulli(0.8) samples give a mean
        recall std of 0.041 with ddof=0 and 0.045 with ddof=1; AWS reported 0.0409 and 0.0418."""
        names = [name for name, value in (metrics or self.metrics()).items() if isinstance(value, float)]
        if self.count < STD_MIN_ROWS:
            return dict.fromkeys(names)
        values = [part_metrics(part, self.problem_type, self.positive_label) for part in self.samples]
        return {name: float(np.std([v[name] for v in values])) for name in names}

    def to_document(self) -> dict[str, Any]:
        metrics = self.metrics()
        return statistics_document(self.problem_type, self.count, metrics, self.standard_deviations(metrics))


# ------------------------------------------------------------------------------------------ metrics


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def _f_beta(precision: float, recall: float, beta: float) -> float:
    b2 = beta * beta  # Spark MulticlassMetrics.fMeasure's operation order, for the same last digit
    return _ratio((1 + b2) * (precision * recall), b2 * precision + recall)


def binary_counts(confusion: ConfusionState, positive: str) -> tuple[int, int, int, int]:
    """(TP, FN, FP, TN) with every label other than `positive` negative."""
    labels = confusion.labels.tolist()
    total = confusion.total
    if positive not in labels:
        return 0, 0, 0, total
    i = labels.index(positive)
    tp = int(confusion.counts[i, i])
    fn = int(confusion.counts[i, :].sum()) - tp
    fp = int(confusion.counts[:, i].sum()) - tp
    return tp, fn, fp, total - tp - fn - fp


def _binary_scalars(tp: int, fn: int, fp: int, tn: int) -> dict[str, float]:
    recall, precision = _ratio(tp, tp + fn), _ratio(tp, tp + fp)
    out = {"recall": recall, "precision": precision, "accuracy": _ratio(tp + tn, tp + fn + fp + tn)}
    out.update({name: _f_beta(precision, recall, beta) for name, beta in _BETAS})
    return out


def majority_label(confusion: ConfusionState) -> str | None:
    """The most frequent actual label (ties to the first in `label_order`)."""
    if confusion.total == 0:
        return None
    order = label_order(confusion.labels.tolist())
    support = confusion.matrix(order).sum(axis=1)
    return order[int(np.argmax(support))]


def binary_metrics(confusion: ConfusionState, scores: ScoreState, positive: str) -> dict[str, Any]:
    """§9.2 binary metrics in AWS's order. Best constant classifier: always the majority actual label
    (AWS since May 2021)."""
    tp, fn, fp, tn = binary_counts(confusion, positive)
    main = _binary_scalars(tp, fn, fp, tn)
    positives, negatives = tp + fn, fp + tn
    if majority_label(confusion) == positive:
        best = _binary_scalars(positives, 0, negatives, 0)
    else:
        best = _binary_scalars(0, positives, 0, negatives)
    roc_fpr, roc_tpr, pr_precision, pr_recall = curves(scores)
    auc = area_under_curve(roc_fpr, roc_tpr)
    if len(scores.scores) > MAX_CURVE_POINTS:
        roc_fpr, roc_tpr, pr_precision, pr_recall = curves(scores, MAX_CURVE_POINTS)
    out: dict[str, Any] = {"confusion_matrix": confusion.to_document()}
    out.update({k: main[k] for k in ("recall", "precision", "accuracy")})
    out.update({f"{k}_best_constant_classifier": best[k] for k in ("recall", "precision", "accuracy")})
    # AWS's last digits show TNR = 1 - FPR and FNR = 1 - TPR (e.g. FNR 0.4285714285714286, not 12/28).
    out["true_positive_rate"] = main["recall"]
    out["true_negative_rate"] = 1.0 - _ratio(fp, fp + tn)
    out["false_positive_rate"] = _ratio(fp, fp + tn)
    out["false_negative_rate"] = 1.0 - main["recall"]
    out["receiver_operating_characteristic_curve"] = {"false_positive_rates": roc_fpr.tolist(),
                                                      "true_positive_rates": roc_tpr.tolist()}
    out["precision_recall_curve"] = {"precisions": pr_precision.tolist(), "recalls": pr_recall.tolist()}
    out["auc"] = auc
    out.update({name: main[name] for name, _ in _BETAS})
    out.update({f"{name}_best_constant_classifier": best[name] for name, _ in _BETAS})
    return out


def curves(scores: ScoreState, max_points: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(ROC false positive rates, ROC true positive rates, PR precisions, PR recalls), Spark MLlib's
    points: one per distinct score from the highest down; ROC from (0,0) to (1,1); PR from (0, p₀).
    Beyond `max_points` thresholds, every k-th one is kept (and the last)."""
    tp = np.cumsum(scores.positives[::-1]).astype(np.float64)
    fp = np.cumsum(scores.negatives[::-1]).astype(np.float64)
    positives = tp[-1] if tp.size else 0.0
    negatives = fp[-1] if fp.size else 0.0
    if max_points is not None and len(tp) > max_points:
        step = -(-len(tp) // max_points)
        keep = np.unique(np.append(np.arange(step - 1, len(tp), step), len(tp) - 1))
        tp, fp = tp[keep], fp[keep]
    tpr = tp / positives if positives else np.zeros_like(tp)
    fpr = fp / negatives if negatives else np.zeros_like(fp)
    predicted = tp + fp
    precision = np.divide(tp, predicted, out=np.ones_like(tp), where=predicted > 0)
    roc_fpr = np.concatenate([[0.0], fpr, [1.0]])
    roc_tpr = np.concatenate([[0.0], tpr, [1.0]])
    first = precision[0] if precision.size else 1.0
    return roc_fpr, roc_tpr, np.concatenate([[first], precision]), np.concatenate([[0.0], tpr])


def area_under_curve(x: np.ndarray, y: np.ndarray) -> float:
    """Trapezoid area of a curve given by consecutive points (Spark's `AreaUnderCurve.of`), summed left to
    right as Spark does (cumsum, not numpy's pairwise sum: AWS's AUC 0.9395127993393898 needs that order)."""
    if len(x) < 2:
        return 0.0
    return float(np.cumsum(np.diff(x) * (y[1:] + y[:-1]) / 2.0)[-1])


def _weighted(counts: np.ndarray) -> dict[str, float]:
    """Support-weighted precision, recall and F-beta (scikit-learn `average="weighted"`) and accuracy."""
    total = counts.sum()
    correct = np.diag(counts).astype(np.float64)
    support = counts.sum(axis=1).astype(np.float64)
    predicted = counts.sum(axis=0).astype(np.float64)
    precision = np.divide(correct, predicted, out=np.zeros_like(correct), where=predicted > 0)
    recall = np.divide(correct, support, out=np.zeros_like(correct), where=support > 0)
    weights = support / total if total else support
    out = {"accuracy": _ratio(correct.sum(), total),
           "weighted_recall": float(weights @ recall), "weighted_precision": float(weights @ precision)}
    for name, beta in _BETAS:
        b2 = beta * beta
        denominator = b2 * precision + recall
        f = np.divide((1 + b2) * (precision * recall), denominator, out=np.zeros_like(correct),
                      where=denominator > 0)
        out[f"weighted_{name}"] = float(weights @ f)
    return out


def multiclass_metrics(confusion: ConfusionState) -> dict[str, Any]:
    """§9.2 multiclass metrics in the docs' order; the best constant classifier predicts the majority label."""
    order = label_order(confusion.labels.tolist())
    counts = confusion.matrix(order)
    main = _weighted(counts)
    best_counts = np.zeros_like(counts)
    majority = majority_label(confusion)
    if majority is not None:
        best_counts[:, order.index(majority)] = counts.sum(axis=1)
    best = _weighted(best_counts)
    names = ("accuracy", "weighted_recall", "weighted_precision", "weighted_f0_5", "weighted_f1", "weighted_f2")
    out: dict[str, Any] = {"confusion_matrix": confusion.to_document()}
    out.update({name: main[name] for name in names})
    out.update({f"{name}_best_constant_classifier": best[name] for name in names})
    return out


def regression_metrics(state: RegressionState) -> dict[str, float]:
    """MAE, MSE, RMSE and R² (1 - SSres/SStot; with constant labels 1.0 if exact else 0.0, as scikit-learn)."""
    n = state.count
    mse = _ratio(state.squared_error, n)
    if state.label_m2 > 0:
        r2 = 1.0 - state.squared_error / state.label_m2
    else:
        r2 = 1.0 if state.squared_error == 0 else 0.0
    return {"mae": _ratio(state.abs_error, n), "mse": mse, "rmse": math.sqrt(mse), "r2": r2}


def part_metrics(part: _Part, problem_type: str, positive_label: str | None) -> dict[str, Any]:
    if problem_type == REGRESSION:
        return dict(regression_metrics(part.regression))
    if problem_type == MULTICLASS:
        return multiclass_metrics(part.confusion)
    return binary_metrics(part.confusion, part.scores, positive_label or "1")


# ---------------------------------------------------------------------------------------- documents


def statistics_document(problem_type: str, item_count: int, metrics: Mapping[str, Any],
                        deviations: Mapping[str, float | None]) -> dict[str, Any]:
    """statistics.json: `version`, `dataset.item_count` and the problem type's metrics, each scalar as
    `{"value": x, "standard_deviation": s | "NaN"}`."""
    body: dict[str, Any] = {}
    for name, value in metrics.items():
        if isinstance(value, float):
            std = deviations.get(name)
            body[name] = {"value": value, "standard_deviation": NAN_TEXT if std is None else std}
        else:
            body[name] = value
    return {"version": 0.0, "dataset": {"item_count": int(item_count)}, METRICS_KEY[problem_type]: body}


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
