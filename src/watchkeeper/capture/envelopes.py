"""Capture envelopes (spec §3.3) into flat columns for the analysis, without a JSON parser for the common line.

SageMaker and Watchkeeper write every capture line with the same keys in the same order and no whitespace:

    {"captureData":{"endpointInput":{"observedContentType":"<t>","mode":"INPUT","data":"<d>","encoding":"<e>"},
     "endpointOutput":{...the same, "mode":"OUTPUT"...}},"eventMetadata":{"<k>":"<v>",...},"eventVersion":"0"}

A JSON parser spends most of an analysis reading these envelopes, so a line of exactly that shape is cut at
its fixed markers with polars' literal string search instead. A line is cut only when all of these hold:
it starts and ends with the shape's fixed text; the markers come in order; it is ASCII (polars finds byte
offsets but slices by characters); its only escapes are escaped quotes inside payloads (JSON payloads);
no field holds an unescaped quote; the metadata is a flat object of strings; the encodings are CSV, JSON
or BASE64. Every other line (other key orders, whitespace, other escapes, anything malformed) goes to the JSON
parser in its place, so the columns are those `read_ndjson(data, ANALYSIS_SCHEMA)` gives, row for row, and
the same unparseable lines are counted.
"""

from __future__ import annotations

import polars as pl

from watchkeeper.analysis.columns import Tabular, is_json_object, read_ndjson

ENDPOINT_INPUT = "endpointInput"
ENDPOINT_OUTPUT = "endpointOutput"

_PAYLOAD = pl.Struct({"observedContentType": pl.String, "data": pl.String, "encoding": pl.String})
ANALYSIS_SCHEMA = {
    "captureData": pl.Struct({ENDPOINT_INPUT: _PAYLOAD, ENDPOINT_OUTPUT: _PAYLOAD}),
    "eventMetadata": pl.Struct({"inferenceTime": pl.String, "invocationSource": pl.String}),
}
# The flat columns: one (type, data, encoding) triple per side, then the metadata the window rule reads.
SIDE_FIELDS = ("observedContentType", "data", "encoding")
METADATA_FIELDS = ("inferenceTime", "invocationSource")
COLUMNS = [f"{side}.{name}" for side in (ENDPOINT_INPUT, ENDPOINT_OUTPUT) for name in SIDE_FIELDS] \
    + list(METADATA_FIELDS)

_HEAD = '{"captureData":{"endpointInput":{"observedContentType":"'
_INPUT_DATA = '","mode":"INPUT","data":"'
_OUTPUT = '"},"endpointOutput":{"observedContentType":"'
_OUTPUT_DATA = '","mode":"OUTPUT","data":"'
_METADATA = '"}},"eventMetadata":{'
_TAIL = '},"eventVersion":"0"}'
_ENCODING = '","encoding":"'
_ENCODINGS = ("CSV", "JSON", "BASE64")
_STRING = r'"[^"\\\x00-\x1f]*"'
# Found where the metadata marker is: the metadata is a flat object of plain strings, and the line ends there.
_MEMBER = rf'"[A-Za-z]+":{_STRING}'
_METADATA_OBJECT = rf'"\}}\}},"eventMetadata":\{{(?:{_MEMBER}(?:,{_MEMBER})*)?\}},"eventVersion":"0"\}}$'
_TIME = '"inferenceTime":"'
_SOURCE = r'"invocationSource":"([^"]*)"'
_LONGEST_ENCODING = len(_ENCODING) + max(len(name) for name in _ENCODINGS)
_LONGEST_TIME = 64  # ISO-8601 with fractions and an offset is at most ~35 characters
# A byte no capture line holds (JSON escapes control characters): the line reader's separator. A file that
# holds it, or carriage returns, goes to the JSON parser whole.
_SEPARATOR = "\x01"


def parse_capture_columns(data: bytes) -> Tabular:
    """The capture lines of `data` as flat String columns (COLUMNS), in file order; lines that are not JSON
    capture records are counted as bad and left out."""
    return cut_capture_lines(data, capture_lines(data))


