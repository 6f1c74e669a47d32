"""Model-quality metrics as SageMaker's analyzer computes them (spec §9), and the state that folds rows.

- `ModelQualityState` folds batches of rows into a whole-data `Part` and STD_SAMPLES samples. Standard
  deviations follow the docs: "randomly sampling 80% of the data 5 times, computing the metric, and taking the
  standard deviation", only with at least 200 rows (else the string "NaN"). Each of the five samples is itself
  a state, fed by a Bernoulli(0.8) draw per row as rows arrive, so the samples merge too (the union of
  Bernoulli samples of partitions is a Bernoulli sample of the whole).
- Curves and AUC are Spark MLlib's `BinaryClassificationMetrics` (the analyzer is a Spark job): one point
  per distinct score from the highest down, ROC framed by (0,0) and (1,1), PR starting at (0, first
  precision); AUC is the trapezoid area under that ROC (= Mann-Whitney with ties counted half).
- Ratios with a zero denominator are 0.0 (AWS's best-constant precision of an all-negative classifier is 0).
- `statistics_document`: statistics.json of the metrics, in AWS's key order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from watchkeeper.analysis.model_quality_states import (
    BINARY,
    METRICS_KEY,
    MULTICLASS,
    NAN_TEXT,
    PROBLEM_TYPES,
    REGRESSION,
    STD_FRACTION,
    STD_MIN_ROWS,
    STD_SAMPLES,
    ConfusionState,
    Part,
    RegressionState,
    ScoreState,
    label_order,
)

_BETAS = (("f0_5", 0.5), ("f1", 1.0), ("f2", 2.0))

# Curves with more distinct scores than this keep every k-th threshold (Spark's `numBins` downsampling), so a
# million-row window writes a statistics.json of ~1 MB, not ~75 MB. AUC is always computed on the full curve.
MAX_CURVE_POINTS = 10_000


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
        self.full = Part()
        self.samples = [Part() for _ in range(STD_SAMPLES)]
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

    def _update(self, part: Part, actual: Any, predicted: Any, scores: np.ndarray | None) -> None:
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


def part_metrics(part: Part, problem_type: str, positive_label: str | None) -> dict[str, Any]:
    if problem_type == REGRESSION:
        return dict(regression_metrics(part.regression))
    if problem_type == MULTICLASS:
        return multiclass_metrics(part.confusion)
    return binary_metrics(part.confusion, part.scores, positive_label or "1")


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
