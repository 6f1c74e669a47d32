"""FT, the flip test (spec §10.2): a k-nearest-neighbour classifier trained on the advantaged rows' features
and predicted labels, asked about each disadvantaged row; FT = (F- - F+) / n_d, F+ the d rows the model
rejected that their a-neighbours would accept, F- the reverse. The sign is AWS's: on the adult baseline with
the notebook's own model, AWS's FT is -7/210 where (F+ - F-) / n_d gives +7/210, every other metric equal
(tests/clarify/test_notebooks.py). k = 5 when there are more than 9 advantaged
rows, else 1; Euclidean distance; a plain majority vote (k is odd, so no vote ties).

Features are every numeric (or boolean) column of the table but the label and the predicted label, nulls
and NaN read as 0; other columns are left out (UNVERIFIED, docs/bias.md). Rows at exactly equal distance may
be ordered differently from scikit-learn's, so a tie at the k-th neighbour can vote differently.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

from watchkeeper.analysis.bias.formulas import MetricUndefined

# Sample bounds (docs/bias.md): past them FT is estimated on an evenly spaced, deterministic sample (every
# ceil(n / bound)-th row) — neighbours searched among at most MAX_REFERENCE_ROWS advantaged rows, asked about
# at most MAX_QUERY_ROWS disadvantaged rows — so it stays within seconds on millions of rows. Below both
# bounds FT is exact. A k-NN query costs tens of microseconds in 8 dimensions (bench/README.md), and more
# as the dimension grows; the estimate's standard error at 20,000 queries is below 0.004.
MAX_REFERENCE_ROWS = 100_000
MAX_QUERY_ROWS = 20_000


def feature_matrix(table: pl.DataFrame, exclude: set[str]) -> np.ndarray | None:
    columns = [name for name, dtype in table.schema.items()
               if name not in exclude and (dtype.is_numeric() or dtype == pl.Boolean)]
    if not columns:
        return None
    frame = table.select(pl.col(c).cast(pl.Float64).fill_nan(0.0).fill_null(0.0) for c in columns)
    return frame.to_numpy()


def flip_test(features: np.ndarray | None, predicted: np.ndarray, sensitive: np.ndarray,
              max_reference_rows: int = MAX_REFERENCE_ROWS, max_query_rows: int = MAX_QUERY_ROWS) -> float:
    """FT for the rows where `sensitive` is True (d) against the others (a); `predicted` is boolean."""
    if features is None:
        raise MetricUndefined("FT: the dataset has no numeric feature column to find neighbours with")
    reference = np.flatnonzero(~sensitive)
    queries = np.flatnonzero(sensitive)
    if len(reference) > max_reference_rows:
        reference = reference[:: -(-len(reference) // max_reference_rows)]
    if len(queries) > max_query_rows:
        queries = queries[:: -(-len(queries) // max_query_rows)]
    k = 5 if len(reference) > 9 else 1
    tree = cKDTree(features[reference])
    _, neighbours = tree.query(features[queries], k=k, workers=-1)
    votes = predicted[reference][neighbours.reshape(len(queries), k)].sum(axis=1)
    flipped = votes * 2 > k
    own = predicted[queries]
    gained = int(np.count_nonzero(flipped & ~own))
    lost = int(np.count_nonzero(~flipped & own))
    return (lost - gained) / len(queries)
