"""The built-in data-quality analyzer as a job: what SageMaker runs as `sagemaker-model-monitor-analyzer`.

The I/O layer around `watchkeeper.analysis`: it reads a dataset or a capture folder, runs the record
preprocessor and post-analytics scripts (spec §4.4, §4.5), writes `statistics.json`, `constraints.json`
and (when analysing against a baseline) `constraint_violations.json`, and returns a `JobSummary`.

- `suggest_baseline(...)` and `analyze(...)` are the library entries (the CLI calls them);
- `run_environment(environment)` takes the processing job's container Environment of spec §4.2
  (`dataset_source`, `output_path`, `dataset_format`, `baseline_statistics`, ...) as a processing-job
  runner has it, and decides between the two as the container does.

A job that cannot complete raises `JobFailed`, whose text is the FailureReason AWS would give (for example
"Job inputs had no data"). Script output and tracebacks go to the job log.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import json
import logging
import os
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

import orjson
import polars as pl
import pyarrow.parquet as pq

from watchkeeper.analysis import aws_json
from watchkeeper.analysis.columns import (
    Tabular,
    column_names,
    flatten_nested,
    read_csv,
    read_ndjson,
    spark_json_columns,
)
from watchkeeper.analysis.statistics import DatasetState, feature_names
from watchkeeper.capture import reader as capture_reader
from watchkeeper.capture.reader import CaptureReader, CaptureStats, parse_time

NO_DATA_REASON = "Job inputs had no data"
PREPROCESSOR_FAILURE = (
    "There is an exception raised in preprocessor script. Please double check the preprocessor script."
)
POSTPROCESSOR_MISSING = "PostProcess Handler not implemented correctly in customer analysis script."

STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
VIOLATIONS_FILE = "constraint_violations.json"

CSV_CHUNK_BYTES = 32 << 20  # CSV files are read in chunks of about this size, cut at line ends
BATCH_ROWS = 200_000  # rows per state update when reading JSON, Parquet and preprocessor output

ProgressFn = Callable[[int], None]  # called with the number of input bytes just processed


class JobFailed(Exception):
    """The job cannot complete; `str(error)` is the failure reason for the message file."""


# --------------------------------------------------------------------------------------- dataset format


@dataclass(frozen=True)
class DatasetFormat:
    """The container's `dataset_format` (spec §4.2)."""

    kind: str  # "csv" | "json" | "parquet" | "capture" | "merge"
    header: bool = False
    lines: bool = True
    output_columns_position: str = "START"
    capture_indices: tuple[str, ...] = ("endpointInput", "endpointOutput")

    @property
    def output_first(self) -> bool:
        return self.output_columns_position.upper() != "END"

    @classmethod
    def parse(cls, value: str | Mapping[str, Any] | None) -> DatasetFormat:
        """`{"csv": {"header": true, "output_columns_position": "START"}}`, `{"json": {"lines": true}}`,
        `{"parquet": {}}`, `{"sagemakerCaptureJson": {"captureIndexNames": [...]}}`, ... (a JSON string or
        a dict; the SDK's `DatasetFormat.*()` dicts and the API's `{"Csv": {"Header": ...}}` spelling)."""
        if value is None:
            return cls("csv")
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise JobFailed(f"ClientError: dataset_format is not JSON ({exc}): {value[:200]!r}") from None
        if not isinstance(value, Mapping) or not all(
            isinstance(options, Mapping | None) for key, options in value.items() if key.lower() != "compression"
        ):
            raise JobFailed(
                f"ClientError: dataset_format must be a JSON object such as {{\"csv\": {{}}}}, got {value!r:.200}"
            )
        formats = {k: v for k, v in value.items() if k.lower() != "compression"}
        if len(formats) != 1:
            raise JobFailed(f"dataset_format must name exactly one format, got {sorted(formats)}")
        (key, options), = formats.items()
        options = {_snake(k): v for k, v in (options or {}).items()}
        key = key.lower()
        if key == "csv":
            return cls("csv", header=_flag(options.get("header", False)),
                       output_columns_position=str(options.get("output_columns_position", "START")))
        if key == "json":
            return cls("json", lines=_flag(options.get("lines", options.get("line", True))),
                       output_columns_position=str(options.get("output_columns_position", "START")))
        if key == "parquet":
            return cls("parquet", output_columns_position=str(options.get("output_columns_position", "START")))
        if key in ("sagemakercapturejson", "sagemakermergejson"):
            indices = tuple(options.get("capture_index_names") or ("endpointInput", "endpointOutput"))
            return cls("capture" if key == "sagemakercapturejson" else "merge", capture_indices=indices,
                       output_columns_position=str(options.get("output_columns_position", "START")))
        raise JobFailed(f"Unsupported dataset_format {key!r}: use csv, json, parquet or sagemakerCaptureJson")


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


