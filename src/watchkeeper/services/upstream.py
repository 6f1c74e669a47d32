"""Model-server URLs: checked when a model is created, joined by path when called.

A model names its server in `WATCHKEEPER_UPSTREAM_URL`. The URL must be plain `http(s)://host[:port][/path]`:
a query, fragment or user-info could make an endpoint relay InvokeEndpoint to another path or service
(`http://internal/admin?` once swallowed `/invocations`). `WATCHKEEPER_UPSTREAM_ALLOW` optionally lists the
hosts (`host` or `host:port`) model servers may live on.
"""

from __future__ import annotations

from yarl import URL


class UpstreamError(ValueError):
    """Why a model-server URL is refused."""


def parse_allow_list(value: str) -> frozenset[str]:
    return frozenset(item.strip().lower() for item in value.split(",") if item.strip())


def check_upstream(url: str, allow: frozenset[str]) -> URL:
    """The parsed URL, or UpstreamError saying what is wrong with it."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError) as exc:
        raise UpstreamError(f"{url!r} is not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UpstreamError(f"{url!r} must be an http:// or https:// URL with a host")
    if parsed.user is not None or parsed.password is not None:
        raise UpstreamError(f"{url!r} must not carry user information")
    if parsed.raw_query_string or parsed.raw_fragment or "?" in url or "#" in url:
        raise UpstreamError(f"{url!r} must not have a query or fragment: Watchkeeper appends /invocations and /ping")
    if allow and not _allowed(parsed, allow):
        raise UpstreamError(
            f"host {parsed.host}:{parsed.port} of {url!r} is not in WATCHKEEPER_UPSTREAM_ALLOW "
            f"({', '.join(sorted(allow))})"
        )
    return parsed


def _allowed(url: URL, allow: frozenset[str]) -> bool:
    host = (url.host or "").lower()
    return host in allow or f"{host}:{url.port}" in allow


def upstream_path(base: str, path: str) -> str:
    """`<base>/invocations` by joining paths: nothing in the base can redirect the call elsewhere."""
    parsed = URL(base).with_query(None).with_fragment(None)
    return str(parsed.with_path(parsed.path.rstrip("/") + "/" + path.lstrip("/"), encoded=False))
