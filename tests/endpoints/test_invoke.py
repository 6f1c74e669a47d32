"""InvokeEndpoint through boto3 sagemaker-runtime: forwarding, errors, capture files record by record."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.endpoint_helpers import FAST_ENV, capture_config, deploy, read_capture
from tests.server_process import ServerProcess

CAPTURE_FILE = re.compile(r"\d{4}/\d{2}/\d{2}/\d{2}/\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl")


def capture_root(server: ServerProcess, bucket: str, name: str) -> Path:
    return server.data_dir / "s3" / bucket / "capture" / name


def test_csv_and_json_invocations_are_answered_and_captured(
    sm: Any, runtime: Any, server: ServerProcess, name: str, model_url: str
) -> None:
    deploy(sm, name, model_url, capture=capture_config("s3://cap/capture"))
    csv = runtime.invoke_endpoint(
        EndpointName=name,
        Body=b"10,1,200,3\n5,0,100,1",
        ContentType="text/csv",
        Accept="text/csv",
        InferenceId="row-1",
        CustomAttributes="tenant=a",
    )
    csv_answer = csv["Body"].read().decode()
    assert len(csv_answer.splitlines()) == 2
    assert csv["ContentType"] == "text/csv; charset=utf-8"
    assert csv["InvokedProductionVariant"] == "AllTraffic"
    assert csv["CustomAttributes"] == "echo:tenant=a"

    json_body = orjson.dumps({"instances": [[1, 2, 3, 4]]})
    answer = runtime.invoke_endpoint(EndpointName=name, Body=json_body, ContentType="application/json")
    predictions = orjson.loads(answer["Body"].read())["predictions"]
    assert len(predictions) == 1 and 0 < predictions[0] < 1

    binary = runtime.invoke_endpoint(EndpointName=name, Body=b"1,2,3,4", ContentType="application/x-custom")
    assert binary["Body"].read()

    records = read_capture(capture_root(server, "cap", name), expected=3)
    assert len(records) == 3
    first, second, third = sorted(records, key=lambda r: r["captureData"]["endpointInput"]["observedContentType"])[::-1]
    # text/csv first (reverse-sorted by content type), then application/x-custom, then application/json
    assert first["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": "10,1,200,3\n5,0,100,1",
        "encoding": "CSV",
    }
    assert first["captureData"]["endpointOutput"] == {
        "observedContentType": "text/csv; charset=utf-8",
        "mode": "OUTPUT",
        "data": csv_answer,
        "encoding": "CSV",
    }
    assert first["eventMetadata"]["inferenceId"] == "row-1"
    assert first["eventVersion"] == "0"
    assert list(first) == ["captureData", "eventMetadata", "eventVersion"]
    assert list(first["eventMetadata"])[:3] == ["eventId", "inferenceId", "inferenceTime"]
    inference_time = datetime.strptime(first["eventMetadata"]["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs((datetime.now(UTC).replace(tzinfo=None) - inference_time).total_seconds()) < 120
    assert second["captureData"]["endpointInput"]["encoding"] == "BASE64"
    assert base64.b64decode(second["captureData"]["endpointInput"]["data"]) == b"1,2,3,4"
    assert third["captureData"]["endpointInput"] == {
        "observedContentType": "application/json",
        "mode": "INPUT",
        "data": json_body.decode(),
        "encoding": "JSON",
    }
    files = list(capture_root(server, "cap", name).rglob("*.jsonl"))
    for path in files:
        relative = path.relative_to(capture_root(server, "cap", name) / "AllTraffic").as_posix()
        assert CAPTURE_FILE.fullmatch(relative), relative


def test_model_errors_are_aws_shaped_and_not_captured(
    sm: Any, runtime: Any, server: ServerProcess, name: str, model_url: str
) -> None:
    deploy(sm, name, model_url, capture=capture_config("s3://cap/capture"))
    with pytest.raises(runtime.exceptions.ModelError) as excinfo:
        runtime.invoke_endpoint(EndpointName=name, Body=b"fail", ContentType="text/csv")
    response = excinfo.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert response["OriginalStatusCode"] == 500
    assert response["OriginalMessage"] == "model exploded on this input"
    assert "Received server error (500)" in response["Error"]["Message"]

    with pytest.raises(runtime.exceptions.ModelError) as excinfo:  # the server's timeout is 1 s; the model takes 3
        runtime.invoke_endpoint(EndpointName=name, Body=b"slow", ContentType="text/csv")
    assert "timed out" in excinfo.value.response["Error"]["Message"]

    with pytest.raises(runtime.exceptions.ModelError) as excinfo:  # the model answers 400 to bad CSV
        runtime.invoke_endpoint(EndpointName=name, Body=b"a,b", ContentType="text/csv")
    assert excinfo.value.response["OriginalStatusCode"] == 400
    assert read_capture(capture_root(server, "cap", name), timeout=1.0) == []


def test_unknown_endpoint_and_oversized_body(runtime: Any, name: str, sm: Any, model_url: str) -> None:
    with pytest.raises(runtime.exceptions.ValidationError) as excinfo:
        runtime.invoke_endpoint(EndpointName=name, Body=b"1", ContentType="text/csv")
    assert excinfo.value.response["Error"]["Message"] == f"Endpoint {name} of account 123456789012 not found."
    deploy(sm, name, model_url)
    with pytest.raises(runtime.exceptions.ValidationError) as excinfo:
        runtime.invoke_endpoint(EndpointName=name, Body=b"1" * (6 * 1024 * 1024 + 1), ContentType="text/csv")
    assert "exceeds the limit" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(runtime.exceptions.ValidationError):
        runtime.invoke_endpoint(EndpointName=name, Body=b"1,2", ContentType="text/csv", TargetVariant="Nope")


def test_sampling_percentage_is_honoured(
    sm: Any, runtime: Any, server: ServerProcess, name: str, model_url: str
) -> None:
    deploy(sm, name, model_url, capture=capture_config("s3://cap/capture", percent=40, mode="Input"))
    n = 400
    for i in range(n):
        runtime.invoke_endpoint(EndpointName=name, Body=f"{i},1,2,3".encode(), ContentType="text/csv")
    records = read_capture(capture_root(server, "cap", name), timeout=2.0, expected=n)
    # Binomial(400, 0.4): mean 160, sd 9.8; 5 sd either side fails by chance with p < 1e-6.
    assert 111 <= len(records) <= 209, len(records)
    assert all("endpointOutput" not in r["captureData"] for r in records)
    assert len({r["eventMetadata"]["eventId"] for r in records}) == len(records)


def test_weighted_routing_and_target_variant(
    sm: Any, runtime: Any, server: ServerProcess, name: str, model_url: str
) -> None:
    deploy(sm, name, model_url, weights=(1.0, 3.0))
    counts = {"Variant0": 0, "Variant1": 0}
    for _ in range(300):
        answer = runtime.invoke_endpoint(EndpointName=name, Body=b"1,2,3,4", ContentType="text/csv")
        counts[answer["InvokedProductionVariant"]] += 1
    # Expected 75 / 225 (sd 7.5): allow 5 sd.
    assert 37 <= counts["Variant0"] <= 113, counts
    targeted = runtime.invoke_endpoint(
        EndpointName=name, Body=b"1,2,3,4", ContentType="text/csv", TargetVariant="Variant0"
    )
    assert targeted["InvokedProductionVariant"] == "Variant0"


def test_acknowledged_capture_survives_a_restart(tmp_path: Path, model_url: str) -> None:
    env = {**FAST_ENV, "WATCHKEEPER_CAPTURE_FLUSH_SECONDS": "30"}  # nothing flushes before the shutdown
    server = ServerProcess(tmp_path / "data", env=env).start()
    try:
        sm, runtime = server.client(), server.client("sagemaker-runtime")
        deploy(sm, "restart", model_url, capture=capture_config("s3://cap/capture"))
        for i in range(50):
            runtime.invoke_endpoint(EndpointName="restart", Body=f"{i},0,0,0".encode(), ContentType="text/csv")
    finally:
        server.stop()
    records = read_capture(capture_root(server, "cap", "restart"), timeout=0.5)
    assert sorted(int(r["captureData"]["endpointInput"]["data"].split(",")[0]) for r in records) == list(range(50))
