"""Reading a job's input: the files of a source, dataset batches (CSV, JSON, Parquet), capture records
and raw text lines. The analyzers read through these functions only."""

from __future__ import annotations

import mmap
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import polars as pl

from watchkeeper.analysis.columns import Tabular, flatten_nested, read_csv, read_ndjson, spark_json_columns
from watchkeeper.jobs.toolkit.formats import DatasetFormat
from watchkeeper.jobs.toolkit.summary import BAD_JSON, NO_DATA_REASON, WRONG_WIDTH, JobFailed

if TYPE_CHECKING:  # the capture reader is imported by the jobs that read capture, when they do
    from watchkeeper.capture.reader import CaptureReader, FilePart

CSV_CHUNK_BYTES = 32 << 20  # CSV files are read in chunks of about this size, cut at line ends
# Capture files are parsed in parts of about this size, cut at line ends. Under 32 MB, glibc's largest
# dynamic mmap threshold, a part's copy reuses memory freed by the parts before it: at 32 MB every part was
# mapped anew, page by page (JSON capture: 40 % fewer page faults, 150 MB less peak).
CAPTURE_PART_BYTES = 24 << 20
BATCH_ROWS = 200_000  # rows per state update when reading JSON, Parquet and preprocessor output

ProgressFn = Callable[[int], None]  # called with the number of input bytes just processed


@dataclass
class InputStats:
    """What reading the input found: files, bytes, and bad records by reason."""

    files: int = 0
    bytes: int = 0
    bad: Counter = field(default_factory=Counter)

    def count(self, reason: str, n: int) -> None:
        if n:
            self.bad[reason] += n


def list_files(source: str | os.PathLike[str]) -> list[Path]:
    """A file, or every file under a folder (recursively, in path order; hidden files and Spark/Hadoop
    markers such as `_SUCCESS` left out)."""
    root = Path(source)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise JobFailed(f"{NO_DATA_REASON}: {str(root)!r} does not exist")
    return sorted(
        path for path in root.rglob("*")
        if path.is_file() and not any(part.startswith((".", "_")) for part in path.relative_to(root).parts)
    )


def _read_chunks(path: Path, chunk_bytes: int = CSV_CHUNK_BYTES) -> Iterator[bytes]:
    """A file in chunks that end at a line end: the last one before each multiple of `chunk_bytes` (a
    stretch with none joins the next). Each chunk is copied once, from the mapped file."""
    size = path.stat().st_size
    if size == 0:
        return
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped, \
            memoryview(mapped) as view:
        start, boundary = 0, 0
        while boundary < size:
            boundary = min(boundary + chunk_bytes, size)
            cut = mapped.rfind(b"\n", start, boundary) + 1
            if cut > start:
                chunk = bytes(view[start:cut])
                _release(mapped, start, cut)
                yield chunk
                start = cut
        if start < size:  # a last line without a line end
            yield bytes(view[start:size])


