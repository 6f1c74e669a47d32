"""The direct route: capture lines with CSV or flat JSON payloads split once, at every comma, into the
analysed columns.

SageMaker writes every line of a capture file with the same envelope around its payloads:

    {"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"1,2,3",
     "encoding":"CSV"},"endpointOutput":{...}},"eventMetadata":{"eventId":"e","inferenceTime":"t"},
     "eventVersion":"0"}

Split at every comma, such a line is a fixed sequence of fields: envelope texts (`"mode":"INPUT"`), payload
values, some with an envelope text before or after them (`"data":"1`, `3"`), and metadata. So one split
of the whole piece (polars' CSV reader with no quote character, straight from its bytes) gives the
payload's columns, with no JSON parse, no cut of the payload out of the line and no second split of it. A
piece takes this route only when every line has exactly the first line's layout: the same number of
fields, every envelope field exactly as the first line has it, no quote, backslash or control character in
a content type or metadata value, and every payload value a plain CSV value or JSON scalar (checked value
by value, `_matches`). Together these mean that no payload value holds a quote, so the line is the JSON its
fields say it is. A piece with any other line (another width, another metadata key, an escape, a BASE64
payload, something malformed) is left whole to the other route (`capture/envelopes.py` then
`reader.record_lines`), which reads it as the JSON parser does; the two routes give the same rows
(tests/capture/test_direct.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
import polars as pl

from watchkeeper.analysis.statistics import (
    EXPECTATION_SAMPLE_ROWS,
    ROW_PATTERN_MAX_COLUMNS,
    expected_classes,
    type_counts,
)
from watchkeeper.analysis.types import CLASS_PATTERNS, FRACTIONAL, INTEGRAL, TypeCounts
from watchkeeper.capture.envelopes import ENDPOINT_INPUT, ENDPOINT_OUTPUT
from watchkeeper.capture.payloads import PLAIN_KEY
from watchkeeper.capture.window import WindowCounts, window_mask

_MODES = {ENDPOINT_INPUT: "INPUT", ENDPOINT_OUTPUT: "OUTPUT"}
_SIDE_KEYS = ["observedContentType", "mode", "data", "encoding"]
# Marks a slot in the template line: a byte no capture line holds (JSON escapes control characters).
_SLOT = "\x00"


@dataclass(frozen=True)
class Field:
    """One comma-separated field of the layout: `text` exactly (a fixed envelope field), or `prefix`, a
    value, then `suffix`. `slot` names the value: `"<side>:<i>"` for a payload value, `"meta:<key>"` for
    metadata, `"type:<side>"` for a content type (checked, never read)."""

    text: str | None = None
    prefix: str = ""
    suffix: str = ""
    slot: str = ""


@dataclass(frozen=True)
class Side:
    """One captured side in the line: its number of values and, for a JSON object payload, its keys."""

    name: str
    width: int
    keys: tuple[str, ...] | None = None  # None: a CSV payload


@dataclass(frozen=True)
class Layout:
    """Every field of a line, the captured sides, and which slots are the analysed columns."""

    fields: tuple[Field, ...]
    sides: tuple[Side, ...]
    analysed: tuple[str, ...]


def layout_of(line: str, indices: Sequence[str], output_first: bool) -> Layout | None:
    """The layout of lines like `line`; None when `line` is not of SageMaker's shape with CSV or flat JSON
    object payloads (those lines take the other route)."""
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
    sides: dict[str, Side] = {}
    for number, (name, payload) in enumerate(capture.items()):
        side = _side(name, payload)
        if side is None:
            return None
        sides[name] = side
        slots = [f"{_SLOT}{name}:{i}{_SLOT}" for i in range(side.width)]
        data = ",".join(slots) if side.keys is None \
            else "{" + ",".join(f'\\"{key}\\":{slot}' for key, slot in zip(side.keys, slots, strict=True)) + "}"
        pieces.append(f'{"," if number else ""}"{name}":{{"observedContentType":"{_SLOT}type:{name}{_SLOT}",'
                      f'"mode":"{_MODES[name]}","data":"{data}","encoding":"{payload["encoding"]}"}}')
    if not metadata or not all(_plain(key) and "," not in key and _plain(value) for key, value in metadata.items()):
        return None
    members = ",".join(f'"{key}":"{_SLOT}meta:{key}{_SLOT}"' for key in metadata)
    pieces.append(f'}},"eventMetadata":{{{members}}},"eventVersion":"0"}}')
    fields = tuple(_field(text) for text in "".join(pieces).split(","))
    if len(fields) > ROW_PATTERN_MAX_COLUMNS:  # as wide as the other route classes value by value: left to it
        return None
    analysed = tuple(f"{side}:{i}" for side in analysed_sides for i in range(sides[side].width))
    if len(analysed) < 2:  # one value: an empty one is a record without data, which the other route counts
        return None
    return Layout(fields, tuple(sides.values()), analysed)


def _side(name: str, payload: object) -> Side | None:
    """A side of the layout: CSV values, or a flat JSON object of plain keys and scalar values (null, which
    the other route reads as an empty field, is left to it)."""
    if not isinstance(payload, dict) or list(payload) != _SIDE_KEYS or payload["mode"] != _MODES[name] \
            or not all(isinstance(payload[key], str) for key in _SIDE_KEYS) \
            or not _plain(payload["observedContentType"]):
        return None
    data = payload["data"]
    if payload["encoding"] == "CSV":
        return Side(name, data.count(",") + 1) if _plain(data) else None
    if payload["encoding"] != "JSON":
        return None
    try:
        values = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(values, dict) or not values or not all(PLAIN_KEY.fullmatch(key) for key in values) \
            or not all(isinstance(value, (str, int, float)) for value in values.values()):  # bool is an int
        return None
    return Side(name, len(values), tuple(values))


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
    type counts, what the window rule left out, how many lines the piece had, the classes the values were
    checked against (`expected`) and whether every line had them (`every_hit`)."""

    frame: pl.DataFrame
    type_counts: list[TypeCounts]
    window: WindowCounts
    lines: int
    expected: list[str | None]
    every_hit: bool


