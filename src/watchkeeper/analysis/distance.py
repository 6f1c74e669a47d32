"""Distribution distances for `baseline_drift_check`, after Deequ's `analyzers/Distance.scala`.

SageMaker's analyzer is "Spark 3.3.0 built with Deequ 2.0.2" (spec §1 [DEEQU], §7.3), so Deequ's
`Distance` object is the best available statement of what `comparison_method` Simple/Robust and
`categorical_drift_method` LInfinity/ChiSquared compute. What each function follows, and where it departs
from Deequ, is said beside it and summarised in `docs/analysis-checks.md`.

Numeric distances work on the KLL sketches that statistics.json carries
(`numerical_statistics.distribution.kll.sketch`, spec §5.4): `data[h]` holds the items of compactor level
h, each standing for 2**h input values. Categorical distances work on value -> count maps
(`string_statistics.distribution.categorical.buckets`, spec §5.5).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

# Default c(alpha) of the robust L-infinity correction: 1.8, "corresponding to an alpha value of 0.003",
# Eq. (15) in Section 3.3.1 of Knuth, The Art of Computer Programming, Vol. 2 (3rd ed., 1998) — the
# constant Deequ's Distance.scala uses when no alpha is given.
DEFAULT_C_ALPHA = 1.8

# Chi-squared validity rules (Deequ Distance.scala, which cites them):
# - at least two categories are needed for a goodness-of-fit test;
CHI_SQUARE_MIN_CATEGORIES = 2
# - tables larger than 2 categories: "No more than 20% of the expected counts are less than 5 and all
#   individual expected counts are 1 or greater" — Yates, Moore & McCabe, The Practice of Statistics
#   (1999), p. 734;
YATES_MIN_EXPECTED = 5.0
YATES_MAX_FRACTION_BELOW = 0.2
# - 2 categories: all expected counts should be 10 or greater — Cochran, "The chi-square test of
#   goodness of fit", Annals of Mathematical Statistics 23 (1952), 315-345.
COCHRAN_MIN_EXPECTED = 10.0


# --------------------------------------------------------------------------------------------- sketches


def sketch_samples(sketch: Mapping[str, Any] | Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    """Items and weights of a KLL sketch: level h items weigh 2**h (Deequ `QuantileNonSample.output`).

    Accepts the `sketch` object of statistics.json (`{"parameters": …, "data": [[…], …]}`) or its `data`
    list. Items come back in sketch order (level 0 first, each level in buffer order).
    """
    data = sketch.get("data") if isinstance(sketch, Mapping) else sketch
    if data is None:
        raise ValueError("the KLL sketch has no data")
    values: list[float] = []
    weights: list[float] = []
    for level, items in enumerate(data):
        values.extend(float(v) for v in items)
        weights.extend([float(1 << level)] * len(items))
    return np.asarray(values, dtype=np.float64), np.asarray(weights, dtype=np.float64)


def _rank_function(
    values: np.ndarray, weights: np.ndarray, collapse_repeated: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct items in ascending order and their inclusive ranks (sum of weights of items <= item).

    `collapse_repeated=True` reproduces Deequ <= 2.0.x `getRankMap()`, which keyed the sorted
    (item, weight) pairs by item in a Scala `ListMap`: a value held several times keeps only the weight of
    its last pair in the stable sort — the one from the highest level that holds it — so repeated values
    are under-counted (awslabs/deequ issue #392, fixed by pull request #765). SageMaker's 2022 container
    ran Deequ 2.0.2 and most likely computed that; the default here is the weighted CDF the method intends.
    """
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    sorted_weights = weights[order]
    distinct, first = np.unique(sorted_values, return_index=True)
    if collapse_repeated:
        last = np.append(first[1:], len(sorted_values)) - 1
        per_value = sorted_weights[last]
    else:
        per_value = np.add.reduceat(sorted_weights, first) if len(first) else sorted_weights[:0]
    return distinct, np.cumsum(per_value)


