"""The direct route's compiled pass for large pieces: the same `direct.Split` as `direct.split_piece`, from one
loop over the piece's bytes (`scan.c`, built and loaded by `capture/scan_library.py`) instead of polars' CSV
reader and a pattern per value.

The pass checks every line against the layout, classes every payload value as it reads it, and hands back
Arrow string views into the piece's own bytes, which polars takes without a copy. The window rule and the
type counts are then applied as `split_piece` applies them. A piece the pass does not take (a line not of
the layout, a non-ASCII value) goes on to `split_piece`. Pieces under SCAN_MIN_BYTES skip it, so that a
small job (an hour of a quiet endpoint) never builds or loads the library.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from watchkeeper.analysis.types import TypeCounts
from watchkeeper.capture.direct import METADATA_SLOTS, Layout, Split, in_json_slots, is_payload_slot
from watchkeeper.capture.scan_library import ScanFunctions, functions
from watchkeeper.capture.window import window_mask

SCAN_MIN_BYTES = 1 << 20

# scan.c's field kinds and value classes (kept in step with its enums).
FIXED, CSV_VALUE, JSON_VALUE, PLAIN_VALUE = 0, 1, 2, 3
NULL, INTEGRAL, FRACTIONAL, BOOLEAN, STRING = 0, 1, 2, 3, 4
_VIEW_WORDS = 4  # an Arrow string view: 16 bytes


@dataclass(frozen=True)
class Template:
    """A layout as scan.c reads it (see `watchkeeper_scan`): per field its kind, the output its value goes to,
    and the bounds of its texts before and after the value in `texts`."""

    kinds: np.ndarray
    outputs: np.ndarray
    texts: np.ndarray
    bounds: np.ndarray
    outputs_count: int


@functools.lru_cache(maxsize=64)
def template_of(layout: Layout, metadata: tuple[str, ...]) -> Template:
    """The template of a layout whose analysed values go to outputs 0.., then `metadata` (METADATA_SLOTS keys)."""
    in_json = in_json_slots(layout)
    output_of = {slot: index for index, slot in enumerate(layout.analysed)}
    output_of |= {METADATA_SLOTS[name]: len(layout.analysed) + index for index, name in enumerate(metadata)}
    kinds, outputs, texts, bounds = [], [], bytearray(), [0]
    for field in layout.fields:
        if field.text is not None:
            kinds.append(FIXED)
            before, after = field.text.encode(), b""
        else:
            kinds.append(JSON_VALUE if field.slot in in_json
                         else CSV_VALUE if is_payload_slot(field.slot)
                         else PLAIN_VALUE)
            before, after = field.prefix.encode(), field.suffix.encode()
        outputs.append(output_of.get(field.slot, -1))
        texts += before
        bounds.append(len(texts))
        texts += after
        bounds.append(len(texts))
    return Template(np.array(kinds, np.int8), np.array(outputs, np.int64),
                    np.frombuffer(bytes(texts) or b"\0", np.uint8), np.array(bounds, np.int64), len(output_of))


def scan_piece(data: bytes, layout: Layout, names: Sequence[str], start: datetime | None,
               end: datetime | None) -> Split | None:
    """What `direct.split_piece` gives for the piece, from the compiled pass; None when the library is not
    available or a line is not of the layout (the polars route then reads the piece)."""
    library = functions()
    if library is None or not isinstance(data, bytes):
        return None
    metadata = tuple(name for name, slot in METADATA_SLOTS.items()
                     if any(field.slot == slot for field in layout.fields)
                     and (name == "invocationSource" or start is not None or end is not None))
    template = template_of(layout, metadata)
    found = _scan(library, data, template, len(layout.analysed))
    if found is None:
        return None
    lines, columns, classes = found
    analysed = columns[:len(layout.analysed)]
    frame = pl.DataFrame([column.alias(name) for column, name in zip(analysed, names, strict=True)])
    extra = dict(zip(metadata, columns[len(layout.analysed):], strict=True))
    times = extra.get("inferenceTime", pl.repeat(None, lines, dtype=pl.String, eager=True))
    keep, counts = window_mask(times, extra.get("invocationSource"), start, end)
    kept = None if bool(keep.all()) else keep.to_numpy()
    if kept is not None:
        frame = frame.filter(keep)
    type_counts = [_type_counts(np.bincount(kinds if kept is None else kinds[kept], minlength=STRING + 1))
                   for kinds in classes[:len(layout.analysed)]]
    return Split(frame, type_counts, counts, lines, [], False)


def _scan(library: ScanFunctions, data: bytes, template: Template, analysed: int
          ) -> tuple[int, list[pl.Series], list[np.ndarray]] | None:
    """The pass over `data`: its lines, each output's values and classes; None when a line is not of the
    template. The views are written straight into one array, output after output, which the columns then
    share. A value of up to 12 bytes is held in its view; longer ones of the first `analysed` outputs are
    copied out (so a column never holds the whole piece, which a window could leave a few rows of), the
    metadata's are read in place (they only decide the window)."""
    import pyarrow as pa  # polars takes the views from Arrow arrays

    slots = library.lines(data, len(data))
    views = np.empty(template.outputs_count * slots * _VIEW_WORDS, np.uint32)
    classes = np.empty(template.outputs_count * slots, np.uint8)
    lines = library.scan(data, len(data), template.kinds.ctypes.data, template.outputs.ctypes.data,
                         len(template.kinds), template.texts.ctypes.data, template.bounds.ctypes.data, slots,
                         views.ctypes.data, classes.ctypes.data)
    if lines <= 0:
        return None
    columns, per_output = [], []
    for output in range(template.outputs_count):
        kinds = classes[output * slots:output * slots + lines]
        valid = kinds != NULL
        validity = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
        own = views[output * slots * _VIEW_WORDS:(output * slots + lines) * _VIEW_WORDS]
        lengths = own[::_VIEW_WORDS]
        long_bytes = int(lengths[lengths > 12].sum(dtype=np.int64))
        buffers = [validity, pa.py_buffer(own)]
        if long_bytes and output < analysed:
            values = np.empty(long_bytes, np.uint8)
            library.compact(own.ctypes.data, lines, data, values.ctypes.data)
            buffers.append(pa.py_buffer(values))
        elif long_bytes:
            buffers.append(pa.py_buffer(data))
        columns.append(pl.from_arrow(pa.Array.from_buffers(pa.string_view(), lines, buffers)))
        per_output.append(kinds)
    return lines, columns, per_output


def _type_counts(per_class: np.ndarray) -> TypeCounts:
    return TypeCounts(fractional=int(per_class[FRACTIONAL]), integral=int(per_class[INTEGRAL]),
                      boolean=int(per_class[BOOLEAN]), string=int(per_class[STRING]))
