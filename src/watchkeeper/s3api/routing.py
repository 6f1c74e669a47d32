"""Which requests are S3's, and the bucket and key they address.

S3 shares Watchkeeper's port: a request is S3's when its credential scope names the service `s3` (and it
carries no X-Amz-Target, which every JSON API sends), or when it is unsigned and addresses nothing the other
APIs serve (`POST /` with a target, `/endpoints/...`, `/ui`, `/healthz`, `/metrics`). Buckets are addressed
by path (`/bucket/key`) or by virtual host (`bucket.<domain>`, for the domains of `WATCHKEEPER_S3_DOMAINS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote

from starlette.types import Scope

_OTHER_PATHS = ("/healthz", "/metrics", "/ui")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def signing_service(scope: Scope) -> str | None:
    """The service of the credential scope (header or presigned query), or None for an unsigned request."""
    credential = None
    authorization = _header(scope, b"authorization") or ""
    if "Credential=" in authorization:
        credential = authorization.split("Credential=", 1)[1].split(",", 1)[0]
    else:
        for item in scope.get("query_string", b"").decode("latin-1").split("&"):
            if item.startswith("X-Amz-Credential="):
                credential = unquote(item.split("=", 1)[1])
    if credential is None:
        return None
    parts = credential.strip().split("/")
    return parts[3] if len(parts) == 5 else ""


def is_s3(scope: Scope) -> bool:
    if _header(scope, b"x-amz-target") is not None:
        return False
    service = signing_service(scope)
    if service is not None:
        return service == "s3"
    path = scope["path"]
    if path in _OTHER_PATHS or path.startswith(("/ui/", "/endpoints/")):
        return False
    return not (path == "/" and scope["method"] == "POST")


def address(scope: Scope, domains: Sequence[str]) -> tuple[str | None, str | None]:
    """(bucket, key) of the request, each None when absent; the key is percent-decoded once."""
    raw = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1").split("?", 1)[0]
    host = (_header(scope, b"host") or "").rsplit(":", 1)[0].lower()
    for domain in sorted(domains, key=len, reverse=True):
        if domain and host.endswith("." + domain):
            key = unquote(raw[1:]) if raw.startswith("/") else unquote(raw)
            return host[: -len(domain) - 1], key or None
    bucket, _, key = raw.lstrip("/").partition("/")
    return (unquote(bucket) or None), (unquote(key) or None)
