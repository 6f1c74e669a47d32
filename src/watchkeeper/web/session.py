"""The dashboard's session cookie: a signed, expiring token naming the signed-in key's account and region.

`payload.signature`, both base64url: the payload is JSON (user, account, region, expiry, CSRF token), the
signature HMAC-SHA256 of the payload under a server-side secret. Nothing in it is secret (the key's secret never
is in it); what it proves is that the server issued it and when it ends. A cookie before sign-in carries only a
CSRF token (account None), so the sign-in form is CSRF-checked as every other POST is.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import orjson

COOKIE = "wk_session"
SECRET_FILE = "ui-session.key"  # in the data folder: replicas on one data folder share it


@dataclass(frozen=True)
class Session:
    user: str | None  # None before sign-in
    account: str | None
    region: str
    expires: float
    csrf: str

    @property
    def signed_in(self) -> bool:
        return self.account is not None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    def __init__(self, secret: bytes, ttl_seconds: float) -> None:
        if len(secret) < 32:
            raise ValueError("the session secret must be at least 32 bytes")
        self._key = hmac.new(secret, b"watchkeeper-ui-session-v1", sha256).digest()  # own key, never reused
        self.ttl_seconds = ttl_seconds

    def issue(self, now: float, user: str | None, account: str | None, region: str) -> tuple[Session, str]:
        """A new session (fresh CSRF token) and its cookie value."""
        session = Session(user, account, region, now + self.ttl_seconds, secrets.token_urlsafe(24))
        return session, self.encode(session)

    def encode(self, session: Session) -> str:
        payload = orjson.dumps(
            {"u": session.user, "a": session.account, "r": session.region, "e": session.expires, "c": session.csrf}
        )
        return f"{_b64(payload)}.{_b64(hmac.new(self._key, payload, sha256).digest())}"

    def decode(self, value: str, now: float) -> Session | None:
        """The session of a cookie value, or None when it is forged, altered, malformed or expired."""
        payload_text, dot, signature_text = value.partition(".")
        if not dot or len(value) > 4096:
            return None
        try:
            payload, signature = _unb64(payload_text), _unb64(signature_text)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(signature, hmac.new(self._key, payload, sha256).digest()):
            return None
        try:
            data = orjson.loads(payload)
            session = Session(data["u"], data["a"], str(data["r"]), float(data["e"]), str(data["c"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None
        return session if session.expires > now else None


def load_secret(configured: str, data_dir: Path) -> bytes:
    """WATCHKEEPER_UI_SESSION_SECRET when set; else a random secret kept in the data folder (0600, created once,
    atomically, so two processes starting together agree), which survives restarts."""
    if configured:
        if len(configured) < 32:
            raise ValueError("WATCHKEEPER_UI_SESSION_SECRET must be at least 32 characters")
        return configured.encode("utf-8")
    path = data_dir / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32).hex().encode("ascii"))
    for _ in range(50):  # another process may be between create and write
        text = path.read_bytes().strip()
        if len(text) >= 64:
            return text
        time.sleep(0.01)
    raise RuntimeError(f"{path} holds no session secret; delete it to have a new one made")
