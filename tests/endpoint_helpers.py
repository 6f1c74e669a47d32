"""Deploying endpoints and reading capture files, the way a notebook does it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson

FAST_ENV = {
    "WATCHKEEPER_ENDPOINT_STARTUP_SECONDS": "2",
    "WATCHKEEPER_INVOCATION_TIMEOUT_SECONDS": "1",
    "WATCHKEEPER_CAPTURE_FLUSH_SECONDS": "0.2",
    "WATCHKEEPER_JOB_LEASE_SECONDS": "3",
}


def capture_config(destination: str, percent: int = 100, mode: str = "InputAndOutput") -> dict[str, Any]:
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": percent,
        "DestinationS3Uri": destination,
        "CaptureOptions": [{"CaptureMode": mode}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
    }


def deploy(
    sm: Any,
    name: str,
    upstream: str | None,
    capture: dict[str, Any] | None = None,
    weights: tuple[float, ...] = (1.0,),
    wait: bool = True,
) -> None:
    """Model(s) → endpoint config → endpoint, the way a notebook does it."""
    environment = {"WATCHKEEPER_UPSTREAM_URL": upstream} if upstream else {}
    sm.create_model(
        ModelName=name,
        PrimaryContainer={"Image": "my-registry/churn-xgb:1", "Environment": environment},
        ExecutionRoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
    )
    variants = [
        {
            "VariantName": "AllTraffic" if len(weights) == 1 else f"Variant{i}",
            "ModelName": name,
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
            "InitialVariantWeight": weight,
        }
        for i, weight in enumerate(weights)
    ]
    config: dict[str, Any] = {"EndpointConfigName": name, "ProductionVariants": variants}
    if capture:
        config["DataCaptureConfig"] = capture
    sm.create_endpoint_config(**config)
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    if wait:
        sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})


def read_capture(root: Path, timeout: float = 5.0, expected: int | None = None) -> list[dict[str, Any]]:
    """Every capture record under a local folder, waiting for the writer's flush."""
    deadline = time.monotonic() + timeout
    while True:
        records = [orjson.loads(line) for f in sorted(root.rglob("*.jsonl")) for line in f.read_bytes().splitlines()]
        if (expected is None and records) or (expected is not None and len(records) >= expected):
            return records
        if time.monotonic() > deadline:
            return records
        time.sleep(0.1)