def cut_capture_lines(data: bytes, lines: pl.Series | None) -> Tabular:
    """`parse_capture_columns` given `data`'s `capture_lines` already (None: the file goes to the parser)."""
    if lines is None:
        return _parsed(data)
    cut = _cut(lines, typed=b'"encoding":"BASE64"' in data, sourced=b'"invocationSource":"' in data)
    fast = cut.get_column("fast")
    fast_count = int(fast.sum())
    if fast_count == len(lines):
        return Tabular(cut.drop("fast"), 0)
    slow_lines = lines.filter(~fast)
    slow = _parsed("\n".join(slow_lines.to_list()).encode())
    if fast_count == 0:
        return slow
    slow_at = (~fast).arg_true()
    if slow.bad_rows:  # which of the slow lines the parser kept, so that rows stay in their lines' places
        kept = pl.Series([is_json_object(line) for line in slow_lines.to_list()])
        slow_at = slow_at.filter(kept)
    if slow.frame.height != len(slow_at):  # blank lines the parser skipped and we did not: read it all
        return _parsed(data)
    frame = pl.concat([cut.filter(fast).drop("fast"), slow.frame])
    order = pl.concat([fast.arg_true(), slow_at])
    return Tabular(frame.with_columns(_order=order).sort("_order").drop("_order"), slow.bad_rows)


def _parsed(data: bytes) -> Tabular:
    """The JSON parser's reading, flattened to COLUMNS."""
    batch = read_ndjson(data, ANALYSIS_SCHEMA)
    capture, metadata = pl.col("captureData"), pl.col("eventMetadata")
    frame = batch.frame.select(
        *(capture.struct.field(side).struct.field(name).alias(f"{side}.{name}")
          for side in (ENDPOINT_INPUT, ENDPOINT_OUTPUT) for name in SIDE_FIELDS),
        *(metadata.struct.field(name).alias(name) for name in METADATA_FIELDS),
    )
    return Tabular(frame, batch.bad_rows)


def capture_lines(data: bytes) -> pl.Series | None:
    """The non-blank lines as strings; None when the file is left to the JSON parser."""
    if b"\r" in data or _SEPARATOR.encode() in data:
        return None
    try:
        frame = pl.read_csv(data, has_header=False, separator=_SEPARATOR, quote_char=None,
                            schema={"line": pl.String}, comment_prefix=None)
    except Exception:  # invalid UTF-8 among others: the JSON parser sorts good lines from bad
        return None
    lines = frame.get_column("line")
    if lines.null_count():
        lines = lines.drop_nulls()
    blank = ~lines.str.starts_with("{")  # the JSON parser skips blank lines: find them among the rest
    if blank.any():
        blank = blank & ~lines.str.contains(r"\S")
        lines = lines.filter(~blank) if blank.any() else lines
    return lines


