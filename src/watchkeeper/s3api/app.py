"""The S3 API as an ASGI app behind the edge (api/edge.py), which has verified the signature over the
headers and hands over the principal, its region and the `Seed` the body is checked against."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from watchkeeper.api.awsjson import new_request_id
from watchkeeper.auth.sigv4 import AuthError, Principal, Seed
from watchkeeper.s3api import bucket_calls, multipart, objects
from watchkeeper.s3api.errors import S3Error, from_auth, not_implemented
from watchkeeper.s3api.payload import Body
from watchkeeper.s3api.request import Deps, S3Request, S3Response
from watchkeeper.s3api.routing import address, is_s3
from watchkeeper.s3api.xml import error_body
from watchkeeper.services.context import RequestContext

log = logging.getLogger(__name__)

Handler = Callable[[Deps, S3Request], Awaitable[S3Response]]


def route(req: S3Request) -> Handler:
    """S3's operation from method, bucket/key and subresource."""
    q, method = req.query, req.method
    if req.bucket is None:
        if method == "GET":
            return bucket_calls.list_buckets
        raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.", 405)
    if req.key is None:
        table: dict[tuple[str, str], Handler] = {
            ("PUT", ""): bucket_calls.create_bucket, ("HEAD", ""): bucket_calls.head_bucket,
            ("DELETE", ""): bucket_calls.delete_bucket, ("GET", ""): bucket_calls.list_objects,
            ("GET", "location"): bucket_calls.get_location, ("GET", "versioning"): bucket_calls.get_versioning,
            ("GET", "uploads"): multipart.list_uploads, ("GET", "versions"): bucket_calls.list_versions,
            ("POST", "delete"): objects.delete_objects,
        }
        known = ("location", "versioning", "uploads", "versions", "delete")
        flags = [name for name in q if name not in ("prefix", "delimiter", "marker", "max-keys", "encoding-type",
                                                    "list-type", "continuation-token", "start-after",
                                                    "fetch-owner", "key-marker", "version-id-marker",
                                                    "upload-id-marker", "max-uploads", "x-id")]
        sub = next((f for f in flags if f in known), flags[0] if flags else "")
        handler = table.get((method, sub))
        if handler is None:
            raise not_implemented(f"{method} /{req.bucket}?{sub}" if sub else f"{method} on a bucket")
        return handler
    if method == "PUT" and "uploadId" in q:
        return multipart.upload_part
    if method == "PUT" and not ({"acl", "tagging", "retention", "legal-hold"} & q.keys()):
        return objects.copy_object if "x-amz-copy-source" in req.headers else objects.put_object
    if method == "GET" and "uploadId" in q:
        return multipart.list_parts
    if method in ("GET", "HEAD") and not ({"acl", "tagging", "attributes", "torrent"} & q.keys()):
        if method == "HEAD":
            return head_object
        return objects.get_object
    if method == "DELETE" and "uploadId" in q:
        return multipart.abort
    if method == "DELETE" and "tagging" not in q:
        return objects.delete_object
    if method == "POST" and "uploads" in q:
        return multipart.create
    if method == "POST" and "uploadId" in q:
        return multipart.complete
    raise not_implemented(f"{method} on an object with ?{'&'.join(q)}")


async def head_object(deps: Deps, req: S3Request) -> S3Response:
    return await objects.get_object(deps, req, head=True)


class S3App:
    def __init__(self, deps: Deps, domains: Sequence[str], body_timeout: float) -> None:
        self.deps, self.domains, self.body_timeout = deps, tuple(domains), body_timeout

    def claims(self, scope: Scope) -> bool:
        return is_s3(scope)

    async def refuse(self, scope: Scope, send: Send, error: AuthError) -> None:
        await self._send(send, scope, self._error(from_auth(error), scope), close=True)

    async def serve(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal, region: str, seed: Seed | None
    ) -> None:
        bucket, key = address(scope, self.domains)
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            lower = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[lower] = f"{headers[lower]},{text}" if lower in headers else text
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        try:
            body = Body(receive, headers, seed, self.body_timeout)
            req = S3Request(scope["method"], bucket, key, query, headers,
                            RequestContext(principal.account, region), body)
            response = await route(req)(self.deps, req)
        except S3Error as error:
            response = self._error(error, scope, bucket, key)
        except Exception:
            log.exception("S3 request %s %s failed", scope["method"], scope["path"])
            response = self._error(S3Error("InternalError", "We encountered an internal error. Please try again.",
                                           500), scope, bucket, key)
        await self._send(send, scope, response, close=response.status >= 400 and scope["method"] != "HEAD")

    def _error(self, error: S3Error, scope: Scope, bucket: str | None = None, key: str | None = None) -> S3Response:
        resource = "/" + "/".join(p for p in (bucket, key) if p) if bucket else scope["path"]
        request_id = new_request_id()
        body = b"" if scope["method"] == "HEAD" else error_body(error, resource, request_id)
        response = S3Response(error.status, [("content-type", "application/xml"), ("x-amz-request-id", request_id)],
                              body)
        if scope["method"] == "HEAD":
            response.length = 0
        return response

    async def _send(self, send: Send, scope: Scope, response: S3Response, close: bool = False) -> None:
        length = response.length if response.length is not None else len(response.body)
        headers = [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in response.headers]
        headers.append((b"content-length", str(length).encode()))
        if not any(k == b"x-amz-request-id" for k, _ in headers):
            headers.append((b"x-amz-request-id", new_request_id().encode()))
        if close:
            headers.append((b"connection", b"close"))  # the rest of a refused body is never read
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if response.stream is not None and scope["method"] != "HEAD":
            async for chunk in response.stream:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        else:
            await send({"type": "http.response.body", "body": response.body if scope["method"] != "HEAD" else b""})
