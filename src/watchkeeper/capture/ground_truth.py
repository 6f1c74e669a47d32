"""Ground-truth labels in SageMaker's format and hour layout (spec §3.5).

Each record is one line
`{"groundTruthData":{"data":"1","encoding":"CSV"},"eventMetadata":{"eventId":"<id>"},"eventVersion":"0"}`
where `<id>` is the capture record's `inferenceId`, or its `eventId` when it has none (that is how the merge
joins them). Files go to `<destination>/yyyy/mm/dd/hh/<MM>-<SS>-<mmm>-<uuid>.jsonl`, the hour being when the
label was collected (a label's `time`, else the time of the upload).

Input accepted by `parse_label` (and so by `watchkeeper ground-truth put --file labels.jsonl`), one JSON
object per line, blank lines ignored:

    {"inferenceId": "42", "label": 1}                          scalar label → CSV "1"
    {"eventId": "8392b2fb-...", "label": "yes", "time": "2024-05-01T13:05:00Z"}
    {"inferenceId": "7", "label": {"instances": [{"label": 0}]}}   object/array → JSON text
    {"inferenceId": "7", "data": "0,1", "encoding": "CSV"}     data passed through as given
    {"groundTruthData": {...}, "eventMetadata": {"eventId": "7"}, "eventVersion": "0"}   AWS's own record

`inferenceId` and `eventId` are the same key here (give one; both must agree if both are given); numbers are
accepted and written as text. A scalar label is written as its JSON text (`1`, `0.5`, `true`), a string label
as itself, quoted as a CSV field if it holds a comma, quote or line break. `time` is ISO-8601 (UTC if no
offset) or epoch seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from watchkeeper.capture.hours import hour_object_uri
from watchkeeper.capture.records import CSV, JSON
from watchkeeper.capture.writer import DEFAULT_MAX_OBJECT_BYTES
from watchkeeper.clock import Clock, SystemClock
from watchkeeper.storage.base import ObjectStore, parse_s3_uri


class LabelError(ValueError):
    """A ground-truth input record that cannot be turned into a SageMaker ground-truth record."""


@dataclass(frozen=True, slots=True)
class GroundTruth:
    event_id: str  # the capture record's inferenceId, or its eventId
    data: str
    encoding: str = CSV
    time: float | None = None  # when the label was collected, epoch seconds; None = at upload

    def __post_init__(self) -> None:
        if not isinstance(self.event_id, str) or not self.event_id:
            raise LabelError("a ground-truth record needs a non-empty inferenceId/eventId")
        if self.encoding not in (CSV, JSON):
            raise LabelError(f"ground-truth encoding must be CSV or JSON, got {self.encoding!r}")
        if not isinstance(self.data, str):
            raise LabelError(f"ground-truth data must be a string, got {type(self.data).__name__}")

    def to_line(self) -> bytes:
        record = {
            "groundTruthData": {"data": self.data, "encoding": self.encoding},
            "eventMetadata": {"eventId": self.event_id},
            "eventVersion": "0",
        }
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def _csv_field(text: str) -> str:
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _label_data(label: Any) -> tuple[str, str]:
    if label is None:
        raise LabelError("'label' is null")
    if isinstance(label, str):
        return _csv_field(label), CSV
    if isinstance(label, dict | list):
        return orjson.dumps(label).decode(), JSON
    return orjson.dumps(label).decode(), CSV  # int, float, bool


def _parse_time(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise LabelError(f"'time' must be an ISO-8601 string or epoch seconds, got {value!r}")
    if not isinstance(value, str):
        return float(value)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise LabelError(f"'time' {value!r} is not ISO-8601 (e.g. 2024-05-01T13:05:00Z)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def _id(value: Any, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise LabelError(f"{name!r} must be a string, got {value!r}")
    return str(value)


def parse_label(obj: Mapping[str, Any]) -> GroundTruth:
    """One input object (see the module docstring) → `GroundTruth`."""
    if not isinstance(obj, Mapping):
        raise LabelError(f"expected a JSON object, got {type(obj).__name__}")
    if "groundTruthData" in obj:  # already AWS's record
        gt, meta = obj.get("groundTruthData"), obj.get("eventMetadata")
        if not isinstance(gt, Mapping) or not isinstance(meta, Mapping) or "eventId" not in meta:
            raise LabelError(
                "an AWS-format record needs groundTruthData{data,encoding} and eventMetadata{eventId}"
            )
        time = _parse_time(obj["time"]) if "time" in obj else None
        return GroundTruth(_id(meta["eventId"], "eventId"), gt.get("data"), gt.get("encoding", CSV), time)
    ids = {name: _id(obj[name], name) for name in ("inferenceId", "eventId") if name in obj}
    if not ids:
        raise LabelError("needs 'inferenceId' (or 'eventId'): the id of the captured inference it labels")
    if len(set(ids.values())) > 1:
        raise LabelError(f"'inferenceId' {ids['inferenceId']!r} and 'eventId' {ids['eventId']!r} differ")
    if "label" in obj:
        data, encoding = _label_data(obj["label"])
    elif "data" in obj:
        data, encoding = obj["data"], obj.get("encoding", CSV)
    else:
        raise LabelError("needs 'label' (or 'data' with 'encoding')")
    time = _parse_time(obj["time"]) if "time" in obj else None
    return GroundTruth(next(iter(ids.values())), data, encoding, time)


def read_labels(lines: Iterable[bytes | str], source: str = "labels") -> list[GroundTruth]:
    """Parse a labels.jsonl stream; errors name the line: `labels.jsonl line 3: needs 'label'`."""
    out: list[GroundTruth] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(parse_label(orjson.loads(line)))
        except orjson.JSONDecodeError as exc:
            raise LabelError(f"{source} line {number}: not valid JSON ({exc})") from None
        except LabelError as exc:
            raise LabelError(f"{source} line {number}: {exc}") from None
    return out


def put_ground_truth(
    store: ObjectStore,
    destination_uri: str,
    records: Iterable[GroundTruth | Mapping[str, Any]],
    *,
    clock: Clock | None = None,
    max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES,
) -> list[str]:
    """Write ground-truth records under `destination_uri` in SageMaker's hour layout; returns the URIs.

    Every record is validated before anything is written, so bad input writes nothing. Records without a
    `time` go to the current hour (one clock reading per call). One object per hour holds up to
    `max_object_bytes`; the object's name carries the earliest label time it holds.
    """
    parse_s3_uri(destination_uri)
    now = (clock or SystemClock()).now()
    by_hour: dict[int, list[tuple[float, bytes]]] = {}
    for index, record in enumerate(records):
        try:
            gt = record if isinstance(record, GroundTruth) else parse_label(record)
        except LabelError as exc:
            raise LabelError(f"record {index}: {exc}") from None
        at = now if gt.time is None else gt.time
        by_hour.setdefault(int(at // 3600), []).append((at, gt.to_line()))
    uris: list[str] = []
    for hour in sorted(by_hour):
        chunk: list[tuple[float, bytes]] = []
        size = 0
        for at, line in by_hour[hour]:
            if chunk and size + len(line) > max_object_bytes:
                uris.append(_put(store, destination_uri, chunk))
                chunk, size = [], 0
            chunk.append((at, line))
            size += len(line)
        uris.append(_put(store, destination_uri, chunk))
    return uris


def _put(store: ObjectStore, destination_uri: str, chunk: list[tuple[float, bytes]]) -> str:
    uri = hour_object_uri(destination_uri, min(at for at, _ in chunk))
    store.put_bytes(uri, b"".join(line for _, line in chunk))
    return uri
