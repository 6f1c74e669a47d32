"""The k-means summary used as the SHAP baseline when the config gives num_clusters."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from watchkeeper.analysis.explain.kernel_shap import background_summary


def blobs(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 5.0], [10.0, 10.0, 0.0], [-10.0, 5.0, 20.0]])
    return np.concatenate([c + rng.normal(scale=0.5, size=(200, 3)) for c in centres])


def test_centres_match_scikit_learn_on_separated_clusters():
    data = blobs()
    ours = background_summary(data, 3, seed=1)
    theirs = KMeans(n_clusters=3, n_init=10, random_state=0).fit(data).cluster_centers_
    assert ours.shape == (3, 3)
    order = lambda rows: rows[np.lexsort(rows.T[::-1])]  # noqa: E731
    np.testing.assert_allclose(order(ours), order(theirs), atol=0.1)


def test_deterministic_with_a_seed_and_values_really_taken():
    rng = np.random.default_rng(4)
    data = np.column_stack([rng.integers(0, 5, 500), rng.normal(size=500), rng.integers(0, 2, 500)]).astype(float)
    first = background_summary(data, 6, seed=9)
    np.testing.assert_array_equal(first, background_summary(data, 6, seed=9))
    for column in range(3):  # every centre value is one the column takes (a category stays a category)
        assert np.isin(first[:, column], data[:, column]).all()


def test_fewer_distinct_rows_than_clusters_and_missing_values():
    data = np.array([[1.0, 2.0], [1.0, 2.0], [3.0, np.nan]])
    summary = background_summary(data, 5, seed=0)
    np.testing.assert_array_equal(summary, [[1.0, 2.0], [3.0, 2.0]])  # nan imputed by the column mean (2.0)
