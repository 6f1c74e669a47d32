"""sagemaker-runtime InvokeEndpoint (REST-JSON): forward to the variant's model server, answer, capture.

Errors are shaped as botocore's rest-json parser reads them: `x-amzn-ErrorType` header and a body with
`message` (+ ModelError's `OriginalStatusCode`, `OriginalMessage`, `LogStreamArn`).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import botocore.session
import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response

from watchkeeper.api.awsjson import new_request_id
from watchkeeper.api.edge import request_context
from watchkeeper.api.validation import validate_input
from watchkeeper.capture.records import CaptureConfig
from watchkeeper.capture.writer import CaptureWriter
from watchkeeper.errors import ValidationError
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext
from watchkeeper.services.endpoints import IN_SERVICE, UPDATING, Deployment, Variant
from watchkeeper.services.upstream import UpstreamError, check_upstream, parse_allow_list, upstream_path

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 6 * 1024 * 1024  # SageMaker's real-time payload limit
FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "x-amzn-sagemaker-custom-attributes")


class InvocationError(Exception):
    def __init__(self, code: str, status: int, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.code, self.status, self.message, self.fields = code, status, message, fields

    def response(self, request_id: str) -> Response:
        body = {"message": self.message, **self.fields}
        return Response(
            orjson.dumps(body),
            status_code=self.status,
            media_type="application/json",
            headers={"x-amzn-RequestId": request_id, "x-amzn-ErrorType": self.code},
        )


def _validation(message: str) -> InvocationError:
    return InvocationError("ValidationError", 400, message)


def choose_variant(deployment: Deployment, target: str | None, draw: float) -> Variant:
    """TargetVariant if given, else weighted by CurrentWeight (draw is uniform in [0, 1))."""
    if target:
        for variant in deployment.variants:
            if variant.name.lower() == target.lower():
                return variant
        raise _validation(f"The variant {target} does not exist for this endpoint.")
    total = sum(v.weight for v in deployment.variants)
    if total <= 0:
        raise _validation("Every production variant of this endpoint has weight 0; name one with TargetVariant.")
    point = draw * total
    for variant in deployment.variants:
        point -= variant.weight
        if point < 0:
            return variant
    return deployment.variants[-1]


@dataclass(frozen=True)
class Route:
    """What an invocation needs of its endpoint, parsed once."""

    name: str
    status: str
    deployment: Deployment
    capture: CaptureConfig | None
    loaded: float


class Runtime:
    """Routes are cached for ROUTE_TTL_SECONDS: an endpoint update or deletion reaches the data plane within
    that time, and the hot path does no database read."""

    ROUTE_TTL_SECONDS = 1.0

    def __init__(self, services: Services, capture: CaptureWriter, timeout_seconds: float) -> None:
        self.services = services
        self.capture = capture
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=5.0)
        self.http: aiohttp.ClientSession | None = None
        self.allow = parse_allow_list(services.settings.upstream_allow)
        self.input_shape = (
            botocore.session.get_session().get_service_model("sagemaker-runtime").operation_model("InvokeEndpoint")
        ).input_shape
        self.header_members = {
            name: shape.serialization["name"].lower()
            for name, shape in self.input_shape.members.items()
            if shape.serialization.get("location") == "header"
        }
        self._routes: dict[tuple[str, str, str], Route] = {}

    async def open(self) -> None:
        # aiohttp: a third of httpx's per-request cost on the proxy path (bench/README.md).
        self.http = aiohttp.ClientSession(
            timeout=self.timeout, connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=30)
        )

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()

    def _validate(self, name: str, request: Request) -> None:
        """The URI and header members of InvokeEndpoint against botocore's model (lengths, patterns), as AWS
        checks them: a 2,000-character custom attribute or an inference id like `../../x` never reaches a
        model server or a capture file."""
        params: dict[str, Any] = {"EndpointName": name, "Body": ""}
        for member, header in self.header_members.items():
            value = request.headers.get(header)
            if value is not None:
                params[member] = value
        try:
            validate_input(self.input_shape, params)
        except ValidationError as error:
            raise _validation(error.message) from None

    def _route(self, ctx: RequestContext, name: str) -> Route:
        key = (ctx.account, ctx.region, name.lower())
        now = time.monotonic()
        route = self._routes.get(key)
        if route is None or now - route.loaded > self.ROUTE_TTL_SECONDS:
            try:
                row = self.services.endpoints.find(ctx, name)
            except ValidationError:
                self._routes.pop(key, None)
                raise _validation(f"Endpoint {name} of account {ctx.account} not found.") from None
            deployment = Deployment.from_json(row.deployment)
            raw = deployment.data_capture
            capture = CaptureConfig.from_data_capture_config(raw) if raw else None
            route = Route(row.name, row.status, deployment, capture, now)
            self._routes[key] = route
        return route

    async def invoke(self, request: Request) -> Response:
        request_id = new_request_id()
        try:
            return await self._invoke(request, request_id)
        except InvocationError as error:
            return error.response(request_id)
        except Exception:
            log.exception("invocation %s failed", request_id)
            return InvocationError("InternalFailure", 500, "Internal server error").response(request_id)

    async def _invoke(self, request: Request, request_id: str) -> Response:
        ctx = request_context(request)
        name = request.path_params["name"]
        self._validate(name, request)
        body = await request.body()  # bounded and read by the edge already
        if len(body) > MAX_BODY_BYTES:
            raise _validation(f"Request body of {len(body)} bytes exceeds the limit of {MAX_BODY_BYTES} bytes.")
        route = self._route(ctx, name)
        if route.status not in (IN_SERVICE, UPDATING):
            raise _validation(f"Endpoint {name} is {route.status}; it takes invocations when InService.")
        variant = choose_variant(
            route.deployment, request.headers.get("x-amzn-sagemaker-target-variant"), random.random()
        )
        if not variant.upstream_url:
            raise _validation(
                f"Endpoint {name} variant {variant.name} has no model server: its model sets no "
                "WATCHKEEPER_UPSTREAM_URL (such an endpoint only says where captured traffic lives)."
            )
        headers = {k: v for k, v in request.headers.items() if k in FORWARDED_REQUEST_HEADERS}
        content_type, attributes, content = await self._forward(ctx, name, variant, body, headers)
        config = route.capture
        if config is not None and self.capture.sample(config):
            self.capture.capture(
                config,
                route.name,
                variant.name,
                input_body=body,
                input_content_type=request.headers.get("content-type", "application/octet-stream"),
                output_body=content,
                output_content_type=content_type,
                inference_id=request.headers.get("x-amzn-sagemaker-inference-id"),
                custom_attributes=request.headers.get("x-amzn-sagemaker-custom-attributes"),
            )
        out_headers = {"x-amzn-RequestId": request_id, "x-Amzn-Invoked-Production-Variant": variant.name}
        if attributes:
            out_headers["X-Amzn-SageMaker-Custom-Attributes"] = attributes
        return Response(content, status_code=200, media_type=content_type, headers=out_headers)

    async def _forward(
        self, ctx: RequestContext, name: str, variant: Variant, body: bytes, headers: dict[str, str]
    ) -> tuple[str, str | None, bytes]:
        """(content type, custom attributes, body) of the model server's successful answer, or a ModelError."""
        assert self.http is not None, "Runtime.open() runs in the app's lifespan"
        log_stream = f"arn:aws:logs:{ctx.region}:{ctx.account}:log-group:/aws/sagemaker/Endpoints/{name}"
        upstream_url = variant.upstream_url or ""
        try:
            check_upstream(upstream_url, self.allow)
        except UpstreamError as exc:
            raise _validation(f"Endpoint {name} variant {variant.name}: {exc}") from None
        try:
            async with self.http.post(
                upstream_path(upstream_url, "invocations"), data=body, headers=headers, allow_redirects=False
            ) as upstream:
                status = upstream.status
                content = await _read_capped(upstream, MAX_BODY_BYTES)
                content_type = upstream.headers.get("content-type", "application/octet-stream")
                attributes = upstream.headers.get("x-amzn-sagemaker-custom-attributes")
        except _AnswerTooLarge as too_large:
            raise InvocationError(
                "ModelError",
                424,
                f'Received server error ({too_large.status}) from primary with message "The answer of the model '
                f"server of variant {variant.name} exceeds the limit of {MAX_BODY_BYTES} bytes "
                f'({too_large.seen} bytes or more); it was not read further."',
                OriginalStatusCode=too_large.status,
                OriginalMessage="response too large",
                LogStreamArn=log_stream,
            ) from None
        except TimeoutError:
            raise InvocationError(
                "ModelError",
                424,
                'Received server error (0) from primary with message "Your invocation timed out while waiting '
                f'for a response from container primary of variant {variant.name}."',
                OriginalStatusCode=0,
                OriginalMessage="timeout",
                LogStreamArn=log_stream,
            ) from None
        except aiohttp.ClientError as exc:
            raise InvocationError(
                "ModelError",
                424,
                'Received server error (0) from primary with message "Could not reach the model server of '
                f'variant {variant.name} at {variant.upstream_url}: {exc.__class__.__name__}"',
                OriginalStatusCode=0,
                OriginalMessage=str(exc)[:1024],
                LogStreamArn=log_stream,
            ) from None
        if status >= 300:  # a redirect is not an answer: it is never followed, and never passed on as success
            kind = "client" if status < 500 else "server"
            original = content.decode("utf-8", errors="replace")[:1024]
            raise InvocationError(
                "ModelError",
                424,
                f'Received {kind} error ({status}) from primary with message "{original}". '
                f"See {log_stream} for more information.",
                OriginalStatusCode=status,
                OriginalMessage=original,
                LogStreamArn=log_stream,
            )
        return content_type, attributes, content


class _AnswerTooLarge(Exception):
    def __init__(self, status: int, seen: int) -> None:
        super().__init__(f"answer of {seen}+ bytes")
        self.status, self.seen = status, seen


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, or _AnswerTooLarge as soon as it is known to exceed `limit` (never read whole)."""
    declared = response.content_length
    if declared is not None and declared > limit:
        raise _AnswerTooLarge(response.status, declared)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(256 * 1024):
        size += len(chunk)
        if size > limit:
            raise _AnswerTooLarge(response.status, size)
        chunks.append(chunk)
    return b"".join(chunks)


def ping(url: str) -> bool:
    """GET <model server>/ping answers 200 when it is ready (SageMaker's container contract)."""
    try:
        return httpx.get(upstream_path(url, "ping"), timeout=2.0, follow_redirects=False).status_code == 200
    except (httpx.HTTPError, ValueError):
        return False
