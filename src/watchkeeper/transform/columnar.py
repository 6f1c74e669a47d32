"""DataProcessing on CSV mini-batches by columns (polars), for the common case: CSV in and out, and filters that
pick columns (`$`, `$[1:]`, `$[0,-1]`, `$[2]`, ...). The records of a request are read once into a frame of
text columns, the InputFilter is a column selection, JoinSource Input a horizontal concatenation with the
answer's columns, the OutputFilter another selection, inference ids two more columns; nothing per record.

Anything else (JSON, names in a filter, rows of different widths) goes through transform/records.py record by
record, with the same results.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import polars as pl

from watchkeeper.transform.jsonpath import JsonPath, SelectionError
from watchkeeper.transform.records import Processing, RecordError


def _columns(path: JsonPath, width: int) -> list[int] | None:
    """The columns a path picks from a row of `width` (None: every column)."""
    if path.is_root:
        return None
    try:
        picked = path.apply(list(range(width)))
    except SelectionError as exc:
        raise RecordError(str(exc)) from None
    return picked if isinstance(picked, list) else [picked]


def applies(processing: Processing) -> bool:
    if processing.in_fmt != "csv" or processing.out_fmt != "csv":
        return False
    return all(p.is_root or (len(p.steps) == 1 and p.steps[0].kind in ("index", "multi"))
               for p in (processing.input_filter, processing.output_filter))


def read(data: bytes) -> pl.DataFrame:
    try:
        return pl.read_csv(io.BytesIO(data), has_header=False, infer_schema=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise RecordError(f"the records are not CSV rows of one width: {str(exc).splitlines()[0]}") from None


def write(frame: pl.DataFrame) -> bytes:
    return frame.write_csv(include_header=False).encode()


def _select(frame: pl.DataFrame, columns: list[int] | None) -> pl.DataFrame:
    """The picked columns in order (a column picked twice appears twice), without copying them."""
    if columns is None:
        return frame
    return pl.DataFrame([frame.to_series(c).alias(f"c{i}") for i, c in enumerate(columns)])


@dataclass(frozen=True)
class ColumnarCsv:
    processing: Processing

    def model_input(self, frame: pl.DataFrame) -> bytes:
        return write(_select(frame, _columns(self.processing.input_filter, frame.width)))

    def outputs(self, frame: pl.DataFrame, answer: bytes) -> bytes:
        answers = read(answer) if answer.strip() else pl.DataFrame()
        if answers.height != frame.height:
            raise RecordError(f"the model answered {answers.height} lines for {frame.height} records; joining and "
                              "filtering need one answer line per record")
        answers = answers.rename({name: f"answer_{i}" for i, name in enumerate(answers.columns)})
        joined = pl.concat([frame, answers], how="horizontal") if self.processing.join else answers
        out = _select(joined, _columns(self.processing.output_filter, joined.width))
        if self.processing.inference_time is not None:
            out = out.with_columns(
                pl.Series("inference_id", [str(uuid.uuid4()) for _ in range(out.height)]),
                pl.lit(self.processing.inference_time).alias("inference_time"),
            )
        return write(out).rstrip(b"\n")
