"""An input cut into parts that can be analysed apart (on a Dask cluster, jobs/executors/dask.py).

A part is one or more segments: whole small files grouped up to about `part_bytes`, or a byte range of a
large line-oriented file (CSV, JSON Lines) cut just after a line end. Cuts follow the single-process reader's
own rule (inputs.py `_read_chunks`: the last line end before each multiple of the chunk size), so with
`part_bytes` a multiple of CSV_CHUNK_BYTES every part is made of the very chunks one process would read.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl

from watchkeeper.analysis.columns import read_csv
from watchkeeper.jobs.toolkit.inputs import CSV_CHUNK_BYTES, InputStats
from watchkeeper.jobs.toolkit.summary import WRONG_WIDTH, JobFailed

PART_BYTES = CSV_CHUNK_BYTES  # one single-process chunk per part of a large file
_BACK_STEP = 1 << 16  # how far back each read looks for a line end


@dataclass(frozen=True)
class Segment:
    """Bytes [start, end) of a file; `end` is the file's size when the segment runs to its end."""

    path: str
    start: int
    end: int

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.end == os.path.getsize(self.path)

    def read(self) -> bytes:
        with open(self.path, "rb") as handle:
            handle.seek(self.start)
            return handle.read(self.end - self.start)


@dataclass(frozen=True)
class Part:
    segments: tuple[Segment, ...]

    @property
    def size(self) -> int:
        return sum(segment.end - segment.start for segment in self.segments)

    @property
    def files(self) -> list[Path]:
        return [Path(segment.path) for segment in self.segments]


def line_cuts(path: str | os.PathLike[str], start: int, end: int, step: int) -> list[int]:
    """Offsets in (start, end) just after the last line end before each multiple of `step` (none when a
    whole step holds no line end: that stretch joins the next), as `_read_chunks` cuts a file."""
    cuts: list[int] = []
    last = start
    with open(path, "rb") as handle:
        for mark in range((start // step + 1) * step, end, step):
            cut = _last_line_end(handle, last, mark)
            if cut is not None:
                cuts.append(cut)
                last = cut
    return cuts


def _last_line_end(handle: BinaryIO, low: int, high: int) -> int | None:
    """The offset after the last b"\\n" in [low, high), reading backwards in small steps."""
    position = high
    while position > low:
        begin = max(low, position - _BACK_STEP)
        handle.seek(begin)
        block = handle.read(position - begin)
        found = block.rfind(b"\n")
        if found >= 0:
            return begin + found + 1
        position = begin
    return None


def chunks(segment: Segment, step: int = CSV_CHUNK_BYTES) -> Iterator[bytes]:
    """A segment's bytes in chunks cut as the single-process reader cuts the whole file."""
    bounds = [segment.start, *line_cuts(segment.path, segment.start, segment.end, step), segment.end]
    with open(segment.path, "rb") as handle:
        handle.seek(segment.start)
        for low, high in itertools.pairwise(bounds):
            if high > low:
                yield handle.read(high - low)


def plan(files: Sequence[Path], *, split: bool, part_bytes: int = PART_BYTES) -> list[Part]:
    """Parts in input order: files larger than `part_bytes` cut at line ends when `split` (line-oriented
    formats), smaller files grouped until a part holds about a quarter of `part_bytes` (more, smaller parts
    keep every worker busy; a task costs milliseconds)."""
    parts: list[Part] = []
    group: list[Segment] = []
    grouped = 0
    for path in files:
        size = path.stat().st_size
        if split and size > part_bytes:
            if group:
                parts.append(Part(tuple(group)))
                group, grouped = [], 0
            bounds = [0, *line_cuts(path, 0, size, part_bytes), size]
            parts += [Part((Segment(str(path), low, high),)) for low, high in itertools.pairwise(bounds)]
            continue
        group.append(Segment(str(path), 0, size))
        grouped += size
        if grouped >= part_bytes // 4:
            parts.append(Part(tuple(group)))
            group, grouped = [], 0
    if group:
        parts.append(Part(tuple(group)))
    return parts




# ------------------------------------------------------------------------------------------- reading


@dataclass
class CsvLayout:
    """What the CSV reader carries from chunk to chunk (inputs.py `dataset_batches`): the first file's
    column names and the row width. A part after the first starts from the first part's layout."""

    header: bool
    names: list[str] | None = None
    width: int | None = None


def csv_frames(part: Part, layout: CsvLayout, stats: InputStats) -> Iterator[pl.DataFrame]:
    """The rows of a part of a CSV dataset, read as `dataset_batches` reads them, chunk for chunk: a file's
    header on its first line; a range inside a file takes that file's header width."""
    first_names = layout.names
    for segment in part.segments:
        if segment.start == 0:
            stats.files += 1
        elif layout.header:
            layout.width = len(_file_header(segment.path))
        first = segment.start == 0
        for chunk in chunks(segment):
            try:
                batch, header = read_csv(chunk, header=layout.header and first, names=layout.names,
                                         width=layout.width)
            except pl.exceptions.PolarsError as error:
                raise JobFailed(f"ClientError: {Path(segment.path).name} could not be read as CSV: its rows could "
                                "not be parsed (check its encoding, quoting and line ends)") from error
            if first and layout.header and first_names is None:
                first_names = layout.names = header
            first = False
            layout.width = batch.frame.width or layout.width
            stats.count(WRONG_WIDTH, batch.bad_rows)
            stats.bytes += len(chunk)
            if batch.frame.height:
                yield batch.frame


def _file_header(path: str) -> list[str]:
    """A CSV file's header names: its first non-blank line."""
    with open(path, "rb") as handle:
        for line in handle:
            if line.strip():
                return read_csv(line, header=True)[1]
    return []


__all__ = ["PART_BYTES", "CsvLayout", "Part", "Segment", "chunks", "csv_frames", "line_cuts", "plan"]
