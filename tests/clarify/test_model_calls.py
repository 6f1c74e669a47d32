"""Clarify jobs that call the model (tests/model_server.py, a real HTTP model server): SHAP values against a
brute-force Shapley computation, post-training bias against predictions made here, and a model that fails."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.clarify.jobs import clarify_job, message
from tests.model_server import predict
from watchkeeper.jobs.toolkit.summary import JobFailed

HEADERS = ["age", "debt", "income", "years", "approved"]


def _dataset(tmp_path: Path, rows: int = 60) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(7)
    features = np.column_stack([rng.integers(18, 80, rows), rng.integers(0, 5, rows), rng.integers(0, 300, rows),
                                rng.integers(0, 30, rows)]).astype(float)
    label = rng.integers(0, 2, rows)
    path = tmp_path / "data.csv"
    lines = [",".join(HEADERS)] + [",".join(str(int(v)) for v in [*f, y]) for f, y in zip(features, label,
                                                                                                strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path, features


def _exact_shapley(x: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Shapley values of predict() at x against one baseline row, by enumerating every coalition."""
    n = x.size
    values = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for size in range(n):
            for subset in itertools.combinations(others, size):
                weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                with_i, without_i = base.copy(), base.copy()
                present = [*subset, i]
                with_i[present] = x[present]
                without_i[list(subset)] = x[list(subset)]
                values[i] += weight * (predict(with_i[None])[0] - predict(without_i[None])[0])
    return values


def test_shap_of_a_model_behind_http_matches_exact_shapley_values(tmp_path: Path, model_url: str) -> None:
    dataset, features = _dataset(tmp_path)
    base = features.mean(axis=0).round()
    config = {"dataset_type": "text/csv", "headers": HEADERS, "label": "approved",
              "methods": {"shap": {"baseline": [base.tolist()], "num_samples": 100, "agg_method": "mean_abs",
                                   "seed": 3, "save_local_shap_values": True}},
              "predictor": {"model_name": "m", "content_type": "text/csv", "accept_type": "text/csv"}}
    summary, output = clarify_job(tmp_path / "job", config, dataset, model_url=model_url)
    analysis = json.loads((output / "analysis.json").read_text())
    label = analysis["explanations"]["kernel_shap"]["label0"]
    exact = np.array([_exact_shapley(row, base) for row in features])
    expected = np.abs(exact).mean(axis=0)
    assert list(label["global_shap_values"]) == HEADERS[:4]
    np.testing.assert_allclose(list(label["global_shap_values"].values()), expected, rtol=1e-6, atol=1e-9)
    assert label["expected_value"] == pytest.approx(float(predict(base[None])[0]))
    assert summary.model_calls >= 1
    local = pl.read_csv(output / "explanations_shap" / "out.csv")
    assert local.columns == [f"{name}_label0" for name in HEADERS[:4]]
    # The model server answers six decimals: each record's values carry that rounding.
    np.testing.assert_allclose(local.to_numpy(), exact, atol=2e-6)


def test_features_to_explain_reports_only_those(tmp_path: Path, model_url: str) -> None:
    dataset, features = _dataset(tmp_path)
    config = {"dataset_type": "text/csv", "headers": HEADERS, "label": "approved",
              "methods": {"shap": {"baseline": [features.mean(axis=0).round().tolist()], "num_samples": 100,
                                   "features_to_explain": ["income", 0]}},
              "predictor": {"model_name": "m", "content_type": "text/csv", "accept_type": "text/csv"}}
    _, output = clarify_job(tmp_path / "job", config, dataset, model_url=model_url)
    values = json.loads((output / "analysis.json").read_text())["explanations"]["kernel_shap"]["label0"]
    assert list(values["global_shap_values"]) == ["income", "age"]


def test_post_training_bias_uses_the_model_s_predictions(tmp_path: Path, model_url: str) -> None:
    dataset, features = _dataset(tmp_path)
    config = {"dataset_type": "text/csv", "headers": HEADERS, "label": "approved", "label_values_or_threshold": [1],
              "facet": [{"name_or_index": "debt", "value_or_threshold": [0]}],
              "methods": {"post_training_bias": {"methods": ["DPPL", "DI"]}},
              "predictor": {"model_name": "m", "content_type": "text/csv", "accept_type": "text/csv",
                            "probability_threshold": 0.4}}
    _, output = clarify_job(tmp_path / "job", config, dataset, model_url=model_url)
    metrics = json.loads((output / "analysis.json").read_text())["post_training_bias_metrics"]
    values = {m["name"]: m["value"] for m in metrics["facets"]["debt"][0]["metrics"]}
    predicted = predict(features) > 0.4
    sensitive = features[:, 1] == 0
    q_a, q_d = predicted[~sensitive].mean(), predicted[sensitive].mean()
    assert values["DPPL"] == pytest.approx(q_a - q_d, abs=1e-12)
    assert values["DI"] == pytest.approx(q_d / q_a, abs=1e-12)


def test_a_model_that_fails_fails_the_job_with_its_answer(tmp_path: Path, model_url: str) -> None:
    dataset = tmp_path / "data.csv"
    dataset.write_text("a,b,label\nfail,1,0\n2,3,1\n")
    config = {"dataset_type": "text/csv", "headers": ["a", "b", "label"], "label": "label",
              "label_values_or_threshold": [1], "facet": [{"name_or_index": "b", "value_or_threshold": [1]}],
              "methods": {"post_training_bias": {"methods": "all"}},
              "predictor": {"model_name": "m", "content_type": "text/csv"}}
    with pytest.raises(JobFailed):
        clarify_job(tmp_path / "job", config, dataset, model_url=model_url)
    assert "HTTP 500" in message(tmp_path / "job")
    assert "model exploded" in message(tmp_path / "job")
