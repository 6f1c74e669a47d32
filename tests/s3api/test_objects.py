"""Objects through boto3's `s3` client: what S3 answers, and that they are the embedded store's files."""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Any

import pytest

from tests.s3api.conftest import error_of
from tests.server_process import ServerProcess
from watchkeeper.storage import LocalObjectStore


def test_put_get_head_as_s3_computes_them(s3: Any, bucket: str) -> None:
    body = b"a,b\n1,2\n" * 1000
    put = s3.put_object(Bucket=bucket, Key="data/train.csv", Body=body, ContentType="text/csv",
                        Metadata={"team": "churn"}, CacheControl="no-cache")
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="data/train.csv")
    assert got["Body"].read() == body
    assert (got["ContentType"], got["Metadata"], got["CacheControl"]) == ("text/csv", {"team": "churn"}, "no-cache")
    assert got["ETag"] == put["ETag"] and got["ContentLength"] == len(body)
    head = s3.head_object(Bucket=bucket, Key="data/train.csv", ChecksumMode="ENABLED")
    assert head["ContentLength"] == len(body)
    # boto3 sent CRC32 (its default); S3 keeps it and answers it on request.
    assert head["ChecksumCRC32"] == base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()


def test_the_analyzer_reads_what_the_api_wrote_and_back(server: ServerProcess, s3: Any, bucket: str) -> None:
    store = LocalObjectStore(server.data_dir / "s3")
    s3.put_object(Bucket=bucket, Key="in/x.json", Body=b'{"a": 1}')
    assert store.get_bytes(f"s3://{bucket}/in/x.json") == b'{"a": 1}'
    store.put_bytes(f"s3://{bucket}/reports/statistics.json", b"{}\n")  # as a job's upload writes it
    got = s3.get_object(Bucket=bucket, Key="reports/statistics.json")
    assert got["Body"].read() == b"{}\n" and got["ETag"] == f'"{hashlib.md5(b"{}" + chr(10).encode()).hexdigest()}"'
    store.put_bytes(f"s3://{bucket}/in/x.json", b"rewritten")  # a stale sidecar is not believed
    assert s3.head_object(Bucket=bucket, Key="in/x.json")["ETag"] == f'"{hashlib.md5(b"rewritten").hexdigest()}"'


@pytest.mark.parametrize(
    ("header", "expected"),
    [("bytes=0-0", (0, 1)), ("bytes=10-19", (10, 20)), ("bytes=-7", (93, 100)), ("bytes=95-", (95, 100)),
     ("bytes=90-1000", (90, 100))],
)
def test_ranges(s3: Any, bucket: str, header: str, expected: tuple[int, int]) -> None:
    body = bytes(range(100))
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    got = s3.get_object(Bucket=bucket, Key="r", Range=header)
    first, end = expected
    assert got["Body"].read() == body[first:end]
    assert got["ContentRange"] == f"bytes {first}-{end - 1}/100"
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206


def test_unsatisfiable_range(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="r", Body=b"abc")
    error = error_of(s3.get_object, Bucket=bucket, Key="r", Range="bytes=5-9")
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("InvalidRange", 416)


