"""Hosting the user's scripts: the record preprocessor (spec §4.4) and the post-analytics processor
(spec §4.5). Their prints and tracebacks go to the job log; a failure names the script and the line."""

from __future__ import annotations

import importlib.util
import inspect
import os
import traceback
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

from watchkeeper.analysis.columns import column_names, flatten_nested
from watchkeeper.jobs.toolkit.formats import DatasetFormat
from watchkeeper.jobs.toolkit.inputs import BAD_JSON, BATCH_ROWS, InputStats, ProgressFn, file_contents
from watchkeeper.jobs.toolkit.job_log import JobLog
from watchkeeper.jobs.toolkit.summary import JobFailed

if TYPE_CHECKING:  # the capture reader is imported by the jobs that read capture, when they do
    from watchkeeper.capture.reader import CaptureReader

PREPROCESSOR_FAILURE = (
    "There is an exception raised in preprocessor script. Please double check the preprocessor script."
)
POSTPROCESSOR_MISSING = "PostProcess Handler not implemented correctly in customer analysis script."


def load_script(path: str | os.PathLike[str], module_name: str, log: JobLog, what: str) -> ModuleType:
    path = Path(path)
    if not path.is_file():
        raise JobFailed(f"The {what} script {str(path)!r} does not exist.")
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    try:
        with log.capturing():
            spec.loader.exec_module(module)  # type: ignore[union-attr]
    except Exception as error:
        raise script_failure(error, path, f"The {what} script could not be loaded.", log) from error
    return module


def script_failure(error: BaseException, script: Path, lead: str, log: JobLog) -> JobFailed:
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
        module = load_script(self.path, "preprocessor", log, "record preprocessor")
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
                raise script_failure(error, self.path, PREPROCESSOR_FAILURE, self.log) from error
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


def rows_to_frames(rows: Iterable[dict[str, Any]], names: Sequence[str] | None) -> Iterator[pl.DataFrame]:
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


def preprocessed_dataset_batches(files: Sequence[Path], fmt: DatasetFormat, preprocessor: Preprocessor,
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

    return rows_to_frames(preprocessor.rows(records()), names)


def preprocessed_capture_batches(files: Sequence[Path], reader: CaptureReader, preprocessor: Preprocessor,
                                  progress: ProgressFn | None) -> Iterator[pl.DataFrame]:
    def records() -> Iterator[CapturedData]:
        for frame in reader.records(file_contents(files, progress)):
            for record in frame.to_dicts():
                yield CapturedData(_without_nulls(record))

    return rows_to_frames(preprocessor.rows(records()), reader.names)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def post_process(script: str | os.PathLike[str] | None, environment: Mapping[str, str] | None,
                  log: JobLog) -> None:
    """Run `postprocess_handler()` with the job's Environment exported (spec §4.5)."""
    if not script:
        return
    path = Path(script)
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in (environment or {}).items() if v})
    try:
        module = load_script(path, "postprocessor", log, "post-analytics processor")
        handler = getattr(module, "postprocess_handler", None)
        if not callable(handler):
            raise JobFailed(POSTPROCESSOR_MISSING)
        try:
            with log.capturing():
                handler()
        except Exception as error:
            raise script_failure(error, path, "There is an exception raised in post-analytics processor "
                                  "script. Please double check the post-analytics processor script.",
                                  log) from error
    finally:
        os.environ.clear()
        os.environ.update(saved)