def first_line(data: bytes) -> str | None:
    """A piece's first line, when the direct route may read the piece: it starts with a record and has no
    carriage return (CSV reading would drop it before a line end; the other route reads such lines)."""
    if not data.startswith(b"{") or b"\r" in data:
        return None
    end = data.find(b"\n")
    try:
        return (data if end < 0 else data[:end]).decode()
    except UnicodeDecodeError:
        return None


def read_fields(data: bytes, width: int) -> pl.DataFrame | None:
    """A piece's lines split at every comma into `width` text columns named "0", "1", ...: polars' CSV reader
    with no quote character, cheaper than reading lines then splitting them. A line with fewer fields
    gets empty ones (no layout ends with a field that may be empty, so such a line fails its checks); None
    when a line has more fields or the bytes are not UTF-8."""
    try:
        return pl.read_csv(data, has_header=False, separator=",", quote_char=None, comment_prefix=None,
                           schema={str(i): pl.String for i in range(width)}, empty_string_is_null=False)
    # more fields, invalid UTF-8 among others: the other route sorts good lines from bad. A panic of polars'
    # reader (a BaseException) on some odd input must not end the job either.
    except (Exception, pl.exceptions.PanicException):
        return None


def split_piece(data: bytes, layout: Layout, names: Sequence[str], start: datetime | None,
                end: datetime | None, expected: list[str | None] | None = None) -> Split | None:
    """A piece's lines split at every comma into the layout's analysed columns (named `names`), with the
    window rule applied and their type counts; None when any line is not of the layout.

    Every envelope field is checked against the layout (`_fits`), and every payload field against one
    anchored pattern (`_matches`): its envelope text around a value of its `expected` class
    (statistics.expected_classes; of the piece's first rows when not given), or of any class elsewhere (no
    comma, quote or backslash in a CSV value; a JSON scalar but null in an object). A line whose fields all
    match needs no other check, and its numeric values are classed by the same matches; the few others are
    checked with every value allowed any class. The expected classes are a guess that makes this fast, never
    a cause of other counts: a reader passes those of an earlier piece of the layout, sparing each piece the
    guess (a fixed cost that small pieces feel)."""
    parts = read_fields(data, len(layout.fields))
    if parts is None or parts.height == 0:
        return None
    fields = {field.slot: (str(index), field) for index, field in enumerate(layout.fields) if field.slot}
    in_json = in_json_slots(layout)
    payload = [f"{side.name}:{i}" for side in layout.sides for i in range(side.width)]
    pairs = list(zip(names, layout.analysed, strict=True))
    if expected is None:
        expected = expected_classes(parts.head(EXPECTATION_SAMPLE_ROWS).select(
            _analysed(_value(pl.col(fields[slot][0]), fields[slot][1]), slot in in_json).alias(name)
            for name, slot in pairs))
    kinds = dict(zip(layout.analysed, expected, strict=True))
    checks = []
    for index, field in enumerate(layout.fields):
        if is_payload_slot(field.slot):  # checked with its value, by `_matches`
            continue
        check = _fits(pl.col(str(index)), field)
        if field.slot.startswith("type:") and _same_on_every_line(parts.get_column(str(index))):
            # A content type is most often the same on every line: then one line tells whether all fit.
            if not parts.head(1).select(check).item():
                return None
            continue
        checks.append(check)
    # Metadata is read only where the window rule needs it: times for a window, sources to leave out shadows.
    wanted = {name: slot for name, slot in METADATA_SLOTS.items()
              if slot in fields and (name == "invocationSource" or start is not None or end is not None)}
    found = parts.lazy().select(
        fits=pl.all_horizontal(checks) if checks else pl.lit(True),
        hits=pl.all_horizontal(_matches(pl.col(fields[slot][0]), fields[slot][1], slot in in_json, kinds.get(slot))
                               for slot in payload),
        **{slot: _value(pl.col(fields[slot][0]), fields[slot][1]) for slot in layout.analysed},
        **{name: _value(pl.col(fields[slot][0]), fields[slot][1]) for name, slot in wanted.items()},
    ).collect()
    if not bool(found.get_column("fits").all()):
        return None
    hits = found.get_column("hits")
    every_hit = bool(hits.all())
    if not every_hit and not bool(parts.filter(~hits).select(pl.all_horizontal(
            _matches(pl.col(fields[slot][0]), fields[slot][1], slot in in_json, None)
            for slot in payload)).to_series().all()):
        return None
    times = found.get_column("inferenceTime") if "inferenceTime" in wanted \
        else pl.repeat(None, found.height, dtype=pl.String, eager=True)
    sources = found.get_column("invocationSource") if "invocationSource" in wanted else None
    keep, counts = window_mask(times, sources, start, end)
    # Where every line matched, a value of a numeric class is a number: neither empty nor a JSON string.
    numbers = {slot for slot in layout.analysed if every_hit and kinds[slot] is not None}
    facts = found.select(fact for slot in layout.analysed if slot not in numbers
                         for fact in _facts(pl.col(slot), slot, slot in in_json)).row(0, named=True) \
        if len(numbers) < len(layout.analysed) else {}
    frame = found.select(_analysed(pl.col(slot), slot in in_json, slot in numbers, facts.get(f"{slot}:quoted"),
                                   facts.get(f"{slot}:empty")).alias(name) for name, slot in pairs)
    if not bool(keep.all()):
        frame, hits = frame.filter(keep), hits.filter(keep)
    return Split(frame, type_counts(frame, expected, hits=hits), counts, parts.height, expected, every_hit)


