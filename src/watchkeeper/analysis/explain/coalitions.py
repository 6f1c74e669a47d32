"""Kernel SHAP's coalitions and their weights, as the `shap` package's KernelExplainer draws them.

For m players and a budget of n coalitions (Lundberg & Lee 2017): subset sizes are visited from the smallest
(with their complements: size s and m - s share the Shapley kernel weight), each size enumerated completely while
the budget left, spread by the kernel's weights, covers it; the rest of the budget is sampled from the sizes not
enumerated, each draw with its complement (paired sampling), a repeated draw adding weight to the first instead
of a row. When 2^m - 2 ≤ n every coalition is enumerated and the regression gives the exact Shapley values.

Enumerated parts depend only on (m, n) and are cached; the sampled part is vectorised (a candidate's "first
time seen" is found with `np.unique` on packed masks instead of a Python set, with the same outcome).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations
from math import comb

import numpy as np

# Clarify's default when num_samples is absent (docs, "Synthetic data": 2·n_features + 2^11), also shap's "auto".
DEFAULT_EXTRA_SAMPLES = 2**11


def sample_count(players: int, num_samples: int | None) -> int:
    """Coalitions used for a record with `players` varying features: never more than exist (2^m - 2)."""
    wanted = 2 * players + DEFAULT_EXTRA_SAMPLES if num_samples is None else num_samples
    if players <= 30:
        wanted = min(wanted, 2**players - 2)
    return max(wanted, 0)


def _size_weights(players: int) -> tuple[np.ndarray, int, int]:
    """The Shapley kernel's total weight of each subset size 1..ceil((m-1)/2) (a paired size counts its
    complements too), normalised; and the counts of sizes and of paired sizes."""
    sizes = int(np.ceil((players - 1) / 2.0))
    paired = int(np.floor((players - 1) / 2.0))
    weights = np.array([(players - 1.0) / (s * (players - s)) for s in range(1, sizes + 1)])
    weights[:paired] *= 2
    return weights / weights.sum(), sizes, paired


def _size_masks(players: int, size: int) -> np.ndarray:
    """Every coalition of `size` players, as rows of a boolean matrix."""
    index = np.fromiter((i for c in combinations(range(players), size) for i in c), dtype=np.int64)
    index = index.reshape(-1, size)
    masks = np.zeros((index.shape[0], players), dtype=bool)
    np.put_along_axis(masks, index, True, axis=1)
    return masks


@lru_cache(maxsize=256)
def _enumerated(players: int, budget: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The completely enumerated sizes' coalitions and weights, and how many sizes were enumerated."""
    weight_vector, sizes, paired = _size_weights(players)
    remaining = weight_vector.copy()
    left = float(budget)
    blocks: list[np.ndarray] = []
    block_weights: list[np.ndarray] = []
    full = 0
    for size in range(1, sizes + 1):
        count = comb(players, size) * (2 if size <= paired else 1)
        if left * remaining[size - 1] / count < 1.0 - 1e-8:
            break
        full += 1
        left -= count
        if remaining[size - 1] < 1.0:
            remaining /= 1 - remaining[size - 1]
        weight = weight_vector[size - 1] / comb(players, size) / (2.0 if size <= paired else 1.0)
        masks = _size_masks(players, size)
        if size <= paired:  # each coalition followed by its complement, as shap orders them
            masks = np.stack([masks, ~masks], axis=1).reshape(-1, players)
        blocks.append(masks)
        block_weights.append(np.full(masks.shape[0], weight))
    masks = np.concatenate(blocks) if blocks else np.zeros((0, players), dtype=bool)
    weights = np.concatenate(block_weights) if block_weights else np.zeros(0)
    masks.flags.writeable = False
    weights.flags.writeable = False
    return masks, weights, full


