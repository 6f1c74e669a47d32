"""Kernel SHAP against the field's standard (shap's KernelExplainer), closed forms and the efficiency property."""

from __future__ import annotations

import numpy as np
import pytest

from tests.analysis_explain import models
from watchkeeper.analysis.explain.errors import ExplainInputError
from watchkeeper.analysis.explain.kernel_shap import aggregate, explain

rng = np.random.default_rng(7)
RECORDS = rng.normal(size=(12, 6))
BACKGROUND = rng.normal(size=(5, 6))


@pytest.mark.parametrize("model", [models.linear, models.logistic, models.interactions, models.two_outputs])
def test_full_enumeration_equals_shap_exactly(model):
    # 6 features: 2^6 - 2 = 62 coalitions <= the default budget, so both enumerate every coalition
    result = explain(model, RECORDS, BACKGROUND, num_samples=None, seed=1)
    reference = models.shap_reference(model, RECORDS, BACKGROUND)
    assert result.local.shape == reference.shape
    np.testing.assert_allclose(result.local, reference, rtol=0, atol=1e-9)
    expected = np.atleast_2d(model(BACKGROUND).T).T.mean(axis=0)
    np.testing.assert_allclose(result.expected_value, expected, rtol=0, atol=1e-12)


def test_logit_link_equals_shap_exactly():
    result = explain(models.logistic, RECORDS, BACKGROUND, num_samples=None, seed=1, use_logit=True)
    reference = models.shap_reference(models.logistic, RECORDS, BACKGROUND, link="logit")
    np.testing.assert_allclose(result.local, reference, rtol=0, atol=1e-9)
    p = models.logistic(BACKGROUND).mean()
    np.testing.assert_allclose(result.expected_value, [np.log(p / (1 - p))], atol=1e-12)
    # a logistic model has additive log-odds only with one background row: then phi_i = w_i (x_i - b_i)
    one = explain(models.logistic, RECORDS, BACKGROUND[:1], num_samples=None, seed=1, use_logit=True)
    np.testing.assert_allclose(one.local[:, :, 0], models.WEIGHTS[:6] * (RECORDS - BACKGROUND[0]), atol=1e-9)


def test_features_equal_to_the_background_get_zero_as_shap_gives():
    # integer data as Clarify's adult dataset: many record values equal the single baseline row's
    ints = np.random.default_rng(3)
    records = ints.integers(0, 3, size=(20, 7)).astype(float)
    background = np.array([[1.0, 1, 1, 1, 1, 1, 1]])
    result = explain(models.interactions, records, background, num_samples=None, seed=2)
    reference = models.shap_reference(models.interactions, records, background)
    np.testing.assert_allclose(result.local, reference, atol=1e-9)
    assert (result.local[:, :, 0][records == 1.0] == 0).all()


def test_linear_model_closed_form():
    records = rng.normal(size=(40, 8))
    background = rng.normal(size=(9, 8))
    for num_samples in (None, 30):  # 2^8 - 2 = 254: enumerated by default, sampled with 30
        result = explain(models.linear, records, background, num_samples=num_samples, seed=5)
        np.testing.assert_allclose(result.local[:, :, 0], models.WEIGHTS[:8] * (records - background.mean(axis=0)),
                                   atol=1e-9)


def test_sampling_keeps_efficiency_exactly_and_stays_close_to_exact_values():
    wide = np.random.default_rng(11)
    records = wide.normal(size=(30, 14))
    background = wide.normal(size=(3, 14))

    def model(rows):
        return models.interactions(rows) + rows[:, 5:] @ np.linspace(-1, 1, 9)

    exact = explain(model, records, background, num_samples=2**14, seed=0).local  # 16382 coalitions: all
    sampled = explain(model, records, background, num_samples=400, seed=0).local
    total = model(records) - model(background).mean()
    np.testing.assert_allclose(sampled[:, :, 0].sum(axis=1), total, rtol=0, atol=1e-10)
    np.testing.assert_allclose(exact[:, :, 0].sum(axis=1), total, rtol=0, atol=1e-10)
    error = np.abs(sampled - exact).mean() / np.abs(exact).mean()
    assert error < 0.05, error
    # and more coalitions bring the estimate closer
    finer = explain(model, records, background, num_samples=4000, seed=0).local
    assert np.abs(finer - exact).mean() < np.abs(sampled - exact).mean()


def test_sampled_values_agree_with_shap_sampling_on_global_values():
    wide = np.random.default_rng(12)
    records = wide.normal(size=(25, 16))
    background = wide.normal(size=(2, 16))
    ours = explain(models.interactions, records, background, num_samples=600, seed=3).local
    exact = explain(models.interactions, records, background, num_samples=2**16, seed=3).local
    assert np.abs(aggregate(ours, "mean_abs") - aggregate(exact, "mean_abs")).max() < 0.05


def test_deterministic_given_seed_whatever_the_chunking():
    records = rng.normal(size=(23, 13))
    background = rng.normal(size=(2, 13))
    first = explain(models.interactions, records, background, num_samples=200, seed=42)
    again = explain(models.interactions, records, background, num_samples=200, seed=42)
    chunked = explain(models.interactions, records, background, num_samples=200, seed=42, chunk_records=5)
    other = explain(models.interactions, records, background, num_samples=200, seed=43)
    np.testing.assert_array_equal(first.local, again.local)
    np.testing.assert_allclose(first.local, chunked.local, rtol=0, atol=1e-12)
    assert not np.allclose(first.local, other.local)
    assert chunked.model_calls == 5 and first.model_calls == 1


