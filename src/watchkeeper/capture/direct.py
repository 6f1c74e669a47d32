"""The direct route: capture lines with CSV payloads split once, at every comma, into the analysed columns.

SageMaker writes every line of a capture file with the same envelope around its payloads:

    {"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"1,2,3",
     "encoding":"CSV"},"endpointOutput":{...}},"eventMetadata":{"eventId":"e","inferenceTime":"t"},
     "eventVersion":"0"}

Split at every comma, such a line is a fixed sequence of fields: envelope texts (`"mode":"INPUT"`), payload
values, some with an envelope text before or after them (`"data":"1`, `3"`), and metadata. So one split
of the whole line gives the payload's columns, with no JSON parse, no cut of the payload out of the
line and no second split of it. A line takes this route only when it has exactly the first line's layout:
the same number of commas and of quotes, no backslash, every envelope field exactly as the first line has
it, every other field with its envelope text around it. Together these mean that no payload value holds a
quote, so the line is the JSON its fields say it is. A piece with any other line (another width, another
metadata key, an escape, a JSON or BASE64 payload, something malformed) is left whole to the other route
(`capture/envelopes.py` then `reader.record_lines`), which reads it as the JSON parser does; the two
routes give the same rows (tests/capture/test_direct.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
import polars as pl

from watchkeeper.analysis.statistics import EXPECTATION_SAMPLE_ROWS, expected_classes, type_counts
from watchkeeper.analysis.types import CLASS_PATTERNS, TypeCounts
from watchkeeper.capture.envelopes import ENDPOINT_INPUT, ENDPOINT_OUTPUT
from watchkeeper.capture.window import WindowCounts, window_mask

_MODES = {ENDPOINT_INPUT: "INPUT", ENDPOINT_OUTPUT: "OUTPUT"}
_SIDE_KEYS = ["observedContentType", "mode", "data", "encoding"]
# Marks a slot in the template line: a byte no capture line holds (JSON escapes control characters).
_SLOT = "\x00"


@dataclass(frozen=True)
class Field:
    """One comma-separated field of the layout: `text` exactly (a fixed envelope field), or `prefix`, a
    value, then `suffix`. `slot` names the value: `"<side>:<i>"` for a payload value, `"meta:<key>"`,
    or `""` for a value nobody reads (a content type)."""

    text: str | None = None
    prefix: str = ""
    suffix: str = ""
    slot: str = ""


@dataclass(frozen=True)
class Layout:
    """Every field of a line, how many quotes a line has, and which slots are the analysed columns."""

    fields: tuple[Field, ...]
    quotes: int
    analysed: tuple[str, ...]
    sides: tuple[tuple[str, int], ...]  # each side in the line, with its number of values


def layout_of(line: str, indices: Sequence[str], output_first: bool) -> Layout | None:
    """The layout of lines like `line`; None when `line` is not of SageMaker's shape with CSV payloads on
    the analysed sides (those lines take the other route)."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(record, dict) or list(record) != ["captureData", "eventMetadata", "eventVersion"] \
            or record["eventVersion"] != "0":
        return None
    capture, metadata = record["captureData"], record["eventMetadata"]
    if not isinstance(capture, dict) or not isinstance(metadata, dict) or not capture:
        return None
    if list(capture) not in ([ENDPOINT_INPUT, ENDPOINT_OUTPUT], [ENDPOINT_INPUT], [ENDPOINT_OUTPUT]):
        return None
    order = [ENDPOINT_OUTPUT, ENDPOINT_INPUT] if output_first else [ENDPOINT_INPUT, ENDPOINT_OUTPUT]
    analysed_sides = [side for side in order if side in indices and side in capture]  # a side not captured
    if not analysed_sides:  # gives no values
        return None
    pieces = ['{"captureData":{']
    widths: dict[str, int] = {}
    for number, (side, payload) in enumerate(capture.items()):
        if not isinstance(payload, dict) or list(payload) != _SIDE_KEYS or payload["mode"] != _MODES[side] \
                or payload["encoding"] != "CSV" or not all(_plain(payload[key]) for key in _SIDE_KEYS):
            return None
        values = payload["data"].split(",")
        widths[side] = len(values)
        data = ",".join(f"{_SLOT}{side}:{i}{_SLOT}" for i in range(len(values)))
        pieces.append(f'{"," if number else ""}"{side}":{{"observedContentType":"{_SLOT}{_SLOT}",'
                      f'"mode":"{_MODES[side]}","data":"{data}","encoding":"CSV"}}')
    if not metadata or not all(_plain(key) and "," not in key and _plain(value) for key, value in metadata.items()):
        return None
    members = ",".join(f'"{key}":"{_SLOT}meta:{key}{_SLOT}"' for key in metadata)
    pieces.append(f'}},"eventMetadata":{{{members}}},"eventVersion":"0"}}')
    fields = tuple(_field(text) for text in "".join(pieces).split(","))
    analysed = tuple(f"{side}:{i}" for side in analysed_sides for i in range(widths[side]))
    if len(analysed) < 2:  # one value: an empty one is a record without data, which the other route counts
        return None
    quotes = sum((field.text or field.prefix + field.suffix).count('"') for field in fields)
    return Layout(fields, quotes, analysed, tuple(widths.items()))


