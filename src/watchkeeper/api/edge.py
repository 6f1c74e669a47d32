"""The edge of every API: bounded request bodies read within a deadline, then SigV4 verified.

One ASGI middleware in front of every route, so an API added later is covered without a line of its own.
It reads the body (refusing more than the route's bound, and a body that does not arrive within the request
timeout), verifies the signature over it when keys are configured, and hands the route the principal, its
region and the body, replayed. The region and account of every request come from here
(`request_context`), never from an unverified header.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watchkeeper.api.awsjson import new_request_id, region_from_authorization
from watchkeeper.auth.sigv4 import AuthError, Principal, Seed, SignedRequest, precheck, verify, verify_s3
from watchkeeper.services.context import RequestContext

log = logging.getLogger(__name__)

PRINCIPAL_KEY = "watchkeeper.principal"
REGION_KEY = "watchkeeper.region"
OPERATOR_KEY = "watchkeeper.operator"  # set when a request may see every account (no keys, or the metrics token)
METRICS_PATH = "/metrics"
INVOKE_MAX_BODY_BYTES = 6 * 1024 * 1024  # SageMaker's InvokeEndpoint payload limit
UNAUTHENTICATED_PATHS = frozenset({"/healthz"})  # says "ok" and nothing else: load balancers probe it
UI_PREFIX = "/ui"  # the dashboard: a browser cannot sign, so its session gate (web/gate.py) authenticates it
# X-Amz-Target prefix → the signing name of that API.
TARGET_SERVICES = {"SageMaker.": "sagemaker", "Logs_20140328.": "logs", "GraniteServiceVersion20100801.": "monitoring"}


@dataclass(frozen=True)
class EdgeLimits:
    api_max_body_bytes: int
    request_timeout_seconds: float
    inflight_body_bytes: int = 256 * 1024 * 1024


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str, reserved: int = 0) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.reserved = reserved  # body bytes already counted against the in-flight budget


def _body_limit(path: str, limits: EdgeLimits) -> tuple[int, str]:
    """(bound, error code): InvokeEndpoint has AWS's 6 MB; every JSON API the configured bound."""
    if path.startswith("/endpoints/") and path.endswith("/invocations"):
        return INVOKE_MAX_BODY_BYTES, "ValidationError"
    return limits.api_max_body_bytes, "ValidationException"


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: Mapping[str, Principal] | None,
        default_principal: Principal,
        default_region: str,
        limits: EdgeLimits,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics_token: str = "",
        s3: Any = None,
    ) -> None:
        self.app = app
        self.s3 = s3  # s3api.app.S3App: claims(scope), refuse(...), serve(...)
        self.keys = keys
        self.default_principal = default_principal
        self.default_region = default_region
        self.limits = limits
        self.now = now
        self.metrics_token = metrics_token.encode()
        self.inflight = 0  # body bytes held by requests in progress (one event loop: no lock needed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.s3 is not None and self.s3.claims(scope):
            await self._s3(scope, receive, send)
            return
        if scope["type"] != "http" or scope["path"] in UNAUTHENTICATED_PATHS:
            await self.app(scope, receive, send)
            return
        if scope["path"] == UI_PREFIX or scope["path"].startswith(UI_PREFIX + "/"):
            await self._dashboard(scope, receive, send)
            return
        if scope["path"] == METRICS_PATH and (self.keys is None or self._metrics_bearer(scope)):
            # GET /metrics with the scrape token (Prometheus cannot sign), or open like the rest without keys
            scope[PRINCIPAL_KEY], scope[REGION_KEY] = self.default_principal, self.default_region
            scope[OPERATOR_KEY] = True
            await self.app(scope, receive, send)
            return
        reserved = 0
        try:
            service = _signing_service(scope)
            if self.keys is not None:
                precheck(self._signed(scope, b""), self.keys, self.now(), service)
            body = await self._read_body(scope, receive)
            reserved = len(body)
            principal, region = self._authenticate(scope, body, service)
        except _Refused as refused:
            self._release(refused.reserved)
            await _refuse(send, refused.status, refused.code, refused.message)
            return
        except AuthError as error:
            self._release(reserved)
            await _refuse(send, error.status, error.code, error.message)
            return
        scope[PRINCIPAL_KEY] = principal
        scope[REGION_KEY] = region
        try:
            await self.app(scope, _replay(body, receive), send)
        finally:
            self._release(reserved)

    async def _dashboard(self, scope: Scope, receive: Receive, send: Send) -> None:
        """/ui: the body bounded and timed as every request's, no signature; no principal is set here, so only
        the dashboard's session gate (mounted at /ui alone) can give one. No API route lies under /ui."""
        try:
            body = await self._read_body(scope, receive)
        except _Refused as refused:
            self._release(refused.reserved)
            await _refuse(send, refused.status, refused.code, refused.message)
            return
        try:
            await self.app(scope, _replay(body, receive), send)
        finally:
            self._release(len(body))

    async def _s3(self, scope: Scope, receive: Receive, send: Send) -> None:
        """S3 signs its headers and the body's *declared* digest, so the signature is verified here before any
        body byte is read; the S3 app streams the body (objects up to gigabytes, never held in memory) and
        checks it against the `Seed`: the digest, each chunk's signature, or the checksum trailer."""
        seed: Seed | None = None
        try:
            if self.keys is None:
                principal = self.default_principal
                region = region_from_authorization(_header(scope, b"authorization"), self.default_region)
            else:
                principal, region, seed = verify_s3(self._signed(scope, b""), self.keys, self.now())
        except AuthError as error:
            await self.s3.refuse(scope, send, error)
            return
        await self.s3.serve(scope, receive, send, principal, region, seed)

    def _metrics_bearer(self, scope: Scope) -> bool:
        """`Authorization: Bearer <WATCHKEEPER_METRICS_TOKEN>`, compared in constant time."""
        authorization = (_header(scope, b"authorization") or "").encode("latin-1")
        scheme, _, token = authorization.partition(b" ")
        if not self.metrics_token or scheme.lower() != b"bearer":
            return False
        return hmac.compare_digest(token.strip(), self.metrics_token)

    def _reserve(self, size: int, held: int) -> None:
        """Bodies held in memory by all requests together stay under the budget (503 past it)."""
        if self.inflight + size > self.limits.inflight_body_bytes:
            raise _Refused(
                503,
                "ThrottlingException",
                "Too many request bodies in flight; retry with backoff.",
                reserved=held,
            )
        self.inflight += size

    def _release(self, size: int) -> None:
        self.inflight -= size

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit, code = _body_limit(scope["path"], self.limits)
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _Refused(413, code, f"Request body of {int(declared)} bytes exceeds the limit of {limit} bytes.")
        chunks: list[bytes] = []
        size = 0
        # A declared length is reserved whole before reading, so a refusal costs no body; a chunked body
        # is reserved as it arrives.
        reserved = int(declared) if declared is not None and declared.isdigit() else 0
        self._reserve(reserved, 0)
        try:
            async with asyncio.timeout(self.limits.request_timeout_seconds):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _Refused(
                            400, "IncompleteRequest", "The client closed the connection mid-request.", reserved=reserved
                        )
                    chunk = message.get("body", b"")
                    if size + len(chunk) > limit:
                        raise _Refused(
                            413, code, f"Request body exceeds the limit of {limit} bytes.", reserved=reserved
                        )
                    if size + len(chunk) > reserved:
                        self._reserve(size + len(chunk) - reserved, reserved)
                        reserved = size + len(chunk)
                    size += len(chunk)
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        self._release(reserved - size)  # a body shorter than declared
                        return b"".join(chunks)
        except TimeoutError:
            raise _Refused(
                408,
                "RequestTimeoutException",
                f"The request body did not arrive within {self.limits.request_timeout_seconds:g} s.",
                reserved=reserved,
            ) from None

    def _signed(self, scope: Scope, body: bytes) -> SignedRequest:
        return SignedRequest(
            method=scope["method"],
            raw_path=(scope.get("raw_path") or scope["path"].encode()).decode("latin-1").split("?", 1)[0],
            raw_query=scope.get("query_string", b"").decode("latin-1"),
            headers=[(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]],
            payload_sha256=hashlib.sha256(body).hexdigest(),
        )

    def _authenticate(self, scope: Scope, body: bytes, service: str | None) -> tuple[Principal, str]:
        if self.keys is None:
            authorization = _header(scope, b"authorization")
            return self.default_principal, region_from_authorization(authorization, self.default_region)
        return verify(self._signed(scope, body), self.keys, self.now(), service)


def _signing_service(scope: Scope) -> str | None:
    """The signing name a request's credential scope must carry, by the API it addresses (None: unknown,
    so any; such requests end in a 404 anyway)."""
    path = scope["path"]
    if path.startswith("/endpoints/"):
        return "sagemaker"  # sagemaker-runtime signs as "sagemaker"
    if path == "/":
        target = _header(scope, b"x-amz-target") or ""
        for prefix, service in TARGET_SERVICES.items():
            if target.startswith(prefix):
                return service
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    """AWS's JSON error shape, read alike by botocore's json and rest-json parsers; the connection closes,
    since the rest of a refused body is never read."""
    request_id = new_request_id()
    body = orjson.dumps({"__type": code, "message": message})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/x-amz-json-1.1"),
                (b"content-length", str(len(body)).encode()),
                (b"x-amzn-requestid", request_id.encode()),
                (b"x-amzn-errortype", code.encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def request_context(request: Request) -> RequestContext:
    """The verified account and region of a request that passed the edge."""
    principal: Principal = request.scope[PRINCIPAL_KEY]
    return RequestContext(account=principal.account, region=request.scope[REGION_KEY])
