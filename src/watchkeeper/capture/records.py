"""Capture records in SageMaker's format (spec §3.3), one JSON object per line:

    {"captureData":{
       "endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"1,2","encoding":"CSV"},
       "endpointOutput":{"observedContentType":"text/csv","mode":"OUTPUT","data":"0.3","encoding":"CSV"}},
     "eventMetadata":{"eventId":"<uuid>","inferenceId":"<caller id>","inferenceTime":"2022-03-24T00:23:04Z"},
     "eventVersion":"0"}

Key order and compact separators are as AWS emits them. `encoding` follows `CaptureContentTypeHeader`: a
media type listed in CsvContentTypes gives `CSV` (the body as text), in JsonContentTypes `JSON` (the JSON
text as a string), anything else `BASE64`; a CSV/JSON body that is not UTF-8 falls back to `BASE64`.
`inferenceTime` has second precision, as in every real AWS record we have (§3.3).
"""

from __future__ import annotations

import base64
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from watchkeeper.storage.base import parse_s3_uri

CSV = "CSV"
JSON = "JSON"
BASE64 = "BASE64"

# What the SageMaker Python SDK's DataCaptureConfig always sends (§3.1).
SDK_CSV_CONTENT_TYPES = frozenset({"text/csv"})
SDK_JSON_CONTENT_TYPES = frozenset({"application/json"})
# A request without Content-Type is, per RFC 9110 §8.3, bytes of unknown type.
UNKNOWN_CONTENT_TYPE = "application/octet-stream"

Body = bytes | bytearray | memoryview | str


def media_type(content_type: str) -> str:
    """`"Text/CSV; charset=utf-8"` → `"text/csv"`."""
    return content_type.partition(";")[0].strip().lower()


@dataclass(frozen=True, slots=True)
class CaptureConfig:
    """An endpoint config's `DataCaptureConfig`, in the form the writer uses.

    Without `CaptureContentTypeHeader` every payload is BASE64, as on AWS ("If no headers are specified
    SageMaker AI will by default base64 encode"). The SDK always sends text/csv and application/json:
    those are `SDK_CSV_CONTENT_TYPES` / `SDK_JSON_CONTENT_TYPES`.
    """

    destination_s3_uri: str
    sampling_percentage: float = 100.0
    enabled: bool = True
    capture_input: bool = True
    capture_output: bool = True
    csv_content_types: frozenset[str] = frozenset()
    json_content_types: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        parse_s3_uri(self.destination_s3_uri)
        if not 0 <= self.sampling_percentage <= 100:
            raise ValueError(f"sampling percentage must be within 0-100, got {self.sampling_percentage}")
        object.__setattr__(self, "csv_content_types", frozenset(map(media_type, self.csv_content_types)))
        object.__setattr__(self, "json_content_types", frozenset(map(media_type, self.json_content_types)))

    @classmethod
    def from_data_capture_config(cls, config: Mapping[str, Any]) -> CaptureConfig:
        """From the AWS shape: `{"EnableCapture", "InitialSamplingPercentage", "DestinationS3Uri",
        "CaptureOptions": [{"CaptureMode": "Input"|"Output"|"InputAndOutput"}], "CaptureContentTypeHeader":
        {"CsvContentTypes": [...], "JsonContentTypes": [...]}}`."""
        modes = {option["CaptureMode"] for option in config.get("CaptureOptions") or ()}
        if not modes:
            modes = {"InputAndOutput"}
        headers = config.get("CaptureContentTypeHeader") or {}
        return cls(
            destination_s3_uri=config["DestinationS3Uri"],
            sampling_percentage=float(config.get("InitialSamplingPercentage", 100)),
            enabled=bool(config.get("EnableCapture", True)),
            capture_input=bool(modes & {"Input", "InputAndOutput"}),
            capture_output=bool(modes & {"Output", "InputAndOutput"}),
            csv_content_types=frozenset(headers.get("CsvContentTypes") or ()),
            json_content_types=frozenset(headers.get("JsonContentTypes") or ()),
        )

    def encoding_for(self, content_type: str) -> str:
        kind = media_type(content_type)
        if kind in self.csv_content_types:
            return CSV
        if kind in self.json_content_types:
            return JSON
        return BASE64

    def sample(self, draw: Callable[[], float] = random.random) -> bool:
        """Whether to capture this invocation: enabled, and chosen with probability percentage/100."""
        if not self.enabled:
            return False
        return self.sampling_percentage >= 100 or draw() * 100 < self.sampling_percentage


def encode_payload(body: Body, content_type: str, config: CaptureConfig) -> tuple[str, str]:
    """(data, encoding) for one side of an invocation."""
    encoding = config.encoding_for(content_type)
    if isinstance(body, str):
        if encoding != BASE64:
            return body, encoding
        body = body.encode("utf-8")
    if encoding != BASE64:
        try:
            return str(body, "utf-8"), encoding
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), BASE64


def format_inference_time(epoch_seconds: float) -> str:
    """`1648081384.9` → `"2022-03-24T00:23:04Z"` (UTC, whole seconds, as AWS writes it)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))


def _side(body: Body, content_type: str | None, mode: str, config: CaptureConfig) -> dict[str, str]:
    content_type = content_type or UNKNOWN_CONTENT_TYPE
    data, encoding = encode_payload(body, content_type, config)
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


def build_record(
    config: CaptureConfig,
    *,
    inference_time: float,
    input_body: Body | None = None,
    input_content_type: str | None = None,
    output_body: Body | None = None,
    output_content_type: str | None = None,
    inference_id: str | None = None,
    event_id: str | None = None,
    custom_attributes: str | None = None,
) -> dict[str, Any]:
    """One capture record as a dict in AWS's key order. Only the sides that `config` captures and that
    were given appear. `customAttributes` (the `X-Amzn-SageMaker-Custom-Attributes` header) is added to
    eventMetadata only when given; its exact place in AWS's records is unverified (spec §3.3)."""
    capture_data: dict[str, Any] = {}
    if config.capture_input and input_body is not None:
        capture_data["endpointInput"] = _side(input_body, input_content_type, "INPUT", config)
    if config.capture_output and output_body is not None:
        capture_data["endpointOutput"] = _side(output_body, output_content_type, "OUTPUT", config)
    metadata: dict[str, str] = {"eventId": event_id or str(uuid.uuid4())}
    if inference_id is not None:
        metadata["inferenceId"] = inference_id
    metadata["inferenceTime"] = format_inference_time(inference_time)
    if custom_attributes is not None:
        metadata["customAttributes"] = custom_attributes
    return {"captureData": capture_data, "eventMetadata": metadata, "eventVersion": "0"}


def encode_record(config: CaptureConfig, **fields: Any) -> bytes:
    """`build_record(config, **fields)` as one JSON line (compact, UTF-8, ending in a newline)."""
    return orjson.dumps(build_record(config, **fields), option=orjson.OPT_APPEND_NEWLINE)