def _plain(value: object) -> bool:
    """A string that can sit in a line of the layout as it is: no quote, backslash or control character
    (those would be escaped in JSON)."""
    return isinstance(value, str) and not any(c in value for c in '"\\') and value.isprintable()


def _field(text: str) -> Field:
    if _SLOT not in text:
        return Field(text=text)
    prefix, slot, suffix = text.split(_SLOT)
    return Field(prefix=prefix, suffix=suffix, slot=slot)


@dataclass
class Split:
    """The analysed columns of a piece's lines (all of them in the layout) that the window rule keeps, their
    type counts, and what the window rule left out."""

    frame: pl.DataFrame
    type_counts: list[TypeCounts]
    window: WindowCounts


def split_lines(lines: pl.Series, layout: Layout, names: Sequence[str], start: datetime | None,
                end: datetime | None) -> Split | None:
    """The lines split at every comma into the layout's analysed columns (named `names`), with the window
    rule applied and their type counts; None when any line is not of the layout.

    Each side's payload is matched by one pattern, between its envelope texts: its values' classes where
    the first rows guess them numeric (`statistics.row_pattern`), no comma, quote or backslash elsewhere.
    A line whose payloads match needs no other check of them, and its numeric values are classed by the
    same match; the few others are checked by counting their quotes."""
    width = len(layout.fields)
    parts = lines.str.split_exact(",", width).struct.rename_fields([str(i) for i in range(width + 1)]) \
        .struct.unnest()
    values = {field.slot: _value(pl.col(str(index)), field)
              for index, field in enumerate(layout.fields) if field.slot}
    analysed = {name: _null_if_empty(values[slot]) for name, slot in zip(names, layout.analysed, strict=True)}
    expected = expected_classes(parts.head(EXPECTATION_SAMPLE_ROWS).select(**analysed))
    kinds = dict(zip(layout.analysed, expected, strict=True))
    line = pl.col("line")
    hits = pl.all_horizontal(line.str.contains(_payload_pattern(side, width_of, kinds))
                             for side, width_of in layout.sides)
    found = parts.with_columns(line=lines).lazy().select(
        fits=pl.all_horizontal(_fits(pl.col(str(index)), field) for index, field in enumerate(layout.fields))
        & pl.col(str(width - 1)).is_not_null() & pl.col(str(width)).is_null(),
        hits=hits,
        plain=pl.all_horizontal(~values[slot].str.contains('["\\\\]') for slot in values
                                if not _is_payload(slot)),
        **{name: values[slot] for name, slot in _METADATA.items() if slot in values},
        **analysed,
    ).collect()
    if not bool((found.get_column("fits") & found.get_column("plain")).all()):
        return None
    hits_column = found.get_column("hits")
    if not bool(hits_column.all()):  # the others: no quote but the envelope's, no backslash
        others = lines.filter(~hits_column)
        if not bool(((others.str.count_matches('"', literal=True) == layout.quotes)
                     & ~others.str.contains("\\", literal=True)).all()):
            return None
    times = found.get_column("inferenceTime") if "inferenceTime" in found.columns \
        else pl.repeat(None, found.height, dtype=pl.String, eager=True)
    sources = found.get_column("invocationSource") if "invocationSource" in found.columns else None
    keep, counts = window_mask(times, sources, start, end)
    frame = found.select(names)
    if not bool(keep.all()):
        frame, hits_column = frame.filter(keep), hits_column.filter(keep)
    return Split(frame, type_counts(frame, expected, hits=hits_column), counts)


_METADATA = {"inferenceTime": "meta:inferenceTime", "invocationSource": "meta:invocationSource"}
_PLAIN_VALUE = '[^,"\\\\]*'


def _is_payload(slot: str) -> bool:
    return slot.startswith(("endpointInput:", "endpointOutput:"))


def _payload_pattern(side: str, width: int, kinds: dict[str, str | None]) -> str:
    """One side's payload between its envelope texts: each value of its class, or plain."""
    values = ",".join(CLASS_PATTERNS[kinds[slot]] if kinds.get(slot) else _PLAIN_VALUE
                      for slot in (f"{side}:{i}" for i in range(width)))
    return re.escape(f'"mode":"{_MODES[side]}","data":"') + values + re.escape('","encoding":"CSV"}')


def _value(column: pl.Expr, field: Field) -> pl.Expr:
    """The value of a field, without its envelope text."""
    value = column.str.slice(len(field.prefix)) if field.prefix else column
    return value.str.head(-len(field.suffix)) if field.suffix else value


def _fits(column: pl.Expr, field: Field) -> pl.Expr:
    if field.text is not None:
        return column == field.text
    return column.str.starts_with(field.prefix) & column.str.ends_with(field.suffix) \
        & (column.str.len_bytes() >= len(field.prefix) + len(field.suffix))


def _null_if_empty(value: pl.Expr) -> pl.Expr:
    """An empty field is null, as the CSV reader of the other route reads it."""
    return pl.when(value.str.len_bytes() == 0).then(None).otherwise(value)
