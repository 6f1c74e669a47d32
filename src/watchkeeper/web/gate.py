"""The session check in front of every /ui page (the edge leaves /ui to it; api/edge.py).

- Every response carries a valid session cookie: a visitor without one gets a fresh, not-signed-in session
  (it holds the CSRF token the sign-in form needs).
- Every POST must carry the session's CSRF token as the form field `csrf` (403 otherwise), before any route.
- With keys configured, every page but the sign-in form and the static files needs a signed-in session whose
  access key is still in the auth file for the same account; otherwise a redirect to the sign-in form.
- Without keys the dashboard is open as the API is: the server's account, the session's region.
Pages find the caller in `scope[SESSION_KEY]` and `scope[PRINCIPAL_KEY]` (the same key the API uses).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watchkeeper.api.edge import PRINCIPAL_KEY, REGION_KEY
from watchkeeper.auth.sigv4 import Principal
from watchkeeper.web.session import COOKIE, Session, SessionCodec

SESSION_KEY = "watchkeeper.ui_session"
SIGN_IN = "/ui/signin"
PUBLIC_PREFIXES = ("/ui/static/",)
MAX_FORM_BYTES = 64 * 1024
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; "
     b"frame-ancestors 'none'; base-uri 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a dashboard path only (no other host, no scheme, no `//`)."""
    if not target or not target.startswith("/ui") or target.startswith("//") or "\\" in target:
        return "/ui/"
    return target


class SessionGate:
    def __init__(
        self,
        app: ASGIApp,
        codec: SessionCodec,
        keys: Mapping[str, Principal] | None,
        default_principal: Principal,
        default_region: str,
        now: Callable[[], float],
    ) -> None:
        self.app = app
        self.codec = codec
        self.keys = keys
        self.default_principal = default_principal
        self.default_region = default_region
        self.now = now

    def principal_of(self, session: Session) -> Principal | None:
        """The key behind a signed-in session, if the auth file still gives it to the same account."""
        if self.keys is None:
            return self.default_principal
        if not session.signed_in or session.user is None:
            return None
        principal = self.keys.get(session.user)  # sessions name the access key id
        return principal if principal is not None and principal.account == session.account else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = self._session(scope)
        fresh = session is None
        if session is None:
            session, _ = self.codec.issue(self.now(), None, None, self.default_region)
        scope[SESSION_KEY] = session
        send = self._with_headers(send, scope, session if fresh else None)
        if scope["method"] == "POST":
            body = await _read(receive)
            if body is None or not self._csrf_ok(session, body):
                await _plain(send, 403, "Forbidden: the form's CSRF token is missing or does not match the session.")
                return
            receive = _replay(body)
        path = scope["path"]
        if path == SIGN_IN or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        principal = self.principal_of(session)
        if principal is None:
            query = scope.get("query_string", b"").decode("latin-1")
            target = path + (f"?{query}" if query else "")
            await _redirect(send, f"{SIGN_IN}?next={quote(target, safe='')}")
            return
        scope[PRINCIPAL_KEY] = principal
        scope[REGION_KEY] = session.region if session.signed_in else self.default_region
        await self.app(scope, receive, send)

    def _session(self, scope: Scope) -> Session | None:
        for key, value in scope["headers"]:
            if key == b"cookie":
                cookie: SimpleCookie = SimpleCookie()
                try:
                    cookie.load(value.decode("latin-1"))
                except Exception:  # a malformed Cookie header is no session
                    continue
                if COOKIE in cookie:
                    return self.codec.decode(cookie[COOKIE].value, self.now())
        return None

    def _csrf_ok(self, session: Session, body: bytes) -> bool:
        try:
            form = parse_qs(body.decode("utf-8"), max_num_fields=20)
        except (UnicodeDecodeError, ValueError):
            return False
        token = (form.get("csrf") or [""])[0]
        return bool(token) and hmac.compare_digest(token.encode(), session.csrf.encode())

    def _with_headers(self, send: Send, scope: Scope, issue: Session | None) -> Send:
        """Security headers on every answer, and the cookie of a session made for this request."""
        cookie = cookie_header(self.codec.encode(issue), scope, self.codec.ttl_seconds) if issue else None
        started = time.perf_counter()

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={(time.perf_counter() - started) * 1000:.3f}".encode()))
                names = {name.lower() for name, _ in headers}
                if cookie is not None and b"set-cookie" not in names:
                    headers.append((b"set-cookie", cookie))
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in names)
                message = {**message, "headers": headers}
            await send(message)

        return wrapped


def cookie_header(value: str, scope: Scope, max_age: float) -> bytes:
    secure = "; Secure" if scope.get("scheme") == "https" else ""
    return f"{COOKIE}={value}; Path=/ui; Max-Age={int(max_age)}; HttpOnly; SameSite=Strict{secure}".encode("latin-1")


async def _read(receive: Receive) -> bytes | None:
    """The form body (the edge has already bounded it); None past MAX_FORM_BYTES."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str) -> None:
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
