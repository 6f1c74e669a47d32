"""Multipart uploads: boto3's managed transfer, the parts' rules, the ETag S3 computes (MD5 of the parts' MD5s)."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from boto3.s3.transfer import TransferConfig

from tests.s3api.conftest import error_of

MIB = 1024 * 1024


def s3_multipart_etag(parts: list[bytes]) -> str:
    return f'"{hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()}-{len(parts)}"'


def test_managed_upload_and_download(s3: Any, bucket: str) -> None:
    data = bytes(range(256)) * (11 * MIB // 256 + 7)  # 11 MiB and a bit: parts of 5, 5 and the rest
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_fileobj(io.BytesIO(data), bucket, "big/blob.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="big/blob.bin")
    chunks = [data[i: i + 5 * MIB] for i in range(0, len(data), 5 * MIB)]
    assert head["ETag"] == s3_multipart_etag(chunks) and head["ContentLength"] == len(data)
    for number, chunk in enumerate(chunks, start=1):  # GetObject ?partNumber= answers that part's bytes
        part = s3.get_object(Bucket=bucket, Key="big/blob.bin", PartNumber=number)
        assert part["Body"].read() == chunk and part["PartsCount"] == len(chunks)
    assert error_of(s3.get_object, Bucket=bucket, Key="big/blob.bin", PartNumber=len(chunks) + 1)["Error"][
        "Code"] == "InvalidPartNumber"
    out = io.BytesIO()
    s3.download_fileobj(bucket, "big/blob.bin", out, Config=config)  # ranged GETs, in parallel
    assert out.getvalue() == data


def test_parts_listed_completed_and_refused(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="text/csv")["UploadId"]
    bodies = {1: b"x" * 1024, 2: b"y" * 1024}
    tags = [s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=n, Body=bodies[n])["ETag"]
            for n in (1, 2)]
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [(1, tags[0], 1024), (2, tags[1], 1024)]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [upload]

    def complete(parts: list[dict[str, Any]]) -> dict[str, Any]:
        return error_of(s3.complete_multipart_upload, Bucket=bucket, Key="mp", UploadId=upload,
                        MultipartUpload={"Parts": parts})

    assert complete([{"PartNumber": 1, "ETag": tags[0]}, {"PartNumber": 2, "ETag": tags[1]}])["Error"]["Code"] \
        == "EntityTooSmall"  # every part but the last has at least 5 MiB
    assert complete([{"PartNumber": 1, "ETag": tags[1]}])["Error"]["Code"] == "InvalidPart"
    assert complete([{"PartNumber": 2, "ETag": tags[1]}, {"PartNumber": 1, "ETag": tags[0]}])["Error"]["Code"] \
        == "InvalidPartOrder"
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload,
                                        MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": tags[1]}]})
    assert done["ETag"] == s3_multipart_etag([bodies[2]])
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert got["Body"].read() == bodies[2] and got["ContentType"] == "text/csv"
    assert error_of(s3.list_parts, Bucket=bucket, Key="mp", UploadId=upload)["Error"]["Code"] == "NoSuchUpload"


def test_abort_and_bounds(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="ab")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="ab", UploadId=upload, PartNumber=1, Body=b"1")
    refused = error_of(s3.upload_part, Bucket=bucket, Key="ab", UploadId=upload, PartNumber=10001, Body=b"1")
    assert refused["Error"]["Code"] == "InvalidArgument"
    s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=upload)
    assert error_of(s3.upload_part, Bucket=bucket, Key="ab", UploadId=upload, PartNumber=1, Body=b"1")["Error"][
        "Code"] == "NoSuchUpload"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
