"""Endpoint capture files (spec §3.3) into analysable columns, as SageMaker's data-quality job does (§4.6).

Each capture line becomes one row: the endpointOutput's fields first, then the endpointInput's (the
baseline's `output_columns_position: START`; END puts the output last). CSV payloads are split on ','
(captured CSV has no quoting), JSON payloads must be flat (an object's values in order, an array's items,
or one scalar), BASE64 payloads are decoded and then read as CSV or JSON by their observedContentType.
Columns take the baseline's feature names by position, `_c0, _c1, ...` beyond them.

Envelopes are parsed by polars with an explicit schema; payloads are split by polars' CSV reader over the
joined payload text. Lines that are not JSON, records without data, undecodable BASE64, nested JSON and
multi-line payloads are counted by reason and left out; rows with an unexpected number of fields are
analysed (padded or truncated, like Spark) and counted. Records of shadow variants are skipped. With a
window, only records whose `inferenceTime` lies in [start, end) are kept.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from watchkeeper.analysis.columns import Tabular, column_names, read_lines, read_ndjson
from watchkeeper.analysis.states import EXACT_MOMENTS_MAX_ROWS
from watchkeeper.analysis.statistics import EXPECTATION_SAMPLE_ROWS, expected_classes, row_pattern, type_counts
from watchkeeper.analysis.types import TypeCounts
from watchkeeper.capture.direct import Layout, first_line, layout_of, split_piece
from watchkeeper.capture.direct_scan import SCAN_MIN_BYTES, scan_piece
from watchkeeper.capture.envelopes import (
    ANALYSIS_SCHEMA,
    ENDPOINT_INPUT,
    ENDPOINT_OUTPUT,
    SIDE_FIELDS,
    capture_lines,
    cut_capture_lines,
)
from watchkeeper.capture.payloads import BAD_BASE64, NESTED_JSON, side_text
from watchkeeper.capture.window import NO_TIME, parse_time, select_frame

__all__ = ["ANALYSIS_SCHEMA", "BAD_BASE64", "NESTED_JSON", "NO_TIME", "CaptureReader", "CaptureStats", "parse_time",
           "select_window"]

DEFAULT_INDICES = (ENDPOINT_INPUT, ENDPOINT_OUTPUT)

_SIDE = pl.Struct(
    {"observedContentType": pl.String, "mode": pl.String, "data": pl.String, "encoding": pl.String}
)
CAPTURE_SCHEMA = {
    "captureData": pl.Struct({ENDPOINT_INPUT: _SIDE, ENDPOINT_OUTPUT: _SIDE}),
    "eventMetadata": pl.Struct({"eventId": pl.String, "inferenceId": pl.String, "inferenceTime": pl.String,
                                "invocationSource": pl.String}),
    "eventVersion": pl.String,
}

# A batch of wide records is cut at about this much payload text (memory grows with values, not records),
# but holds more records than the moments' value-by-value path takes (analysis/states.py).
BATCH_BYTES = 64 << 20
WIDE_BATCH_MIN_ROWS = EXACT_MOMENTS_MAX_ROWS + 1
# Small files are read together in pieces of about this size (one parse each).
COALESCE_BYTES = 16 << 20
# Pieces read at once, each on its own thread.
PARSE_AHEAD = 2

# Reasons a record is not analysed (or, for WRONG_WIDTH, analysed but malformed), as reported.
UNPARSEABLE = "line is not a JSON capture record"
NO_DATA = "record has no captured data"
MULTI_LINE = "payload holds more than one line (use a record preprocessor)"
WRONG_WIDTH = "record has an unexpected number of columns"


@dataclass
class CaptureStats:
    """What reading capture files found. `bad` counts records by reason."""

    files: int = 0
    lines: int = 0
    out_of_window: int = 0
    shadow: int = 0
    rows: int = 0
    bad: Counter = field(default_factory=Counter)
    compiled: int = field(default=0, compare=False)  # lines read by the compiled pass (how, not what)

    def count(self, reason: str, n: int) -> None:
        if n:
            self.bad[reason] += n

    def add(self, other: CaptureStats) -> None:
        """Add what another reading (of another file, on another thread) found."""
        self.files += other.files
        self.lines += other.lines
        self.out_of_window += other.out_of_window
        self.shadow += other.shadow
        self.rows += other.rows
        self.bad.update(other.bad)
        self.compiled += other.compiled


@dataclass(frozen=True, slots=True)
class FilePart:
    """A later part of the file whose bytes came before it (cut at a line end), not another file: large
    files are read in parts so that memory does not grow with the file. A wrapper, not a subclass of bytes:
    making an instance of one copies the bytes twice."""

    data: bytes


Content = bytes | FilePart  # what a reader reads: a file's bytes, or a later part of the last file


def _file_bytes(content: Content, stats: CaptureStats) -> bytes:
    """The bytes of a file or part, counting the files as they arrive."""
    if isinstance(content, FilePart):
        return content.data
    stats.files += 1
    return content


def parse_envelopes(data: bytes, stats: CaptureStats, schema: dict = CAPTURE_SCHEMA) -> pl.DataFrame:
    """The capture lines of one file as a frame with `schema`; unparseable lines are counted."""
    return _counted(read_ndjson(data, schema), stats)


def _counted(batch: Tabular, stats: CaptureStats) -> pl.DataFrame:
    stats.lines += batch.frame.height + batch.bad_rows
    stats.count(UNPARSEABLE, batch.bad_rows)
    return batch.frame


def select_window(frame: pl.DataFrame, start: datetime | None, end: datetime | None,
                  stats: CaptureStats) -> pl.DataFrame:
    """The window rule (`capture/window.py`): shadow traffic skipped, and with a window only records whose
    inferenceTime lies in [start, end); what was left out is counted in `stats`."""
    frame, counts = select_frame(frame, start, end)
    stats.shadow += counts.shadow
    stats.out_of_window += counts.outside
    stats.count(NO_TIME, counts.no_time)
    return frame


def record_lines(frame: pl.DataFrame, indices: Sequence[str], output_first: bool,
                 stats: CaptureStats) -> pl.Series:
    """One comma-separated line per usable record of a frame of flat capture columns
    (`capture/envelopes.py`): output fields then input fields (or the reverse). A record with an
    undecodable side is left out whole (it was counted under that side's reason)."""
    order = [ENDPOINT_OUTPUT, ENDPOINT_INPUT] if output_first else [ENDPOINT_INPUT, ENDPOINT_OUTPUT]
    texts, failed = {}, pl.repeat(False, frame.height, eager=True)
    for side in order:
        if side in indices:
            sides = frame.select(pl.col(f"{side}.{name}").alias(name) for name in SIDE_FIELDS)
            texts[side], side_failed = side_text(sides, stats.count)
            failed = failed | side_failed
    if not texts:
        raise ValueError(f"captureIndexNames selects no capture side: {list(indices)}")
    line = pl.DataFrame(texts).select(pl.concat_str(pl.all(), separator=",", ignore_nulls=True)).to_series()
    empty = (line.is_null() | ~line.str.contains(r"\S")).fill_null(True)  # no copy, unlike strip_chars()
    multi = line.str.contains("\n", literal=True).fill_null(False)
    stats.count(NO_DATA, int((empty & ~failed).sum()))
    stats.count(MULTI_LINE, int(multi.sum()))
    dropped = empty | multi | failed
    return line.filter(~dropped) if dropped.any() else line  # filtering copies every line


def tabularise(lines: pl.Series, names: Sequence[str] | None, stats: CaptureStats,
               known: tuple[pl.Series, int] | None = None) -> Tabular:
    """Record lines into named string columns (width: the most common number of fields; `known` as in
    `read_lines`)."""
    if len(lines) == 0:
        return Tabular(pl.DataFrame(), 0)
    batch = read_lines(lines, names, known)
    stats.rows += batch.frame.height
    stats.count(WRONG_WIDTH, batch.bad_rows)
    return batch


class CaptureReader:
    """Reads capture files in order and yields batches of rows, accumulating small files into batches of
    about `batch_rows` records (larger batches are faster; the statistics do not depend on it but for the
    last 1-2 ulps of std_dev, which batches combine with Spark's partition merge)."""

    def __init__(
        self,
        *,
        names: Sequence[str] | None = None,
        start: str | datetime | None = None,
        end: str | datetime | None = None,
        indices: Sequence[str] | None = None,
        output_first: bool = True,
        batch_rows: int = 200_000,
    ) -> None:
        self.names = list(names or ())
        self.start = parse_time(start)
        self.end = parse_time(end)
        self.indices = list(indices or DEFAULT_INDICES)
        self.output_first = output_first
        self.batch_rows = batch_rows
        self.stats = CaptureStats()
        self._expected: dict[Layout, list[str | None]] = {}  # per layout, the classes of the last piece's values

    def records(self, contents: Iterable[Content]) -> Iterator[pl.DataFrame]:
        """Envelopes of the records in the window, file by file (whole records, for preprocessors)."""
        return self._parsed(contents, lambda data: read_ndjson(data, CAPTURE_SCHEMA))

    def _parsed(self, contents: Iterable[Content], parse: Callable[[bytes], Tabular]) -> Iterator[pl.DataFrame]:
        """`parse` of each file, the records in the window.

        The next file is parsed on a thread while the caller works on the current one: polars parses
        without the GIL, so the parse overlaps the caller's single-threaded numpy and Python work."""
        with ThreadPoolExecutor(1, thread_name_prefix="capture-parse") as pool:
            pending: Future | None = None
            for content in contents:
                parsing = pool.submit(parse, _file_bytes(content, self.stats))
                if pending is not None:
                    yield select_window(_counted(pending.result(), self.stats), self.start, self.end, self.stats)
                pending = parsing
            if pending is not None:
                yield select_window(_counted(pending.result(), self.stats), self.start, self.end, self.stats)

    def batches(self, contents: Iterable[Content]) -> Iterator[Tabular]:
        """Batches of `batch_rows` records or more; wide records (over BATCH_BYTES of payload text) in
        smaller batches, but never below WIDE_BATCH_MIN_ROWS, whose moments take the vectorised path.

        Batches are made one ahead on a thread, so reading and splitting the next batch (polars, without
        the GIL) overlaps the caller's statistics of this one."""
        return ahead(self._batches(contents))

    def _batches(self, contents: Iterable[Content]) -> Iterator[Tabular]:
        pending: list[pl.Series | Tabular] = []
        size = text = 0
        for lines, found in self._record_lines(contents):
            self.stats.add(found)
            rows = len(lines) if isinstance(lines, pl.Series) else lines.frame.height
            if rows == 0:
                continue
            pending.append(lines)
            size += rows
            text += int(lines.str.len_bytes().sum() or 0) if isinstance(lines, pl.Series) \
                else lines.frame.estimated_size()
            if size >= self.batch_rows or (text >= BATCH_BYTES and size >= WIDE_BATCH_MIN_ROWS):
                yield self._batch(pending)
                pending, size, text = [], 0, 0
        if size:
            yield self._batch(pending)

    def _batch(self, pending: list[pl.Series | Tabular]) -> Tabular:
        """One batch of pieces: split already when every piece was split directly into the same columns
        (their type counts added up); else all as record lines (the most common width decides, as for any
        lines)."""
        first = pending[0]
        if all(isinstance(part, Tabular) and part.frame.columns == first.frame.columns for part in pending):
            frame = pl.concat([part.frame for part in pending])
            self.stats.rows += frame.height
            counts = [functools.reduce(TypeCounts.merge, column) for column in
                      zip(*(part.type_counts for part in pending), strict=True)]
            return Tabular(frame, 0, counts)
        return self._tabular(pl.concat([_joined(part.frame) if isinstance(part, Tabular) else part
                                        for part in pending]))

    def _record_lines(self, contents: Iterable[Content]) -> Iterator[tuple[pl.Series | Tabular, CaptureStats]]:
        """Each piece's record lines (or split columns) in the window, with what reading it found, in order.
        PARSE_AHEAD pieces are read at once on their own threads while the one before is batched and the
        one before that folded in: a piece's split is mostly single-threaded polars work (one string
        column), so two at once keep both cores busy."""
        with ThreadPoolExecutor(PARSE_AHEAD, thread_name_prefix="capture-parse") as pool:
            pending: deque[Future] = deque()
            for data in _coalesced(contents, self.stats):
                pending.append(pool.submit(self._file_lines, data))
                if len(pending) > PARSE_AHEAD:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def _file_lines(self, data: bytes) -> tuple[pl.Series | Tabular, CaptureStats]:
        """A piece's record lines, or its analysed columns already split when all its lines take the
        direct route (`capture/direct.py`)."""
        found = CaptureStats()
        direct = self._split_directly(data, found)
        if direct is not None:
            return direct, found
        lines = capture_lines(data)  # read once: the envelope route takes them when it can
        frame = select_window(_counted(cut_capture_lines(data, lines), found), self.start, self.end, found)
        if frame.height == 0:
            return pl.Series("line", [], dtype=pl.String), found
        return record_lines(frame, self.indices, self.output_first, found), found

    def _split_directly(self, data: bytes, found: CaptureStats) -> Tabular | None:
        line = first_line(data)
        layout = layout_of(line, self.indices, self.output_first) if line is not None else None
        if layout is None:
            return None
        names = column_names(len(layout.analysed), self.names)
        # A large piece takes the compiled pass (capture/direct_scan.py) when it can; any other, the polars one.
        split = scan_piece(data, layout, names, self.start, self.end) if len(data) >= SCAN_MIN_BYTES else None
        found.compiled += split.lines if split is not None else 0
        if split is None:
            split = split_piece(data, layout, names, self.start, self.end, self._expected.get(layout))
            if split is None:
                return None
            # The classes every line had are the next piece's guess; after a miss, the next piece guesses anew.
            if split.every_hit:
                self._expected[layout] = split.expected
            else:
                self._expected.pop(layout, None)
        found.lines += split.lines
        found.shadow += split.window.shadow
        found.out_of_window += split.window.outside
        found.count(NO_TIME, split.window.no_time)
        return Tabular(split.frame, 0, split.type_counts)

    def _tabular(self, lines: pl.Series) -> Tabular:
        """The batch with its type counts, made here, on the reader's thread, so that the caller's thread
        has only to fold the batch in. The first records guess each column's class; one pattern match per
        line then tells both which lines have those classes (`statistics.type_counts`) and that they have
        the guessed number of fields (so only the other lines' fields are counted)."""
        sample = read_lines(lines.head(EXPECTATION_SAMPLE_ROWS), self.names).frame
        expected = expected_classes(sample)
        hits = lines.str.contains(row_pattern(expected)).fill_null(False) if any(expected) else None
        batch = tabularise(lines, self.names, self.stats, None if hits is None else (hits, sample.width))
        if batch.frame.width != sample.width:  # the first records were not typical: count without a guess
            expected, hits = expected_classes(batch.frame), None
        return batch._replace(type_counts=type_counts(batch.frame, expected, lines, hits))


def _coalesced(contents: Iterable[Content], stats: CaptureStats) -> Iterator[bytes]:
    """The files' bytes, small files joined (in order, each ending with a newline) into pieces of about
    COALESCE_BYTES: every parse has a fixed cost, which hundreds of small capture files would pay each. A
    large file or part is never joined (the small ones before it go first): the join would copy it.
    Files are counted here, as they arrive."""
    group: list[bytes] = []
    size = 0
    for content in contents:
        data = _file_bytes(content, stats)
        if not data:
            continue
        if group and len(data) >= COALESCE_BYTES:  # a large piece on its own: joining would copy it whole
            yield group[0] if len(group) == 1 else b"".join(group)
            group, size = [], 0
        group.append(data if data.endswith(b"\n") else bytes(data) + b"\n")
        size += len(data)
        if size >= COALESCE_BYTES:
            yield group[0] if len(group) == 1 else b"".join(group)
            group, size = [], 0
    if group:
        yield group[0] if len(group) == 1 else b"".join(group)


def _joined(frame: pl.DataFrame) -> pl.Series:
    """Split rows back into record lines (a null field was an empty one)."""
    return frame.select(pl.concat_str(pl.all().fill_null(""), separator=",").alias("line")).to_series()


_DONE = object()


def ahead(items: Iterator[Tabular]) -> Iterator[Tabular]:
    """`items`, each made on a thread while the caller works on the one before (at most one waiting)."""
    handoff: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(entry: tuple) -> bool:
        """Hand over one entry; False once the caller has stopped listening."""
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not offer((item, None)):
                    return
            offer((_DONE, None))
        except BaseException as error:  # handed to the caller, raised there
            offer((_DONE, error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # on this thread, where the generator runs

    worker = threading.Thread(target=make, name="capture-batches", daemon=True)
    worker.start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        worker.join()
