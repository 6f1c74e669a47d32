"""Value rules every Clarify reader shares: which columns are numbers, a label's text, and how a CSV answer
splits into one line per record (a live XGBoost container joins a batch's scores with commas on one line)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import polars as pl


def numeric_columns(frame: pl.DataFrame, keep_text: Collection[str] = ()) -> pl.DataFrame:
    """Text columns whose every value is a number become Float64; others stay text (facets such as "Female",
    and the columns named in `keep_text`, such as predicted labels compared as text)."""
    columns = []
    for name in frame.columns:
        column = frame.get_column(name)
        if name not in keep_text and column.dtype in (pl.String, pl.Null):
            number = column.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
            if number.null_count() == column.null_count():
                column = number
        columns.append(column)
    return pl.DataFrame(columns)


def label_text(value: Any) -> str | None:
    """A label as text: `1.0` and `1` are both "1"; lists, objects and missing values are None."""
    if value is None or isinstance(value, list | dict):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def text_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def csv_records(text: str, count: int) -> list[str]:
    """The lines of a CSV answer for `count` records: one per line, or one comma-joined line of single values."""
    lines = text_lines(text)
    if len(lines) == 1 and count > 1 and lines[0].count(",") == count - 1:
        return lines[0].split(",")
    return lines