def test_content_md5(s3: Any, bucket: str) -> None:
    good = base64.b64encode(hashlib.md5(b"payload").digest()).decode()
    s3.put_object(Bucket=bucket, Key="m", Body=b"payload", ContentMD5=good)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    assert error_of(s3.put_object, Bucket=bucket, Key="m2", Body=b"payload", ContentMD5=wrong)["Error"]["Code"] \
        == "BadDigest"
    assert error_of(s3.head_object, Bucket=bucket, Key="m2")["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_conditional_get(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"v1")["ETag"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"v1"
    assert error_of(s3.get_object, Bucket=bucket, Key="c", IfMatch='"0000"')["Error"]["Code"] == "PreconditionFailed"
    assert error_of(s3.get_object, Bucket=bucket, Key="c", IfNoneMatch=etag)["ResponseMetadata"][
        "HTTPStatusCode"] == 304


def test_conditional_put(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")["ETag"]
    assert error_of(s3.put_object, Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")["Error"]["Code"] \
        == "PreconditionFailed"
    assert error_of(s3.put_object, Bucket=bucket, Key="once", Body=b"x", IfMatch='"0"')["Error"]["Code"] \
        == "PreconditionFailed"
    assert error_of(s3.put_object, Bucket=bucket, Key="once", Body=b"x", IfNoneMatch=etag)["Error"]["Code"] \
        == "PreconditionFailed"
    s3.put_object(Bucket=bucket, Key="once", Body=b"third", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"third"
    assert error_of(s3.put_object, Bucket=bucket, Key="absent", Body=b"", IfMatch=etag)["Error"]["Code"] \
        == "NoSuchKey"


def test_errors_in_s3_xml(s3: Any, bucket: str) -> None:
    error = error_of(s3.get_object, Bucket=bucket, Key="missing/key")
    assert error["Error"] == {"Code": "NoSuchKey", "Message": "The specified key does not exist.",
                              "Key": "missing/key", "Resource": f"/{bucket}/missing/key"}
    assert error_of(s3.get_object, Bucket="no-such-bucket-here", Key="k")["Error"]["Code"] == "NoSuchBucket"
    assert error_of(s3.get_object, Bucket=bucket, Key="folder/")["Error"]["Code"] == "NoSuchKey"
    assert error_of(s3.put_object, Bucket=bucket, Key="k" * 1025, Body=b"")["Error"]["Code"] == "KeyTooLongError"
    refused = error_of(s3.put_object, Bucket=bucket, Key="a/../b", Body=b"")
    assert refused["Error"]["Code"] == "InvalidArgument" and "'a/../b'" in refused["Error"]["Message"]


def test_object_size_bound(s3: Any, bucket: str) -> None:
    # The server runs with WATCHKEEPER_S3_MAX_OBJECT_MB=64: a larger declared size is refused before reading.
    error = error_of(s3.put_object, Bucket=bucket, Key="big", Body=b"x" * (64 * 1024 * 1024 + 1))
    assert error["Error"]["Code"] == "EntityTooLarge"


def test_copy_and_delete(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src/a", Body=b"content", ContentType="text/plain", Metadata={"k": "v"})
    copied = s3.copy_object(Bucket=bucket, Key="dst/a", CopySource={"Bucket": bucket, "Key": "src/a"})
    assert copied["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"content").hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="dst/a")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (b"content", "text/plain", {"k": "v"})
    s3.copy_object(Bucket=bucket, Key="dst/a", CopySource=f"{bucket}/src/a", MetadataDirective="REPLACE",
                   ContentType="application/json")
    assert s3.head_object(Bucket=bucket, Key="dst/a")["ContentType"] == "application/json"
    s3.delete_object(Bucket=bucket, Key="dst/a")
    s3.delete_object(Bucket=bucket, Key="never-there")  # S3 answers 204 for a missing key too
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "src/a"}, {"Key": "nope"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["nope", "src/a"]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_presigned_urls(server: ServerProcess, s3: Any, bucket: str) -> None:
    import boto3
    import httpx
    from botocore.config import Config

    from tests.s3api.conftest import ALICE

    # boto3 presigns S3 with SigV2 unless told otherwise; Watchkeeper verifies SigV4 only.
    v2 = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"})
    assert httpx.get(v2).status_code == 403
    s3 = boto3.client("s3", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id=ALICE[0],
                      aws_secret_access_key=ALICE[1], config=Config(signature_version="s3v4"))
    put = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "p"})
    assert httpx.put(put, content=b"via url").status_code == 200
    get = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"})
    assert httpx.get(get).content == b"via url"
    tampered = get.replace("/p?", "/q?")
    answer = httpx.get(tampered)
    assert answer.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in answer.content
