"""Services in this process on a FakeClock, with an endpoint that says where its capture lives (no model
server): for tests where the wire is not the point."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from watchkeeper.clock import FakeClock
from watchkeeper.config import Settings
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext

CTX = RequestContext("123456789012", "us-east-1")


def t(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def capturing_services(data_dir: Path, clock: FakeClock, capture_modes: tuple[str, ...] = ("Input",)) -> Services:
    """Services with endpoint `churn-endpoint` capturing to s3://bucket/capture; the caller closes them."""
    settings = dataclasses.replace(Settings(), data_dir=data_dir, schedule_activation_seconds=0)
    built = Services.build(settings, clock)
    create_capturing_endpoint(built, capture_modes=capture_modes)
    return built


def create_capturing_endpoint(services: Services, endpoint: str = "churn-endpoint", *, model: str = "m",
                              config: str = "c", destination: str = "s3://bucket/capture",
                              capture_modes: tuple[str, ...] = ("Input",), ctx: RequestContext = CTX) -> None:
    """A model, an endpoint config capturing to `destination` and an endpoint (no model server behind it)."""
    services.endpoints.create_model(ctx, {"ModelName": model, "PrimaryContainer": {"Image": "x"}})
    services.endpoints.create_endpoint_config(
        ctx,
        {
            "EndpointConfigName": config,
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": model}],
            "DataCaptureConfig": {
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": destination,
                "CaptureOptions": [{"CaptureMode": mode} for mode in capture_modes],
            },
        },
    )
    services.endpoints.create(ctx, {"EndpointName": endpoint, "EndpointConfigName": config})