# A content type or metadata value: what JSON would have escaped (a quote, a backslash, a control
# character) is not in it, so the line is what it seems.
_PLAIN_VALUE = r'[^"\\\x00-\x1f]*'
METADATA_SLOTS = {"inferenceTime": "meta:inferenceTime", "invocationSource": "meta:invocationSource"}
# Any value: a CSV one has no comma, quote, backslash or control character; a JSON one is a scalar but null
# (its quotes escaped in the line, its string no comma, quote, backslash or control character).
_CSV_VALUE = r'[^,"\\\x00-\x1f]*'
# JSON's number grammar in its parts; a number of each class is where Deequ's pattern and JSON's both hold.
_JSON_INTEGER, _JSON_FRACTION, _JSON_EXPONENT = r"-?(?:0|[1-9][0-9]*)", r"\.[0-9]+", r"[eE][-+]?[0-9]+"
_JSON_NUMBER = rf"{_JSON_INTEGER}(?:{_JSON_FRACTION})?(?:{_JSON_EXPONENT})?"
_JSON_VALUE = rf'(?:\\"[^",\\\x00-\x1f]*\\"|{_JSON_NUMBER}|true|false)'
_JSON_CLASSES = {
    FRACTIONAL: rf"{_JSON_INTEGER}(?:{_JSON_FRACTION}|(?:{_JSON_FRACTION})?{_JSON_EXPONENT})",
    INTEGRAL: _JSON_INTEGER,
}


