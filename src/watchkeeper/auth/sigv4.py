"""Verify an AWS Signature Version 4 by recomputing it, as AWS's front ends do.

Pure computation: the caller hands in the request's parts (method, raw path, raw query, headers, the body's
SHA-256) and the key ring; the answer is the signer's `Principal`, or an `AuthError` carrying AWS's code and
wording. Both forms are accepted: the `Authorization` header (boto3, the SDK) and presigned query parameters
(`X-Amz-Signature`, what `generate_presigned_url` writes).

Where services differ (botocore's `SigV4Auth` vs `S3SigV4Auth`): every service but S3 signs the request path
normalised and percent-encoded once more; S3 signs the path as sent, and names the payload hash in
`x-amz-content-sha256` (a hex digest, `UNSIGNED-PAYLOAD`, or a streaming marker).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=15)
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_REGION = re.compile(r"[a-z0-9-]{1,32}")  # it becomes part of ARNs


@dataclass(frozen=True)
class Principal:
    """A key's owner: `user` names its section of the auth file; `account` scopes what it sees."""

    user: str
    access_key: str
    secret_key: str
    account: str


class AuthError(Exception):
    """An authentication failure in AWS's terms (HTTP 403 for all of them, as AWS answers)."""

    status = 403

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def missing_token() -> AuthError:
    return AuthError("MissingAuthenticationTokenException", "Missing Authentication Token")


def incomplete(message: str) -> AuthError:
    return AuthError("IncompleteSignatureException", message)


def unrecognized() -> AuthError:
    return AuthError("UnrecognizedClientException", "The security token included in the request is invalid.")


def mismatch() -> AuthError:
    return AuthError(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
        "Access Key and signing method. Consult the service documentation for details.",
    )


@dataclass(frozen=True)
class SignedRequest:
    """What the signature covers, as it arrived on the wire."""

    method: str
    raw_path: str  # percent-encoded, as sent
    raw_query: str  # as sent, without the leading '?'
    headers: Sequence[tuple[str, str]]  # (lower-case name, value), repeated names kept in order
    payload_sha256: str  # hex digest of the body as received

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key == name]
        return ",".join(values) if values else None


@dataclass(frozen=True)
class _Signature:
    access_key: str
    date: str  # yyyymmdd of the scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: datetime
    expires: int | None  # presigned URLs only
    presigned: bool


def region_of_scope(credential: str) -> str | None:
    parts = credential.split("/")
    return parts[2] if len(parts) == 5 else None


def _parse_header(authorization: str, request: SignedRequest) -> _Signature:
    if not authorization.startswith(ALGORITHM + " "):
        raise incomplete(
            f"Authorization header requires the {ALGORITHM} algorithm; the header given is not a SigV4 signature."
        )
    fields: dict[str, str] = {}
    for part in authorization[len(ALGORITHM) :].split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
    if missing:
        wanted = " ".join(f"Authorization header requires '{name}' parameter." for name in missing)
        raise incomplete(f"{wanted} Authorization={authorization[:256]}")
    amz_date = request.header("x-amz-date") or _from_http_date(request.header("date"))
    if amz_date is None:
        raise incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
            f"Authorization={authorization[:256]}"
        )
    return _signature(fields["Credential"], fields["SignedHeaders"], fields["Signature"], amz_date, None, False)