def test_model_calls_are_few_and_large_and_bounded():
    records = rng.normal(size=(50, 20))
    background = rng.normal(size=(2, 20))
    seen = []

    def model(rows):
        seen.append(rows.shape[0])
        return models.linear(rows)

    result = explain(model, records, background, num_samples=100, seed=0, max_rows_per_call=2_500)
    # per record: 100 coalitions x 2 background rows + the record itself; the background once
    assert sum(seen) == result.rows_sent == 50 * (100 * 2 + 1) + 2
    assert len(seen) == result.model_calls == 5 and max(seen) <= 2_500 + 2


def test_default_num_samples_is_clarifys():
    records = rng.normal(size=(2, 20))
    background = rng.normal(size=(1, 20))
    result = explain(models.linear, records, background, num_samples=None, seed=0)
    # Clarify's docs: 20 features, one baseline row, no NumberOfSamples: 2088 synthetic rows per record
    assert result.rows_sent == 1 + 2 * (2088 + 1)


def test_several_background_rows_average_the_model():
    result = explain(models.two_outputs, RECORDS, BACKGROUND, num_samples=10, seed=0)
    assert result.local.shape == (12, 6, 3)
    np.testing.assert_allclose(result.local.sum(axis=1), models.two_outputs(RECORDS) -
                               models.two_outputs(BACKGROUND).mean(axis=0), atol=1e-10)


def test_aggregate_methods():
    local = rng.normal(size=(31, 4, 2))
    np.testing.assert_allclose(aggregate(local, "mean_abs")[2, 1], sum(abs(v) for v in local[:, 2, 1]) / 31)
    np.testing.assert_allclose(aggregate(local, "mean_sq")[0, 0], sum(v * v for v in local[:, 0, 0]) / 31)
    assert aggregate(local, "median")[3, 1] == sorted(local[:, 3, 1])[15]
    with pytest.raises(ValueError, match="agg_method"):
        aggregate(local, "mean")


def test_bad_input_names_the_cause():
    with pytest.raises(ExplainInputError, match="6 features but the SHAP baseline rows have 5"):
        explain(models.linear, RECORDS, BACKGROUND[:, :5], num_samples=10, seed=0)
    with pytest.raises(ExplainInputError, match="no records"):
        explain(models.linear, RECORDS[:0], BACKGROUND, num_samples=10, seed=0)
    with pytest.raises(ExplainInputError, match=r"the model answered 3 scores for \d+ rows"):
        explain(lambda rows: np.zeros(3), RECORDS, BACKGROUND, num_samples=10, seed=0)
    with pytest.raises(ExplainInputError, match="not a finite number"):
        explain(lambda rows: np.full(rows.shape[0], np.nan), RECORDS, BACKGROUND, num_samples=10, seed=0)
    with pytest.raises(ExplainInputError, match="between 0 and 1"):
        explain(models.linear, RECORDS, BACKGROUND, num_samples=10, seed=0, use_logit=True)
    with pytest.raises(ExplainInputError, match="numeric"):
        explain(models.linear, np.array([["a", "b"]]), np.array([["c", "d"]]), num_samples=10, seed=0)


def test_too_few_coalitions_still_give_finite_efficient_values():
    records = rng.normal(size=(6, 20))
    background = rng.normal(size=(1, 20))
    result = explain(models.interactions, records, background, num_samples=3, seed=0)
    assert np.isfinite(result.local).all()
    total = models.interactions(records) - models.interactions(background)
    np.testing.assert_allclose(result.local[:, :, 0].sum(axis=1), total, atol=1e-8)


@pytest.mark.parametrize("features,background_rows", [(1, 1), (2, 3), (3, 1), (4, 7), (9, 2)])
def test_shapes_from_one_feature_up_equal_shap(features, background_rows):
    local = np.random.default_rng(features * 10 + background_rows)
    records = local.normal(size=(8, features))
    background = local.normal(size=(background_rows, features))
    records[0] = background[0]  # a record equal to the baseline: nothing varies, every value is 0

    def model(rows):  # two outputs, one with an interaction of every feature
        return np.column_stack([models.logistic(rows), np.prod(np.tanh(rows), axis=1) + rows[:, 0]])

    result = explain(model, records, background, num_samples=None, seed=0)
    reference = models.shap_reference(model, records, background)
    np.testing.assert_allclose(result.local, reference, rtol=0, atol=1e-9)
    if background_rows == 1:
        assert (result.local[0] == 0).all()


def test_logit_of_certain_scores_stays_finite():
    def certain(rows):
        return (rows[:, 0] > 0).astype(float)  # scores of exactly 0 and 1

    result = explain(certain, RECORDS, BACKGROUND, num_samples=None, seed=0, use_logit=True)
    assert np.isfinite(result.local).all() and np.isfinite(result.expected_value).all()


def test_many_features_linear_closed_form_under_sampling():
    # 70 features: past 63 the coalitions are told apart as packed bytes, not integers
    local = np.random.default_rng(70)
    weights = local.normal(size=70)
    records = local.normal(size=(5, 70))
    background = local.normal(size=(2, 70))
    result = explain(lambda rows: rows @ weights, records, background, num_samples=300, seed=0)
    np.testing.assert_allclose(result.local[:, :, 0], weights * (records - background.mean(axis=0)), atol=1e-8)
