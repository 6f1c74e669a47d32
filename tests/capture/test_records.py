"""Capture records against the real AWS records quoted in spec §3.3, field by field and byte by byte."""

from __future__ import annotations

import base64
import random
import re
import uuid

import orjson
import pytest

from watchkeeper.capture.records import (
    BASE64,
    CSV,
    JSON,
    SDK_CSV_CONTENT_TYPES,
    SDK_JSON_CONTENT_TYPES,
    CaptureConfig,
    build_record,
    encode_record,
    format_inference_time,
)

SDK = CaptureConfig(
    "s3://bucket/datacapture",
    csv_content_types=SDK_CSV_CONTENT_TYPES,
    json_content_types=SDK_JSON_CONTENT_TYPES,
)
# 2022-03-24T00:23:04Z, the intro notebook's record (plus a fraction that must not show).
T_2022 = 1648081384.734


def test_the_intro_notebook_record_byte_for_byte() -> None:
    line = encode_record(
        SDK,
        inference_time=T_2022,
        input_body=b"130,0,263.7,113,22.36,0",
        input_content_type="text/csv",
        output_body=b"0.3791300654411316",
        output_content_type="text/csv; charset=utf-8",
        event_id="1eb12989-4b21-488f-85cd-76c31ee4570f",
    )
    assert line == (
        b'{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
        b'"data":"130,0,263.7,113,22.36,0","encoding":"CSV"},'
        b'"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT",'
        b'"data":"0.3791300654411316","encoding":"CSV"}},'
        b'"eventMetadata":{"eventId":"1eb12989-4b21-488f-85cd-76c31ee4570f","inferenceTime":"2022-03-24T00:23:04Z"},'
        b'"eventVersion":"0"}\n'
    )


def test_inference_id_sits_between_event_id_and_time() -> None:
    record = build_record(SDK, inference_time=1612498442.0, input_body=b"1", input_content_type="text/csv",
                          inference_id="0", event_id="8392b2fb-3d14-499b-ba5f-a0de41673823")
    assert list(record["eventMetadata"].items()) == [
        ("eventId", "8392b2fb-3d14-499b-ba5f-a0de41673823"),
        ("inferenceId", "0"),
        ("inferenceTime", "2021-02-05T04:14:02Z"),
    ]


def test_key_order_of_every_level() -> None:
    record = build_record(SDK, inference_time=0, input_body=b"1", input_content_type="text/csv",
                          output_body=b"2", output_content_type="text/csv")
    assert list(record) == ["captureData", "eventMetadata", "eventVersion"]
    assert list(record["captureData"]) == ["endpointInput", "endpointOutput"]
    for side in record["captureData"].values():
        assert list(side) == ["observedContentType", "mode", "data", "encoding"]
    assert record["eventVersion"] == "0"
    assert [side["mode"] for side in record["captureData"].values()] == ["INPUT", "OUTPUT"]


def test_json_payload_is_the_json_text_as_a_string() -> None:
    body = b'{"instances": [{"features": [1.5, 2]}]}'
    line = encode_record(SDK, inference_time=0, input_body=body, input_content_type="application/json",
                         output_body=b'{"predictions": [0.9]}', output_content_type="application/json")
    record = orjson.loads(line)
    side = record["captureData"]["endpointInput"]
    assert side == {"observedContentType": "application/json", "mode": "INPUT", "data": body.decode(),
                    "encoding": JSON}
    assert b'"data":"{\\"instances\\": [{\\"features\\": [1.5, 2]}]}"' in line
    assert record["captureData"]["endpointOutput"]["encoding"] == JSON


def test_the_real_base64_record() -> None:
    """sagemaker-python-sdk issue #2629: a JSON body answered as text/html is BASE64."""
    body = b'{"median_house_value": [478046.66, 206551.01]}'
    record = build_record(SDK, inference_time=0, output_body=body,
                          output_content_type="text/html; charset=utf-8")
    assert record["captureData"] == {
        "endpointOutput": {
            "observedContentType": "text/html; charset=utf-8",
            "mode": "OUTPUT",
            "data": "eyJtZWRpYW5faG91c2VfdmFsdWUiOiBbNDc4MDQ2LjY2LCAyMDY1NTEuMDFdfQ==",
            "encoding": BASE64,
        }
    }


def test_without_content_type_headers_everything_is_base64() -> None:
    """AWS: "If no headers are specified SageMaker AI will by default base64 encode"."""
    bare = CaptureConfig("s3://bucket/capture")
    record = build_record(bare, inference_time=0, input_body=b"1,2", input_content_type="text/csv")
    side = record["captureData"]["endpointInput"]
    assert side["encoding"] == BASE64
    assert base64.b64decode(side["data"]) == b"1,2"


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        ("text/csv", CSV),
        ("TEXT/CSV; charset=utf-8", CSV),
        (" text/csv ;header=present", CSV),
        ("application/json", JSON),
        ("Application/JSON;charset=UTF-8", JSON),
        ("application/jsonlines", BASE64),
        ("text/csvx", BASE64),
        ("application/x-npy", BASE64),
        ("", BASE64),
    ],
)
def test_encoding_matches_the_media_type_ignoring_parameters(content_type: str, encoding: str) -> None:
    assert SDK.encoding_for(content_type) == encoding


def test_configured_content_types_are_normalised() -> None:
    config = CaptureConfig("s3://b/c", csv_content_types={"Text/Plain; charset=utf-8"},
                           json_content_types={"application/jsonlines"})
    assert config.encoding_for("text/plain") == CSV
    assert config.encoding_for("application/jsonlines; x=1") == JSON
    assert config.encoding_for("text/csv") == BASE64