def _rank_at(points: np.ndarray, distinct: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Deequ `getRank(item, rankMap)`: the rank of the largest sketch item <= point, 0 below them all."""
    idx = np.searchsorted(distinct, points, side="right") - 1
    return np.where(idx >= 0, ranks[np.clip(idx, 0, None)], 0.0)


def numerical_linf(
    baseline_sketch: Mapping[str, Any] | Sequence[Sequence[float]],
    current_sketch: Mapping[str, Any] | Sequence[Sequence[float]],
    *,
    collapse_repeated: bool = False,
) -> tuple[float, float, float]:
    """`(linf_simple, n, m)`: the largest gap between the two sketches' CDFs, and their total weights.

    Deequ `Distance.numericalDistance`: build each sketch's rank map, evaluate both CDFs
    (`rank / total`) at every item of either sketch, take the largest absolute difference. Both CDFs are
    right-continuous step functions that only jump at those items, so this is exactly the two-sample
    Kolmogorov-Smirnov statistic of the samples the sketches stand for (each item repeated by its weight).
    """
    v1, w1 = sketch_samples(baseline_sketch)
    v2, w2 = sketch_samples(current_sketch)
    if len(v1) == 0 or len(v2) == 0:
        raise ValueError("cannot compare an empty KLL sketch")
    d1, r1 = _rank_function(v1, w1, collapse_repeated)
    d2, r2 = _rank_function(v2, w2, collapse_repeated)
    n, m = float(r1[-1]), float(r2[-1])
    points = np.union1d(d1, d2)
    gap = np.abs(_rank_at(points, d1, r1) / n - _rank_at(points, d2, r2) / m)
    return float(gap.max()), n, m


# --------------------------------------------------------------------------------------------- robust


def c_alpha(alpha: float | None = None) -> float:
    """c(alpha) of the two-sample Kolmogorov-Smirnov test: sqrt(-ln(alpha / 2) / 2); 1.8 when None.

    Same formula as Deequ `selectMetrics` and the two-sample KS critical value
    (https://en.wikipedia.org/wiki/Kolmogorov%E2%80%93Smirnov_test#Two-sample_Kolmogorov%E2%80%93Smirnov_test).
    """
    if alpha is None:
        return DEFAULT_C_ALPHA
    if not 0.0 < alpha < 2.0:
        raise ValueError(f"alpha must lie in (0, 2), got {alpha}")
    return math.sqrt(-math.log(alpha / 2.0) / 2.0)


def robust_linf(linf_simple: float, n: float, m: float, alpha: float | None = None) -> float:
    """`max(0, linf_simple - c(alpha) * sqrt((n + m) / (n * m)))` (Deequ `selectMetrics`, robust branch).

    The subtracted term is the largest CDF gap that sampling noise alone produces between samples of
    sizes n and m at significance alpha; what remains is drift that the sample sizes cannot explain.
    SageMaker documents `Robust` only as the sample-size-aware variant based on the two-sample KS test;
    this is the formula of the library its analyzer is built on.
    """
    return max(0.0, linf_simple - c_alpha(alpha) * math.sqrt((n + m) / (n * m)))


def numerical_distance(
    baseline_sketch: Mapping[str, Any] | Sequence[Sequence[float]],
    current_sketch: Mapping[str, Any] | Sequence[Sequence[float]],
    method: str = "Robust",
    *,
    alpha: float | None = None,
    collapse_repeated: bool = False,
) -> float:
    """Numeric drift distance for `comparison_method` `Simple` (plain L-infinity) or `Robust`."""
    linf, n, m = numerical_linf(baseline_sketch, current_sketch, collapse_repeated=collapse_repeated)
    return _select(linf, n, m, method, alpha)


def _select(linf: float, n: float, m: float, method: str, alpha: float | None) -> float:
    if method == "Simple":
        return linf
    if method == "Robust":
        return robust_linf(linf, n, m, alpha)
    raise ValueError(f"unknown comparison_method {method!r}: expected 'Simple' or 'Robust'")


# --------------------------------------------------------------------------------------------- categorical


def categorical_linf(
    baseline_counts: Mapping[str, float], current_counts: Mapping[str, float]
) -> tuple[float, float, float]:
    """`(linf_simple, n, m)`: largest gap between the two category frequency tables, and their totals.

    Deequ `categoricalLInfinityDistance`: over the union of categories, `|count_1(c)/n - count_2(c)/m|`
    — frequencies, not cumulative ones, so the order of categories does not matter.
    """
    n = float(sum(baseline_counts.values()))
    m = float(sum(current_counts.values()))
    if n <= 0 or m <= 0:
        raise ValueError("cannot compare an empty category table")
    keys = set(baseline_counts) | set(current_counts)
    linf = max(abs(baseline_counts.get(k, 0) / n - current_counts.get(k, 0) / m) for k in keys)
    return float(linf), n, m


def categorical_distance(
    baseline_counts: Mapping[str, float],
    current_counts: Mapping[str, float],
    method: str = "Robust",
    *,
    alpha: float | None = None,
) -> float:
    """Categorical L-infinity distance, `Simple` or `Robust` exactly as for numeric features.

    Deequ applies the same `selectMetrics` correction to the categorical L-infinity distance; which of
    the two SageMaker applies to `categorical_drift_method: LInfinity` is not published — Watchkeeper
    follows the constraints' `comparison_method` for both kinds of feature.
    """
    linf, n, m = categorical_linf(baseline_counts, current_counts)
    return _select(linf, n, m, method, alpha)


def chi_squared_p_value(
    baseline_counts: Mapping[str, float],
    current_counts: Mapping[str, float],
) -> float:
    """p-value of Pearson's goodness-of-fit test of the current counts against the baseline's; NaN
    when fewer than two categories survive the regrouping (no test possible).

    Deequ `categoricalChiSquareTest`:
    1. the observed total is the current count of categories the baseline knows (unseen categories are
       left to `categorical_values_check`);
    2. baseline counts are scaled to that total (expected counts);
    3. while too many expected counts are small (Cochran for 2 categories, Yates et al. for more, see the
       constants above) the smallest expected category is merged into the next smallest, observed counts
       alike;
    4. statistic = sum (observed - expected)^2 / expected over the remaining categories, with
       categories - 1 degrees of freedom (Spark `Statistics.chiSqTest(observed, expected)`).
    Ties for "smallest" are broken by the baseline's bucket order (Deequ's order is a hash map's).
    """
    expected_total = float(sum(baseline_counts.values()))
    observed_total = float(sum(c for k, c in current_counts.items() if k in baseline_counts))
    if expected_total <= 0:
        return math.nan
    expected = {k: c / expected_total * observed_total for k, c in baseline_counts.items()}
    observed = {k: float(current_counts.get(k, 0)) for k in expected}
    _regroup(observed, expected)
    if len(expected) < CHI_SQUARE_MIN_CATEGORIES:
        return math.nan
    statistic = 0.0
    for key, e in expected.items():
        o = observed[key]
        if e == 0.0:
            if o == 0.0:
                continue
            return math.nan  # Spark refuses: "Chi-squared statistic undefined ... 0.0 values"
        statistic += (o - e) ** 2 / e
    from scipy.stats import chi2  # lazy: scipy is only needed for this test

    return float(chi2.sf(statistic, len(expected) - 1))


def _regroup(observed: dict[str, float], expected: dict[str, float]) -> None:
    """Merge small expected categories in place until the chi-squared rules of thumb hold."""
    while len(expected) >= CHI_SQUARE_MIN_CATEGORIES:
        if len(expected) > CHI_SQUARE_MIN_CATEGORIES:
            threshold = YATES_MIN_EXPECTED
            allowed_below = int(YATES_MAX_FRACTION_BELOW * len(expected))
        else:
            threshold = COCHRAN_MIN_EXPECTED
            allowed_below = 0
        if sum(1 for e in expected.values() if e < threshold) <= allowed_below:
            return
        smallest = min(expected, key=expected.__getitem__)
        moved_expected = expected.pop(smallest)
        moved_observed = observed.pop(smallest)
        into = min(expected, key=expected.__getitem__)
        expected[into] += moved_expected
        observed[into] += moved_observed
