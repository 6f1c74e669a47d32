"""FT against scikit-learn's KNeighborsClassifier (k=5 past 9 advantaged rows, else 1; Euclidean)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.neighbors import KNeighborsClassifier

from watchkeeper.analysis.bias.config import bias_config
from watchkeeper.analysis.bias.flip_test import feature_matrix, flip_test
from watchkeeper.analysis.bias.report import bias_analysis


def _sklearn_ft(features: np.ndarray, y_hat: np.ndarray, d: np.ndarray) -> float:
    k = 5 if (~d).sum() > 9 else 1
    model = KNeighborsClassifier(n_neighbors=k, metric="minkowski", p=2).fit(features[~d], y_hat[~d])
    neighbours = model.predict(features[d])
    own = y_hat[d]
    # AWS's sign (flip_test.py): rows the a-neighbours would reject minus rows they would accept.
    return (int(((neighbours == 0) & (own == 1)).sum()) - int(((neighbours == 1) & (own == 0)).sum())) / d.sum()


def _table(rng: np.random.Generator, n: int, n_d: int) -> pl.DataFrame:
    facet = np.zeros(n, dtype=np.int64)
    facet[rng.choice(n, n_d, replace=False)] = 1
    x1, x2 = rng.normal(size=n), rng.normal(size=n) * 3
    y_hat = ((x1 + 0.3 * x2 + rng.normal(scale=0.5, size=n) + 0.4 * facet) > 0).astype(np.int64)
    label = (rng.random(n) < 0.5).astype(np.int64)
    return pl.DataFrame({"x1": x1, "facet": facet, "x2": x2, "word": ["w"] * n, "label": label,
                         "prediction": y_hat})


@pytest.mark.parametrize(("n", "n_d", "seed"), [(400, 120, 0), (2000, 900, 1), (14, 6, 2), (10, 3, 3), (16, 6, 4)])
def test_ft_matches_kneighbors_classifier(n: int, n_d: int, seed: int) -> None:
    table = _table(np.random.default_rng(seed), n, n_d)
    config = bias_config({"label": "label", "label_values_or_threshold": [1],
                          "facet": [{"name_or_index": "facet", "value_or_threshold": [1]}],
                          "methods": {"post_training_bias": {"methods": ["FT"]}}})
    document = bias_analysis(table, config, predicted="prediction", pre_training=False, post_training=True)
    [metric] = document["post_training_bias_metrics"]["facets"]["facet"][0]["metrics"]
    # The features: the numeric columns but the label and the prediction (the string column is left out).
    features = table.select("x1", "facet", "x2").to_numpy().astype(np.float64)
    d = table["facet"].to_numpy() == 1
    assert metric == {"name": "FT", "description": "Flip Test (FT)",
                      "value": _sklearn_ft(features, table["prediction"].to_numpy(), d)}


def test_above_the_bounds_both_groups_are_sampled_evenly() -> None:
    table = _table(np.random.default_rng(5), 3000, 500)
    features = feature_matrix(table, {"label", "prediction"})
    y_hat = table["prediction"].to_numpy()
    d = table["facet"].to_numpy() == 1
    ours = flip_test(features, y_hat == 1, d, max_reference_rows=1000, max_query_rows=200)
    reference = np.flatnonzero(~d)[::3]  # 2,500 advantaged rows, every 3rd: 834 <= 1,000
    queries = np.flatnonzero(d)[::3]  # 500 disadvantaged rows, every 3rd: 167 <= 200
    model = KNeighborsClassifier(n_neighbors=5).fit(features[reference], y_hat[reference])
    neighbours, own = model.predict(features[queries]), y_hat[queries]
    rejected = int(((neighbours == 0) & (own == 1)).sum())
    accepted = int(((neighbours == 1) & (own == 0)).sum())
    assert ours == (rejected - accepted) / len(queries)


def test_nulls_and_nans_read_as_zero() -> None:
    table = pl.DataFrame({"a": [1.0, None, float("nan")], "b": [1, 2, None], "label": [0, 1, 0]})
    assert feature_matrix(table, {"label"}).tolist() == [[1.0, 1.0], [0.0, 2.0], [0.0, 0.0]]
