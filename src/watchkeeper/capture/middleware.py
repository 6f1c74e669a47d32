"""ASGI middleware that captures a Starlette/FastAPI model server's invocations in SageMaker's format.

    writer = CaptureWriter(open_store())
    config = CaptureConfig("s3://bucket/capture", sampling_percentage=20,
                           csv_content_types=SDK_CSV_CONTENT_TYPES, json_content_types=SDK_JSON_CONTENT_TYPES)
    app.add_middleware(CaptureMiddleware, writer=writer, config=config, endpoint_name="churn")

Requests to `POST <path>` (default `/invocations`) that the sample draw picks are recorded through the
writer, into the same files as an endpoint fronted by Watchkeeper: `<destination>/<endpoint>/<variant>/...`.
Every message is passed on as it comes, so streaming requests and responses are unchanged; the middleware
only keeps a reference to each body chunk. A record is written only when the app returned normally after a
complete 2xx response: SageMaker turns any other answer of a model container into a `ModelError`, a failed
invocation, which it does not capture. Bodies larger than `max_body_bytes` are not captured. The inference id
and custom attributes come from the `X-Amzn-SageMaker-Inference-Id` / `-Custom-Attributes` headers when a
client sends them. On ASGI lifespan shutdown the writer is flushed (not closed: it may be shared).
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watchkeeper.capture.records import CaptureConfig
from watchkeeper.capture.writer import CaptureWriter
from watchkeeper.storage.base import StorageError

logger = logging.getLogger(__name__)

# AWS's request and response payload limit for InvokeEndpoint.
DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024

_INFERENCE_ID = b"x-amzn-sagemaker-inference-id"
_CUSTOM_ATTRIBUTES = b"x-amzn-sagemaker-custom-attributes"


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class CaptureMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        writer: CaptureWriter,
        config: CaptureConfig,
        endpoint_name: str,
        variant_name: str = "AllTraffic",
        path: str = "/invocations",
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.writer = writer
        self.config = config
        self.endpoint_name = endpoint_name
        self.variant_name = variant_name
        self.path = path
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._lifespan_receive(receive), send)
            return
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != self.path
            or not self.writer.sample(self.config)
        ):
            await self.app(scope, receive, send)
            return
        await _Invocation(self, scope).run(receive, send)

    def _lifespan_receive(self, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                try:
                    await asyncio.to_thread(self.writer.flush)
                except StorageError as exc:  # the records stay queued; the app's shutdown goes on
                    logger.warning("capture records not flushed at shutdown: %s", exc)
            return message

        return wrapped


class _Invocation:
    """One sampled request: passes messages through and keeps the bodies for the record."""

    __slots__ = (
        "inference_time",
        "mw",
        "request_chunks",
        "request_complete",
        "request_headers",
        "response_chunks",
        "response_complete",
        "response_content_type",
        "scope",
        "size",
        "status",
        "too_big",
    )

    def __init__(self, mw: CaptureMiddleware, scope: Scope) -> None:
        self.mw = mw
        self.scope = scope
        self.request_headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        self.inference_time = mw.writer.clock.now()
        self.request_chunks: list[bytes] = []
        self.response_chunks: list[bytes] = []
        self.request_complete = self.response_complete = self.too_big = False
        self.size = 0
        self.status = 0
        self.response_content_type: str | None = None

    def _keep(self, chunks: list[bytes], body: bytes) -> None:
        if self.too_big or not body:
            return
        self.size += len(body)
        if self.size > self.mw.max_body_bytes:
            self.too_big = True
            self.request_chunks.clear()
            self.response_chunks.clear()
        else:
            chunks.append(body)

    async def run(self, receive: Receive, send: Send) -> None:
        async def capture_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self._keep(self.request_chunks, message.get("body", b""))
                if not message.get("more_body", False):
                    self.request_complete = True
            return message

        async def capture_send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                self.status = message["status"]
                self.response_content_type = _header(message.get("headers") or [], b"content-type")
            elif kind == "http.response.body":
                self._keep(self.response_chunks, message.get("body", b""))
                if not message.get("more_body", False):
                    self.response_complete = True
            await send(message)

        await self.mw.app(self.scope, capture_receive, capture_send)
        # Reached only if the app did not raise: record a complete, successful, fully read invocation.
        complete = self.request_complete and self.response_complete and not self.too_big
        if not (complete and 200 <= self.status < 300):
            return
        mw = self.mw
        mw.writer.capture(
            mw.config,
            mw.endpoint_name,
            mw.variant_name,
            input_body=b"".join(self.request_chunks),
            input_content_type=_header(self.request_headers, b"content-type"),
            output_body=b"".join(self.response_chunks),
            output_content_type=self.response_content_type,
            inference_id=_header(self.request_headers, _INFERENCE_ID),
            custom_attributes=_header(self.request_headers, _CUSTOM_ATTRIBUTES),
            inference_time=self.inference_time,
        )