def test_non_utf8_text_falls_back_to_base64() -> None:
    record = build_record(SDK, inference_time=0, input_body=b"caf\xe9,1", input_content_type="text/csv")
    side = record["captureData"]["endpointInput"]
    assert side["encoding"] == BASE64
    assert base64.b64decode(side["data"]) == b"caf\xe9,1"


def test_text_keeps_unicode_and_control_characters() -> None:
    body = "naïve,\"quoted\",a\tb\n2,€,x\n".encode()
    line = encode_record(SDK, inference_time=0, input_body=body, input_content_type="text/csv")
    assert line.count(b"\n") == 1, "one record per line: newlines in data are escaped"
    assert orjson.loads(line)["captureData"]["endpointInput"]["data"] == body.decode()


def test_missing_content_type_is_octet_stream() -> None:
    record = build_record(SDK, inference_time=0, input_body=b"\x00\x01")
    assert record["captureData"]["endpointInput"]["observedContentType"] == "application/octet-stream"
    assert record["captureData"]["endpointInput"]["encoding"] == BASE64


def test_str_and_memoryview_bodies() -> None:
    a = build_record(SDK, inference_time=0, input_body="1,2", input_content_type="text/csv")
    b = build_record(SDK, inference_time=0, input_body=memoryview(b"1,2"), input_content_type="text/csv")
    c = build_record(SDK, inference_time=0, input_body="é", input_content_type="image/png")
    assert a["captureData"] == b["captureData"]
    assert c["captureData"]["endpointInput"]["data"] == base64.b64encode("é".encode()).decode()


@pytest.mark.parametrize(
    ("mode", "sides"),
    [("Input", ["endpointInput"]), ("Output", ["endpointOutput"]),
     ("InputAndOutput", ["endpointInput", "endpointOutput"])],
)
def test_capture_options_choose_the_sides(mode: str, sides: list[str]) -> None:
    config = CaptureConfig.from_data_capture_config(
        {"DestinationS3Uri": "s3://b/c", "InitialSamplingPercentage": 50,
         "CaptureOptions": [{"CaptureMode": mode}]}
    )
    record = build_record(config, inference_time=0, input_body=b"1", input_content_type="text/csv",
                          output_body=b"2", output_content_type="text/csv")
    assert list(record["captureData"]) == sides


def test_from_data_capture_config() -> None:
    config = CaptureConfig.from_data_capture_config({
        "EnableCapture": True,
        "InitialSamplingPercentage": 20,
        "DestinationS3Uri": "s3://bucket/model-monitor/data-capture",
        "KmsKeyId": "",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {
            "CsvContentTypes": ["text/csv"],
            "JsonContentTypes": ["application/json"],
        },
    })
    assert config == CaptureConfig(
        "s3://bucket/model-monitor/data-capture",
        sampling_percentage=20.0,
        csv_content_types=frozenset({"text/csv"}),
        json_content_types=frozenset({"application/json"}),
    )
    disabled = CaptureConfig.from_data_capture_config(
        {"EnableCapture": False, "InitialSamplingPercentage": 100, "DestinationS3Uri": "s3://b/c",
         "CaptureOptions": [{"CaptureMode": "Input"}]}
    )
    assert not disabled.enabled
    assert disabled.capture_input and not disabled.capture_output
    with pytest.raises(ValueError, match="0-100"):
        CaptureConfig("s3://b/c", sampling_percentage=101)
    with pytest.raises(ValueError, match="S3 URI"):
        CaptureConfig("bucket/c")


def test_event_ids_are_fresh_uuid4s_and_times_are_whole_utc_seconds() -> None:
    ids = {build_record(SDK, inference_time=0)["eventMetadata"]["eventId"] for _ in range(1000)}
    assert len(ids) == 1000
    assert all(uuid.UUID(i).version == 4 for i in ids)
    assert format_inference_time(1648081384.999) == "2022-03-24T00:23:04Z"
    assert format_inference_time(0) == "1970-01-01T00:00:00Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", format_inference_time(4102444799.5))


def test_custom_attributes_only_when_given() -> None:
    plain = build_record(SDK, inference_time=0)
    assert "customAttributes" not in plain["eventMetadata"]
    tagged = build_record(SDK, inference_time=0, custom_attributes="trace=1")
    assert tagged["eventMetadata"]["customAttributes"] == "trace=1"


def test_compact_separators() -> None:
    line = encode_record(SDK, inference_time=0, input_body=b"1", input_content_type="text/csv")
    assert b", " not in line and b": " not in line
    assert line.endswith(b"}\n")


def test_sampling_within_statistical_tolerance() -> None:
    """20% of 20,000 draws: binomial sd = sqrt(20000 * 0.2 * 0.8) ≈ 57; allow 5 sd."""
    config = CaptureConfig("s3://b/c", sampling_percentage=20)
    draw = random.Random(42).random
    picked = sum(config.sample(draw) for _ in range(20_000))
    assert abs(picked - 4000) < 5 * 57
    assert all(CaptureConfig("s3://b/c", sampling_percentage=100).sample(draw) for _ in range(1000))
    assert not any(CaptureConfig("s3://b/c", sampling_percentage=0).sample(draw) for _ in range(1000))
    assert not any(CaptureConfig("s3://b/c", enabled=False).sample(draw) for _ in range(1000))
