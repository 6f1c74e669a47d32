"""analysis.json of a bias analysis (spec §10.3): the document Clarify writes, from a table and the config.

Shape, key order and metric order are the real AWS baseline's: `version`, then `post_training_bias_metrics`,
then `pre_training_bias_metrics` (only the sections asked), each `{label, facets: {name: [{value_or_threshold,
metrics: [{name, description, value}]}]}, label_value_or_threshold}`. A metric that cannot be computed has
`"value": null` and an `"error"` member with the reason (UNVERIFIED shape: the real file has none).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from watchkeeper.analysis.bias import formulas as f
from watchkeeper.analysis.bias.config import BiasConfig
from watchkeeper.analysis.bias.flip_test import feature_matrix, flip_test
from watchkeeper.analysis.bias.inputs import (
    BiasInputError,
    FacetGroups,
    column_name,
    dense_codes,
    facet_groups,
    joined,
    positive,
    predicted_positive,
)
from watchkeeper.analysis.bias.names import POST_TRAINING, POST_TRAINING_KEY, PRE_TRAINING, PRE_TRAINING_KEY

GROUP_VARIABLE_MISSING = "Group variable is empty or not provided"


def analysis_json(document: dict[str, Any]) -> str:
    """The text of analysis.json as Clarify writes it (4-space indent, a final newline; ±Infinity and NaN as
    Python's json writes them)."""
    return json.dumps(document, indent=4) + "\n"


def bias_analysis(table: pl.DataFrame, config: BiasConfig, *, predicted: str | None,
                  pre_training: bool, post_training: bool) -> dict[str, Any]:
    """The analysis.json document of `table` (one column per header, the label column among them, and for
    post-training the predicted-label column `predicted`). Raises `BiasInputError` when the data does not
    fit the config."""
    if post_training and predicted is None:
        raise BiasInputError("Post-training bias metrics need the predicted label column; none was given")
    data = _Data(table, config, predicted if post_training else None)
    document: dict[str, Any] = {"version": "1.0"}
    stages = [(post_training, POST_TRAINING_KEY, POST_TRAINING, config.post_training_methods),
              (pre_training, PRE_TRAINING_KEY, PRE_TRAINING, config.pre_training_methods)]
    for wanted, key, catalogue, methods in stages:
        if not wanted:
            continue
        facets: dict[str, list[dict[str, Any]]] = {}
        for name, groups in data.facets:
            for value_text, codes in groups.sensitive:
                facet = _Facet(data, groups, codes)
                metrics = [_metric(metric, catalogue[metric], facet) for metric in methods]
                facets.setdefault(name, []).append({"value_or_threshold": value_text, "metrics": metrics})
        document[key] = {"label": data.label_name, "facets": facets,
                         "label_value_or_threshold": joined(config.label_values_or_threshold)}
    return document


class _Data:
    """The table read once: binarised labels, facet groups, group codes, features."""

    def __init__(self, table: pl.DataFrame, config: BiasConfig, predicted: str | None) -> None:
        if table.height == 0:
            raise BiasInputError("The dataset has no rows")
        self.label_name = column_name(table, config.label, "Label")
        self.observed = positive(table[self.label_name], config.label_values_or_threshold)
        if not self.observed.any():
            seen = table[self.label_name].drop_nulls().unique().sort().head(20).to_list()
            raise BiasInputError(
                f"Label values or threshold {list(config.label_values_or_threshold)} match no row of label "
                f"column {self.label_name!r} (values seen: {seen})")
        self.predicted: np.ndarray | None = None
        excluded = {self.label_name}
        if predicted is not None:
            if predicted not in table.columns:
                raise BiasInputError(f"Predicted label column {predicted!r} is not in the dataset; "
                                     f"columns: {', '.join(table.columns)}")
            self.predicted = predicted_positive(table[predicted], config.label_values_or_threshold,
                                                config.probability_threshold)
            excluded.add(predicted)
        self.group_codes: np.ndarray | None = None
        self.n_groups = 0
        if config.group_variable is not None:
            group = column_name(table, config.group_variable, "Group variable")
            self.group_codes, distinct = dense_codes(table[group])
            self.n_groups = len(distinct) + 1
        self.facets: list[tuple[str, FacetGroups]] = []
        for spec in config.facets:
            name = column_name(table, spec.name_or_index, "Facet")
            self.facets.append((name, facet_groups(table[name], spec.value_or_threshold, name)))
        self._table, self._excluded = table, excluded
        self._features: np.ndarray | None = None
        self._group_totals: dict[bool, np.ndarray] = {}
        self._entropy: float | f.MetricUndefined | None = None

    def features(self) -> np.ndarray | None:
        if self._features is None:
            self._features = feature_matrix(self._table, self._excluded)
        return self._features

    def generalized_entropy(self) -> float:
        if self._entropy is None:  # one value for every facet: GE does not look at facets
            try:
                self._entropy = f.generalized_entropy(self.observed, self.labels(True))
            except f.MetricUndefined as undefined:
                self._entropy = undefined
        if isinstance(self._entropy, f.MetricUndefined):
            raise self._entropy
        return self._entropy

    def labels(self, predicted: bool) -> np.ndarray:
        labels = self.predicted if predicted else self.observed
        assert labels is not None
        return labels

    def group_counts(self, predicted: bool, rows: np.ndarray | None = None) -> np.ndarray:
        """(groups, 2) counts of negative/positive labels per group, over all rows or the rows given."""
        assert self.group_codes is not None
        if rows is None and predicted in self._group_totals:
            return self._group_totals[predicted]
        codes = self.group_codes * 2 + self.labels(predicted)
        counts = np.bincount(codes if rows is None else codes[rows], minlength=self.n_groups * 2)
        counts = counts.reshape(self.n_groups, 2)
        if rows is None:
            self._group_totals[predicted] = counts
        return counts


class _Facet:
    """One sensitive group d of a facet and its complement a: their counts, and metric inputs."""

    def __init__(self, data: _Data, groups: FacetGroups, codes: np.ndarray) -> None:
        self.data = data
        self.sensitive = groups.codes == codes[0] if len(codes) == 1 else np.isin(groups.codes, codes)
        predicted = data.predicted if data.predicted is not None else np.zeros_like(data.observed)
        cells = np.bincount(self.sensitive * 4 + data.observed * 2 + predicted, minlength=8).reshape(2, 2, 2)
        self.a, self.d = cells[0], cells[1]  # [y][y_hat]
        self.n_a, self.n_d = int(self.a.sum()), int(self.d.sum())

    def check_groups(self, name: str) -> None:
        if self.n_d == 0:
            raise f.MetricUndefined(f"{name}: facet set is empty. Check that x[facet] has non-zero length.")
        if self.n_a == 0:
            raise f.MetricUndefined(f"{name}: the advantaged group is empty (every row is in the facet set)")

    def distributions(self) -> tuple[tuple[float, float], tuple[float, float]]:
        a0, a1 = (int(v) for v in self.a.sum(axis=1))
        d0, d1 = (int(v) for v in self.d.sum(axis=1))
        return f.distribution(a0, a1), f.distribution(d0, d1)

    def conditional(self, predicted: bool) -> float:
        if self.data.group_codes is None:
            raise f.MetricUndefined(GROUP_VARIABLE_MISSING)
        return f.conditional_disparity(self.data.group_counts(predicted),
                                       self.data.group_counts(predicted, self.sensitive))


_COMPUTE: dict[str, Callable[[_Facet], float]] = {
    "CI": lambda x: f.class_imbalance(x.n_a, x.n_d),
    "DPL": lambda x: f.positive_proportion_difference(int(x.a[1].sum()), x.n_a, int(x.d[1].sum()), x.n_d),
    "KL": lambda x: f.kl_divergence(*x.distributions()),
    "JS": lambda x: f.js_divergence(*x.distributions()),
    "LP": lambda x: f.lp_norm(*x.distributions()),
    "TVD": lambda x: f.total_variation(*x.distributions()),
    "KS": lambda x: f.kolmogorov_smirnov(*x.distributions()),
    "CDDL": lambda x: x.conditional(predicted=False),
    "CDDPL": lambda x: x.conditional(predicted=True),
    "FT": lambda x: flip_test(x.data.features(), x.data.labels(True), x.sensitive),
    "GE": lambda x: x.data.generalized_entropy(),
    **{name: (lambda x, name=name: f.post_training(name, x.a, x.d)) for name in f.CONFUSION_METRICS},
}
_FACET_FREE = frozenset({"GE"})


def _metric(name: str, description: str, facet: _Facet) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "description": description}
    try:
        if name not in _FACET_FREE:
            facet.check_groups(name)
        entry["value"] = float(_COMPUTE[name](facet))
    except f.MetricUndefined as undefined:
        entry["value"] = None
        entry["error"] = str(undefined)
    return entry