# ------------------------------------------------------------------------------------------ job log


class JobLog:
    """The job's log: a text stream (stderr by default) that scripts' prints and tracebacks go to."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.logger = logging.getLogger(f"watchkeeper.job.{id(self)}")
        self.logger.propagate = False
        handler = logging.StreamHandler(self.stream)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        self.logger.handlers = [handler]
        self.logger.setLevel(logging.INFO)

    def info(self, message: str) -> None:
        self.stream.write(message.rstrip("\n") + "\n")
        self.stream.flush()

    @contextlib.contextmanager
    def capturing(self) -> Iterator[None]:
        """Send prints of the code run inside to the log."""
        with contextlib.redirect_stdout(self.stream), contextlib.redirect_stderr(self.stream):
            yield


# ------------------------------------------------------------------------------------------- scripts


def _load_script(path: str | os.PathLike[str], module_name: str, log: JobLog, what: str) -> ModuleType:
    path = Path(path)
    if not path.is_file():
        raise JobFailed(f"The {what} script {str(path)!r} does not exist.")
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    try:
        with log.capturing():
            spec.loader.exec_module(module)  # type: ignore[union-attr]
    except Exception as error:
        raise _script_failure(error, path, f"The {what} script could not be loaded.", log) from error
    return module


def _script_failure(error: BaseException, script: Path, lead: str, log: JobLog) -> JobFailed:
    """A JobFailed naming the script, the line in it and the exception; the traceback goes to the log."""
    log.info("".join(traceback.format_exception(error)))
    line = getattr(error, "lineno", None) if isinstance(error, SyntaxError) else None
    for frame in traceback.extract_tb(error.__traceback__):
        if Path(frame.filename).resolve() == script.resolve():
            line = frame.lineno
    where = f"{script.name}, line {line}" if line else script.name
    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return JobFailed(f"{lead} {detail} ({where})")


class Preprocessor:
    """A record preprocessor script (spec §4.4): `preprocess_handler(inference_record[, logger])`."""

    def __init__(self, path: str | os.PathLike[str], log: JobLog) -> None:
        self.path = Path(path)
        self.log = log
        module = _load_script(self.path, "preprocessor", log, "record preprocessor")
        handler = getattr(module, "preprocess_handler", None)
        if not callable(handler):
            raise JobFailed(f"The record preprocessor script {self.path.name} does not define "
                            "preprocess_handler(inference_record).")
        self.handler = handler
        self.with_logger = "logger" in inspect.signature(handler).parameters

    def rows(self, records: Iterable[Any]) -> Iterator[dict[str, Any]]:
        """The flat dicts the handler returns for each record ([] drops one; a list of dicts is several)."""
        for record in records:
            try:
                with self.log.capturing():
                    result = self.handler(record, self.log.logger) if self.with_logger else self.handler(record)
            except Exception as error:
                raise _script_failure(error, self.path, PREPROCESSOR_FAILURE, self.log) from error
            if isinstance(result, Mapping):
                yield dict(result)
            elif isinstance(result, list) and all(isinstance(item, Mapping) for item in result):
                yield from (dict(item) for item in result)  # [] drops the record
            elif result is not None:
                raise JobFailed(f"{PREPROCESSOR_FAILURE} preprocess_handler must return a flat dict (or [] "
                                f"to drop the record), got {type(result).__name__} ({self.path.name})")


class EventData:
    """One side of a capture record, as the container's wrapper hands it to preprocessors."""

    def __init__(self, side: Mapping[str, Any] | None) -> None:
        side = side or {}
        self.observedContentType = side.get("observedContentType")
        self.mode = side.get("mode")
        self.data = side.get("data")
        self.encoding = side.get("encoding")


