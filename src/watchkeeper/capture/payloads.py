"""Payload decoding of captured and merged records (`captureData.<side>` and `groundTruthData`), once for
every reader: `encoding` CSV is the text, JSON the JSON text, BASE64 is decoded to UTF-8 text first and then
read as JSON when its `observedContentType` says json, else as CSV (spec §3.3)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl

BAD_BASE64 = "BASE64 payload does not decode to UTF-8 text"
NESTED_JSON = "JSON payload is not flat (use a record preprocessor)"


@dataclass
class Decoded:
    """One side's payloads: `text` (null where absent or undecodable), which are JSON, which were present
    but undecodable BASE64."""

    text: pl.Series
    is_json: pl.Series
    bad_base64: pl.Series


def decode(side: pl.DataFrame) -> Decoded:
    """Decode a frame of payloads (`data`, `encoding`, and `observedContentType` when present). A missing
    encoding is CSV."""
    data = side.get_column("data")
    raw_encoding = side.get_column("encoding")
    if raw_encoding.null_count() == 0 and bool((raw_encoding == "CSV").all()):  # the common case: nothing to decode
        no = pl.repeat(False, side.height, eager=True)
        return Decoded(data, no, no)
    encoding = raw_encoding.fill_null("CSV").str.to_uppercase()
    content_type = (side.get_column("observedContentType") if "observedContentType" in side.columns
                    else pl.repeat(None, side.height, dtype=pl.String, eager=True)).fill_null("").str.to_lowercase()
    present = data.is_not_null()
    is_base64 = (encoding == "BASE64").fill_null(False) & present
    if is_base64.any():
        data = data.scatter(is_base64.arg_true(), decode_base64(data.filter(is_base64)))
    is_json = ((encoding == "JSON") | (is_base64 & content_type.str.contains("json", literal=True))) \
        .fill_null(False) & data.is_not_null()
    return Decoded(data, is_json, is_base64 & data.is_null())


def decode_base64(data: pl.Series) -> pl.Series:
    """Base64 texts to UTF-8 texts; null where either fails."""
    binary = data.str.decode("base64", strict=False)
    try:
        return binary.cast(pl.String)
    except pl.exceptions.ComputeError:  # invalid UTF-8 somewhere: find it value by value
        out = []
        for value in binary.to_list():
            try:
                out.append(value.decode("utf-8") if value is not None else None)
            except UnicodeDecodeError:
                out.append(None)
        return pl.Series(out, dtype=pl.String)


def flat_json(texts: pl.Series) -> pl.Series:
    """JSON payloads to comma-separated values (an object's values in order, an array's items, a scalar);
    nested ones become null."""
    same_keys = _same_key_objects(texts)
    return same_keys if same_keys is not None else parsed_flat_json(texts)


def parsed_flat_json(texts: pl.Series) -> pl.Series:
    """`flat_json` by a JSON parser: any mix of shapes and keys (an object's missing keys are empty fields,
    at the places of the keys all the objects have)."""
    try:
        decoded = texts.str.json_decode(infer_schema_length=None)
        dtype = decoded.dtype
        if isinstance(dtype, pl.Struct) and not any(f.dtype.is_nested() for f in dtype.fields):
            frame = decoded.struct.unnest()
            fields = [pl.col(c).cast(pl.String).fill_null("") for c in frame.columns]  # null: empty field
            return frame.select(pl.concat_str(fields, separator=",")).to_series()
        if isinstance(dtype, pl.List) and not dtype.inner.is_nested():
            return decoded.list.eval(pl.element().cast(pl.String)).list.join(",")
        if not dtype.is_nested():
            return decoded.cast(pl.String)
    except Exception:  # mixed shapes: decide value by value below
        pass
    return pl.Series([_flat_json_value(text) for text in texts.to_list()], dtype=pl.String)


# A JSON scalar as written: a plain string (no escapes), a number, true or false (null is left to the parser:
# it becomes an empty field, not the text "null").
_SCALAR = r'(?:"[^"\\\x00-\x1f]*"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false)'
# A key the same-key cut (and the direct route, capture/direct.py) takes: letters, digits and "_".
PLAIN_KEY = re.compile(r"[A-Za-z0-9_]+")


def _same_key_objects(texts: pl.Series) -> pl.Series | None:
    """When every payload is a flat object with the first one's keys in the same order (keys of letters,
    digits and '_'), its values joined by commas, cut from the text (the common case, without a JSON
    parser); None otherwise. Values are as written: `1.50` stays `1.50` where the parser would give `1.5`,
    and an integer stays an integer in a column that also holds fractions (docs/analysis.md)."""
    present = texts.drop_nulls()
    if len(present) == 0 or present.null_count():
        return None
    try:
        first = orjson.loads(present[0])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(first, dict) or not first or not all(PLAIN_KEY.fullmatch(key) for key in first):
        return None
    pattern = "^\\{" + ",".join(f'"{key}":{_SCALAR}' for key in first) + "\\}$"
    if not bool(texts.str.contains(pattern).fill_null(True).all()):
        return None
    # One pass removes the keys and the string values' quotes (keys first: the leftmost, earliest pattern wins)
    removed = [f'"{key}":' for key in first] + ['"']
    values = texts.str.replace_many(removed, [""] * len(removed), leftmost=True)
    return values.str.head(-1).str.slice(1)  # without the braces


def _flat_json_value(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        value: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    items = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else [value]
    if any(isinstance(item, (dict, list)) for item in items):
        return None
    return ",".join(_json_scalar(item) for item in items)


def _json_scalar(item: Any) -> str:
    if item is None:
        return ""
    if item is True or item is False:
        return "true" if item else "false"
    return str(item)


def side_text(sides: pl.DataFrame, count: Any) -> tuple[pl.Series, pl.Series]:
    """One side's payloads as comma-separated text (null where the record lacks that side), and which
    records' payload could not be decoded; `count(reason, n)` is told what was lost and why."""
    decoded = decode(sides)
    count(BAD_BASE64, int(decoded.bad_base64.sum()))
    data = decoded.text
    if decoded.is_json.any():
        flat = flat_json(data.filter(decoded.is_json))
        count(NESTED_JSON, flat.null_count())
        data = data.scatter(decoded.is_json.arg_true(), flat)
    present = sides.get_column("data").is_not_null()
    if (data.str.ends_with("\n") | data.str.ends_with("\r")).any():  # rare: strip only then (strip copies all)
        data = data.str.strip_chars_end("\r\n")
    return data, present & data.is_null()
