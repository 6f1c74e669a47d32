"""Mergeable states: the state of the parts, merged, equals the state of the whole (spec §5, issue 3)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.analysis import states
from watchkeeper.analysis.states import NumericState, StringState
from watchkeeper.analysis.statistics import DatasetState

_cell = st.one_of(
    st.none(),
    st.integers(-1000, 1000).map(str),
    st.floats(-1e4, 1e4, allow_nan=False).map(lambda x: f"{x:.3f}"),
    st.sampled_from(["a", "b", "c", "true", "false", ""]),
)


def _frame(rows: list[list[str | None]], width: int) -> pl.DataFrame:
    data = {f"c{i}": [row[i] if i < len(row) else None for row in rows] for i in range(width)}
    return pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))


def _close_documents(a, b) -> None:
    """Equal, except floating-point sums/moments, which may differ in their last bits."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            if key in ("sum", "mean", "std_dev") and isinstance(a[key], float):
                assert math.isclose(a[key], b[key], rel_tol=1e-9, abs_tol=1e-9), key
            elif key == "sketch":
                continue  # compared separately: Deequ's merge compacts differently than one pass
            else:
                _close_documents(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _close_documents(x, y)
    else:
        assert a == b


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=60), st.data())
def test_merged_parts_equal_the_whole(rows, data):
    frame = _frame(rows, 3)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(rows)), max_size=4)))
    bounds = [0, *cuts, len(rows)]
    whole = DatasetState()
    whole.update(frame)
    merged = DatasetState()
    for start, end in itertools.pairwise(bounds):
        part = DatasetState()
        part.update(frame.slice(start, end - start))
        merged = merged.merge(part)
    _close_documents(merged.to_document(), whole.to_document())
    # small inputs: Deequ's merge is a level-wise concatenation, so the sketches are equal too
    for got, want in zip(merged.to_document()["features"], whole.to_document()["features"], strict=True):
        if "numerical_statistics" in want:
            assert got["numerical_statistics"]["distribution"]["kll"]["sketch"] == \
                want["numerical_statistics"]["distribution"]["kll"]["sketch"]


def test_merge_is_associative_and_keeps_counts_for_large_parts():
    rng = np.random.default_rng(7)
    parts = []
    for n in (30_000, 70_000, 5_000):
        state = NumericState()
        state.update(rng.normal(10, 3, size=n))
        parts.append(state)
    left = parts[0].merge(parts[1]).merge(parts[2])
    right = parts[0].merge(parts[1].merge(parts[2]))
    for a, b in ((left, right),):
        assert a.count == b.count == 105_000
        assert a.sketch.count == 105_000
        assert a.minimum == b.minimum and a.maximum == b.maximum
        assert math.isclose(a.mean, b.mean, rel_tol=1e-12)
        assert math.isclose(a.std_dev, b.std_dev, rel_tol=1e-12)


def test_vectorised_moments_match_the_streaming_ones():
    values = np.random.default_rng(3).lognormal(size=states.EXACT_MOMENTS_MAX_ROWS + 10)
    big = NumericState()
    big.update(values)  # one batch past the limit: vectorised
    small = NumericState()
    for start in range(0, len(values), 1000):
        small.update(values[start:start + 1000])  # streaming, value by value
    assert big.count == small.count
    assert big.total == small.total  # the sum is always left to right
    assert math.isclose(big.std_dev, small.std_dev, rel_tol=1e-12)
    assert big.sketch == small.sketch


def test_std_dev_is_spark_streaming_population_std():
    state = NumericState()
    state.update(np.array([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]))
    assert state.std_dev == 2.0 and state.mean == 5.0


def test_string_state_switches_to_a_sketch_past_the_limit_and_merges():
    low, high = StringState(), StringState()
    low.update(pl.Series(["a", "b", "a"]))
    high.update(pl.Series([str(i) for i in range(500)]))
    assert low.distinct_count() == 2 and high.counts is None
    merged = low.merge(high)
    assert merged.counts is None
    assert abs(merged.distinct_count() - 502) <= 10
    both = low.merge(low)
    assert both.counts == {"a": 4, "b": 2}


def test_string_state_crossing_the_limit_over_batches():
    state = StringState()
    for start in range(0, 1000, 100):
        state.update(pl.Series([f"v{i}" for i in range(start, start + 100)]))
    assert state.counts is None
    assert abs(state.distinct_count() - 1000) < 30


def test_hyperloglog_registers_take_each_hash_s_leading_zeros():
    """Each value sets its register (the hash's top HLL_PRECISION bits) to at least 1 + the leading zeros of
    the next 32 bits (33 when they are all zero), computed bit by bit here; batches of different sizes
    reuse the scratch buffers without leaking one batch into the next."""
    generator = np.random.default_rng(7)
    registers = np.zeros(1 << states.HLL_PRECISION, dtype=np.uint8)
    expected = registers.copy()
    for size in (300_000, 5, 70_000):
        values = pl.Series([f"{x:.6f}" for x in generator.random(size)])
        states._hll_add(registers, values)
        for value in values.hash(seed=states._HLL_SEED).to_list():
            index = value >> (64 - states.HLL_PRECISION)
            rest = (value << states.HLL_PRECISION) % (1 << 64) >> 32
            rank = 33 - rest.bit_length()
            expected[index] = max(expected[index], rank)
        assert np.array_equal(registers, expected)
