"""The baseline (background) rows when the config gives `num_clusters` instead of `baseline`: a k-means summary.

Clarify clusters the dataset (K-means for numerical data) and uses the cluster centres as the SHAP baseline. Here:
`scipy.cluster.vq.kmeans2` with k-means++ starts and a seeded generator (deterministic given `seed`), missing
values imputed by the column mean first, then each centre's value moved to the nearest value the column really
takes (as `shap.kmeans` does), so a categorical code never becomes 2.37. Empty clusters are dropped.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.cluster.vq import kmeans2

from .errors import ExplainInputError


def background_summary(data: np.ndarray, num_clusters: int, seed: int | None) -> np.ndarray:
    """Up to `num_clusters` rows summarising `data` (rows x features)."""
    data = np.asarray(data, dtype=float)
    if data.ndim != 2 or data.shape[0] == 0:
        raise ExplainInputError("the dataset to summarise with k-means has no rows")
    if num_clusters < 1:
        raise ExplainInputError(f"num_clusters must be at least 1, not {num_clusters}")
    if np.isnan(data).any():
        with warnings.catch_warnings():  # an all-missing column has no mean: it becomes 0
            warnings.simplefilter("ignore", RuntimeWarning)
            means = np.nan_to_num(np.nanmean(data, axis=0))
        data = np.where(np.isnan(data), means[None, :], data)
    distinct = np.unique(data, axis=0)
    if distinct.shape[0] <= num_clusters:  # nothing to summarise: every distinct row is a centre
        return distinct
    rng = np.random.default_rng(seed)
    centres, labels = kmeans2(data, num_clusters, minit="++", seed=rng)
    centres = centres[np.bincount(labels, minlength=num_clusters) > 0]
    return _snap_to_observed(centres, data)


def _snap_to_observed(centres: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Each centre coordinate replaced by the nearest value observed in that column (ties: the smaller)."""
    snapped = np.empty_like(centres)
    for column in range(data.shape[1]):  # per feature, not per record: columns are few
        values = np.unique(data[:, column])
        at = np.clip(np.searchsorted(values, centres[:, column]), 1, max(values.size - 1, 1))
        if values.size == 1:
            snapped[:, column] = values[0]
            continue
        lower, upper = values[at - 1], values[at]
        snapped[:, column] = np.where(centres[:, column] - lower <= upper - centres[:, column], lower, upper)
    return snapped