class EventMetadata:
    def __init__(self, metadata: Mapping[str, Any] | None) -> None:
        metadata = metadata or {}
        self.event_id = metadata.get("eventId")
        self.inference_id = metadata.get("inferenceId")
        self.event_time = metadata.get("inferenceTime")
        self.custom_attribute = metadata.get("customAttributes")


class CapturedData:
    """The `inference_record` a preprocessor receives for capture data (spec §4.4)."""

    def __init__(self, record: Mapping[str, Any]) -> None:
        capture = record.get("captureData") or {}
        self.event_dict = dict(record)
        self.event_metadata = EventMetadata(record.get("eventMetadata"))
        self.endpoint_input = EventData(capture.get("endpointInput")) if "endpointInput" in capture else None
        self.endpoint_output = EventData(capture.get("endpointOutput")) if "endpointOutput" in capture else None
        self.batch_transform_output = (EventData(capture.get("batchTransformOutput"))
                                       if "batchTransformOutput" in capture else None)
        self.ground_truth = EventData(record["groundTruthData"]) if "groundTruthData" in record else None
        self.event_version = record.get("eventVersion")

    def as_dict(self) -> dict[str, Any]:
        return self.event_dict


def _rows_to_frames(rows: Iterable[dict[str, Any]], names: Sequence[str] | None) -> Iterator[pl.DataFrame]:
    """Preprocessor output in batches. Keys sort as Spark's JSON reader orders them; all-digit keys (the
    docs' zero-padded indices) are positions, named from the baseline."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            yield _frame_from_dicts(batch, names)
            batch = []
    if batch:
        yield _frame_from_dicts(batch, names)


def _frame_from_dicts(rows: list[dict[str, Any]], names: Sequence[str] | None) -> pl.DataFrame:
    keys = sorted({key for row in rows for key in row})
    try:
        frame = pl.from_dicts(rows, schema=keys, infer_schema_length=None)
    except Exception:  # values of mixed types under one key: read them all as text
        frame = pl.from_dicts([{k: _text(v) for k, v in row.items()} for row in rows],
                              schema=dict.fromkeys(keys, pl.String))
    frame = flatten_nested(frame)
    if keys and all(key.isdigit() for key in keys):
        frame = frame.rename(dict(zip(keys, column_names(len(keys), names), strict=True)))
    return frame


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


# -------------------------------------------------------------------------------------------- inputs


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
    """A file in chunks that end at a line end."""
    with open(path, "rb") as handle:
        rest = b""
        while True:
            block = handle.read(chunk_bytes)
            if not block:
                break
            block = rest + block
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                rest = block
                continue
            rest = block[cut:]
            yield block[:cut]
        if rest:
            yield rest


WRONG_WIDTH = "row has an unexpected number of columns"
BAD_JSON = "line is not a JSON object"


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
                batch, header = read_csv(chunk, header=fmt.header and first, names=names, width=width)
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


def _preprocessed_dataset_batches(files: Sequence[Path], fmt: DatasetFormat, preprocessor: Preprocessor,
                                  names: Sequence[str] | None, stats: InputStats,
                                  progress: ProgressFn | None) -> Iterator[pl.DataFrame]:
    """Dataset records through the preprocessor: CSV lines as text (newline included), JSON records
    parsed (spec §4.4)."""
    def records() -> Iterator[Any]:
        for path in files:
            stats.files += 1
            data = path.read_bytes()
            stats.bytes += len(data)
            if progress:
                progress(len(data))
            if fmt.kind == "csv":
                lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
                yield from (line for line in lines[1 if fmt.header else 0:] if line.strip())
            elif fmt.lines:
                for line in data.splitlines():
                    if line.strip():
                        try:
                            yield orjson.loads(line)
                        except orjson.JSONDecodeError:
                            stats.count(BAD_JSON, 1)
            else:
                value = orjson.loads(data)
                yield from (value if isinstance(value, list) else [value])

    return _rows_to_frames(preprocessor.rows(records()), names)


def _preprocessed_capture_batches(files: Sequence[Path], reader: CaptureReader, preprocessor: Preprocessor,
                                  progress: ProgressFn | None) -> Iterator[pl.DataFrame]:
    def records() -> Iterator[CapturedData]:
        for frame in reader.records(_file_contents(files, progress)):
            for record in frame.to_dicts():
                yield CapturedData(_without_nulls(record))

    return _rows_to_frames(preprocessor.rows(records()), reader.names)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def _file_contents(files: Sequence[Path], progress: ProgressFn | None) -> Iterator[bytes]:
    for path in files:
        data = path.read_bytes()
        if progress:
            progress(len(data))
        yield data


def input_size(source: str | os.PathLike[str]) -> int:
    """Total bytes of the input files (for progress bars)."""
    try:
        return sum(path.stat().st_size for path in list_files(source))
    except JobFailed:
        return 0


# ------------------------------------------------------------------------------------------- summary


@dataclass
class JobSummary:
    """What a job did: rows analysed, bad records by reason, violations, and the output message."""

    item_count: int
    bad_records: dict[str, int]
    message: str
    output_path: Path
    outputs: list[str]
    statistics: dict[str, Any]
    constraints: dict[str, Any] | None = None
    violations: list[dict[str, str]] | None = None
    input_files: int = 0
    skipped_records: dict[str, int] = field(default_factory=dict)
    baseline_statistics: dict[str, Any] | None = None
    baseline_constraints: dict[str, Any] | None = None

    @property
    def bad_record_count(self) -> int:
        return sum(self.bad_records.values())

    def describe(self) -> str:
        """One line for people: the message, rows analysed and bad records."""
        bad = f", {self.bad_record_count} bad records" if self.bad_records else ""
        skipped = sum(self.skipped_records.values())
        skipped_text = f", {skipped} records skipped" if skipped else ""
        return f"{self.message} Analysed {self.item_count} rows from {self.input_files} files{bad}{skipped_text}."


# ---------------------------------------------------------------------------------------------- jobs


def _compute(source: str | os.PathLike[str], fmt: DatasetFormat, *, names: Sequence[str] | None,
             start_time: Any, end_time: Any, preprocessor: Preprocessor | None, log: JobLog,
             progress: ProgressFn | None) -> tuple[DatasetState, dict[str, int], dict[str, int], int]:
    if preprocessor is not None and fmt.kind == "parquet":
        raise JobFailed("Preprocessor script not supported for format parquet.")
    files = list_files(source)
    state = DatasetState()
    skipped: dict[str, int] = {}
    if fmt.kind in ("capture", "merge"):
        reader = CaptureReader(names=names, start=start_time, end=end_time, indices=fmt.capture_indices,
                               output_first=fmt.output_first, batch_rows=BATCH_ROWS)
        if preprocessor is not None:
            frames = _preprocessed_capture_batches(files, reader, preprocessor, progress)
        else:
            frames = (batch.frame for batch in reader.batches(_file_contents(files, progress)))
        for frame in frames:
            state.update(frame)
        bad = dict(reader.stats.bad)
        if reader.stats.out_of_window:
            skipped["outside the analysis window"] = reader.stats.out_of_window
        if reader.stats.shadow:
            skipped["shadow variant traffic"] = reader.stats.shadow
        file_count = reader.stats.files
    else:
        stats = InputStats()
        if preprocessor is not None:
            frames = _preprocessed_dataset_batches(files, fmt, preprocessor, names, stats, progress)
        else:
            frames = dataset_batches(files, fmt, stats, progress, names)
        for frame in frames:
            state.update(frame)
        bad = dict(stats.bad)
        file_count = stats.files
    for reason, count in sorted(bad.items()):
        log.info(f"Bad records: {count} x {reason}")
    for reason, count in sorted(skipped.items()):
        log.info(f"Skipped records: {count} x {reason}")
    if state.item_count == 0:
        if any(bad.values()):
            if fmt.kind in ("capture", "merge"):
                records = reader.stats.lines - reader.stats.out_of_window - reader.stats.shadow
                where = "in the window" if start_time is not None or end_time is not None else "in the input"
            else:
                records, where = sum(bad.values()), "in the input"
            raise JobFailed(f"{records} records {where}, none parseable: {reason_counts(bad)}")
        raise JobFailed(NO_DATA_REASON)
    return state, bad, skipped, file_count


# Short names of bad-record reasons for the one-line message (the job log has the long ones).
SHORT_REASONS = {
    capture_reader.UNPARSEABLE: "not JSON",
    capture_reader.NO_DATA: "no captured data",
    capture_reader.BAD_BASE64: "BASE64 not UTF-8",
    capture_reader.NESTED_JSON: "nested JSON payload",
    capture_reader.MULTI_LINE: "multi-line payload",
    capture_reader.NO_TIME: "no inferenceTime",
    capture_reader.WRONG_WIDTH: "unexpected number of columns",
    WRONG_WIDTH: "unexpected number of columns",
    BAD_JSON: "not JSON",
}
# Counted as bad, but analysed all the same (padded or cut, as Spark does).
ANALYSED_ANYWAY = frozenset({capture_reader.WRONG_WIDTH, WRONG_WIDTH})
MAX_REASONS = 6  # reasons named in a message; the rest are summed


def reason_counts(counts: Mapping[str, int]) -> str:
    """`2 not JSON, 1 no captured data` (most frequent first, at most MAX_REASONS named)."""
    items = sorted(((r, n) for r, n in counts.items() if n), key=lambda item: (-item[1], item[0]))
    parts = [f"{n} {_clip(SHORT_REASONS.get(r, r))}" for r, n in items[:MAX_REASONS]]
    rest = items[MAX_REASONS:]
    if rest:
        parts.append(f"{sum(n for _, n in rest)} for {len(rest)} other reasons (see the job log)")
    return ", ".join(parts)


def _clip(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def bad_records_sentence(bad: Mapping[str, int], used: int, *, verb: str = "parsed") -> str:
    """What the completion message says about bad records ('' when there were none):
    `3 of 1000 records could not be parsed (2 not JSON, 1 no captured data).`"""
    lost = {r: n for r, n in bad.items() if n and r not in ANALYSED_ANYWAY}
    odd = sum(n for r, n in bad.items() if r in ANALYSED_ANYWAY)
    sentences = []
    if lost:
        total = sum(lost.values())
        sentences.append(f"{total} of {used + total} records could not be {verb} ({reason_counts(lost)}).")
    if odd:
        sentences.append(f"{odd} {'record' if odd == 1 else 'records'} had an unexpected number of columns "
                         "(analysed, padded or cut).")
    return " ".join(sentences)


def with_bad_records(message: str, bad: Mapping[str, int], used: int, *, verb: str = "parsed") -> str:
    """The completion message (it keeps its leading `Completed:` / `CompletedWithViolations:` word) with the
    bad-record counts, within ExitMessage's 1024 characters."""
    sentence = bad_records_sentence(bad, used, verb=verb)
    text = f"{message} {sentence}" if sentence else message
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


