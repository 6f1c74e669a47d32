"""The batch type counts (one pass of the union pattern, then '.'/'e'/'E') equal Deequ's two patterns
applied one by one, checked with Python's own regex engine on awkward values."""

from __future__ import annotations

import re

import polars as pl
import pytest

from watchkeeper.analysis import types as T
from watchkeeper.analysis.statistics import type_counts

VALUES = ["1", "-1", "+1", "- 1", " 1", "1 ", "01", "1.5", "-1.5", "+ 1.5", ".5", "5.", "1e5", "1E-5", "1.5e+3",
          "1.e5", "e5", "1e", "inf", "NaN", "-", "", " ", "true", "false", "True", "1,5", "1.5.2", "1_000",
          "99999999999999999999999", "١٢", "1\n", "abc", "5e5e5", "0.0", "-0", "+.5", "1.5E7", None]


def _full(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value, flags=re.ASCII) is not None


NUMBERS = ["1", "22", "-3", "+4", "1.5", "2e3", "-0.25"]


@pytest.mark.parametrize("repeat", [3, 150])  # 150: over FEW_VALUES_MIN_ROWS rows, classed by distinct value
@pytest.mark.parametrize("expected", [[None, None], [T.FRACTIONAL, T.INTEGRAL], [T.INTEGRAL, T.FRACTIONAL],
                                      [T.FRACTIONAL, None], [T.INTEGRAL, T.INTEGRAL]])
def test_counts_equal_the_two_patterns_value_by_value(expected, repeat):
    """Whatever class a column is expected to have (rows matching the joined patterns are counted at
    once), the counts are the patterns' value by value; the rows of numbers make some rows match."""
    numbers = NUMBERS * 2 * repeat
    frame = pl.DataFrame({"v": VALUES * repeat + numbers, "w": list(reversed(VALUES)) * repeat + numbers[::-1]},
                         schema={"v": pl.String, "w": pl.String})
    lines = frame.select(pl.concat_str(pl.all().fill_null(""), separator=",")).to_series()
    by_lines = type_counts(frame, expected, lines)  # the rows given already joined, as the capture reader does
    assert by_lines == type_counts(frame, expected)
    for name, counts in zip(frame.columns, by_lines, strict=True):
        values = [v for v in frame.get_column(name).to_list() if v is not None]
        fractional = sum(_full(T.FRACTIONAL_PATTERN, v) for v in values)
        integral = sum(_full(T.INTEGRAL_PATTERN, v) for v in values)
        boolean = sum(v in ("true", "false") for v in values)
        assert (counts.fractional, counts.integral, counts.boolean) == (fractional, integral, boolean)
        assert counts.string == len(values) - fractional - integral - boolean
        assert fractional > 3 * 8 and integral > 3 * 8  # the test values do hold both kinds


def test_columns_of_few_and_of_many_distinct_values_are_counted_alike():
    """A large batch: a column of few distinct values is classed by distinct value; one of many (its first
    rows all distinct) value by value; one that looks few but has many after all falls back."""
    from watchkeeper.analysis.statistics import FEW_VALUES_MAX, _value_type_counts

    rows = FEW_VALUES_MAX + 5000
    few = (VALUES[:-1] * (rows // (len(VALUES) - 1) + 1))[:rows]
    many = [f"{i}.5" if i % 3 else str(i) for i in range(rows)]
    late = ["1"] * 2000 + [f"x{i}" for i in range(rows - 2000)]  # few in the first rows, many later
    frame = pl.DataFrame({"few": few, "many": many, "late": late})
    counts = _value_type_counts(frame, frame.height)
    for name in frame.columns:
        values = frame.get_column(name).to_list()
        fractional = sum(_full(T.FRACTIONAL_PATTERN, v) for v in values)
        integral = sum(_full(T.INTEGRAL_PATTERN, v) for v in values)
        boolean = sum(v in ("true", "false") for v in values)
        assert counts[name] == T.TypeCounts(fractional, integral, boolean, len(values) - fractional - integral
                                            - boolean)


def test_rows_wider_than_the_pattern_bound_are_classed_value_by_value():
    from watchkeeper.analysis.statistics import ROW_PATTERN_MAX_COLUMNS, DatasetState, expected_classes

    width = ROW_PATTERN_MAX_COLUMNS + 1
    frame = pl.DataFrame({f"c{i}": ["1.5", "2"] for i in range(width)})
    assert expected_classes(frame) == [None] * width
    state = DatasetState()
    state.update(frame)
    assert state.columns[0].types == T.TypeCounts(fractional=1, integral=1)
