"""Each bias metric from its published definition (spec §10.2; AWS's "Measure pre-training / post-training
bias" pages), over counts. a = advantaged rows (not in the facet's sensitive values), d = disadvantaged
(sensitive) rows; labels are binarised (1 = positive).

Division follows Clarify's documented rule: `x/0` is 0 when `x` is 0 and ±Infinity otherwise; a difference
of two equal infinities is 0 (DCA, DCR, TE). The operation order below is the one that reproduces the real
AWS baseline bit for bit (tests/analysis_bias/test_aws_parity.py), e.g. the label distribution is
`(n0/n, 1 - n0/n)`, and the conditional disparity is `sum(n_g * DD_g) / n` over groups in sorted order.
"""

from __future__ import annotations

import math

import numpy as np


class MetricUndefined(Exception):
    """The metric cannot be computed for this data; analysis.json gets `value: null` and this message."""


def divide(numerator: float, denominator: float) -> float:
    if denominator == 0:
        return 0.0 if numerator == 0 else math.copysign(math.inf, numerator)
    return numerator / denominator


def difference(x: float, y: float) -> float:
    if math.isinf(x) and x == y:
        return 0.0
    return x - y


# ---- pre-training: label counts n0 (negative), n1 (positive) of each group -------------------------------

def distribution(n0: int, n1: int) -> tuple[float, float]:
    p0 = n0 / (n0 + n1)
    return p0, 1.0 - p0


def class_imbalance(n_a: int, n_d: int) -> float:
    return (n_a - n_d) / (n_a + n_d)


def positive_proportion_difference(a1: int, n_a: int, d1: int, n_d: int) -> float:
    """DPL with observed labels, DPPL with predicted ones: q_a - q_d."""
    return a1 / n_a - d1 / n_d


def kl_divergence(p: tuple[float, float], q: tuple[float, float]) -> float:
    total = 0.0
    for pi, qi in zip(p, q, strict=True):
        if pi == 0:
            continue  # 0 * log 0 = 0
        total += math.inf if qi == 0 else pi * math.log(pi / qi)
    return total


def js_divergence(p: tuple[float, float], q: tuple[float, float]) -> float:
    m = ((p[0] + q[0]) / 2, (p[1] + q[1]) / 2)
    return 0.5 * (kl_divergence(p, m) + kl_divergence(q, m))


def lp_norm(p: tuple[float, float], q: tuple[float, float]) -> float:
    return math.sqrt(sum((pi - qi) ** 2 for pi, qi in zip(p, q, strict=True)))


def total_variation(p: tuple[float, float], q: tuple[float, float]) -> float:
    return 0.5 * sum(abs(pi - qi) for pi, qi in zip(p, q, strict=True))


def kolmogorov_smirnov(p: tuple[float, float], q: tuple[float, float]) -> float:
    return max(abs(pi - qi) for pi, qi in zip(p, q, strict=True))


def conditional_disparity(group_counts: np.ndarray, group_counts_d: np.ndarray) -> float:
    """CDDL / CDDPL: `sum_g n_g * DD_g / n`, `DD_g = n_d0_g / n0_g - n_d1_g / n1_g`. Both arrays are
    (groups, 2) label counts, all rows and the sensitive rows; a group without negatives (positives) adds 0
    for that side."""
    n0, n1 = group_counts[:, 0].astype(np.float64), group_counts[:, 1].astype(np.float64)
    d0, d1 = group_counts_d[:, 0].astype(np.float64), group_counts_d[:, 1].astype(np.float64)
    rejected = np.divide(d0, n0, out=np.zeros_like(d0), where=n0 > 0)
    accepted = np.divide(d1, n1, out=np.zeros_like(d1), where=n1 > 0)
    sizes = n0 + n1
    return float(np.sum(sizes * (rejected - accepted)) / np.sum(sizes))


# ---- post-training: confusion counts of one group, c[y][y_hat] = [[TN, FP], [FN, TP]] -------------------

def post_training(name: str, a: np.ndarray, d: np.ndarray) -> float:
    """The confusion-matrix metrics (all but CDDPL, FT, GE) of groups a and d."""
    return _POST[name](_Rates(a), _Rates(d))


class _Rates:
    def __init__(self, confusion: np.ndarray) -> None:
        (self.tn, self.fp), (self.fn, self.tp) = (tuple(int(v) for v in row) for row in confusion)
        self.n = self.tn + self.fp + self.fn + self.tp
        self.predicted_positive = self.tp + self.fp
        self.predicted_negative = self.tn + self.fn
        self.observed_positive = self.tp + self.fn
        self.observed_negative = self.tn + self.fp


_POST = {
    "DPPL": lambda a, d: positive_proportion_difference(a.predicted_positive, a.n, d.predicted_positive, d.n),
    "DI": lambda a, d: divide(d.predicted_positive / d.n, a.predicted_positive / a.n),
    "DCA": lambda a, d: difference(divide(a.observed_positive, a.predicted_positive),
                                   divide(d.observed_positive, d.predicted_positive)),
    "DCR": lambda a, d: difference(divide(d.observed_negative, d.predicted_negative),
                                   divide(a.observed_negative, a.predicted_negative)),
    "RD": lambda a, d: divide(a.tp, a.observed_positive) - divide(d.tp, d.observed_positive),
    "SD": lambda a, d: divide(d.tn, d.observed_negative) - divide(a.tn, a.observed_negative),
    "DAR": lambda a, d: divide(a.tp, a.predicted_positive) - divide(d.tp, d.predicted_positive),
    "DRR": lambda a, d: divide(d.tn, d.predicted_negative) - divide(a.tn, a.predicted_negative),
    "AD": lambda a, d: (a.tp + a.tn) / a.n - (d.tp + d.tn) / d.n,
    "TE": lambda a, d: difference(divide(d.fn, d.fp), divide(a.fn, a.fp)),
}
CONFUSION_METRICS = frozenset(_POST)


def generalized_entropy(observed: np.ndarray, predicted: np.ndarray) -> float:
    """GE with alpha = 2 over every row (no facet): benefit b = y_hat - y + 1, `sum((b/mean b)^2 - 1) / (2n)`."""
    benefit = predicted.astype(np.float64) - observed.astype(np.float64) + 1.0
    mean = np.mean(benefit)
    if mean == 0:
        raise MetricUndefined("GE: the mean benefit is 0 (every row is a false negative)")
    return float(np.sum((benefit / mean) ** 2 - 1) / (len(benefit) * 2 * 1))