MAX_MESSAGE = 1024  # ExitMessage and FailureReason are at most 1024 characters


def _write(path: Path, document: Mapping[str, Any]) -> str:
    path.write_text(aws_json.dumps(document), encoding="utf-8")
    return path.name


def _post_process(script: str | os.PathLike[str] | None, environment: Mapping[str, str] | None,
                  log: JobLog) -> None:
    """Run `postprocess_handler()` with the job's Environment exported (spec §4.5)."""
    if not script:
        return
    path = Path(script)
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in (environment or {}).items() if v})
    try:
        module = _load_script(path, "postprocessor", log, "post-analytics processor")
        handler = getattr(module, "postprocess_handler", None)
        if not callable(handler):
            raise JobFailed(POSTPROCESSOR_MISSING)
        try:
            with log.capturing():
                handler()
        except Exception as error:
            raise _script_failure(error, path, "There is an exception raised in post-analytics processor "
                                  "script. Please double check the post-analytics processor script.",
                                  log) from error
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _monitoring_config(override_method: str | None) -> dict[str, Any] | None:
    if not override_method:
        return None
    from watchkeeper.analysis.suggest import default_monitoring_config

    config = default_monitoring_config()
    config["distribution_constraints"]["categorical_drift_method"] = override_method
    return config


def suggest_baseline(
    dataset_source: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    dataset_format: str | Mapping[str, Any] | DatasetFormat | None = None,
    *,
    record_preprocessor_script: str | os.PathLike[str] | None = None,
    post_analytics_processor_script: str | os.PathLike[str] | None = None,
    monitoring_config: Mapping[str, Any] | None = None,
    categorical_drift_method: str | None = None,
    environment: Mapping[str, str] | None = None,
    log: JobLog | None = None,
    progress: ProgressFn | None = None,
) -> JobSummary:
    """A baselining job: statistics.json and suggested constraints.json of a dataset (spec §6.2)."""
    log = log or JobLog()
    fmt = dataset_format if isinstance(dataset_format, DatasetFormat) else DatasetFormat.parse(dataset_format)
    preprocessor = Preprocessor(record_preprocessor_script, log) if record_preprocessor_script else None
    state, bad, skipped, files = _compute(dataset_source, fmt, names=None, start_time=None, end_time=None,
                                          preprocessor=preprocessor, log=log, progress=progress)
    statistics = state.to_document()
    constraints = _suggest(statistics, monitoring_config or _monitoring_config(categorical_drift_method))
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    outputs = [_write(out / STATISTICS_FILE, statistics)]
    if constraints is not None:
        outputs.append(_write(out / CONSTRAINTS_FILE, constraints))
    _post_process(post_analytics_processor_script, environment, log)
    message = with_bad_records(_completion([]), bad, state.item_count)
    return JobSummary(state.item_count, bad, message, out, outputs, statistics, constraints,
                      input_files=files, skipped_records=skipped)


