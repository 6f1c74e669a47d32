"""Model-quality labels and the counts a state keeps (spec §9): pure, mergeable.

- `canonical_labels` and friends: class labels as the text keys of the confusion matrix;
- `ConfusionState` (classification), `ScoreState` (binary: distinct scores with their positive/negative counts,
  for exact ROC/PR/AUC) and `RegressionState` (error and label moments); a `Part` holds the three for one
  (sub)sample. `model_quality_metrics.ModelQualityState` folds rows into a whole-data part and its samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

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
class Part:
    """Everything the metrics of one (sub)sample need."""

    confusion: ConfusionState = field(default_factory=ConfusionState)
    scores: ScoreState = field(default_factory=ScoreState)
    regression: RegressionState = field(default_factory=RegressionState)

    def merge(self, other: Part) -> Part:
        return Part(self.confusion.merge(other.confusion), self.scores.merge(other.scores),
                     self.regression.merge(other.regression))
