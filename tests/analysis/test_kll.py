"""Deequ's KLL sketch (spec §5.4): AWS's sketches reproduced item for item, batching invariance, Deequ's
merge, and rank error within the sketch's bound."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.analysis.artifacts import TRAINING_CSV, aws_statistics
from watchkeeper.analysis.kll import KLLSketch, capacity


def test_capacities_follow_deequ():
    assert [capacity(h) for h in range(4)] == [2050, 1314, 842, 540]


def test_small_inputs_stay_in_level_zero_in_arrival_order():
    sketch = KLLSketch()
    sketch.update_batch(np.array([3.0, 1.0, 2.0]))
    sketch.update(0.5)
    assert sketch.data() == [[3.0, 1.0, 2.0, 0.5]]
    assert sketch.count == 4


def test_first_compaction_keeps_even_sorted_items_and_the_last_odd_item():
    values = np.arange(2051, dtype=float)[::-1]  # 2050 .. 0
    sketch = KLLSketch()
    sketch.update_batch(values)
    level0, level1 = sketch.data()
    assert level0 == [0.0]  # the 2051st value, kept unsorted
    assert level1 == [float(v) for v in range(1, 2051, 2)]  # sorted 1..2050, offset 0
    assert sketch.count == 2051


def test_compaction_offsets_alternate_0_1_1_0():
    sketch = KLLSketch(sketch_size=8)
    offsets = []
    for start in range(0, 80, 10):
        sketch.update_batch(np.arange(start, start + 10, dtype=float))
        offsets.append(sketch._offsets[0])
    # the offset in force after compaction #i of level 0 follows 0, 1, 1, 0, 0, 1, 1, 0 ...
    assert sketch._num_compress[0] >= 4
    pattern = [0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0]
    assert sketch._offsets[0] == pattern[sketch._num_compress[0] - 1]


def test_every_churn_sketch_and_its_buckets_match_aws():
    frame = pl.read_csv(TRAINING_CSV, infer_schema=False)
    features = aws_statistics()["features"]
    assert len(features) == 33
    for feature in features:
        values = frame.get_column(feature["name"]).cast(pl.Float64).to_numpy()
        sketch = KLLSketch()
        sketch.update_batch(values)
        kll = feature["numerical_statistics"]["distribution"]["kll"]
        assert sketch.to_document() == kll["sketch"], feature["name"]
        assert sketch.buckets(values.min(), values.max()) == kll["buckets"], feature["name"]


@pytest.mark.parametrize("batch", [1, 2, 999, 2050, 2051])
def test_batches_of_any_size_give_aws_sketch(batch):
    frame = pl.read_csv(TRAINING_CSV, infer_schema=False)
    feature = aws_statistics()["features"][3]  # Day Mins, Fractional
    values = frame.get_column(feature["name"]).cast(pl.Float64).to_numpy()
    sketch = KLLSketch()
    for start in range(0, len(values), batch):
        sketch.update_batch(values[start:start + batch])
    assert sketch.data() == feature["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=6000),
       st.integers(1, 3000))
def test_batching_never_changes_the_sketch(values, batch):
    values = np.array(values)
    whole, parts = KLLSketch(), KLLSketch()
    for v in values[:50]:
        whole.update(v)
    whole.update_batch(values[50:])
    for start in range(0, len(values), batch):
        parts.update_batch(values[start:start + batch])
    assert whole == parts
    assert whole.count == len(values)


def _rank_error_bound(sketch: KLLSketch, n: int) -> float:
    # Deterministic KLL compaction: each compaction at level h moves ranks by at most 2**h; the sketch's
    # absolute rank error is below sum_h compactions_h * 2**h (no randomness to average it out).
    return sum(c << h for h, c in enumerate(sketch._num_compress))


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([5_000, 40_000, 150_000]))
def test_rank_error_stays_within_the_bound(seed, n):
    values = np.random.default_rng(seed).normal(size=n)
    sketch = KLLSketch()
    sketch.update_batch(values)
    assert sketch.count == n
    ordered = np.sort(values)
    bound = _rank_error_bound(sketch, n)
    worst = 0
    for q in np.linspace(0.01, 0.99, 25):
        v = ordered[int(q * (n - 1))]
        worst = max(worst, abs(sketch.rank(v) - int(np.searchsorted(ordered, v, side="right"))))
    assert worst <= bound
    assert worst / n < 0.01  # in practice well under 1% of n at k = 2048


def test_merge_is_deequs_levelwise_concatenation():
    a, b = KLLSketch(), KLLSketch()
    a.update_batch(np.array([1.0, 2.0]))
    b.update_batch(np.array([3.0]))
    merged = a.copy().merge(b)
    assert merged.data() == [[1.0, 2.0, 3.0]]
    # merging the parts of a small input equals sketching the whole
    whole = KLLSketch()
    whole.update_batch(np.array([1.0, 2.0, 3.0]))
    assert merged == whole
    assert b.data() == [[3.0]]  # the other sketch is left alone


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 30_000), min_size=1, max_size=5), st.integers(0, 2**32 - 1))
def test_merging_parts_keeps_every_weight_and_the_rank_bound(sizes, seed):
    rng = np.random.default_rng(seed)
    parts = [rng.exponential(size=n) for n in sizes]
    merged = KLLSketch()
    for part in parts:
        sketch = KLLSketch()
        sketch.update_batch(part)
        merged.merge(sketch)
    n = sum(sizes)
    assert merged.count == n
    assert merged.num_items < sum(capacity(h) for h in range(len(merged.data())))
    if n:
        ordered = np.sort(np.concatenate(parts))
        median = ordered[n // 2]
        # each part's compactions plus the merge's; generously bounded by 2% of n
        assert abs(merged.rank(median) - (n // 2 + 1)) <= max(0.02 * n, 1)


def test_merge_with_an_empty_sketch_changes_nothing():
    sketch = KLLSketch()
    sketch.update_batch(np.random.default_rng(1).random(10_000))
    assert sketch.copy().merge(KLLSketch()) == sketch
    assert KLLSketch().merge(sketch) == sketch


def test_document_round_trip():
    sketch = KLLSketch()
    sketch.update_batch(np.random.default_rng(2).random(7_000))
    again = KLLSketch.from_document(sketch.to_document())
    assert again == sketch
    assert again.count == 7_000
    assert sketch.to_document()["parameters"] == {"c": 0.64, "k": 2048.0}


def test_buckets_of_a_constant_column_put_everything_in_the_last():
    sketch = KLLSketch()
    sketch.update_batch(np.full(10, 4.0))
    buckets = sketch.buckets(4.0, 4.0)
    assert [b["count"] for b in buckets] == [0.0] * 9 + [10.0]
    assert all(b["lower_bound"] == b["upper_bound"] == 4.0 for b in buckets)


def test_bucket_edges_are_computed_like_deequ():
    low, high = 0.1, 0.7
    sketch = KLLSketch()
    sketch.update_batch(np.array([low, 0.35, high]))
    buckets = sketch.buckets(low, high)
    # (high - low) * i / 10 in that order, as Deequ writes it: not low + i * ((high - low) / 10)
    assert [b["lower_bound"] for b in buckets] == [low + (high - low) * i / 10.0 for i in range(10)]
    assert buckets[8]["upper_bound"] == 0.6399999999999999  # low + 9 * ((high - low) / 10) is 0.64
    assert sum(b["count"] for b in buckets) == 3.0
    assert buckets[-1]["count"] == 1.0  # the last bucket includes the maximum


def test_quantiles():
    sketch = KLLSketch()
    sketch.update_batch(np.arange(1, 101, dtype=float))
    assert sketch.quantile(0.5) == 50.0
    assert sketch.quantile(1.0) == 100.0


def test_negative_zero_sorts_before_zero_as_in_java():
    values = np.array([0.0, -0.0] * 1026)  # 2052 values: one compaction of level 0
    sketch = KLLSketch()
    sketch.update_batch(values)
    level1 = sketch.data()[1]
    # Java sorts the 1025 -0.0 before the 1025 0.0; offset 0 keeps items 0, 2, 4, ...
    signs = np.signbit(np.array(level1))
    assert signs[:513].all() and not signs[513:].any()