def _from_http_date(value: str | None) -> str | None:
    """SigV4 allows `Date` (RFC 7231) in place of `X-Amz-Date`."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(UTC).strftime(_AMZ_DATE)
    except (TypeError, ValueError):
        return None


def _parse_query(params: Mapping[str, str]) -> _Signature:
    missing = [
        name
        for name in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature")
        if not params.get(name)
    ]
    if missing:
        raise incomplete(" ".join(f"AWS query-string parameters must include '{name}'." for name in missing))
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise incomplete(f"X-Amz-Algorithm must be {ALGORITHM}.")
    try:
        expires = int(params.get("X-Amz-Expires", "604800"))
    except ValueError:
        raise incomplete("X-Amz-Expires must be a whole number of seconds.") from None
    return _signature(
        params["X-Amz-Credential"],
        params["X-Amz-SignedHeaders"],
        params["X-Amz-Signature"],
        params["X-Amz-Date"],
        expires,
        True,
    )


def _signature(
    credential: str, signed_headers: str, signature: str, amz_date: str, expires: int | None, presigned: bool
) -> _Signature:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise incomplete(
            f"Credential should be scoped to a valid region and service: 'Credential={credential[:256]}' is not "
            "<access key>/<yyyymmdd>/<region>/<service>/aws4_request."
        )
    try:
        timestamp = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise incomplete(f"Date must be in ISO-8601 'basic format': got '{amz_date[:64]}'.") from None
    if not _REGION.fullmatch(parts[2]):
        raise incomplete(f"Credential should be scoped to a valid region, not '{parts[2][:64]}'.")
    if parts[1] != amz_date[:8]:
        raise AuthError(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid date: '{parts[1]}' != '{amz_date[:8]}' of the request date.",
        )
    return _Signature(
        access_key=parts[0],
        date=parts[1],
        region=parts[2],
        service=parts[3],
        signed_headers=tuple(signed_headers.split(";")),
        signature=signature,
        timestamp=timestamp,
        expires=expires,
        presigned=presigned,
    )


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    pairs = []
    for item in raw_query.split("&"):
        if item:
            key, _, value = item.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def _canonical_query(pairs: list[tuple[str, str]], drop: str | None) -> str:
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs if k != drop)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, and AWS's extra rule: consecutive slashes collapse (botocore's normalize_url_path)."""
    if not path:
        return "/"
    output: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if output:
                output.pop()
        else:
            output.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and output else ""
    return first + "/".join(output) + last


def _canonical_path(raw_path: str, service: str) -> str:
    if service == "s3":
        return raw_path or "/"
    return quote(_remove_dot_segments(raw_path), safe="/~")


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _check_time(sig: _Signature, now: datetime) -> None:
    stamp = sig.timestamp.strftime(_AMZ_DATE)
    if sig.presigned:
        assert sig.expires is not None
        if sig.expires < 1 or sig.expires > 604800:
            raise incomplete("X-Amz-Expires must be between 1 and 604800 seconds.")
        if now > sig.timestamp + timedelta(seconds=sig.expires):
            raise AuthError("AccessDenied", "Request has expired")
        if sig.timestamp - now > MAX_SKEW:
            raise AuthError("AccessDenied", "Request is not valid yet")
        return
    now_stamp = now.strftime(_AMZ_DATE)
    if now - sig.timestamp > MAX_SKEW:
        earliest = (now - MAX_SKEW).strftime(_AMZ_DATE)
        raise AuthError(
            "InvalidSignatureException",
            f"Signature expired: {stamp} is now earlier than {earliest} ({now_stamp} - 15 min.)",
        )
    if sig.timestamp - now > MAX_SKEW:
        latest = (now + MAX_SKEW).strftime(_AMZ_DATE)
        raise AuthError(
            "InvalidSignatureException",
            f"Signature not yet current: {stamp} is still later than {latest} ({now_stamp} + 15 min.)",
        )


def _signature_of(
    request: SignedRequest, keys: Mapping[str, Principal], now: datetime, service: str | None
) -> tuple[_Signature, Principal, list[tuple[str, str]], str | None]:
    pairs = _query_pairs(request.raw_query)
    query = dict(pairs)
    authorization = request.header("authorization")
    if authorization:
        sig = _parse_header(authorization, request)
        drop = None
    elif "X-Amz-Signature" in query or "X-Amz-Credential" in query:
        sig = _parse_query(query)
        drop = "X-Amz-Signature"
    else:
        raise missing_token()
    principal = keys.get(sig.access_key)
    if principal is None:
        raise unrecognized()
    if service is not None and sig.service != service:
        raise AuthError("InvalidSignatureException", f"Credential should be scoped to correct service: '{service}'.")
    _check_time(sig, now)
    if "host" not in sig.signed_headers:
        raise incomplete("Signed headers must include 'host'.")
    declared = request.header("x-amz-content-sha256")
    if sig.service != "s3" and declared is not None and not _HEX64.fullmatch(declared):
        # Unsigned and streaming payloads are S3's; elsewhere the body is always part of the signature.
        raise AuthError(
            "InvalidSignatureException", f"x-amz-content-sha256 must be the body's SHA-256 for {sig.service}."
        )
    return sig, principal, pairs, drop


