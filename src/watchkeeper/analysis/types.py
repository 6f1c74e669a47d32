"""Type inference (`inferred_type`, spec §5.3): Deequ 2.0's `DataType` analyzer.

Every non-null raw value is classed by the first of these that matches it in full: Fractional, Integral,
Boolean, else String; nulls (empty CSV fields) are Unknown. The column's type is then decided from the
counts (`DataTypeHistogram.determineType`): all Unknown -> Unknown; any String, or Boolean mixed with
numbers -> String; Boolean only -> Boolean; any Fractional -> Fractional; else Integral.

Columns that arrive typed (Parquet, JSON numbers) are classed by their type, as Deequ's profiler does for
non-string Spark columns.

Model Monitor's documents only know Integral, Fractional, String and Unknown; a Boolean column is reported
as String (its values, "true"/"false", become categorical buckets). See docs/analysis.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

UNKNOWN = "Unknown"
FRACTIONAL = "Fractional"
INTEGRAL = "Integral"
BOOLEAN = "Boolean"
STRING = "String"

NUMERIC_TYPES = frozenset({INTEGRAL, FRACTIONAL})

# Deequ 2.0.x `StatefulDataType` patterns. `[0-9]`, not `\d`: Java's `\d` is ASCII-only, the Rust regex
# engine's is Unicode. Matched against the whole value (Scala's `case REGEX(_)` is a full match).
FRACTIONAL_PATTERN = r"^(-|\+)? ?[0-9]+((\.[0-9]+)|((?:\.[0-9]+)?[Ee][-+]?[0-9]+))$"
INTEGRAL_PATTERN = r"^(-|\+)? ?[0-9]+$"
BOOLEAN_PATTERN = r"^(true|false)$"
# Fractional or Integral in one pattern (the two are disjoint); a match is Fractional exactly when it holds
# one of FRACTION_MARK's characters, which the Integral pattern never matches.
NUMERIC_PATTERN = r"^(-|\+)? ?[0-9]+((\.[0-9]+)|((?:\.[0-9]+)?[Ee][-+]?[0-9]+))?$"
FRACTION_MARK = r"[.eE]"
# The Fractional and Integral patterns without anchors, to be joined into one pattern over a whole row.
CLASS_PATTERNS = {
    FRACTIONAL: r"(?:-|\+)? ?[0-9]+(?:(?:\.[0-9]+)|(?:(?:\.[0-9]+)?[Ee][-+]?[0-9]+))",
    INTEGRAL: r"(?:-|\+)? ?[0-9]+",
}


@dataclass(slots=True)
class TypeCounts:
    """Counts of non-null values per class. Nulls are not stored: they are the rows of the dataset that
    gave this column no value, so a column first seen late (a wider capture record) counts the rows before
    it as nulls for free, and merging never double-counts them."""

    fractional: int = 0
    integral: int = 0
    boolean: int = 0
    string: int = 0

    @property
    def non_null(self) -> int:
        return self.fractional + self.integral + self.boolean + self.string

    def merge(self, other: TypeCounts) -> TypeCounts:
        return TypeCounts(
            self.fractional + other.fractional,
            self.integral + other.integral,
            self.boolean + other.boolean,
            self.string + other.string,
        )

    def update(self, values: pl.Series) -> None:
        """Add one batch of a column (nulls are skipped)."""
        counts = classify(values)
        self.fractional += counts.fractional
        self.integral += counts.integral
        self.boolean += counts.boolean
        self.string += counts.string

    def deequ_type(self) -> str:
        """Deequ's `determineType`, Boolean included."""
        if self.non_null == 0:
            return UNKNOWN
        if self.string > 0 or (self.boolean > 0 and (self.integral > 0 or self.fractional > 0)):
            return STRING
        if self.boolean > 0:
            return BOOLEAN
        if self.fractional > 0:
            return FRACTIONAL
        return INTEGRAL

    def inferred_type(self) -> str:
        """The `inferred_type` Model Monitor writes: Deequ's, with Boolean reported as String."""
        kind = self.deequ_type()
        return STRING if kind == BOOLEAN else kind

    def count_of(self, kind: str) -> int:
        """Values of the given class (Unknown has no count here: it is rows minus `non_null`)."""
        return {FRACTIONAL: self.fractional, INTEGRAL: self.integral, BOOLEAN: self.boolean,
                STRING: self.string}.get(kind, 0)


def classify(values: pl.Series) -> TypeCounts:
    """Class counts of one batch of a column."""
    dtype = values.dtype
    non_null = len(values) - values.null_count()
    if dtype.is_integer():
        return TypeCounts(integral=non_null)
    if dtype.is_float():
        return TypeCounts(fractional=non_null - int(values.is_nan().sum()))
    if dtype == pl.Boolean:
        return TypeCounts(boolean=non_null)
    if dtype != pl.String:
        values = values.cast(pl.String)
    frame = pl.DataFrame({"v": values}).select(
        fractional=pl.col("v").str.contains(FRACTIONAL_PATTERN).sum(),
        integral=pl.col("v").str.contains(INTEGRAL_PATTERN).sum(),
        boolean=pl.col("v").str.contains(BOOLEAN_PATTERN).sum(),
    )
    fractional, integral, boolean = (int(x or 0) for x in frame.row(0))
    return TypeCounts(fractional, integral, boolean, non_null - fractional - integral - boolean)
