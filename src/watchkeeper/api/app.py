"""The ASGI application: one dispatch route for the SageMaker control plane."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import botocore.session
import orjson
from botocore.model import OperationModel, ServiceModel
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from watchkeeper.api.awsjson import error_response, json_response, new_request_id
from watchkeeper.api.cloudwatch import TARGET_PREFIX as CLOUDWATCH_TARGET_PREFIX
from watchkeeper.api.cloudwatch import CloudWatchApi
from watchkeeper.api.edge import OPERATOR_KEY, PRINCIPAL_KEY, Edge, EdgeLimits, request_context
from watchkeeper.api.logs import TARGET_PREFIX as LOGS_TARGET_PREFIX
from watchkeeper.api.logs import LogsApi
from watchkeeper.api.roles import Background, background_app, parts_of
from watchkeeper.api.runtime import Runtime
from watchkeeper.api.sagemaker import OPERATIONS
from watchkeeper.api.validation import validate_input
from watchkeeper.auth.sigv4 import Principal
from watchkeeper.capture.writer import CaptureWriter
from watchkeeper.errors import AwsError, InternalFailure, SerializationError, UnknownOperation
from watchkeeper.metrics.prometheus import CONTENT_TYPE, Histogram, render
from watchkeeper.metrics.prometheus_collect import Collector
from watchkeeper.s3api.wiring import build_s3
from watchkeeper.services.container import Services
from watchkeeper.web.routes import build_dashboard

log = logging.getLogger(__name__)

TARGET_PREFIX = "SageMaker."
# Reads are sub-millisecond and never wait on SQLite's write lock (WAL): run them on the event loop and skip
# the thread hop. Writes may wait for the lock, so they run in the thread pool.
READ_ONLY_PREFIXES = ("Describe", "List")


class ControlPlane:
    def __init__(self, services: Services, model: ServiceModel) -> None:
        self.services = services
        self.model = model
        self.operations: dict[str, OperationModel] = {
            name: model.operation_model(name) for name in model.operation_names
        }

    def _operation(self, target: str) -> tuple[OperationModel, Any]:
        if not target.startswith(TARGET_PREFIX):
            raise UnknownOperation(f"X-Amz-Target '{target}' does not name a SageMaker operation")
        name = target[len(TARGET_PREFIX) :]
        operation = self.operations.get(name)
        if operation is None:
            raise UnknownOperation(f"Operation '{name}' does not exist in the SageMaker API")
        handler = OPERATIONS.get(name)
        if handler is None:
            raise UnknownOperation(f"Operation '{name}' is not supported by Watchkeeper yet (see docs/api-coverage.md)")
        return operation, handler

    async def handle(self, request: Request) -> Response:
        request_id = new_request_id()
        started = time.perf_counter()
        try:
            operation, handler = self._operation(request.headers.get("x-amz-target", ""))
            body = await request.body()
            try:
                params = orjson.loads(body) if body.strip() else {}
            except orjson.JSONDecodeError as exc:
                raise SerializationError(f"Request body is not valid JSON: {exc}") from None
            validated = validate_input(operation.input_shape, params)
            ctx = request_context(request)
            if operation.name.startswith(READ_ONLY_PREFIXES):
                result = handler(self.services, ctx, validated)
            else:
                result = await run_in_threadpool(handler, self.services, ctx, validated)
        except AwsError as error:
            return error_response(error, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            return error_response(InternalFailure("Internal server error"), request_id)
        timing = f"app;dur={(time.perf_counter() - started) * 1000:.3f}"
        return json_response(result, request_id, {"Server-Timing": timing})


async def health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def no_route(request: Request, exc: Exception) -> Response:
    """404/405 in AWS's shape too, so every answer carries a request id and a JSON error."""
    status = getattr(exc, "status_code", 404)
    error = UnknownOperation(f"No operation at {request.method} {request.url.path}")
    response = error_response(error, new_request_id())
    response.status_code = status
    return response


def create_app(
    services: Services,
    run_scheduler: bool = True,
    keys: Mapping[str, Principal] | None = None,
    role: str | None = None,
) -> ASGIApp:
    """The whole server as one ASGI app; with `keys`, every request but /healthz must carry a valid SigV4
    signature by one of them (api/edge.py). `role` (default: the settings') picks the loops the lifespan
    starts; a role without the API serves /healthz alone (api/roles.py, docs/replicas.md)."""
    role = role or services.settings.role
    if not parts_of(role).http:
        return background_app(services, role)
    model = botocore.session.get_session().get_service_model("sagemaker")
    default_principal = Principal("default", "", "", services.settings.account_id)
    control_plane = ControlPlane(services, model)
    logs = LogsApi(services)
    cloudwatch = CloudWatchApi(services.metrics, services.alarms)
    latency = Histogram("watchkeeper_api_request_duration_seconds", "API request handling time, by API", "api")

    async def json_api(request: Request) -> Response:
        # SageMaker, CloudWatch Logs (job logs for the SDK's logs=True) and CloudWatch metrics share POST /,
        # told apart by target.
        started = time.perf_counter()
        target = request.headers.get("x-amz-target", "")
        if target.startswith(LOGS_TARGET_PREFIX):
            api, response = "logs", await logs.handle(request)
        elif target.startswith(CLOUDWATCH_TARGET_PREFIX):
            api, response = "cloudwatch", await cloudwatch.handle(request)
        else:
            api, response = "sagemaker", await control_plane.handle(request)
        latency.observe(api, time.perf_counter() - started)
        return response

    background = Background(services, role, enabled=run_scheduler)
    capture = CaptureWriter(
        services.store,
        flush_interval=services.settings.capture_flush_seconds,
        max_endpoint_buffer_bytes=int(services.settings.capture_buffer_mb_per_endpoint * 1024 * 1024),
    )
    runtime = Runtime(services, capture, services.settings.invocation_timeout_seconds)
    collector = Collector(services, capture, latency)

    async def invoke(request: Request) -> Response:
        started = time.perf_counter()
        response = await runtime.invoke(request)
        latency.observe("runtime", time.perf_counter() - started)
        return response

    async def metrics(request: Request) -> Response:
        """Prometheus exposition (docs/prometheus.md): every account for the operator, else the caller's."""
        account = None if request.scope.get(OPERATOR_KEY) else request.scope[PRINCIPAL_KEY].account
        text = render(await run_in_threadpool(collector.families, account))
        return PlainTextResponse(text, media_type=CONTENT_TYPE)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await runtime.open()
        background.start()  # the role's loops: scheduler, alarms, job runner (api/roles.py)
        try:
            yield
        finally:
            background.stop()
            await runtime.close()
            try:
                capture.close()  # every acknowledged capture record reaches storage on a clean shutdown
            finally:
                services.close()

    app = Starlette(
        routes=[
            Route("/", json_api, methods=["POST"]),
            Route("/endpoints/{name}/invocations", invoke, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            # The dashboard (docs/dashboard.md): its own session gate, which the edge leaves /ui to.
            Mount("/ui", app=build_dashboard(services, keys, default_principal)),
        ],
        lifespan=lifespan,
        exception_handlers={404: no_route, 405: no_route},
    )
    settings = services.settings
    return Edge(
        app,
        keys=keys,
        default_principal=default_principal,
        default_region=settings.default_region,
        metrics_token=settings.metrics_token,
        limits=EdgeLimits(
            settings.max_request_bytes,
            settings.request_timeout_seconds,
            inflight_body_bytes=settings.max_inflight_body_mb * 1024 * 1024,
        ),
        s3=build_s3(services),
    )