def precheck(
    request: SignedRequest, keys: Mapping[str, Principal], now: datetime, service: str | None = None
) -> Principal:
    """Everything but the signature itself, which needs the body: run before the body is read, so a
    request that cannot be authentic costs no body."""
    return _signature_of(request, keys, now, service)[1]


S3_PAYLOAD_MARKERS = frozenset(
    {UNSIGNED_PAYLOAD, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"}
)


@dataclass(frozen=True)
class Seed:
    """What an S3 body is checked against after the headers' signature held: the declared payload (a hex
    digest or a marker) and, for signed chunks, what each chunk's signature chains from."""

    payload: str
    signing_key: bytes
    timestamp: str  # X-Amz-Date
    scope: str  # yyyymmdd/region/s3/aws4_request
    signature: str  # the seed signature: the first chunk's "previous signature"


def verify(
    request: SignedRequest, keys: Mapping[str, Principal], now: datetime, service: str | None = None
) -> tuple[Principal, str]:
    """The signer and the region of its credential scope, or AuthError. `service`, when given, is the
    signing name the credential scope must carry (AWS refuses a signature meant for another service)."""
    principal, region, _ = _verify(request, keys, now, service, deferred=False)
    return principal, region


def verify_s3(request: SignedRequest, keys: Mapping[str, Principal], now: datetime) -> tuple[Principal, str, Seed]:
    """S3: the signature covers the headers and the *declared* payload (`x-amz-content-sha256`), so it is
    verified before any body byte is read; the body is then checked against the returned `Seed` as it streams
    (s3api/payload.py), before anything it carries is kept."""
    authorization = request.header("authorization")
    declared = request.header("x-amz-content-sha256")
    if authorization and declared is None:
        raise AuthError("InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
    if declared is not None and not _HEX64.fullmatch(declared) and declared not in S3_PAYLOAD_MARKERS:
        markers = ", ".join(sorted(S3_PAYLOAD_MARKERS))
        raise AuthError("InvalidArgument", f"x-amz-content-sha256 must be a SHA-256 or one of {markers}")
    return _verify(request, keys, now, "s3", deferred=True)


def _verify(
    request: SignedRequest, keys: Mapping[str, Principal], now: datetime, service: str | None, deferred: bool
) -> tuple[Principal, str, Seed]:
    sig, principal, pairs, drop = _signature_of(request, keys, now, service)
    canonical_headers = []
    for name in sig.signed_headers:
        value = request.header(name)
        if value is None:
            raise mismatch()
        canonical_headers.append(f"{name}:{' '.join(value.split())}")
    declared = request.header("x-amz-content-sha256")
    if sig.presigned and sig.service == "s3":
        payload = UNSIGNED_PAYLOAD
    elif declared is not None:
        payload = declared
        # A declared digest must be the body's digest; the markers defer the check (S3 streaming, unsigned).
        if not deferred and _HEX64.fullmatch(declared) and declared != request.payload_sha256:
            raise AuthError(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
    else:
        payload = request.payload_sha256
    canonical = "\n".join(
        [
            request.method.upper(),
            _canonical_path(request.raw_path, sig.service),
            _canonical_query(pairs, drop),
            "\n".join(canonical_headers) + "\n",
            ";".join(sig.signed_headers),
            payload,
        ]
    )
    scope = f"{sig.date}/{sig.region}/{sig.service}/aws4_request"
    string_to_sign = "\n".join(
        [ALGORITHM, sig.timestamp.strftime(_AMZ_DATE), scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _signing_key(principal.secret_key, sig.date, sig.region, sig.service)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, sig.signature):
        raise mismatch()
    return principal, sig.region, Seed(payload, key, sig.timestamp.strftime(_AMZ_DATE), scope, sig.signature)