def _release(mapped: mmap.mmap, start: int, end: int) -> None:
    """Unmap the whole pages of a stretch already copied, so that a large file's mapped pages do not add to
    the process's memory while its later parts are read."""
    low = -(-start // mmap.PAGESIZE) * mmap.PAGESIZE
    high = end // mmap.PAGESIZE * mmap.PAGESIZE
    if high > low and hasattr(mmap, "MADV_DONTNEED"):
        mapped.madvise(mmap.MADV_DONTNEED, low, high - low)


def dataset_batches(files: Sequence[Path], fmt: DatasetFormat, stats: InputStats,
                    progress: ProgressFn | None = None,
                    names: Sequence[str] | None = None) -> Iterator[pl.DataFrame]:
    """Batches of rows of a CSV, JSON (Lines) or Parquet dataset, columns in the dataset's order. CSV
    without a header takes `names` (the baseline's) by position."""
    names = list(names) if names and not fmt.header else None
    width: int | None = None
    for path in files:
        stats.files += 1
        if fmt.kind == "csv":
            first = True
            for chunk in _read_chunks(path):
                # Spark reads a header from the first line of every file; the first file's names count.
                try:
                    batch, header = read_csv(chunk, header=fmt.header and first, names=names, width=width)
                except pl.exceptions.PolarsError as error:
                    raise JobFailed(f"ClientError: {path.name} could not be read as CSV: its rows could not be "
                                    "parsed (check its encoding, quoting and line ends)") from error
                if first and fmt.header and width is None:
                    names = header
                first = False
                width = batch.frame.width or width
                stats.count(WRONG_WIDTH, batch.bad_rows)
                stats.bytes += len(chunk)
                if progress:
                    progress(len(chunk))
                if batch.frame.height:
                    yield batch.frame
        elif fmt.kind == "json":
            data = path.read_bytes()
            if fmt.lines:
                batch = read_ndjson(data)
            else:
                batch = Tabular(_json_document(data, path), 0)
            stats.count(BAD_JSON, batch.bad_rows)
            stats.bytes += len(data)
            if progress:
                progress(len(data))
            frame = spark_json_columns(flatten_nested(batch.frame))
            if frame.height:
                yield frame
        elif fmt.kind == "parquet":
            import pyarrow.parquet as pq  # ~0.3 s to import: only for Parquet datasets

            parquet = pq.ParquetFile(path)
            size = path.stat().st_size
            for record_batch in parquet.iter_batches(batch_size=BATCH_ROWS):
                frame = flatten_nested(pl.from_arrow(record_batch))
                share = size * record_batch.num_rows // max(parquet.metadata.num_rows, 1)
                stats.bytes += share
                if progress:
                    progress(share)
                yield frame
        else:
            raise JobFailed(f"dataset format {fmt.kind!r} is not a dataset")


def _json_document(data: bytes, path: Path) -> pl.DataFrame:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise JobFailed(f"{path.name} is not JSON ({error}); for JSON Lines use {{\"json\": {{\"lines\": true}}}}") \
            from error
    records = value if isinstance(value, list) else [value]
    if not all(isinstance(record, dict) for record in records):
        raise JobFailed(f"{path.name}: a JSON dataset must hold an object or a list of objects")
    return pl.from_dicts(records, infer_schema_length=None) if records else pl.DataFrame()



def open_capture_reader(fmt: DatasetFormat, names: Sequence[str] | None, start: object, end: object) -> CaptureReader:
    """A reader of capture (or merged) records in [start, end) with the format's capture sides."""
    from watchkeeper.capture.reader import CaptureReader

    return CaptureReader(names=names, start=start, end=end, indices=fmt.capture_indices,
                         output_first=fmt.output_first, batch_rows=BATCH_ROWS)


def capture_batches(files: Sequence[Path], reader: CaptureReader,
                    progress: ProgressFn | None) -> Iterator[Tabular]:
    """Batches of rows of capture records, with their type counts (`DatasetState.update` takes both); the
    reader counts bad, out-of-window and shadow records."""
    return reader.batches(file_contents(files, progress))


def file_contents(files: Sequence[Path], progress: ProgressFn | None,
                  part_bytes: int = CAPTURE_PART_BYTES) -> Iterator[bytes | FilePart]:
    """The bytes of each file; a file larger than `part_bytes` in parts cut at line ends, every part after
    the first a `FilePart` (of the same file)."""
    from watchkeeper.capture.reader import FilePart

    for path in files:
        parts = [path.read_bytes()] if path.stat().st_size <= part_bytes else _read_chunks(path, part_bytes)
        for index, data in enumerate(parts):
            if progress:
                progress(len(data))
            yield FilePart(data) if index else data


def input_size(source: str | os.PathLike[str]) -> int:
    """Total bytes of the input files (for progress bars)."""
    try:
        return sum(path.stat().st_size for path in list_files(source))
    except JobFailed:
        return 0



def text_lines(files: Sequence[Path], **columns: str) -> pl.DataFrame:
    """The non-blank lines of files as a `line` column, with constant `columns` added."""
    frames = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
        frame = pl.DataFrame({"line": [line for line in text if line.strip()]}, schema={"line": pl.String})
        frames.append(frame.with_columns(*(pl.lit(v).alias(k) for k, v in columns.items())) if columns else frame)
    return (
        pl.concat(frames) if frames else pl.DataFrame(schema={"line": pl.String, **dict.fromkeys(columns, pl.String)})
    )


def capture_lines(source: Path) -> pl.DataFrame:
    """Every capture line with the endpoint and variant of its folder (`<endpoint>/<variant>/yyyy/mm/dd/hh/`)."""
    frames = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        parts = path.relative_to(source).parts
        endpoint, variant = (parts[-7], parts[-6]) if len(parts) >= 7 else ("endpoint", "AllTraffic")
        frames.append(text_lines([path], endpoint=endpoint, variant=variant))
    if not frames:
        return pl.DataFrame(schema={"line": pl.String, "endpoint": pl.String, "variant": pl.String})
    return pl.concat(frames)
