"""From the table's columns to the arrays the metrics count over: the binarised label (observed and
predicted), the facet's groups and the group variable's codes (spec §10.2).

Values or threshold (UNVERIFIED, docs/bias.md): a single numeric value names a threshold only when the
column is continuous, which here means a float column holding a non-integral value (then the positive label
or the sensitive group is `value > threshold`, the exclusive lower bound the SDK documents); otherwise the
values are matched as a list (an integer column given `[5000]` matches 5000 exactly, as real Clarify does).
Numbers match numerically whatever their JSON type (`1`, `1.0`, `"1"`); strings match by text. Nulls are never
positive and never in a sensitive group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from watchkeeper.analysis.bias.config import Value

# A facet without value_or_threshold reports one entry per distinct value; past this many the report would
# be unreadable and the caller almost certainly meant a threshold.
MAX_FACET_VALUES = 1000


class BiasInputError(ValueError):
    """The dataset does not fit the config (a missing column, label values that never occur): the job
    fails with this message."""


def column_name(table: pl.DataFrame, name_or_index: str | int, role: str) -> str:
    """The table's column for a config member that names a column (or indexes the dataset's columns)."""
    if isinstance(name_or_index, int):
        if name_or_index < len(table.columns):
            return table.columns[name_or_index]
        raise BiasInputError(f"{role} column index {name_or_index} is out of range; the dataset has "
                             f"{len(table.columns)} columns: {_listing(table)}")
    if name_or_index not in table.columns:
        raise BiasInputError(f"{role} column {name_or_index!r} is not in the dataset; columns: {_listing(table)}")
    return name_or_index


def _listing(table: pl.DataFrame) -> str:
    names = table.columns
    return ", ".join(names[:50]) + (f", ... ({len(names)} in all)" if len(names) > 50 else "")


def joined(values: Sequence[Value]) -> str:
    """`value_or_threshold` / `label_value_or_threshold` as analysis.json writes them: comma-joined."""
    return ",".join(str(v) for v in values)


def is_continuous(series: pl.Series) -> bool:
    if not series.dtype.is_float():
        return False
    values = series.drop_nulls().drop_nans()
    values = values.filter(values.is_finite())
    return bool((values != values.floor()).any())


def _number(value: Value) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except ValueError:
        return None


def _texts(value: Value) -> list[str]:
    if isinstance(value, float) and value.is_integer():
        return [str(value), str(int(value))]  # a JSON 1.0 still matches the text "1"
    return [str(value)]


def matches(series: pl.Series, values: Sequence[Value]) -> np.ndarray:
    """Rows whose value is one of `values` (numeric columns numerically, others by text)."""
    if series.dtype.is_numeric() or series.dtype == pl.Boolean:
        numbers = [n for n in (_number(v) for v in values) if n is not None]
        hit = series.cast(pl.Float64).is_in(numbers)
    else:
        hit = series.cast(pl.String).is_in([t for v in values for t in _texts(v)])
    return hit.fill_null(False).to_numpy()


def _threshold(series: pl.Series, values: Sequence[Value]) -> float | None:
    if len(values) == 1 and not isinstance(values[0], str) and is_continuous(series):
        return float(values[0])
    return None


def positive(series: pl.Series, values: Sequence[Value]) -> np.ndarray:
    """The label binarised: in `values`, or above the threshold when `values` is one and the column is
    continuous."""
    threshold = _threshold(series, values)
    if threshold is not None:
        return (series.cast(pl.Float64) > threshold).fill_null(False).to_numpy()
    return matches(series, values)


def predicted_positive(series: pl.Series, values: Sequence[Value], probability_threshold: float | None) -> np.ndarray:
    """Predicted labels binarised as observed ones; scores (a continuous column) with a
    `probability_threshold` are positive above it (UNVERIFIED: Clarify's predictor rule, score > threshold)."""
    if probability_threshold is not None and is_continuous(series):
        return (series.cast(pl.Float64) > probability_threshold).fill_null(False).to_numpy()
    return positive(series, values)


@dataclass(frozen=True)
class FacetGroups:
    """A facet column as codes `0..k-1`, and the sensitive groups to report: each is the code set of the
    disadvantaged rows (d); every other row, nulls included, is advantaged (a)."""

    codes: np.ndarray  # intp, one per row
    n_codes: int
    sensitive: tuple[tuple[str, np.ndarray], ...]  # (value_or_threshold text, codes of d)


def facet_groups(series: pl.Series, values: Sequence[Value] | None, name: str) -> FacetGroups:
    if values is not None:
        threshold = _threshold(series, values)
        hit = ((series.cast(pl.Float64) > threshold).fill_null(False).to_numpy() if threshold is not None
               else matches(series, values))
        return FacetGroups(hit.astype(np.intp), 2, ((joined(values), np.array([1], dtype=np.intp)),))
    codes, distinct = dense_codes(series)
    if len(distinct) > MAX_FACET_VALUES:
        raise BiasInputError(f"Facet column {name!r} has {len(distinct)} distinct values and no value_or_threshold; "
                             f"at most {MAX_FACET_VALUES} are reported one by one: give value_or_threshold")
    sensitive = tuple((str(value), np.array([k], dtype=np.intp)) for k, value in enumerate(distinct.to_list()))
    return FacetGroups(codes, len(distinct) + 1, sensitive)


def dense_codes(series: pl.Series) -> tuple[np.ndarray, pl.Series]:
    """Each row's index in the sorted distinct non-null values (nulls get one code past the last)."""
    distinct = series.drop_nulls().unique().sort()
    if distinct.dtype.is_float():
        distinct = distinct.drop_nans()
    codes = distinct.search_sorted(series).to_numpy().astype(np.intp)
    missing = series.is_null().to_numpy()
    if distinct.dtype.is_float():
        missing |= series.is_nan().fill_null(True).to_numpy()
    codes[missing] = len(distinct)
    return codes, distinct
