"""The verifier against botocore's own signers: every form boto3 sends must verify, any change must not."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from watchkeeper.auth.sigv4 import AuthError, Principal, SignedRequest, verify

KEYS = {"AKIATEST": Principal("tester", "AKIATEST", "s3cr3t/with+odd=chars", "111122223333")}
CREDENTIALS = Credentials("AKIATEST", "s3cr3t/with+odd=chars")


def as_received(request: AWSRequest) -> SignedRequest:
    """What the server sees: the path and query as sent on the wire, header names lower-cased."""
    parts = urlsplit(request.url)
    headers = [(k.lower(), v) for k, v in request.headers.items()]
    if not any(k == "host" for k, _ in headers):
        headers.append(("host", parts.netloc))
    body = request.body or b""
    body = body.encode() if isinstance(body, str) else body
    return SignedRequest(request.method, parts.path or "/", parts.query, headers, hashlib.sha256(body).hexdigest())


def now() -> datetime:
    return datetime.now(UTC)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/",
        "http://127.0.0.1:8080/endpoints/my-endpoint/invocations",
        "http://127.0.0.1:8080/a%20b/c?x=1&b=%2F&a=",
        "http://localhost/path/./with/../dots?z=last&a=first&a=again",
    ],
)
def test_header_signatures_of_every_service_verify(url: str) -> None:
    for signer, service in ((SigV4Auth, "sagemaker"), (SigV4Auth, "logs"), (S3SigV4Auth, "s3")):
        request = AWSRequest(method="POST", url=url, data=b'{"a": 1}', headers={"Content-Type": "application/json"})
        signer(CREDENTIALS, service, "eu-west-1").add_auth(request)
        principal, region = verify(as_received(request), KEYS, now())
        assert (principal.account, region) == ("111122223333", "eu-west-1")


def test_presigned_urls_verify_and_expire() -> None:
    for signer, service in ((SigV4QueryAuth, "sagemaker"), (S3SigV4QueryAuth, "s3")):
        request = AWSRequest(method="GET", url="http://127.0.0.1:8080/bucket/key%2Fwith%20space?versionId=3")
        signer(CREDENTIALS, service, "us-east-1", expires=60).add_auth(request)
        assert verify(as_received(request), KEYS, now())[0].user == "tester"
        with pytest.raises(AuthError) as caught:
            verify(as_received(request), KEYS, now() + timedelta(seconds=120))
        assert caught.value.message == "Request has expired"


def test_any_change_breaks_the_signature() -> None:
    request = AWSRequest(method="POST", url="http://h/?a=1", data=b"{}", headers={"X-Amz-Target": "SageMaker.X"})
    SigV4Auth(CREDENTIALS, "sagemaker", "us-east-1").add_auth(request)
    good = as_received(request)
    changes = [
        SignedRequest("PUT", good.raw_path, good.raw_query, good.headers, good.payload_sha256),
        SignedRequest(good.method, "/other", good.raw_query, good.headers, good.payload_sha256),
        SignedRequest(good.method, good.raw_path, "a=2", good.headers, good.payload_sha256),
        SignedRequest(good.method, good.raw_path, good.raw_query, good.headers, hashlib.sha256(b"{ }").hexdigest()),
        SignedRequest(
            good.method,
            good.raw_path,
            good.raw_query,
            [(k, "SageMaker.Y" if k == "x-amz-target" else v) for k, v in good.headers],
            good.payload_sha256,
        ),
    ]
    for changed in changes:
        with pytest.raises(AuthError) as caught:
            verify(changed, KEYS, now())
        assert caught.value.code == "InvalidSignatureException"


def test_clock_skew_both_ways() -> None:
    request = AWSRequest(method="POST", url="http://h/", data=b"{}")
    SigV4Auth(CREDENTIALS, "sagemaker", "us-east-1").add_auth(request)
    received = as_received(request)
    assert verify(received, KEYS, now() + timedelta(minutes=14))
    with pytest.raises(AuthError, match="Signature expired"):
        verify(received, KEYS, now() + timedelta(minutes=16))
    with pytest.raises(AuthError, match="Signature not yet current"):
        verify(received, KEYS, now() - timedelta(minutes=16))


def test_declared_payload_hash_must_match_the_body() -> None:
    request = AWSRequest(method="PUT", url="http://h/bucket/key", data=b"payload")
    S3SigV4Auth(CREDENTIALS, "s3", "us-east-1").add_auth(request)
    received = as_received(request)
    tampered = SignedRequest(
        received.method, received.raw_path, received.raw_query, received.headers, hashlib.sha256(b"other").hexdigest()
    )
    with pytest.raises(AuthError) as caught:
        verify(tampered, KEYS, now())
    assert caught.value.code == "XAmzContentSHA256Mismatch"


def test_region_in_the_scope_must_be_arn_safe() -> None:
    request = AWSRequest(method="POST", url="http://h/", data=b"{}")
    SigV4Auth(CREDENTIALS, "sagemaker", "us-east-1/../x").add_auth(request)
    with pytest.raises(AuthError) as caught:
        verify(as_received(request), KEYS, now())
    assert caught.value.code == "IncompleteSignatureException"
