"""DataProcessing on records, as AWS documents it ("Associate Prediction Results with Input Records"):

1. InputFilter selects what of each input record the model receives;
2. JoinSource Input joins each original (unfiltered) input record with its answer: a CSV row gets the answer's
   columns appended; a JSON object gets the answer under `SageMakerOutput`, and any other JSON value becomes
   `{"SageMakerInput": value, "SageMakerOutput": answer}`;
3. OutputFilter selects what of the joined record (or of the answer, without a join) is written.

With `DataCaptureConfig.GenerateInferenceId`, each output record gets an inference id and the job's start
time: two trailing CSV columns, or the fields `SageMakerInferenceId` / `SageMakerInferenceTime` (spec §3.4).

A CSV record is read as its row (a list of strings, CSV quoting honoured); JSON records are JSON values. The
answer to a request of N records must have N lines (CSV, JSON Lines) for its records to be told apart.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from watchkeeper.transform.jsonpath import JsonPath, SelectionError


class RecordError(ValueError):
    """A record that cannot be read, filtered or joined (the job fails saying which)."""


def format_of(content_type: str | None, sample: bytes = b"") -> str:
    """"csv" or "json": from the media type, else from the first byte of the data."""
    media = (content_type or "").lower()
    if "json" in media:
        return "json"
    if "csv" in media:
        return "csv"
    return "json" if sample.lstrip()[:1] in (b"{", b"[") else "csv"


def parse(record: bytes, fmt: str) -> Any:
    text = record.decode("utf-8", "replace")
    if fmt == "json":
        try:
            return orjson.loads(record)
        except orjson.JSONDecodeError:
            raise RecordError(f"a record is not JSON: {text[:80]!r}") from None
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0] if rows else []


def render(value: Any, fmt: str) -> bytes:
    if fmt == "csv" and isinstance(value, list) and not any(isinstance(v, dict | list) for v in value):
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(["" if v is None else _text(v) for v in value])
        return out.getvalue().encode()
    if fmt == "csv" and not isinstance(value, dict | list):
        return _text(value).encode()
    return orjson.dumps(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Processing:
    input_filter: JsonPath
    output_filter: JsonPath
    join: bool
    in_fmt: str
    out_fmt: str  # the answer's format (Accept, else the input's)
    inference_time: str | None  # set when inference ids are generated

    def model_input(self, record: bytes) -> bytes:
        if self.input_filter.is_root:
            return record
        try:
            return render(self.input_filter.apply(parse(record, self.in_fmt)), self.in_fmt)
        except SelectionError as exc:
            raise RecordError(f"InputFilter: {exc}") from None

    def outputs(self, records: Sequence[bytes], answer: bytes) -> list[bytes]:
        """The output records of one request's records and its answer."""
        lines = [line.rstrip(b"\r") for line in answer.split(b"\n") if line.strip()]
        if len(records) == 1 and len(lines) != 1:
            lines = [answer.strip()]  # one record, one answer, whatever its line ends
        if len(lines) != len(records):
            raise RecordError(f"the model answered {len(lines)} lines for {len(records)} records; joining and "
                              "filtering need one answer line per record")
        return [self._output(record, line) for record, line in zip(records, lines, strict=True)]

    def _output(self, record: bytes, line: bytes) -> bytes:
        answer = parse(line, self.out_fmt) if self.out_fmt == "json" else parse(line, "csv")
        if self.join:
            value = _join(parse(record, self.in_fmt), answer, self.in_fmt)
            fmt = self.in_fmt
        else:
            value, fmt = answer, self.out_fmt
        try:
            value = self.output_filter.apply(value)
        except SelectionError as exc:
            raise RecordError(f"OutputFilter: {exc}") from None
        if self.inference_time is not None:
            value = _with_inference_id(value, fmt, self.inference_time)
        return render(value, fmt)


def _join(source: Any, answer: Any, fmt: str) -> Any:
    if fmt == "csv":
        return [*source, *(answer if isinstance(answer, list) else [answer])]
    if isinstance(answer, list) and len(answer) == 1:
        answer = answer[0]
    if isinstance(source, dict):
        return {**source, "SageMakerOutput": answer}
    return {"SageMakerInput": source, "SageMakerOutput": answer}


def _with_inference_id(value: Any, fmt: str, when: str) -> Any:
    inference_id = str(uuid.uuid4())
    if fmt == "csv" and not isinstance(value, dict):
        return [*(value if isinstance(value, list) else [value]), inference_id, when]
    if not isinstance(value, dict):
        value = {"SageMakerOutput": value}
    return {**value, "SageMakerInferenceId": inference_id, "SageMakerInferenceTime": when}