def analyze(
    dataset_source: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    dataset_format: str | Mapping[str, Any] | DatasetFormat | None = None,
    *,
    baseline_statistics: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    baseline_constraints: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    start_time: Any = None,
    end_time: Any = None,
    record_preprocessor_script: str | os.PathLike[str] | None = None,
    post_analytics_processor_script: str | os.PathLike[str] | None = None,
    environment: Mapping[str, str] | None = None,
    log: JobLog | None = None,
    progress: ProgressFn | None = None,
) -> JobSummary:
    """A monitoring job: statistics.json of the data (capture records in [start_time, end_time), or a
    dataset), constraint_violations.json against the baseline, and constraints.json suggested from the
    data with the baseline's monitoring_config (the real report folder holds all three, spec §4.3)."""
    log = log or JobLog()
    fmt = dataset_format if isinstance(dataset_format, DatasetFormat) else DatasetFormat.parse(
        dataset_format or {"sagemakerCaptureJson": {}})
    base_stats = _load_document(baseline_statistics, "baseline statistics")
    base_constraints = _load_document(baseline_constraints, "baseline constraints")
    baseline_files = " and ".join(
        f"{what} {shown_path(value)}" for what, value in
        (("baseline statistics", baseline_statistics), ("baseline constraints", baseline_constraints))
        if value is not None
    )
    names = feature_names(base_stats or base_constraints or {}) or None
    preprocessor = Preprocessor(record_preprocessor_script, log) if record_preprocessor_script else None
    try:
        start, end = parse_time(start_time), parse_time(end_time)
    except ValueError as error:
        raise JobFailed(f"Invalid analysis window: {error}") from error
    state, bad, skipped, files = _compute(dataset_source, fmt, names=names, start_time=start, end_time=end,
                                          preprocessor=preprocessor, log=log, progress=progress)
    statistics = state.to_document()
    config = (base_constraints or {}).get("monitoring_config")
    violations = None
    try:
        constraints = _suggest(statistics, config)
        if base_constraints is not None:
            violations = _violations(base_stats, statistics, base_constraints, state)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as error:
        raise JobFailed(f"ClientError: {baseline_files} could not be applied to the data: a value in them is not "
                        f"of the shape SageMaker writes ({type(error).__name__}: {error})") from error
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    outputs = [_write(out / STATISTICS_FILE, statistics)]
    if constraints is not None:
        outputs.append(_write(out / CONSTRAINTS_FILE, constraints))
    if violations is not None:
        outputs.append(_write(out / VIOLATIONS_FILE, _violations_document(violations)))
    _post_process(post_analytics_processor_script, environment, log)
    message = with_bad_records(_completion(violations or []), bad, state.item_count)
    return JobSummary(state.item_count, bad, message, out, outputs, statistics, constraints, violations,
                      input_files=files, skipped_records=skipped, baseline_statistics=base_stats,
                      baseline_constraints=base_constraints)


