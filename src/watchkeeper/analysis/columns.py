"""Tabularising: bytes and strings into string columns, as SageMaker's Spark job sees them.

- CSV text is read like Spark's CSV reader in its default PERMISSIVE mode: blank lines are skipped, empty
  fields are null, a short row is padded with nulls and a long one truncated. Such ragged rows are still
  analysed (AWS counts every row it reads) and are reported as bad rows.
- Columns are named by position: from a header, from the baseline (capture data has no header), and
  Spark's `_c0, _c1, ...` for positions neither covers.
- Everything is columnar (polars and numpy over the raw bytes); no per-row Python objects.

Nothing here reads files: callers pass bytes (see `watchkeeper.jobs.toolkit.inputs`, `watchkeeper.capture.reader`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import orjson
import polars as pl

_NEWLINE, _COMMA, _QUOTE, _CR = 10, 44, 34, 13


class Tabular(NamedTuple):
    """A batch of rows as string columns, with how many of its rows were malformed and, when the maker
    computed them, its columns' type counts (`statistics.type_counts`)."""

    frame: pl.DataFrame
    bad_rows: int = 0
    type_counts: list | None = None


def _blank(data: bytes) -> bool:
    """Whether the data is empty or only whitespace; stops at the first other byte (`strip()` would copy
    the whole chunk)."""
    return not data or data.isspace()


def default_name(index: int) -> str:
    """Spark's name for an unnamed column."""
    return f"_c{index}"


def column_names(width: int, names: Sequence[str] | None = None) -> list[str]:
    """`width` names: `names` by position, `_c<i>` beyond them (and for empty names). Duplicates get their
    position appended, as Spark does for a header with repeated names."""
    names = list(names or ())
    out = [names[i] if i < len(names) and names[i] else default_name(i) for i in range(width)]
    seen: dict[str, int] = {}
    for name in out:
        seen[name] = seen.get(name, 0) + 1
    return [f"{name}{i}" if seen[name] > 1 else name for i, name in enumerate(out)]


def line_offsets(data: bytes | memoryview) -> np.ndarray:
    """Start offsets of every line, plus the end of the data: line i is data[o[i]:o[i + 1]] (its newline
    included). A final newline does not start another line."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    offsets = np.flatnonzero(buffer == _NEWLINE) + 1
    offsets = np.concatenate(([0], offsets)).astype(np.int64)
    if offsets[-1] != len(buffer):
        offsets = np.append(offsets, len(buffer))
    return offsets


def _line_stats(buffer: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(is_blank, number of commas) of every line."""
    lengths = np.diff(offsets)
    ends = offsets[1:]
    last = buffer[np.maximum(ends - 1, 0)]
    content = lengths - (last == _NEWLINE)  # without the newline
    has_cr = (content > 0) & (buffer[np.maximum(offsets[:-1] + content - 1, 0)] == _CR)
    blank = (content - has_cr) <= 0
    line_of_comma = np.searchsorted(offsets, np.flatnonzero(buffer == _COMMA), side="right") - 1
    return blank, np.bincount(line_of_comma, minlength=len(lengths))


def _quoted_commas(data: bytes, offsets: np.ndarray) -> np.ndarray:
    """Field separators per line when fields may be quoted (`"a,b"` and `""` escapes)."""
    lines = pl.Series(data.decode("utf-8", errors="replace").split("\n")[: len(offsets) - 1])
    return lines.str.replace_all(r'"([^"]|"")*"', "").str.count_matches(",", literal=True).to_numpy()


