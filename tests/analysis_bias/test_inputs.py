"""Facets by values, by threshold and value by value; several label values; bad input named; pre-training
metrics on random data against scipy."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.special import rel_entr

from tests.analysis_bias.reference import conditional_reference
from watchkeeper.analysis.bias.config import bias_config
from watchkeeper.analysis.bias.inputs import BiasInputError
from watchkeeper.analysis.bias.report import bias_analysis


def _pre(table: pl.DataFrame, facet: list, labels: list, **config) -> dict:
    document = bias_analysis(table, bias_config({"label": "y", "label_values_or_threshold": labels,
                                                 "facet": facet, **config}),
                             predicted=None, pre_training=True, post_training=False)
    return document["pre_training_bias_metrics"]


def _values(entry: dict) -> dict:
    return {m["name"]: m["value"] for m in entry["metrics"]}


def _expected(y: np.ndarray, d: np.ndarray, group: np.ndarray) -> dict:
    p_a = np.array([1 - y[~d].mean(), y[~d].mean()])
    p_d = np.array([1 - y[d].mean(), y[d].mean()])
    return {"CI": (int((~d).sum()) - int(d.sum())) / len(d), "DPL": p_a[1] - p_d[1],
            "KL": float(np.sum(rel_entr(p_a, p_d))), "JS": float(jensenshannon(p_a, p_d) ** 2),
            "LP": float(np.linalg.norm(p_a - p_d)), "TVD": float(np.abs(p_a - p_d).sum() / 2),
            "KS": float(np.abs(p_a - p_d).max()), "CDDL": conditional_reference(y.astype(int), d, group)}


@pytest.mark.parametrize("seed", range(4))
def test_pre_training_on_random_data_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    facet = rng.integers(0, 4, n)
    y = rng.random(n) < 0.2 + 0.1 * facet
    group = rng.choice(["north", "south", "east"], n)
    table = pl.DataFrame({"f": facet, "y": np.where(y, "good", "bad"), "g": group})
    section = _pre(table, [{"name_or_index": "f", "value_or_threshold": [2, 3]}], ["good"], group_variable="g")
    assert section["label_value_or_threshold"] == "good"
    entry = section["facets"]["f"][0]
    assert entry["value_or_threshold"] == "2,3"
    expected = _expected(y, facet >= 2, group)
    for name, value in _values(entry).items():
        assert math.isclose(value, expected[name], rel_tol=1e-12, abs_tol=1e-14), name


def test_a_facet_without_values_reports_each_value_in_turn() -> None:
    rng = np.random.default_rng(7)
    facet = rng.choice(["b", "a", "c"], 600)
    y = rng.random(600) < 0.5
    table = pl.DataFrame({"f": facet, "y": y.astype(np.int64)})
    entries = _pre(table, [{"name_or_index": "f"}], [1])["facets"]["f"]
    assert [e["value_or_threshold"] for e in entries] == ["a", "b", "c"]
    for entry in entries:
        d = facet == entry["value_or_threshold"]
        assert math.isclose(_values(entry)["DPL"], y[~d].mean() - y[d].mean(), rel_tol=1e-12)


def test_a_threshold_on_a_continuous_facet_and_label() -> None:
    rng = np.random.default_rng(8)
    score = rng.random(1000) * 100
    income = rng.normal(50.0, 10.0, 1000)
    table = pl.DataFrame({"score": score, "y": income})
    entry = _pre(table, [{"name_or_index": "score", "value_or_threshold": [40]}], [55.5])["facets"]["score"][0]
    d, y = score > 40, income > 55.5
    assert entry["value_or_threshold"] == "40"
    assert math.isclose(_values(entry)["DPL"], y[~d].mean() - y[d].mean(), rel_tol=1e-12)
    assert _values(entry)["CI"] == (int((~d).sum()) - int(d.sum())) / 1000


def test_an_integer_column_given_one_number_matches_it_exactly() -> None:
    """Real Clarify: 'Capital Gain' (integers) with [5000] looks for 5000, not above it."""
    table = pl.DataFrame({"gain": [0, 2174, 5000, 7000], "y": [1, 0, 1, 0]})
    entry = _pre(table, [{"name_or_index": "gain", "value_or_threshold": [5000]}], [1])["facets"]["gain"][0]
    assert _values(entry)["CI"] == (3 - 1) / 4


def test_several_label_values_and_numbers_matching_text() -> None:
    table = pl.DataFrame({"f": ["1", "0", "1", "0", "1", "0"], "y": [3, 2, 1, 1, 2, 3]})
    entry = _pre(table, [{"name_or_index": "f", "value_or_threshold": [1]}], [2, 3.0])["facets"]["f"][0]
    # a: f == "0" → labels 2, 1, 3 (2 positive); d: 3, 1, 2 (2 positive)
    assert _values(entry)["DPL"] == 0.0
    assert entry["value_or_threshold"] == "1"


def test_columns_by_index() -> None:
    table = pl.DataFrame({"f": [0, 1, 0, 1], "y": [1, 0, 0, 1]})
    document = bias_analysis(table, bias_config({"label": 1, "label_values_or_threshold": [1],
                                                 "facet": [{"name_or_index": 0, "value_or_threshold": [1]}]}),
                             predicted=None, pre_training=True, post_training=False)
    assert document["pre_training_bias_metrics"]["label"] == "y"
    assert list(document["pre_training_bias_metrics"]["facets"]) == ["f"]


@pytest.mark.parametrize(("config", "predicted", "message"), [
    ({"facet": [{"name_or_index": "Sex", "value_or_threshold": [0]}]}, None,
     "Facet column 'Sex' is not in the dataset; columns: f, y, p"),
    ({"label": "Target"}, None, "Label column 'Target' is not in the dataset"),
    ({"group_variable": "Age"}, None, "Group variable column 'Age' is not in the dataset"),
    ({"label_values_or_threshold": [7]}, None, r"Label values or threshold \[7\] match no row of label column 'y'"),
    ({}, "missing", "Predicted label column 'missing' is not in the dataset"),
    ({"facet": [{"name_or_index": 9}]}, None, "Facet column index 9 is out of range"),
])
def test_bad_input_names_the_cause(config: dict, predicted: str | None, message: str) -> None:
    table = pl.DataFrame({"f": [0, 1], "y": [1, 0], "p": [1, 1]})
    base = {"label": "y", "label_values_or_threshold": [1], "facet": [{"name_or_index": "f"}]}
    with pytest.raises(BiasInputError, match=message):
        bias_analysis(table, bias_config({**base, **config}), predicted=predicted, pre_training=True,
                      post_training=predicted is not None)


def test_post_training_without_a_predicted_column_is_refused() -> None:
    table = pl.DataFrame({"f": [0, 1], "y": [1, 0]})
    config = bias_config({"label": "y", "label_values_or_threshold": [1], "facet": [{"name_or_index": "f"}]})
    with pytest.raises(BiasInputError, match="predicted label column"):
        bias_analysis(table, config, predicted=None, pre_training=False, post_training=True)


def test_scores_with_a_probability_threshold_are_binarised_above_it() -> None:
    table = pl.DataFrame({"f": [0, 0, 1, 1], "y": [1, 0, 1, 0], "score": [0.9, 0.65, 0.75, 0.2]})
    config = bias_config({"label": "y", "label_values_or_threshold": [1], "probability_threshold": 0.7,
                          "facet": [{"name_or_index": "f", "value_or_threshold": [1]}]})
    document = bias_analysis(table, config, predicted="score", pre_training=False, post_training=True)
    values = _values(document["post_training_bias_metrics"]["facets"]["f"][0])
    assert values["DPPL"] == 0.0  # one predicted positive (score > 0.7) in each group
    assert values["AD"] == 0.0


def test_several_facets_in_config_order_and_only_the_sections_asked() -> None:
    table = pl.DataFrame({"sex": [0, 1, 0, 1, 1, 0], "race": ["x", "y", "z", "x", "y", "z"], "y": [1, 0, 1, 0, 1, 1],
                          "p": [1, 1, 0, 0, 1, 1]})
    config = bias_config({"label": "y", "label_values_or_threshold": [1], "facet": [
        {"name_or_index": "sex", "value_or_threshold": [0]}, {"name_or_index": "race"}]})
    document = bias_analysis(table, config, predicted="p", pre_training=True, post_training=True)
    assert list(document) == ["version", "post_training_bias_metrics", "pre_training_bias_metrics"]
    for key in ("post_training_bias_metrics", "pre_training_bias_metrics"):
        section = document[key]
        assert list(section) == ["label", "facets", "label_value_or_threshold"]
        assert list(section["facets"]) == ["sex", "race"]
        assert [e["value_or_threshold"] for e in section["facets"]["race"]] == ["x", "y", "z"]
    only_post = bias_analysis(table, config, predicted="p", pre_training=False, post_training=True)
    assert list(only_post) == ["version", "post_training_bias_metrics"]
