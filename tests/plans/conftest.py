"""In-process services on a FakeClock, an endpoint that captures, and a job runner whose executor is in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watchkeeper.clock import FakeClock
from watchkeeper.config import Settings
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext

CTX = RequestContext("123456789012", "us-east-1")


def t(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(t("2026-03-01T01:00:05"))


@pytest.fixture
def services(tmp_path: Path, clock: FakeClock) -> Iterator[Services]:
    settings = dataclasses.replace(Settings(), data_dir=tmp_path / "data", schedule_activation_seconds=0)
    built = Services.build(settings, clock)
    built.endpoints.create_model(CTX, {"ModelName": "m", "PrimaryContainer": {"Image": "x"}})
    built.endpoints.create_endpoint_config(
        CTX,
        {
            "EndpointConfigName": "c",
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m"}],
            "DataCaptureConfig": {
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": "s3://bucket/capture",
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            },
        },
    )
    built.endpoints.create(CTX, {"EndpointName": "churn-endpoint", "EndpointConfigName": "c"})
    yield built
    built.close()