def read_csv(
    data: bytes,
    *,
    header: bool = False,
    names: Sequence[str] | None = None,
    width: int | None = None,
    quoting: bool = True,
) -> tuple[Tabular, list[str]]:
    """CSV bytes (one chunk of a file, or capture payloads joined by newlines) into string columns.

    The number of columns is the header's when `header`, else `width` when given, else the most common
    number of fields (ties to the wider). Columns are named from the header, else from `names` by
    position. Returns the batch and the column names (the header's, for the following chunks of a file).
    With `quoting=False` quotes are ordinary characters (SageMaker splits captured CSV on ',' only).
    """
    data = bytes(data)
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark is not part of the first name
        data = data[3:]
    if _blank(data):
        return Tabular(pl.DataFrame(), 0), list(names or ())
    buffer = np.frombuffer(data, dtype=np.uint8)
    offsets = line_offsets(data)
    blank, commas = _line_stats(buffer, offsets)
    quoted = quoting and bool(np.any(buffer == _QUOTE))
    if quoted:
        commas = _quoted_commas(data, offsets)
    keep = ~blank
    if header:
        first = int(np.argmax(keep))
        header_line = data[offsets[first]:offsets[first + 1]]
        parsed = pl.read_csv(header_line, has_header=False, infer_schema=False,
                             quote_char='"' if quoting else None)
        names = [str(v) if v is not None else "" for v in parsed.row(0)]
        width = len(names)
        keep[first] = False
    widths = commas[keep] + 1
    if len(widths) == 0:
        return Tabular(pl.DataFrame(schema=dict.fromkeys(column_names(width or 0, names), pl.String)), 0), \
            list(names or ())
    if width is None:
        values, counts = np.unique(widths, return_counts=True)
        width = int(values[counts == counts.max()].max())
    columns = column_names(width, names)
    frame = pl.read_csv(
        data,
        has_header=False,
        schema=dict.fromkeys(columns, pl.String),
        missing_columns="insert",
        truncate_ragged_lines=True,
        quote_char='"' if quoting else None,
    )
    if frame.height == len(keep):
        if not keep.all():  # (a Series from numpy imports numpy.ma, 0.01-0.05 s of a CLI run: only when needed)
            frame = frame.filter(pl.Series(keep))
        bad = int(np.count_nonzero(widths != width))
    else:  # quoted fields spanning lines: rows and lines do not align; trust the parser
        frame = frame.filter(~pl.all_horizontal(pl.all().is_null())) if np.any(blank) else frame
        bad = 0
    return Tabular(frame, bad), list(names or ())


def read_lines(lines: pl.Series, names: Sequence[str] | None = None,
               known: tuple[pl.Series, int] | None = None) -> Tabular:
    """Non-empty, single-line, unquoted CSV records (captured payloads) into string columns: the fast path
    of `read_csv` for text already in polars, with its rules (width: the most common number of fields, ties
    to the wider; other widths are padded or cut and counted as bad). `known` = (mask, n): the lines of the
    mask are known to have n fields, so only the others are counted."""
    if len(lines) == 0:
        return Tabular(pl.DataFrame(), 0)
    width, bad = _width(lines, known)
    buffer = io.BytesIO()
    pl.DataFrame({"line": lines}).write_csv(buffer, include_header=False, quote_style="never")
    frame = pl.read_csv(
        buffer.getvalue(),
        has_header=False,
        schema=dict.fromkeys(column_names(width, names), pl.String),
        missing_columns="insert",
        truncate_ragged_lines=True,
        quote_char=None,
    )
    return Tabular(frame, bad)


def _width(lines: pl.Series, known: tuple[pl.Series, int] | None) -> tuple[int, int]:
    """The lines' most common number of fields (ties to the wider) and how many lines have another."""
    if known is not None:
        mask, fields = known
        certain = int(mask.sum())
        if 2 * certain > len(lines):  # a majority: the most common width whatever the others have
            others = lines.filter(~mask).str.count_matches(",", literal=True).to_numpy() + 1
            return fields, int(np.count_nonzero(others != fields))
    widths = lines.str.count_matches(",", literal=True).to_numpy() + 1
    values, counts = np.unique(widths, return_counts=True)
    width = int(values[counts == counts.max()].max())
    return width, int(np.count_nonzero(widths != width))


def read_ndjson(data: bytes, schema: dict | None = None) -> Tabular:
    """JSON Lines into a frame (with `schema`, or inferred over every line). Blank lines are skipped; a
    line that is not a JSON object is counted as bad and left out."""
    if _blank(data):
        return Tabular(pl.DataFrame(schema=schema), 0)
    try:
        return Tabular(_ndjson(data, schema), 0)
    except Exception:  # polars raises several types for bad JSON: find the bad lines
        pass
    offsets = line_offsets(data)
    good: list[bytes] = []
    bad = 0
    for start, end in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True):
        line = data[start:end].rstrip(b"\r\n")
        if not line.strip():
            continue
        if is_json_object(line):
            good.append(line)
        else:
            bad += 1
    if not good:
        return Tabular(pl.DataFrame(schema=schema), bad)
    return Tabular(_ndjson(b"\n".join(good), schema), bad)


def is_json_object(line: bytes | str) -> bool:
    """Whether a line is one JSON object (the rule by which `read_ndjson` keeps or counts a line)."""
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def _ndjson(data: bytes, schema: dict | None) -> pl.DataFrame:
    if schema is not None:
        return pl.read_ndjson(io.BytesIO(data), schema=schema)
    return pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)


def flatten_nested(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested columns (structs, lists) as their JSON text: a String column to the analysis."""
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    if not nested:
        return frame
    return frame.with_columns(pl.col(name).map_elements(
        lambda v: orjson.dumps(v.to_list() if isinstance(v, pl.Series) else v).decode(),
        return_dtype=pl.String) for name in nested)


def spark_json_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns of JSON records in Spark's order: its JSON schema inference sorts fields by name."""
    return frame.select(sorted(frame.columns))
