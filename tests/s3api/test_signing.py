"""SigV4 for S3 at the edge: accounts, S3's auth errors, payload forms (a declared SHA-256, UNSIGNED-PAYLOAD,
signed chunks, the unsigned checksum trailer recent boto3 sends over TLS), and addressing. Chunk signatures
are computed here from AWS's description of the chunked upload, not by the server's code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
import zlib
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials

from tests.s3api.conftest import ALICE, BOB, error_of
from tests.server_process import ServerProcess

EMPTY = hashlib.sha256(b"").hexdigest()


def signed(method: str, url: str, payload: str, headers: dict[str, str], keys: tuple[str, str] = ALICE[:2]) -> dict:
    request = AWSRequest(method=method, url=url, headers={**headers, "X-Amz-Content-SHA256": payload})
    SigV4Auth(Credentials(*keys), "s3", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def signing_key(secret: str, date: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in ("us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def chunked_body(data: bytes, headers: dict[str, str], chunk: int, tamper: bool = False) -> bytes:
    """AWS's chunked upload: each chunk signed over the previous signature and its data's SHA-256."""
    stamp = headers["X-Amz-Date"]
    seed = headers["Authorization"].rsplit("Signature=", 1)[1]
    key, scope = signing_key(ALICE[1], stamp[:8]), f"{stamp[:8]}/us-east-1/s3/aws4_request"
    out, previous = b"", seed
    pieces = [data[i: i + chunk] for i in range(0, len(data), chunk)] + [b""]
    for piece in pieces:
        to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", stamp, scope, previous, EMPTY,
                             hashlib.sha256(piece).hexdigest()])
        previous = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        sent = piece[:-1] + b"!" if tamper and piece else piece
        out += f"{len(piece):x};chunk-signature={previous}\r\n".encode() + sent + b"\r\n"
    return out


@pytest.mark.parametrize("tamper", [False, True])
def test_signed_chunks(server: ServerProcess, s3: Any, bucket: str, tamper: bool) -> None:
    data = bytes(range(256)) * 300  # 76,800 bytes: two 64 KiB chunks and the empty last one
    url = f"{server.url}/{bucket}/chunked"
    headers = signed("PUT", url, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                     {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data))})
    answer = httpx.put(url, content=chunked_body(data, headers, 65536, tamper), headers=headers)
    if tamper:
        assert answer.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in answer.content
        assert error_of(s3.head_object, Bucket=bucket, Key="chunked")["ResponseMetadata"]["HTTPStatusCode"] == 404
        return
    assert answer.status_code == 200, answer.text
    got = s3.get_object(Bucket=bucket, Key="chunked")
    assert got["Body"].read() == data and got.get("ContentEncoding") is None
    assert got["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'


def _over_http(server: ServerProcess) -> Any:
    """boto3 believes it speaks TLS (so it streams an unsigned body with a checksum trailer, its default
    there); the request is carried to the plain-HTTP server as prepared."""
    def send(request: Any, **_: Any) -> AWSResponse:
        body = request.body.read() if hasattr(request.body, "read") else (request.body or b"")
        url = request.url.replace("https://", "http://")
        # boto3 sends Transfer-Encoding: chunked (httpx does as well for an iterator) and Expect: 100-continue.
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("transfer-encoding", "expect")}
        answer = httpx.request(request.method, url, content=iter([body]), headers=headers)

        class Raw:
            def stream(self, *_: Any, **__: Any) -> Any:
                yield answer.content

        return AWSResponse(url, answer.status_code, answer.headers, Raw())

    client = boto3.client("s3", endpoint_url=server.url.replace("http://", "https://"), region_name="us-east-1",
                          aws_access_key_id=ALICE[0], aws_secret_access_key=ALICE[1],
                          config=Config(retries={"max_attempts": 1}))
    client.meta.events.register("before-send.s3.PutObject", send)
    client.meta.events.register("before-send.s3.UploadPart", send)
    return client


def test_unsigned_payload_with_checksum_trailer(server: ServerProcess, s3: Any, bucket: str) -> None:
    data = b"trailer body " * 1000
    sent: dict[str, Any] = {}
    client = _over_http(server)
    client.meta.events.register_first("before-send.s3.PutObject", lambda request, **_: sent.update(request.headers))
    client.put_object(Bucket=bucket, Key="trailed", Body=data)
    assert sent["X-Amz-Content-SHA256"] == b"STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert s3.get_object(Bucket=bucket, Key="trailed")["Body"].read() == data
    head = s3.head_object(Bucket=bucket, Key="trailed", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_a_wrong_trailer_keeps_nothing(server: ServerProcess, s3: Any, bucket: str) -> None:
    url = f"{server.url}/{bucket}/bad-trailer"
    headers = signed("PUT", url, "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                     {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "5",
                      "x-amz-trailer": "x-amz-checksum-crc32"})
    wrong = base64.b64encode(zlib.crc32(b"other").to_bytes(4, "big")).decode()
    body = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + wrong.encode() + b"\r\n\r\n"
    answer = httpx.put(url, content=body, headers=headers)
    assert answer.status_code == 400 and b"<Code>BadDigest</Code>" in answer.content
    assert error_of(s3.head_object, Bucket=bucket, Key="bad-trailer")["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_unsigned_payload_and_a_lying_digest(server: ServerProcess, s3: Any, bucket: str) -> None:
    url = f"{server.url}/{bucket}/u"
    assert httpx.put(url, content=b"free", headers=signed("PUT", url, "UNSIGNED-PAYLOAD", {})).status_code == 200
    assert s3.get_object(Bucket=bucket, Key="u")["Body"].read() == b"free"
    lying = signed("PUT", url, hashlib.sha256(b"declared").hexdigest(), {})
    answer = httpx.put(url, content=b"swapped!", headers=lying)
    assert answer.status_code == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in answer.content
    assert s3.get_object(Bucket=bucket, Key="u")["Body"].read() == b"free"


def test_accounts_own_their_buckets(server: ServerProcess, s3: Any, bob_s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="secret", Body=b"alice's")
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket not in [b["Name"] for b in bob_s3.list_buckets()["Buckets"]]
    for call, kwargs in ((bob_s3.get_object, {"Key": "secret"}), (bob_s3.put_object, {"Key": "x", "Body": b""}),
                         (bob_s3.list_objects_v2, {}), (bob_s3.delete_bucket, {})):
        assert error_of(call, Bucket=bucket, **kwargs)["Error"]["Code"] == "AccessDenied"
    assert error_of(bob_s3.create_bucket, Bucket=bucket)["Error"]["Code"] == "BucketAlreadyExists"
    s3.create_bucket(Bucket=bucket)  # us-east-1 answers its owner 200, and keeps the objects
    assert s3.get_object(Bucket=bucket, Key="secret")["Body"].read() == b"alice's"
    elsewhere = server.client("s3", region="eu-west-1", keys=ALICE[:2])
    assert error_of(elsewhere.create_bucket, Bucket=bucket, CreateBucketConfiguration={
        "LocationConstraint": "eu-west-1"})["Error"]["Code"] == "BucketAlreadyOwnedByYou"
    # The SageMaker API on the same port knows the owner too.
    sagemaker = server.client("sagemaker", keys=BOB[:2])
    refused = error_of(sagemaker.create_endpoint_config, EndpointConfigName="steal", ProductionVariants=[
        {"VariantName": "v", "ModelName": "m", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}],
        DataCaptureConfig={"EnableCapture": True, "InitialSamplingPercentage": 100,
                           "DestinationS3Uri": f"s3://{bucket}/capture",
                           "CaptureOptions": [{"CaptureMode": "Input"}]})
    assert refused["Error"]["Code"] == "ValidationException" and "belongs to another account" in \
        refused["Error"]["Message"]


def test_list_buckets_in_pages(server: ServerProcess) -> None:
    carol = server.client("s3", keys=BOB[:2])
    names = sorted(f"page-{uuid.uuid4().hex[:10]}" for _ in range(3))
    for name in names:
        carol.create_bucket(Bucket=name)
    seen, token = [], None
    while True:
        page = carol.list_buckets(MaxBuckets=2, Prefix="page-", **({"ContinuationToken": token} if token else {}))
        seen += [b["Name"] for b in page["Buckets"]]
        if not (token := page.get("ContinuationToken")):
            break
    assert seen == names


def test_delete_bucket(s3: Any) -> None:
    name = f"del-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"")
    assert error_of(s3.delete_bucket, Bucket=name)["Error"]["Code"] == "BucketNotEmpty"
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    assert error_of(s3.head_bucket, Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error_of(s3.create_bucket, Bucket="Not_Valid")["Error"]["Code"] == "InvalidBucketName"


def test_auth_errors_in_s3_terms(server: ServerProcess, bucket: str) -> None:
    for keys, code in (((ALICE[0], "not-the-secret"), "SignatureDoesNotMatch"),
                       (("AKIANOBODY00000000", "x"), "InvalidAccessKeyId")):
        client = server.client("s3", keys=keys)
        error = error_of(client.head_bucket, Bucket=bucket)
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert error_of(client.list_objects_v2, Bucket=bucket)["Error"]["Code"] == code
    unsigned = httpx.get(f"{server.url}/{bucket}")
    assert unsigned.status_code == 403 and b"<Code>AccessDenied</Code>" in unsigned.content


def test_virtual_host_addressing_and_the_other_apis(server: ServerProcess, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="v/h.txt", Body=b"by host")
    url = f"http://{bucket}.localhost:{server.port}/v/h.txt"
    headers = signed("GET", url, EMPTY, {"Host": f"{bucket}.localhost:{server.port}"})
    answer = httpx.get(f"{server.url}/v/h.txt", headers=headers)  # to 127.0.0.1, Host: <bucket>.localhost
    assert answer.status_code == 200 and answer.content == b"by host"
    # Same port: SageMaker's JSON API, /healthz and unsigned unknown paths keep their own answers.
    assert server.client("sagemaker", keys=ALICE[:2]).list_models()["Models"] == []
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