def shown_path(value: Any) -> str:
    """A file as the job sees it: `/opt/ml/...` rather than the job root's folder on the host."""
    if isinstance(value, Mapping):
        return "(given as a document)"
    text = str(value)
    root = os.environ.get("WATCHKEEPER_JOB_ROOT")
    if root:
        prefix = str(Path(root) / "opt" / "ml") + os.sep
        if text.startswith(prefix):
            return "/opt/ml/" + text[len(prefix):]
    return text


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), "null" if value is None else type(value).__name__)


def read_json_document(value: str | os.PathLike[str], what: str) -> Any:
    """A JSON file's value; a missing, unreadable, non-UTF-8 or non-JSON file fails the job with a reason
    that names the file (as the job sees it) and what is wrong."""
    path = Path(value)
    shown = shown_path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise JobFailed(f"The {what} file {shown!r} does not exist.") from error
    except IsADirectoryError as error:
        raise JobFailed(f"ClientError: {what} {shown} is a folder, not a JSON file") from error
    except OSError as error:
        raise JobFailed(f"ClientError: {what} {shown} cannot be read: {error.strerror or error}") from error
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise JobFailed(
            f"ClientError: {what} {shown} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}): expected a JSON document"
        ) from error
    if not text.strip():
        raise JobFailed(f"ClientError: {what} {shown} is empty: expected a JSON document")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise JobFailed(
            f"ClientError: {what} {shown} is not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    except RecursionError as error:
        raise JobFailed(f"ClientError: {what} {shown} is not JSON this analyzer reads: nested too deeply") from error


def check_feature_document(document: Any, what: str, shown: str) -> dict[str, Any]:
    """A data-quality statistics or constraints document: an object whose `features` is a list of objects
    with a `name` (spec §5); anything else fails the job saying what is wrong."""
    kind = "constraints" if "constraints" in what else "statistics"
    lead = f"ClientError: {what} {shown} is not a {kind} document"
    if not isinstance(document, dict):
        raise JobFailed(f'{lead}: expected a JSON object with "features", got {_json_type(document)}')
    if "features" not in document:
        keys = ", ".join(f'"{k}"' for k in list(document)[:8]) or "none"
        raise JobFailed(f'{lead}: expected a JSON object with "features", got an object without it (keys: {keys})')
    features = document["features"]
    if not isinstance(features, list):
        raise JobFailed(f'{lead}: "features" must be a list, got {_json_type(features)}')
    for i, feature in enumerate(features):
        if not isinstance(feature, dict):
            raise JobFailed(f'{lead}: "features"[{i}] must be an object, got {_json_type(feature)}')
        if not isinstance(feature.get("name"), str):
            raise JobFailed(f'{lead}: "features"[{i}] has no "name" string')
    if kind == "constraints" and not isinstance(document.get("monitoring_config", {}), dict):
        raise JobFailed(f'{lead}: "monitoring_config" must be an object, '
                        f"got {_json_type(document['monitoring_config'])}")
    return document


def _load_document(value: Any, what: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return check_feature_document(dict(value), what, shown_path(value))
    return check_feature_document(read_json_document(value, what), what, shown_path(value))


# The other half of the analyzer (suggestion, checks, report) is called through these, so the statistics
# path works on its own while that half is missing.


def _suggest(statistics: dict[str, Any], monitoring_config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    try:
        from watchkeeper.analysis.suggest import suggest_constraints
    except ImportError:
        return None
    return suggest_constraints(statistics, monitoring_config)


def _violations(baseline: dict[str, Any] | None, current: dict[str, Any], constraints: dict[str, Any],
                state: DatasetState) -> list[dict[str, str]] | None:
    try:
        from watchkeeper.analysis.checks import find_violations
    except ImportError:
        return None
    return find_violations(baseline, current, constraints, type_counts=state.type_counts())


def _violations_document(violations: list[dict[str, str]]) -> dict[str, Any]:
    try:
        from watchkeeper.analysis.report import violations_document
    except ImportError:
        return {"violations": violations}
    return violations_document(violations)


def _completion(violations: list[dict[str, str]]) -> str:
    try:
        from watchkeeper.analysis.report import completion_message
    except ImportError:
        n = len(violations)
        return ("Completed: Job completed successfully with no violations." if not n else
                f"CompletedWithViolations: Job completed successfully with {n} violations.")
    return completion_message(violations)


# ------------------------------------------------------------------------------------ container entry


def run_environment(
    environment: Mapping[str, str],
    *,
    log: JobLog | None = None,
    progress: ProgressFn | None = None,
    message_file: str | os.PathLike[str] | None = None,
) -> JobSummary:
    """Run the analyzer as the container does from its Environment (spec §4.2).

    With `baseline_constraints` or `baseline_statistics` it analyses (monitoring), else it suggests a
    baseline. The one-line message (ExitMessage, or FailureReason on failure) is written to
    `message_file` when given, and CloudWatch metric lines to `CLOUDWATCH_METRICS_DIRECTORY` when
    `publish_cloudwatch_metrics` is Enabled. Failures raise `JobFailed` after writing the message.
    """
    log = log or JobLog()
    try:
        summary = _run_environment(environment, log, progress)
    except JobFailed as error:
        _write_message(message_file, str(error))
        log.info(f"Job failed: {error}")
        raise
    except KeyError as error:
        reason = f"Missing required Environment entry {error.args[0]!r}"
        _write_message(message_file, reason)
        raise JobFailed(reason) from error
    _write_message(message_file, summary.message)
    return summary


def _run_environment(environment: Mapping[str, str], log: JobLog, progress: ProgressFn | None) -> JobSummary:
    if str(environment.get("analysis_type") or "").upper() == "MODEL_QUALITY":
        from watchkeeper.jobs.model_quality import run_model_quality  # imports this module: import late

        return run_model_quality(environment, log=log, progress=progress)
    source = environment["dataset_source"]
    output = environment["output_path"]
    fmt = DatasetFormat.parse(environment["dataset_format"])
    publish = str(environment.get("publish_cloudwatch_metrics", "Disabled")).lower() == "enabled"
    if publish and not environment.get("sagemaker_monitoring_schedule_name"):
        raise JobFailed("CloudWatch publishing is available only for jobs from MonitoringSchedules.")
    common = {
        "record_preprocessor_script": environment.get("record_preprocessor_script") or None,
        "post_analytics_processor_script": environment.get("post_analytics_processor_script") or None,
        "environment": environment,
        "log": log,
        "progress": progress,
    }
    log.info("Performing analysis with input: " + json.dumps({
        "dataset_source": source, "dataset_format": json.loads(environment["dataset_format"])
        if isinstance(environment["dataset_format"], str) else environment["dataset_format"],
        "output_path": output, "start_time": environment.get("start_time"),
        "end_time": environment.get("end_time"),
    }))
    if environment.get("baseline_constraints") or environment.get("baseline_statistics"):
        summary = analyze(
            source, output, fmt,
            baseline_statistics=environment.get("baseline_statistics") or None,
            baseline_constraints=environment.get("baseline_constraints") or None,
            start_time=environment.get("start_time") or None,
            end_time=environment.get("end_time") or None,
            **common,
        )
    else:
        summary = suggest_baseline(
            source, output, fmt, categorical_drift_method=environment.get("categorical_drift_method") or None,
            **common,
        )
    if publish:
        _write_metrics(environment, summary)
    return summary


def _write_metrics(environment: Mapping[str, str], summary: JobSummary) -> None:
    try:
        from watchkeeper.analysis.checks import drift_distances
        from watchkeeper.analysis.report import metric_lines
    except ImportError:
        return
    constraints = summary.baseline_constraints or summary.constraints
    drift = None
    if summary.baseline_statistics and summary.baseline_constraints:
        drift = drift_distances(summary.baseline_statistics, summary.statistics, summary.baseline_constraints)
    lines = metric_lines(
        summary.statistics, summary.violations or [],
        endpoint=environment.get("sagemaker_endpoint_name") or None,
        schedule=environment.get("sagemaker_monitoring_schedule_name") or None,
        metric_time=environment.get("metric_time") or environment.get("start_time") or None,
        drift=drift,
        constraints=constraints,
    )
    folder = Path(environment.get("CLOUDWATCH_METRICS_DIRECTORY") or "/opt/ml/output/metrics/cloudwatch")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data-quality-metrics.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _write_message(path: str | os.PathLike[str] | None, message: str) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(message[:1024], encoding="utf-8")


__all__ = [
    "CaptureStats",
    "CapturedData",
    "DatasetFormat",
    "JobFailed",
    "JobLog",
    "JobSummary",
    "analyze",
    "input_size",
    "list_files",
    "run_environment",
    "suggest_baseline",
]
