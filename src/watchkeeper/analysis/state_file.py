"""A `DatasetState` saved and loaded exactly: the baseline's mergeable state (`baseline_state.json.gz`).

statistics.json renders a state but loses what merging needs (KLL compaction counters, the moments, value
counts past the buckets, the HyperLogLog registers). This file keeps all of it, so a baseline can later be
merged with more data (windowed or distributed analysis) to the same statistics as one pass over all of it.

Format (version 1): one JSON object, gzip-compressed (HyperLogLog registers and sketches are mostly
repetition: the churn baseline's 1.1 MB of JSON is 40 KB), no pickle. Floats are written exactly: scalars
as Python's `float.hex` (`"0x1.8p+1"`, `"inf"`), arrays as the base64 of their little-endian float64 bytes
(-0.0 and ±inf included):

    {"format": "watchkeeper.dataset_state", "version": 1, "item_count": 2333,
     "columns": [{"name": "Churn",
                  "types": {"fractional": 0, "integral": 2333, "boolean": 0, "string": 0},
                  "numeric": {"count": 2333, "sum": "0x1.4500000000000p+8", "min": ..., "max": ...,
                              "avg": ..., "m2": ..., "bucket_min": ..., "bucket_max": ...,
                              "kll": {"k": 2048, "c": "0x1.47ae147ae147bp-1", "negative_zero": false,
                                      "levels": [{"items": "<base64>", "compactions": 1, "offset": 0}, ...]}}
                             | null,
                  "strings": {"counts": [["0", 2008], ["1", 325]]}  (sorted by value)
                             | {"hll": {"precision": 14, "registers": "<base64 of 16384 bytes>"}}}]}

A reader refuses other formats and newer versions. docs/analysis.md has the same.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from watchkeeper.analysis.kll import KLLSketch
from watchkeeper.analysis.states import HLL_PRECISION, ColumnState, NumericState, StringState
from watchkeeper.analysis.statistics import DatasetState
from watchkeeper.analysis.types import TypeCounts

FORMAT = "watchkeeper.dataset_state"
VERSION = 1
_FLOATS = ("sum", "min", "max", "avg", "m2", "bucket_min", "bucket_max")


def dumps(state: DatasetState) -> bytes:
    """The state as gzip-compressed JSON of the format above (the same bytes for the same state)."""
    text = json.dumps(to_document(state), separators=(",", ":")) + "\n"
    # level 3: a tenth of level 9's time for 6 % more bytes (the sketches' floats hardly compress)
    return gzip.compress(text.encode("utf-8"), compresslevel=3, mtime=0)


def loads(data: bytes | str) -> DatasetState:
    """A state from `dumps`' bytes (or the JSON uncompressed); ValueError when it is not one (or of a newer
    version)."""
    try:
        if isinstance(data, bytes) and data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        document = json.loads(data)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not a saved dataset state: {error}") from error
    return from_document(document)


def save(path: str | os.PathLike[str], state: DatasetState) -> None:
    Path(path).write_bytes(dumps(state))


def load(path: str | os.PathLike[str]) -> DatasetState:
    return loads(Path(path).read_bytes())


def to_document(state: DatasetState) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "item_count": state.item_count,
        "columns": [_column(name, column) for name, column in zip(state.names, state.columns, strict=True)],
    }


def from_document(document: Any) -> DatasetState:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"not a saved dataset state: the format is not {FORMAT!r}")
    version = document.get("version")
    if not isinstance(version, int) or version < 1 or version > VERSION:
        raise ValueError(f"saved dataset state version {version!r} is not one this reader knows (1..{VERSION})")
    try:
        names, columns = [], []
        for entry in document["columns"]:
            names.append(entry["name"])
            columns.append(_read_column(entry))
        return DatasetState(int(document["item_count"]), names, columns)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"saved dataset state is damaged: {type(error).__name__}: {error}") from error


# ------------------------------------------------------------------------------------------ writing


def _column(name: str, column: ColumnState) -> dict[str, Any]:
    types = column.types
    return {
        "name": name,
        "types": {"fractional": types.fractional, "integral": types.integral, "boolean": types.boolean,
                  "string": types.string},
        "numeric": None if column.numeric is None else _numeric(column.numeric),
        "strings": _strings(column.strings),
    }


def _numeric(state: NumericState) -> dict[str, Any]:
    values = (state.total, state.minimum, state.maximum, state.avg, state.m2, state.bucket_min, state.bucket_max)
    document: dict[str, Any] = {"count": state.count}
    document.update({key: float(value).hex() for key, value in zip(_FLOATS, values, strict=True)})
    document["kll"] = state.sketch.state_document()
    return document


def _strings(state: StringState) -> dict[str, Any]:
    if state.counts is not None:
        # sorted by value: a state's bytes do not depend on the order values were first seen
        return {"counts": [[value, count] for value, count in sorted(state.counts.items())]}
    return {"hll": {"precision": HLL_PRECISION, "registers": _b64(state.registers.astype(np.uint8))}}


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


# ------------------------------------------------------------------------------------------ reading


def _read_column(entry: dict[str, Any]) -> ColumnState:
    types = TypeCounts(**{key: int(entry["types"][key]) for key in ("fractional", "integral", "boolean", "string")})
    numeric = None if entry["numeric"] is None else _read_numeric(entry["numeric"])
    return ColumnState(types=types, numeric=numeric, strings=_read_strings(entry["strings"]))


def _read_numeric(document: dict[str, Any]) -> NumericState:
    total, minimum, maximum, avg, m2, bucket_min, bucket_max = (float.fromhex(document[key]) for key in _FLOATS)
    sketch = KLLSketch.from_state_document(document["kll"])
    return NumericState(count=int(document["count"]), total=total, minimum=minimum, maximum=maximum, avg=avg,
                        m2=m2, sketch=sketch, bucket_min=bucket_min, bucket_max=bucket_max)


def _read_strings(document: dict[str, Any]) -> StringState:
    if "counts" in document:
        return StringState(counts={str(value): int(count) for value, count in document["counts"]})
    hll = document["hll"]
    if int(hll["precision"]) != HLL_PRECISION:
        raise ValueError(f"HyperLogLog precision {hll['precision']} is not {HLL_PRECISION}")
    registers = np.frombuffer(base64.b64decode(hll["registers"]), dtype=np.uint8).copy()
    if len(registers) != 1 << HLL_PRECISION:
        raise ValueError(f"HyperLogLog has {len(registers)} registers, not {1 << HLL_PRECISION}")
    return StringState(counts=None, registers=registers)


__all__ = ["FORMAT", "VERSION", "dumps", "from_document", "load", "loads", "save", "to_document"]