def in_json_slots(layout: Layout) -> set[str]:
    """The payload slots whose values are JSON (the others are CSV values)."""
    return {f"{side.name}:{i}" for side in layout.sides if side.keys is not None for i in range(side.width)}


def is_payload_slot(slot: str) -> bool:
    """Whether a slot is a payload value (`<side>:<i>`), not metadata or a content type."""
    return slot.startswith(("endpointInput:", "endpointOutput:"))


def _matches(column: pl.Expr, field: Field, in_json: bool, kind: str | None) -> pl.Expr:
    """Whether a payload field is its envelope text around a value of class `kind` (any value when None):
    one anchored pattern checks both."""
    if in_json:
        pattern = _JSON_CLASSES[kind] if kind else _JSON_VALUE
    else:
        pattern = CLASS_PATTERNS[kind] if kind else _CSV_VALUE
    return column.str.contains(f"^{re.escape(field.prefix)}(?:{pattern}){re.escape(field.suffix)}$")


def _value(column: pl.Expr, field: Field) -> pl.Expr:
    """The value of a field, without its envelope text."""
    value = column.str.slice(len(field.prefix)) if field.prefix else column
    return value.str.head(-len(field.suffix)) if field.suffix else value


def _facts(value: pl.Expr, slot: str, in_json: bool) -> list[pl.Expr]:
    """What decides how to read a column's values: in JSON, how many are strings (any, all: "quoted"); whether
    any is empty ("empty")."""
    if not in_json:
        return [(value.str.len_bytes() == 0).any().alias(f"{slot}:empty")]
    quoted = value.str.starts_with('\\"')
    return [pl.when(quoted.all()).then(pl.lit("all")).when(quoted.any()).then(pl.lit("some")).otherwise(pl.lit("none"))
            .alias(f"{slot}:quoted"),
            (quoted & (value.str.len_bytes() == 4)).any().alias(f"{slot}:empty")]


def _analysed(value: pl.Expr, in_json: bool, number: bool = False, quoted: str | None = None,
              empty: bool | None = None) -> pl.Expr:
    """An analysed value as the other route reads it: a JSON string without its (escaped) quotes, other
    JSON values as written, an empty value null. `number`: every value is known to be a number; `quoted`
    ("all", "some", "none") and `empty`, when known (`_facts`), spare the steps no value needs."""
    if number:
        return value
    if in_json and quoted != "none":
        string = value.str.slice(2).str.head(-2)
        string = string if empty is False else _null_if_empty(string)
        return string if quoted == "all" else pl.when(value.str.starts_with('\\"')).then(string).otherwise(value)
    return value if empty is False or in_json else _null_if_empty(value)  # a JSON number or boolean is never empty


def _same_on_every_line(column: pl.Series) -> bool:
    """Whether a field is the same on every line: far cheaper to tell than whether each line's fits."""
    return bool((column == column[0]).all())


def _fits(column: pl.Expr, field: Field) -> pl.Expr:
    """Whether an envelope field is in the layout: its text, or a content type or metadata value with nothing
    JSON would have escaped (payload fields are checked by `_matches`)."""
    if field.text is not None:
        return column == field.text
    return column.str.contains(f"^{re.escape(field.prefix)}{_PLAIN_VALUE}{re.escape(field.suffix)}$")


def _null_if_empty(value: pl.Expr) -> pl.Expr:
    """An empty field is null, as the CSV reader of the other route reads it."""
    return pl.when(value.str.len_bytes() == 0).then(None).otherwise(value)
