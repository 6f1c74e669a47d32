"""S3's errors: an exception the handlers raise, its XML body, and the edge's auth failures in S3's words."""

from __future__ import annotations

from watchkeeper.auth.sigv4 import AuthError


class S3Error(Exception):
    def __init__(self, code: str, message: str, status: int = 400, **extra: str) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.extra = code, message, status, extra


def no_such_bucket(bucket: str) -> S3Error:
    return S3Error("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=bucket)


def no_such_key(key: str) -> S3Error:
    return S3Error("NoSuchKey", "The specified key does not exist.", 404, Key=key)


def access_denied() -> S3Error:
    return S3Error("AccessDenied", "Access Denied", 403)


def not_implemented(what: str) -> S3Error:
    return S3Error("NotImplemented", f"{what} is not implemented by Watchkeeper's S3 API (docs/s3.md).", 501)


def malformed_xml() -> S3Error:
    return S3Error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema.",
    )


# The edge's SigV4 failures (auth/sigv4.py speaks the JSON APIs' codes) in S3's codes and statuses.
_AUTH = {
    "MissingAuthenticationTokenException": ("AccessDenied", 403, "Access Denied"),
    "IncompleteSignatureException": ("AuthorizationHeaderMalformed", 400, None),
    "UnrecognizedClientException": (
        "InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."
    ),
    "XAmzContentSHA256Mismatch": ("XAmzContentSHA256Mismatch", 400, None),
    "InvalidRequest": ("InvalidRequest", 400, None),
    "InvalidArgument": ("InvalidArgument", 400, None),
    "AccessDenied": ("AccessDenied", 403, None),
}


def from_auth(error: AuthError) -> S3Error:
    if error.code == "InvalidSignatureException":
        if error.message.startswith("Signature expired") or error.message.startswith("Signature not yet"):
            return S3Error(
                "RequestTimeTooSkewed",
                f"The difference between the request time and the current time is too large. {error.message}",
                403,
            )
        if error.message.startswith("Credential should be scoped"):
            return S3Error("AuthorizationHeaderMalformed", error.message, 400)
        return S3Error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key "
            "and signing method.",
            403,
        )
    if error.message.startswith("X-Amz-Expires must be between"):
        return S3Error("AccessDenied", f"Request has expired or is not valid: {error.message}", 403)
    code, status, message = _AUTH.get(error.code, ("AccessDenied", 403, None))
    return S3Error(code, message or error.message, status)
