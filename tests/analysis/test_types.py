"""Type inference (spec §5.3): Deequ 2.0's classes and decision."""

from __future__ import annotations

import polars as pl
import pytest

from watchkeeper.analysis import types as T


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("0", "integral"), ("-12", "integral"), ("+7", "integral"), ("- 7", "integral"), ("007", "integral"),
        ("274.4", "fractional"), ("-0.5", "fractional"), ("1e5", "fractional"), ("1.5E-3", "fractional"),
        ("2e+10", "fractional"),
        ("true", "boolean"), ("false", "boolean"),
        ("True", "string"), (".5", "string"), ("5.", "string"), ("1,000", "string"), (" 5", "integral"),
        ("5 ", "string"), ("NaN", "string"), ("inf", "string"), ("abc", "string"), ("١٢", "string"),
        ("1.2.3", "string"), ("--1", "string"),
    ],
)
def test_values_are_classed_like_deequ(value, kind):
    counts = T.classify(pl.Series([value]))
    assert getattr(counts, kind) == 1 and counts.non_null == 1


def test_nulls_are_not_counted():
    counts = T.classify(pl.Series(["1", None, None], dtype=pl.String))
    assert counts.non_null == 1


@pytest.mark.parametrize(
    ("counts", "deequ", "reported"),
    [
        (T.TypeCounts(), "Unknown", "Unknown"),
        (T.TypeCounts(integral=5), "Integral", "Integral"),
        (T.TypeCounts(integral=5, fractional=1), "Fractional", "Fractional"),
        (T.TypeCounts(integral=5, string=1), "String", "String"),
        (T.TypeCounts(boolean=3), "Boolean", "String"),
        (T.TypeCounts(boolean=3, integral=1), "String", "String"),
        (T.TypeCounts(boolean=3, fractional=1), "String", "String"),
    ],
)
def test_type_decision(counts, deequ, reported):
    assert counts.deequ_type() == deequ
    assert counts.inferred_type() == reported


def test_typed_columns_are_classed_by_their_type():
    assert T.classify(pl.Series([1, 2, None])) == T.TypeCounts(integral=2)
    assert T.classify(pl.Series([1.0, float("nan"), None])) == T.TypeCounts(fractional=1)
    assert T.classify(pl.Series([True, None])) == T.TypeCounts(boolean=1)


def test_counts_merge_and_report_per_class():
    merged = T.TypeCounts(integral=2, string=1).merge(T.TypeCounts(integral=1, fractional=4))
    assert merged == T.TypeCounts(fractional=4, integral=3, string=1)
    assert merged.count_of("Integral") == 3 and merged.count_of("Unknown") == 0
