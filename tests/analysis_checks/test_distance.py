"""Distances of `analysis/distance.py` against independent computations on the expanded samples.

A KLL sketch with items `data[h]` at level h stands for each item repeated 2**h times; the numeric
L-infinity distance must equal the two-sample Kolmogorov-Smirnov statistic of those samples (scipy), the
robust one that statistic minus c(alpha) * sqrt((n + m) / (n m)), and the chi-squared p-value scipy's
goodness-of-fit test on the (regrouped) tables.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tests.analysis_checks.documents import (
    expand,
    feature_of,
    real_statistics,
    sketch_of,
)
from watchkeeper.analysis import distance

# ------------------------------------------------------------------------------ sketches


def test_sketch_samples_weigh_level_h_items_two_to_the_h():
    values, weights = distance.sketch_samples(
        {"parameters": {"c": 0.64, "k": 2048.0}, "data": [[3.0, 1.0], [2.0], [5.0]]}
    )
    assert values.tolist() == [3.0, 1.0, 2.0, 5.0]
    assert weights.tolist() == [1.0, 1.0, 2.0, 4.0]


def test_sketch_samples_refuse_a_sketch_without_data():
    with pytest.raises(ValueError, match="no data"):
        distance.sketch_samples({"parameters": {}, "data": None})


# ------------------------------------------------------------------------------ numeric


def test_numeric_linf_is_the_ks_statistic_of_the_expanded_samples_with_repeats_across_levels():
    # 1.0 and 2.0 appear at several levels: their weights must add up, not collapse.
    baseline = [[1.0, 2.0, 2.0, 7.0], [1.0, 3.0], [2.0]]  # 1 1 1 2 2 2 2 2 2 3 3 7  (n = 12)
    current = [[5.0, 1.0, 9.0, 2.0], [5.0, 6.0]]  # 1 2 5 5 5 6 6 9  (m = 8)
    linf, n, m = distance.numerical_linf(baseline, current)
    assert (n, m) == (12.0, 8.0)
    expected = stats.ks_2samp(expand(baseline), expand(current)).statistic
    assert linf == pytest.approx(expected, abs=1e-15)
    # by hand: at x = 3 the baseline CDF is 11/12, the current one 2/8
    assert linf == pytest.approx(11 / 12 - 2 / 8)


def test_numeric_simple_distance_of_identical_sketches_is_zero():
    levels = [[4.0, 1.0, 3.0], [2.0, 8.0]]
    assert distance.numerical_distance(levels, levels, "Simple") == 0.0
    assert distance.numerical_distance(levels, levels, "Robust") == 0.0


def test_numeric_robust_subtracts_the_ks_critical_gap_with_c_alpha_1_8():
    rng = np.random.default_rng(7)
    baseline = [rng.normal(0.0, 1.0, 1500).tolist()]
    current = [rng.normal(0.4, 1.0, 1000).tolist()]
    ks = stats.ks_2samp(expand(baseline), expand(current)).statistic
    robust = distance.numerical_distance(baseline, current, "Robust")
    assert robust == pytest.approx(ks - 1.8 * math.sqrt((1500 + 1000) / (1500 * 1000)), abs=1e-12)
    assert distance.numerical_distance(baseline, current, "Simple") == pytest.approx(ks, abs=1e-12)


def test_numeric_robust_floors_at_zero_for_small_samples():
    # 4 values against 4 values: completely disjoint, L-inf = 1.0, but 1.8 * sqrt(8/16) = 1.27 > 1.
    assert distance.numerical_distance([[1.0, 2.0, 3.0, 4.0]], [[5.0, 6.0, 7.0, 8.0]], "Simple") == 1.0
    assert distance.numerical_distance([[1.0, 2.0, 3.0, 4.0]], [[5.0, 6.0, 7.0, 8.0]], "Robust") == 0.0


def test_robust_with_an_alpha_uses_the_two_sample_ks_c_alpha():
    assert distance.c_alpha(None) == 1.8
    assert distance.c_alpha(0.05) == pytest.approx(1.3581015157406195)  # the textbook 1.358
    linf, n, m = 0.3, 400.0, 600.0
    assert distance.robust_linf(linf, n, m, alpha=0.05) == pytest.approx(
        0.3 - math.sqrt(-math.log(0.025) / 2) * math.sqrt(1000 / 240000)
    )
    with pytest.raises(ValueError):
        distance.c_alpha(0.0)


def test_numeric_distance_rejects_an_unknown_method_and_empty_sketches():
    with pytest.raises(ValueError, match="comparison_method"):
        distance.numerical_distance([[1.0]], [[2.0]], "Fancy")
    with pytest.raises(ValueError, match="empty"):
        distance.numerical_linf([[]], [[2.0]])


def test_collapse_repeated_reproduces_deequ_2_0_rank_map_under_counting():
    # awslabs/deequ #392 / #765: `1, 1, 2` has getRankMap()(1) = 1 (not 2) and getCDF()(1) = 0.5.
    one_one_two = [[1.0, 1.0, 2.0]]
    single_two = [[2.0]]
    fixed, n, _ = distance.numerical_linf(one_one_two, single_two)
    assert (fixed, n) == (pytest.approx(2 / 3), 3.0)  # CDF(1) = 2/3 against 0
    collapsed, n, _ = distance.numerical_linf(one_one_two, single_two, collapse_repeated=True)
    assert (collapsed, n) == (0.5, 2.0)
    # A value held at several levels keeps the weight of its highest level only: 1.0 -> 2, 2.0 -> 4.
    levels = [[1.0, 2.0, 1.0], [1.0], [2.0]]
    _, n, _ = distance.numerical_linf(levels, [[0.0]], collapse_repeated=True)
    assert n == 6.0


def test_real_aws_sketches_compare_as_their_expanded_samples():
    document = real_statistics()
    churn = sketch_of(document["features"][0])["data"]  # Churn: 0/1, repeats at both levels
    day_mins = sketch_of(document["features"][3])["data"]
    for a, b in ((churn, day_mins), (day_mins, churn)):
        linf, n, m = distance.numerical_linf(a, b)
        assert (n, m) == (2333.0, 2333.0)
        assert linf == pytest.approx(stats.ks_2samp(expand(a), expand(b)).statistic, abs=1e-12)


def test_deequ_2_0_rank_map_cannot_tell_two_binary_columns_apart():
    document = real_statistics()
    churn = sketch_of(feature_of(document, "Churn"))  # 14% ones
    state = sketch_of(feature_of(document, "State_DE"))  # about 2% ones
    assert distance.numerical_linf(churn, state, collapse_repeated=True)[0] == 0.0
    fixed = distance.numerical_linf(churn, state)[0]
    assert fixed == pytest.approx(stats.ks_2samp(expand(churn["data"]), expand(state["data"])).statistic)
    assert fixed > 0.1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(-20, 20), max_size=12), min_size=1, max_size=4),
    st.lists(st.lists(st.integers(-20, 20), max_size=12), min_size=1, max_size=4),
)
def test_numeric_linf_equals_ks_on_random_hand_built_sketches(a, b):
    if not any(a) or not any(b):
        return
    levels_a = [[float(x) / 2 for x in items] for items in a]
    levels_b = [[float(x) / 2 for x in items] for items in b]
    linf, n, m = distance.numerical_linf(levels_a, levels_b)
    assert n == len(expand(levels_a)) and m == len(expand(levels_b))
    assert linf == pytest.approx(stats.ks_2samp(expand(levels_a), expand(levels_b)).statistic, abs=1e-12)


# ------------------------------------------------------------------------------ categorical


def test_categorical_linf_is_the_largest_frequency_gap_over_the_union_of_categories():
    baseline = {"a": 50, "b": 30, "c": 20}
    current = {"a": 20, "b": 30, "d": 50}  # c vanished, d appeared
    linf, n, m = distance.categorical_linf(baseline, current)
    assert (n, m) == (100.0, 100.0)
    assert linf == pytest.approx(0.5)  # d: |0 - 0.5|
    assert distance.categorical_distance(baseline, current, "Simple") == pytest.approx(0.5)
    assert distance.categorical_distance(baseline, current, "Robust") == pytest.approx(
        0.5 - 1.8 * math.sqrt(200 / 10000)
    )


def test_categorical_linf_refuses_empty_tables():
    with pytest.raises(ValueError):
        distance.categorical_linf({}, {"a": 1})


def test_chi_squared_without_regrouping_is_pearsons_goodness_of_fit():
    baseline = {"a": 400, "b": 300, "c": 300}
    current = {"a": 50, "b": 30, "c": 20, "new": 900}  # "new" is left to categorical_values_check
    p_value = distance.chi_squared_p_value(baseline, current)
    expected = stats.chisquare([50, 30, 20], [40, 30, 30]).pvalue
    assert p_value == pytest.approx(expected, rel=1e-12)


def test_chi_squared_regroups_small_expected_counts_yates_rule():
    # Scaled to 100 observations, expected counts are a 60, b 30, c 4, d 3, e 3: three of five below 5
    # (more than int(0.2 * 5) = 1): d (3, first of the tie in bucket order) merges into the next
    # smallest, e -> 6; then c (4) is below 5 (allowed: int(0.2 * 4) = 0) and merges into e -> 10.
    baseline = {"a": 600, "b": 300, "c": 40, "d": 30, "e": 30}
    current = {"a": 50, "b": 30, "c": 10, "d": 5, "e": 5}
    p_value = distance.chi_squared_p_value(baseline, current)
    expected = stats.chisquare([50, 30, 10 + 5 + 5], [60, 30, 4 + 3 + 3]).pvalue
    assert p_value == pytest.approx(expected, rel=1e-12)


def test_chi_squared_two_categories_follow_cochran_and_give_nan_when_nothing_is_left():
    # Two categories, expected 95 and 5 < 10: merged into one -> no test.
    assert math.isnan(distance.chi_squared_p_value({"a": 950, "b": 50}, {"a": 90, "b": 10}))
    # Expected 50 / 50: a real test.
    p_value = distance.chi_squared_p_value({"a": 500, "b": 500}, {"a": 70, "b": 30})
    assert p_value == pytest.approx(stats.chisquare([70, 30], [50, 50]).pvalue, rel=1e-12)


def test_chi_squared_of_a_single_category_is_nan():
    assert math.isnan(distance.chi_squared_p_value({"a": 10}, {"a": 5, "b": 5}))