def _cut(lines: pl.Series, typed: bool, sourced: bool) -> pl.DataFrame:
    """COLUMNS cut at the markers (nonsense where the line is not of the common shape), and `fast`: whether
    it is. Content types are cut only when `typed` (they matter to BASE64 payloads alone; null otherwise),
    invocation sources only when `sourced` (some line names one)."""
    line = pl.col("line")
    a, c, d, f = (pl.col(name) for name in ("a", "c", "d", "f"))
    escaped = bool(lines.str.contains("\\", literal=True).any())
    found = pl.DataFrame({"line": lines}).lazy().with_columns(
        shape=line.str.starts_with(_HEAD) & line.str.ends_with(_TAIL)
        & (line.str.len_bytes() == line.str.len_chars()) & _only_quote_escapes(line, escaped)
        & ~line.str.contains(r"[\x00-\x1f]"),  # raw control characters: JSON that the parser refuses
        a=line.str.find(_INPUT_DATA, literal=True),
        c=line.str.find(_OUTPUT, literal=True),
        d=line.str.find(_OUTPUT_DATA, literal=True),
        f=line.str.find(_METADATA, literal=True),
        m=line.str.find(_METADATA_OBJECT, strict=True),
        t=line.str.find(_TIME, literal=True),
        input_csv=line.str.find(_ENCODING + "CSV" + _OUTPUT, literal=True),
        output_csv=line.str.find(_ENCODING + "CSV" + _METADATA, literal=True),
    ).with_columns(
        # not found is null, which `all()` would pass over: it is False here
        input_csv=(pl.col("input_csv") == c - len(_ENCODING + "CSV")).fill_null(False),
        output_csv=(pl.col("output_csv") == f - len(_ENCODING + "CSV")).fill_null(False),
    ).collect()
    # Encodings: CSV where its marker sits at the end of the side (most files); else read from the side's tail.
    all_csv = bool(found.get_column("input_csv").all()) and bool(found.get_column("output_csv").all())
    frame = found.lazy().with_columns(
        input_encoding=pl.lit("CSV") if all_csv else _encoding(_tail(line, c)),
        output_encoding=pl.lit("CSV") if all_csv else _encoding(_tail(line, f)),
        inferenceTime=line.str.slice(pl.col("t") + len(_TIME), _LONGEST_TIME),
        order=(a < c) & (c < d) & (d < f) & (pl.col("m") == f)
        & ~_between(line, pl.lit(len(_HEAD)), a).str.contains('"', literal=True)
        & ~_between(line, c + len(_OUTPUT), d).str.contains('"', literal=True),
    ).with_columns(
        inferenceTime=pl.col("inferenceTime").str.head(pl.col("inferenceTime").str.find('"', literal=True)),
    ).with_columns(
        input_data=_between(line, a + len(_INPUT_DATA), c - _encoding_length("input_encoding")),
        output_data=_between(line, d + len(_OUTPUT_DATA), f - _encoding_length("output_encoding")),
        input_type=_between(line, pl.lit(len(_HEAD)), a) if typed else pl.lit(None, dtype=pl.String),
        output_type=_between(line, c + len(_OUTPUT), d) if typed else pl.lit(None, dtype=pl.String),
        invocationSource=line.str.extract(_SOURCE, 1) if sourced else pl.lit(None, dtype=pl.String),
    ).with_columns(
        fast=(pl.col("shape") & pl.col("order") & pl.col("input_encoding").is_not_null()
              & pl.col("output_encoding").is_not_null() & _unquoted(pl.col("input_data"), escaped)
              & _unquoted(pl.col("output_data"), escaped)).fill_null(False),
    )
    renamed = {f"{prefix}_{key}": f"{side}.{name}"
               for prefix, side in (("input", ENDPOINT_INPUT), ("output", ENDPOINT_OUTPUT))
               for key, name in (("type", "observedContentType"), ("data", "data"), ("encoding", "encoding"))}
    return frame.select(*(pl.col(old).alias(new) for old, new in renamed.items()), *METADATA_FIELDS, "fast") \
        .with_columns(*(_unescaped(pl.col(f"{side}.data"), escaped) for side in (ENDPOINT_INPUT, ENDPOINT_OUTPUT))) \
        .collect()


def _only_quote_escapes(line: pl.Expr, escaped: bool) -> pl.Expr:
    """No escape but `\\"` (checked only when some line has a backslash)."""
    if not escaped:
        return pl.lit(True)
    return ~line.str.contains(r'\\[^"]')  # a backslash before anything but a quote


def _encoding(tail: pl.Expr) -> pl.Expr:
    """The encoding that ends a side's text before its closing marker; null when not a known one."""
    out = pl.lit(None, dtype=pl.String)
    for name in _ENCODINGS:
        out = pl.when(tail.str.ends_with(_ENCODING + name)).then(pl.lit(name)).otherwise(out)
    return out


def _tail(line: pl.Expr, end: pl.Expr) -> pl.Expr:
    """The text before `end` that holds a side's encoding and its marker."""
    return line.str.slice(end - _LONGEST_ENCODING, _LONGEST_ENCODING)


def _encoding_length(column: str) -> pl.Expr:
    """How far the side's data ends before its closing marker: `","encoding":"<e>`."""
    return len(_ENCODING) + pl.col(column).str.len_bytes().cast(pl.Int64)


def _between(text: pl.Expr, start: pl.Expr, end: pl.Expr) -> pl.Expr:
    return text.str.slice(start, end - start)


def _unquoted(data: pl.Expr, escaped: bool) -> pl.Expr:
    """No unescaped quote in a payload (its escaped quotes are `\\"`)."""
    if escaped:
        return ~data.str.contains(r'(?:^|[^\\])"')
    return ~data.str.contains('"', literal=True)


def _unescaped(data: pl.Expr, escaped: bool) -> pl.Expr:
    return data.str.replace_all('\\"', '"', literal=True) if escaped else data
