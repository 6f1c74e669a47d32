"""The data-quality `statistics.json` document (spec §5.1) from mergeable column states.

`DatasetState` is the state of a whole dataset: its row count and one `ColumnState` per column, by
position. Feed it column batches (`update`), combine the states of parts (`merge`), render it
(`to_document`). Column order is the dataset's; names come with the batches (a CSV header, the baseline's
names by position for capture data, `_c0, _c1, ...` otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from watchkeeper.analysis import types as T
from watchkeeper.analysis.columns import Tabular, default_name
from watchkeeper.analysis.states import ColumnState

VERSION = 0.0
# Rows of a batch whose values decide which class a new column's values are expected to have.
EXPECTATION_SAMPLE_ROWS = 1024
# Wider rows are classed value by value: a row pattern of more columns nears the regex engine's size limit
# (10,000 columns exceed it).
ROW_PATTERN_MAX_COLUMNS = 2_000
# A column is classed by distinct value when at most this share of its first rows are distinct, it has at
# most FEW_VALUES_MAX distinct values, and the batch has more than FEW_VALUES_MIN_ROWS rows.
FEW_VALUES_SHARE = 0.75
FEW_VALUES_MAX = 65_536
FEW_VALUES_MIN_ROWS = 4 * EXPECTATION_SAMPLE_ROWS


@dataclass(slots=True)
class DatasetState:
    item_count: int = 0
    names: list[str] = field(default_factory=list)
    columns: list[ColumnState] = field(default_factory=list)

    def update(self, frame: pl.DataFrame | Tabular) -> None:
        """Fold in one batch of rows. Column i of the frame is column i of the dataset; a frame wider than
        the columns seen so far adds columns (their earlier rows count as missing). A `Tabular` may bring
        its columns' type counts, computed where the batch was made (`type_counts`)."""
        given = frame.type_counts if isinstance(frame, Tabular) else None
        frame = frame.frame if isinstance(frame, Tabular) else frame
        self.item_count += frame.height
        for index, name in enumerate(frame.columns):
            if index >= len(self.columns):
                self.columns.append(ColumnState())
                self.names.append(name)
        if frame.height == 0 or frame.width == 0:
            return
        counts = given if given is not None else type_counts(frame, self._expected_classes(frame))
        # Columns already known to be String need no casting.
        numeric = [
            name for index, name in enumerate(frame.columns)
            if self.columns[index].numeric is not None and counts[index].deequ_type() != T.STRING
        ]
        numbers = frame.select(_as_double(frame, name) for name in numeric) if numeric else None
        for index, name in enumerate(frame.columns):
            column = frame.get_column(name)
            values = None
            if numbers is not None and name in numbers.columns:
                cast = numbers.get_column(name)
                if cast.null_count() > column.null_count() and column.dtype == pl.String:
                    # Spark trims before casting (" 5" is Integral to Deequ's regex); rarely needed
                    cast = column.str.strip_chars().cast(pl.Float64, strict=False)
                    cast = cast.set(cast.is_nan(), None)
                if cast.null_count() < len(cast):
                    values = cast.drop_nulls().to_numpy()
            self.columns[index].update(counts[index], values, _strings(column))

    def _expected_classes(self, frame: pl.DataFrame) -> list[str | None]:
        """Per String column of the batch, the numeric class its values are expected to have (None: no
        expectation): the dominant one of the column so far, or of the batch's first rows when the column
        is new. Only a guess to check rows against: the counts do not depend on it."""
        if frame.width > ROW_PATTERN_MAX_COLUMNS:
            return [None] * frame.width
        sample = None
        out: list[str | None] = []
        for index, (name, dtype) in enumerate(frame.schema.items()):
            if dtype != pl.String:
                out.append(None)
                continue
            counts = self.columns[index].types if index < len(self.columns) else T.TypeCounts()
            if counts.non_null == 0:
                if sample is None:
                    sample = frame.head(EXPECTATION_SAMPLE_ROWS)
                column = sample.get_column(name)
                counts = T.classify(column) if column.null_count() == 0 else T.TypeCounts()
            numeric = counts.fractional + counts.integral
            if numeric == 0 or numeric < counts.non_null:
                out.append(None)
            else:
                out.append(T.FRACTIONAL if counts.fractional >= counts.integral else T.INTEGRAL)
        return out

    def merge(self, other: DatasetState) -> DatasetState:
        width = max(len(self.columns), len(other.columns))
        names, columns = [], []
        for index in range(width):
            mine = self.columns[index] if index < len(self.columns) else None
            theirs = other.columns[index] if index < len(other.columns) else None
            if mine is not None and theirs is not None:
                columns.append(mine.merge(theirs))
            else:
                columns.append((mine or theirs).merge(ColumnState()))  # a copy
            names.append(self.names[index] if index < len(self.names) else other.names[index])
        return DatasetState(self.item_count + other.item_count, names, columns)

    def type_counts(self) -> dict[str, T.TypeCounts]:
        """Per feature name, the data-type histogram of its raw values (for data_type_check)."""
        return {name: column.types for name, column in zip(self.names, self.columns, strict=True)}

    def to_document(self) -> dict:
        return {
            "version": VERSION,
            "dataset": {"item_count": self.item_count},
            "features": [
                column.to_document(name or default_name(index), self.item_count)
                for index, (name, column) in enumerate(zip(self.names, self.columns, strict=True))
            ],
        }


