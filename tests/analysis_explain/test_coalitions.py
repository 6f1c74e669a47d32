"""Coalitions and kernel weights: shap's sampling rules, checked against an independent sequential version."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest

from watchkeeper.analysis.explain.coalitions import _first_draws, _random_subsets, coalitions, sample_count


def shap_loop(masks: np.ndarray, is_paired: np.ndarray, samples_left: int) -> tuple[np.ndarray, np.ndarray]:
    """shap KernelExplainer's loop over its draws, one by one, with a dictionary of the masks seen."""
    rows: list[np.ndarray] = []
    weights: list[float] = []
    used: dict[tuple[bool, ...], int] = {}
    position = 0
    while samples_left > 0 and position < len(masks):
        mask, paired = masks[position], is_paired[position]
        position += 1
        key = tuple(mask)
        new = key not in used
        if new:
            used[key] = len(rows)
            samples_left -= 1
            rows.append(mask)
            weights.append(1.0)
        else:
            weights[used[key]] += 1.0
        if samples_left > 0 and paired:
            if new:
                samples_left -= 1
                rows.append(~mask)
                weights.append(1.0)
            else:
                weights[used[key] + 1] += 1.0
    return np.array(rows).reshape(-1, masks.shape[1]), np.array(weights)


@pytest.mark.parametrize("players,budget", [(5, 7), (6, 20), (9, 60), (12, 300), (4, 3)])
def test_vectorised_draws_equal_the_sequential_loop(players, budget):
    rng = np.random.default_rng(players * 1000 + budget)
    # few players and a large budget: many repeated draws, the case where the loop's rules matter
    size = rng.integers(1, players // 2 + 1, size=4 * budget)
    paired = size <= (players - 1) // 2
    masks = _random_subsets(size, players, rng)
    expected_rows, expected_weights = shap_loop(masks, paired, budget)
    rows, weights = _first_draws(masks, paired, budget)
    np.testing.assert_array_equal(rows, expected_rows)
    np.testing.assert_array_equal(weights, expected_weights)


def test_random_subsets_have_the_drawn_sizes():
    rng = np.random.default_rng(0)
    size = rng.integers(1, 9, size=1000)
    assert (_random_subsets(size, 17, rng).sum(axis=1) == size).all()


@pytest.mark.parametrize("players", [2, 3, 4, 7, 10])
def test_full_enumeration_has_every_coalition_with_the_shapley_kernel_weight(players):
    masks, weights = coalitions(players, None, np.random.default_rng(0))
    assert masks.shape[0] == 2**players - 2 == len({tuple(m) for m in masks})
    size = masks.sum(axis=1)
    kernel = (players - 1) / (np.array([comb(players, s) for s in size]) * size * (players - size))
    np.testing.assert_allclose(weights / weights.sum(), kernel / kernel.sum(), rtol=1e-12)


def test_sampled_weights_keep_the_enumerated_sizes_share():
    masks, weights = coalitions(20, 500, np.random.default_rng(1))
    assert masks.shape[0] == 500
    size = masks.sum(axis=1)
    # sizes 1 and 19 are enumerated (40 coalitions): their share is the kernel's, the rest share what is left
    kernel = np.array([(20 - 1) / (s * (20 - s)) for s in range(1, 20)])
    enumerated = (size == 1) | (size == 19)
    assert enumerated.sum() == 40
    np.testing.assert_allclose(weights[enumerated].sum() / weights.sum(), (kernel[0] + kernel[-1]) / kernel.sum())
    assert set(size[~enumerated]) <= set(range(2, 19))


def test_sample_count_follows_clarify_docs():
    # "a tabular record with 10 features ... the synthetic dataset contains 1022 records. ... 20 features, 2088"
    assert sample_count(10, None) == 1022
    assert sample_count(20, None) == 2088
    assert sample_count(20, 100) == 100
    assert sample_count(3, 100) == 6
    assert sample_count(40, None) == 2 * 40 + 2048
