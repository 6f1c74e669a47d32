"""An independent, deliberately plain computation of the post-training metrics (row masks, scikit-learn
confusion matrices per group, the definitions as AWS's metric pages write them) to check the columnar
implementation against."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import confusion_matrix


def ratio(x: float, y: float) -> float:
    if y == 0:
        return 0.0 if x == 0 else math.copysign(math.inf, x)
    return x / y


def minus(x: float, y: float) -> float:
    return 0.0 if (math.isinf(x) and math.isinf(y) and x == y) else x - y


def group_rates(y: np.ndarray, y_hat: np.ndarray) -> dict[str, float]:
    tn, fp, fn, tp = confusion_matrix(y, y_hat, labels=[0, 1]).ravel().tolist()
    n = tn + fp + fn + tp
    return {"q_hat": (tp + fp) / n, "c": ratio(tp + fn, tp + fp), "r": ratio(tn + fp, tn + fn),
            "recall": ratio(tp, tp + fn), "specificity": ratio(tn, tn + fp), "precision": ratio(tp, tp + fp),
            "rejection": ratio(tn, tn + fn), "accuracy": (tp + tn) / n, "te": ratio(fn, fp)}


def post_training_reference(y: np.ndarray, y_hat: np.ndarray, d: np.ndarray, group: np.ndarray | None) -> dict:
    y, y_hat = y.astype(int), y_hat.astype(int)
    a = group_rates(y[~d], y_hat[~d])
    s = group_rates(y[d], y_hat[d])
    values = {
        "AD": a["accuracy"] - s["accuracy"],
        "DAR": a["precision"] - s["precision"],
        "DCA": minus(a["c"], s["c"]),
        "DCR": minus(s["r"], a["r"]),
        "DI": ratio(s["q_hat"], a["q_hat"]),
        "DPPL": a["q_hat"] - s["q_hat"],
        "DRR": s["rejection"] - a["rejection"],
        "RD": a["recall"] - s["recall"],
        "SD": s["specificity"] - a["specificity"],
        "TE": minus(s["te"], a["te"]),
    }
    benefit = y_hat - y + 1
    mu = benefit.mean()
    values["GE"] = sum((b / mu) ** 2 - 1 for b in benefit) / (2 * len(benefit))
    if group is not None:
        values["CDDPL"] = conditional_reference(y_hat, d, group)
    return values


def conditional_reference(labels: np.ndarray, d: np.ndarray, group: np.ndarray) -> float:
    total = 0.0
    for g in np.unique(group):
        rows = group == g
        rejected, accepted = rows & (labels == 0), rows & (labels == 1)
        dd = ratio((rejected & d).sum(), rejected.sum()) - ratio((accepted & d).sum(), accepted.sum())
        total += rows.sum() * dd
    return total / len(labels)