def expected_classes(frame: pl.DataFrame, rows: int = 1024) -> list[str | None]:
    """Per String column, the numeric class its first `rows` values all have (None: not all numeric, or
    nulls among them): a guess for `type_counts` to check rows against."""
    if frame.width > ROW_PATTERN_MAX_COLUMNS:
        return [None] * frame.width
    sample = frame.head(rows)
    classified = _value_type_counts(sample, sample.height)  # one parallel pass over every column
    out: list[str | None] = []
    for name, dtype in sample.schema.items():
        column = sample.get_column(name)
        counts = classified[name] if dtype == pl.String and column.null_count() == 0 else T.TypeCounts()
        numeric = counts.fractional + counts.integral
        out.append(None if numeric == 0 or numeric < counts.non_null
                   else T.FRACTIONAL if counts.fractional >= counts.integral else T.INTEGRAL)
    return out


def row_pattern(expected: list[str | None]) -> str:
    """A pattern for a whole row joined by commas: each expected column's class, anything else elsewhere."""
    return "^" + ",".join(T.CLASS_PATTERNS[kind] if kind else "[^,]*" for kind in expected) + "$"


def type_counts(frame: pl.DataFrame, expected: list[str | None], lines: pl.Series | None = None,
                hits: pl.Series | None = None) -> list[T.TypeCounts]:
    """Data-type histograms of every column of a batch.

    Columns expected to be numeric (`expected[i]` Fractional or Integral) are checked a row at a time: their
    values joined by commas must match one pattern made of their classes' patterns. A value holds no comma
    when it matches, so the rows that match have each such value of its expected class; only the other rows'
    values are classed one by one. A row costs one pattern match instead of one per value. `lines`, when
    given, are the rows already joined by commas (every column, in order): no joining is needed then; `hits`,
    which of them match `row_pattern(expected)`, when that is known already."""
    template = [name for name, kind in zip(frame.columns, expected, strict=True) if kind is not None]
    rest = frame
    matched = 0
    if template:
        if hits is not None:
            pass
        elif lines is not None:
            hits = lines.str.contains(row_pattern(expected)).fill_null(False)
        else:
            pattern = "^" + ",".join(T.CLASS_PATTERNS[kind] for kind in expected if kind is not None) + "$"
            hits = frame.select(pl.concat_str(template, separator=",").str.contains(pattern).fill_null(False)) \
                .to_series()
        matched = int(hits.sum())
        rest = frame.filter(~hits) if matched < frame.height else frame.clear()
    by_value = _value_type_counts(frame.select(c for c in frame.columns if c not in template), frame.height)
    by_value.update(_value_type_counts(rest.select(template), rest.height))
    out = []
    for name, kind in zip(frame.columns, expected, strict=True):
        counts = by_value[name]
        if kind is not None:
            counts = counts.merge(T.TypeCounts(fractional=matched) if kind == T.FRACTIONAL
                                  else T.TypeCounts(integral=matched))
        out.append(counts)
    return out