def _sampled(players: int, samples_left: int, full: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The random part: sizes drawn by the remaining kernel weight, members uniformly, each new coalition with
    its complement when its size is paired; repeats add 1 to the first draw's weight (and its complement's).
    At most 4 x samples_left draws, as shap; weights are raw counts (normalised by the caller)."""
    weight_vector, _, paired = _size_weights(players)
    p = weight_vector.copy()
    p[:paired] /= 2  # each draw of a paired size brings two coalitions
    p = p[full:] / p[full:].sum()
    size = rng.choice(p.size, 4 * samples_left, p=p) + full + 1
    is_paired = size <= paired
    # members only for the draws likely needed (repeats are rare unless the space is small); more if short
    enough = int(np.searchsorted(np.cumsum(np.where(is_paired, 2, 1)), samples_left)) + 1
    head = min(size.size, enough + enough // 8 + 8)
    masks = _random_subsets(size[:head], players, rng)
    out, weights = _first_draws(masks, is_paired[:head], samples_left)
    if out.shape[0] < samples_left and head < size.size:
        masks = np.concatenate([masks, _random_subsets(size[head:], players, rng)])
        out, weights = _first_draws(masks, is_paired, samples_left)
    return out, weights


def _random_subsets(size: np.ndarray, players: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random subset of each size: the players holding its `size` smallest random keys."""
    keys = rng.random((size.size, players))
    return keys <= np.take_along_axis(np.sort(keys, axis=1), size[:, None] - 1, axis=1)


def _first_draws(masks: np.ndarray, is_paired: np.ndarray, samples_left: int) -> tuple[np.ndarray, np.ndarray]:
    """shap's sequential loop over the draws, vectorised: which draws are new, where the budget runs out, and
    the rows (each new draw, then its complement while the budget lasts) with their repeat counts."""
    draws, players = masks.shape
    if players <= 63:  # a coalition as an integer: np.unique on integers is far faster than on bytes
        keys = masks @ (np.int64(1) << np.arange(players, dtype=np.int64))
    else:
        packed = np.packbits(masks, axis=1)
        keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    new = np.zeros(draws, dtype=bool)
    new[first] = True
    cost = np.where(new, np.where(is_paired, 2, 1), 0)
    before = np.cumsum(cost) - cost  # coalitions added before each draw
    processed = before < samples_left  # shap's loop runs while samples are left
    new &= processed
    with_complement = new & is_paired & (before + 1 < samples_left)
    # rows: each new draw, then its complement when added
    order = np.flatnonzero(new)
    row_of_draw = np.full(draws, -1)
    rows_before = np.cumsum(new.astype(np.int64) + with_complement) - (new.astype(np.int64) + with_complement)
    row_of_draw[order] = rows_before[order]
    total = int((new.astype(np.int64) + with_complement).sum())
    out = np.zeros((total, players), dtype=bool)
    weights = np.zeros(total)
    out[row_of_draw[order]] = masks[order]
    complement_draws = np.flatnonzero(with_complement)
    out[row_of_draw[complement_draws] + 1] = ~masks[complement_draws]
    # every processed draw adds 1 to its first occurrence, and to that one's complement when it has one
    first_of = first[inverse]
    hits = np.flatnonzero(processed)
    np.add.at(weights, row_of_draw[first_of[hits]], 1.0)
    repeat_pairs = hits[is_paired[hits] & with_complement[first_of[hits]]]
    np.add.at(weights, row_of_draw[first_of[repeat_pairs]] + 1, 1.0)
    return out, weights


def coalitions(players: int, num_samples: int | None, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Masks (coalitions x players, True = the record's value) and kernel weights for one record."""
    if players < 2:
        return np.zeros((0, players), dtype=bool), np.zeros(0)
    budget = sample_count(players, num_samples)
    masks, weights, full = _enumerated(players, budget)
    weight_vector, sizes, _ = _size_weights(players)
    left = budget - masks.shape[0]
    if full == sizes or left <= 0:
        return masks, weights
    drawn, drawn_weights = _sampled(players, left, full, rng)
    drawn_weights *= weight_vector[full:].sum() / drawn_weights.sum()
    return np.concatenate([masks, drawn]), np.concatenate([weights, drawn_weights])
