"""Workload shapes of the analyzer bench (`bench/analyze.py`): capture folders and training CSVs of a shape.

A shape's records have `features` columns once read: the endpoint's output (one float) then its inputs, in
the proportions of issue 13's workload (for 20: 9 floats, 8 integers, 2 small categoricals after the
output), floats rounded to `decimals`; with `dirty`, 2 % of the first integer column is non-numeric text.
Payloads are CSV (`text/csv`) or JSON objects (`application/json`, encoding JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

CATEGORIES = np.array(["red", "green", "blue", "amber", "violet"])


@dataclass(frozen=True)
class Shape:
    name: str
    features: int = 20
    decimals: int = 5
    files: int = 8
    dirty: bool = True
    payload: str = "csv"  # or "json"
    rows: int | None = None  # None: the run's --rows

    def kinds(self) -> list[str]:
        """The kind of each input column (the output, a float, comes first in the analysed frame)."""
        inputs = self.features - 1
        cats = max(1, round(inputs * 2 / 19))
        ints = round(inputs * 8 / 19)
        return ["float"] * (inputs - ints - cats) + ["int"] * ints + ["cat"] * cats


SHAPES = {
    shape.name: shape for shape in (
        Shape("issue: 20 feat, 5 dec, 8 files, 2% dirty, CSV"),
        Shape("20 feat, 2 dec, 8 files, clean, CSV", decimals=2, dirty=False),
        Shape("20 feat, 6 dec, 8 files, 2% dirty, CSV", decimals=6),
        Shape("20 feat, 5 dec, 1 file, 2% dirty, CSV", files=1),
        Shape("20 feat, 5 dec, 200 files, 2% dirty, CSV", files=200),
        Shape("20 feat, 5 dec, 8 files, 2% dirty, JSON", payload="json"),
        Shape("200 feat, 5 dec, 8 files, 2% dirty, CSV", features=200, rows=200_000),
    )
}


def _floats(values: np.ndarray, decimals: int) -> pl.Series:
    return pl.Series(np.round(values, decimals)).cast(pl.String)


def _columns(shape: Shape, rows: int, rng: np.random.Generator) -> dict[str, pl.Series]:
    """Input columns as strings (`f0`, `f1`, ...), plus `_out`, the output."""
    columns: dict[str, pl.Series] = {}
    dirty_done = not shape.dirty
    for index, kind in enumerate(shape.kinds()):
        if kind == "float":
            values = _floats(rng.normal(100, 15, rows), shape.decimals)
        elif kind == "int":
            values = pl.Series(rng.integers(0, 1000, rows)).cast(pl.String)
            if not dirty_done:
                values = pl.select(pl.when(pl.Series(rng.random(rows) < 0.02)).then(pl.lit("n/a"))
                                   .otherwise(values)).to_series()
                dirty_done = True
        else:
            values = pl.Series(CATEGORIES[rng.integers(0, len(CATEGORIES), rows)])
        columns[f"f{index}"] = values.alias(f"f{index}")
    columns["_out"] = _floats(rng.random(rows), shape.decimals).alias("_out")
    return columns


def make_training_csv(path: Path, shape: Shape, rows: int, seed: int = 1) -> None:
    """A training CSV with a header (output first, as a baseline of capture data is), clean."""
    clean = Shape(shape.name, shape.features, shape.decimals, shape.files, False, shape.payload)
    columns = _columns(clean, rows, np.random.default_rng(seed))
    frame = pl.DataFrame([columns.pop("_out").alias("label"), *columns.values()])
    frame.write_csv(path)


def _json_payloads(frame: pl.DataFrame, kinds: list[str]) -> pl.Series:
    """Each row as a JSON object text: numbers bare, text (categories, dirty values) quoted."""
    parts = []
    for (name, kind) in zip(frame.columns, kinds, strict=True):
        col = pl.col(name)
        value = col if kind != "cat" else pl.format('"{}"', col)
        if kind == "int":  # dirty values are text
            value = pl.when(col.str.contains(r"^[0-9]+$")).then(col).otherwise(pl.format('"{}"', col))
        parts.append(pl.concat_str(pl.lit(f'"{name}":'), value))
    body = pl.concat_str(parts, separator=",")
    return frame.select(pl.concat_str(pl.lit("{"), body, pl.lit("}"))).to_series()


def make_capture(folder: Path, shape: Shape, rows: int, seed: int = 2) -> None:
    """`rows` capture records of the shape over `shape.files` files of one hour folder."""
    rng = np.random.default_rng(seed)
    per_file = -(-rows // shape.files)
    hour = folder / "ep" / "AllTraffic" / "2022" / "03" / "24" / "00"
    hour.mkdir(parents=True, exist_ok=True)
    written = 0
    for index in range(shape.files):
        n = min(per_file, rows - written)
        if n <= 0:
            break
        columns = _columns(shape, n, rng)
        output = columns.pop("_out")
        frame = pl.DataFrame(list(columns.values()))
        if shape.payload == "json":
            data = _json_payloads(frame, shape.kinds()).str.replace_all('"', '\\"', literal=True)
            content, encoding = "application/json", "JSON"
        else:
            data = frame.select(pl.concat_str(pl.all(), separator=",")).to_series()
            content, encoding = "text/csv", "CSV"
        minute = index % 60
        lines = pl.DataFrame({"i": data, "o": output}).select(
            pl.format('{{"captureData":{{"endpointInput":{{"observedContentType":"' + content + '","mode":"INPUT",'
                      '"data":"{}","encoding":"' + encoding + '"}},"endpointOutput":{{"observedContentType":'
                      '"text/csv","mode":"OUTPUT","data":"{}","encoding":"CSV"}}}},"eventMetadata":{{"eventId":'
                      f'"x","inferenceTime":"2022-03-24T00:{minute:02d}:00Z"}}}},"eventVersion":"0"}}}}',
                      pl.col("i"), pl.col("o"))).to_series()
        with open(hour / f"{minute:02d}-00-000-{index:04d}.jsonl", "w") as handle:
            for start in range(0, len(lines), 100_000):
                handle.write("\n".join(lines.slice(start, 100_000).to_list()) + "\n")
        written += n