def _value_type_counts(frame: pl.DataFrame, height: int) -> dict[str, T.TypeCounts]:
    """Data-type histograms of every column, value by value, in one parallel pass (a second one for the
    Boolean count of columns that have values neither Fractional nor Integral). A column of few distinct
    values (categories, small integers) is classed by distinct value, weighted by its count."""
    strings = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    out = {name: T.classify(frame.get_column(name)) for name in frame.columns if name not in strings}
    if not strings or height == 0:
        out.update({name: T.TypeCounts() for name in strings})
        return out
    if height > FEW_VALUES_MIN_ROWS:
        for name in strings:
            counts = _distinct_type_counts(frame.get_column(name))
            if counts is not None:
                out[name] = counts
        strings = [name for name in strings if name not in out]
        if not strings:
            return out
    exprs = []
    for index, name in enumerate(strings):
        col = pl.col(name)
        # One pass of the union of the two patterns, then a scan for '.', 'e', 'E' (present in every
        # Fractional match, in no Integral one): a third less work than the two patterns.
        numeric = col.str.contains(T.NUMERIC_PATTERN)
        exprs += [(numeric & col.str.contains(T.FRACTION_MARK)).sum().alias(f"{index}f"),
                  numeric.sum().alias(f"{index}n"), col.is_not_null().sum().alias(f"{index}v")]
    row = frame.select(exprs).row(0)
    others = [name for index, name in enumerate(strings) if int(row[3 * index + 2]) > int(row[3 * index + 1])]
    booleans = frame.select(pl.col(name).is_in(["true", "false"]).sum() for name in others).row(0) \
        if others else ()
    boolean_of = dict(zip(others, booleans, strict=True))
    for index, name in enumerate(strings):
        fractional, numeric, non_null = (int(x or 0) for x in row[3 * index:3 * index + 3])
        boolean = int(boolean_of.get(name) or 0)  # BOOLEAN_PATTERN
        out[name] = _class_counts(fractional, numeric, boolean, non_null)
    return out


def _class_counts(fractional: int, numeric: int, boolean: int, non_null: int) -> T.TypeCounts:
    """Type counts from how many values match the numeric pattern, hold a fraction mark, are booleans."""
    return T.TypeCounts(fractional, numeric - fractional, boolean, non_null - numeric - boolean)


def _distinct_type_counts(column: pl.Series) -> T.TypeCounts | None:
    """`_value_type_counts` of one column by its distinct values; None when it has many (its first rows
    tell: most of them distinct)."""
    sample = column.head(EXPECTATION_SAMPLE_ROWS)
    if sample.n_unique() > FEW_VALUES_SHARE * len(sample):
        return None
    distinct = column.rename("v").value_counts(name="n").drop_nulls("v")
    if len(distinct) > FEW_VALUES_MAX:
        return None
    v, n = pl.col("v"), pl.col("n")
    numeric = v.str.contains(T.NUMERIC_PATTERN)
    row = distinct.select(
        fractional=n.filter(numeric & v.str.contains(T.FRACTION_MARK)).sum(), numeric=n.filter(numeric).sum(),
        boolean=n.filter(v.is_in(["true", "false"])).sum(), non_null=n.sum(),
    ).row(0)
    return _class_counts(*(int(x or 0) for x in row))


def _as_double(frame: pl.DataFrame, name: str) -> pl.Expr:
    col = pl.col(name)
    if frame.schema[name] == pl.Boolean:
        return pl.lit(None, dtype=pl.Float64).alias(name)
    cast = col.cast(pl.Float64, strict=False)
    if frame.schema[name] == pl.String:  # cast only when every value is Fractional, Integral or Boolean: no NaN
        return cast.alias(name)
    return pl.when(cast.is_nan()).then(None).otherwise(cast).alias(name)


def _strings(column: pl.Series) -> pl.Series:
    values = column.drop_nulls()
    if values.dtype == pl.String:
        return values
    if values.dtype.is_float():
        values = values.filter(values.is_not_nan())
    return values.cast(pl.String)


# --------------------------------------------------------------------------------------- documents


def feature_names(statistics: dict) -> list[str]:
    return [feature["name"] for feature in statistics.get("features") or []]

