"""Any S3-compatible store (AWS S3, MinIO, Ceph RGW, ...) through boto3.

Configured by `WATCHKEEPER_S3_ENDPOINT_URL`, `_S3_REGION`, `_S3_ACCESS_KEY_ID`, `_S3_SECRET_ACCESS_KEY`
(`Settings.s3_*`). Without an access key, boto3's own credential chain applies (environment, profile,
instance role). With an endpoint URL, path-style addressing is used (`http://host:9000/bucket/key`), which
every S3-compatible server accepts. Buckets are not created: they must exist (`NoSuchBucket` otherwise).

A put is one `PutObject`, which S3 makes atomic. Listing pages through `ListObjectsV2`, which S3 returns in
key order. Reads stream the response body. Keys are passed to S3 as they are: only the embedded store
refuses '..' and the like, since S3 keys are names, not paths.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from watchkeeper.storage.base import (
    NoSuchBucket,
    NoSuchKey,
    ObjectInfo,
    StorageError,
    parse_object_uri,
    parse_s3_uri,
)

if TYPE_CHECKING:
    from watchkeeper.config import Settings

# Multipart above 8 MB, in 8 MB parts, a few in flight: memory stays a few parts whatever the file's size.
_TRANSFER = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=4)
_MISSING_KEY_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
# 4xx answers that a later retry of the same request can still get past (throttling, clock, timeouts);
# every other 4xx (AccessDenied, InvalidBucketName, KeyTooLongError, ...) is permanent, every 5xx is not.
_TRANSIENT_CLIENT_CODES = frozenset({
    "RequestTimeout", "SlowDown", "Throttling", "ThrottlingException", "TooManyRequests",
    "RequestTimeTooSkewed", "ExpiredToken", "TokenRefreshRequired", "OperationAborted",
})


def _permanent(exc: ClientError, code: str) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    if code in _TRANSIENT_CLIENT_CODES or status in (408, 429):
        return False
    return 400 <= int(status) < 500


class S3ObjectStore:
    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str = "",
        secret_access_key: str = "",
        client: Any = None,
        list_page_size: int = 1000,
    ) -> None:
        self.endpoint_url = endpoint_url or None
        self.list_page_size = list_page_size
        if client is None:
            kwargs: dict[str, Any] = {
                "region_name": region,
                "config": Config(
                    retries={"max_attempts": 5, "mode": "standard"},
                    max_pool_connections=32,
                    s3={"addressing_style": "path"} if endpoint_url else {},
                ),
            }
            if endpoint_url:
                kwargs["endpoint_url"] = endpoint_url
            if access_key_id:
                kwargs["aws_access_key_id"] = access_key_id
                kwargs["aws_secret_access_key"] = secret_access_key
            # A session per store: boto3 clients are thread-safe, the default session is not.
            client = boto3.session.Session().client("s3", **kwargs)
        self.client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> S3ObjectStore:
        return cls(
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
        )

    def __repr__(self) -> str:
        return f"S3ObjectStore(endpoint_url={self.endpoint_url!r})"

    def _error(self, action: str, uri: str, exc: Exception) -> StorageError:
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            message = exc.response.get("Error", {}).get("Message", "") or str(exc)
            if code in _MISSING_KEY_CODES:
                return NoSuchKey(f"no object at {uri!r}")
            if code == "NoSuchBucket":
                bucket = parse_s3_uri(uri).bucket
                return NoSuchBucket(f"{action} {uri!r}: bucket {bucket!r} does not exist; create it first")
            return StorageError(f"{action} {uri!r} failed: {code}: {message}", permanent=_permanent(exc, code))
        where = self.endpoint_url or "AWS S3"
        return StorageError(
            f"{action} {uri!r} failed talking to {where}: {exc} "
            "(check WATCHKEEPER_S3_ENDPOINT_URL and the S3 credentials)"
        )

    def put_bytes(self, uri: str, data: bytes) -> None:
        loc = parse_object_uri(uri)
        try:
            self.client.put_object(Bucket=loc.bucket, Key=loc.key, Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise self._error("put", uri, exc) from exc

    def put_file(self, uri: str, source: str | os.PathLike[str] | BinaryIO) -> None:
        """boto3's managed transfer: one PutObject up to 8 MB, a multipart upload beyond (S3 shows the object
        only once every part is in), read in chunks, never whole."""
        loc = parse_object_uri(uri)
        try:
            if isinstance(source, (str, os.PathLike)):
                self.client.upload_file(os.fspath(source), loc.bucket, loc.key, Config=_TRANSFER)
            else:
                self.client.upload_fileobj(source, loc.bucket, loc.key, Config=_TRANSFER)
        except S3UploadFailedError as exc:
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, (ClientError, BotoCoreError)):
                raise self._error("put", uri, cause) from exc
            raise StorageError(f"put {uri!r} failed: {exc}") from exc
        except (ClientError, BotoCoreError) as exc:
            raise self._error("put", uri, exc) from exc
        except OSError as exc:
            raise StorageError(f"cannot put {uri!r}: reading the local file failed: {exc}") from exc

    def get_bytes(self, uri: str) -> bytes:
        with self.open_read(uri) as body:
            try:
                return body.read()
            except BotoCoreError as exc:
                raise self._error("get", uri, exc) from exc

    def open_read(self, uri: str) -> BinaryIO:
        loc = parse_object_uri(uri)
        try:
            return self.client.get_object(Bucket=loc.bucket, Key=loc.key)["Body"]
        except (ClientError, BotoCoreError) as exc:
            raise self._error("get", uri, exc) from exc

    def exists(self, uri: str) -> bool:
        loc = parse_object_uri(uri)
        try:
            self.client.head_object(Bucket=loc.bucket, Key=loc.key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in _MISSING_KEY_CODES:
                return False
            raise self._error("head", uri, exc) from exc
        except BotoCoreError as exc:
            raise self._error("head", uri, exc) from exc
        return True

    def delete(self, uri: str) -> None:
        loc = parse_object_uri(uri)
        try:
            self.client.delete_object(Bucket=loc.bucket, Key=loc.key)
        except (ClientError, BotoCoreError) as exc:
            raise self._error("delete", uri, exc) from exc

    def list(self, prefix_uri: str) -> Iterator[ObjectInfo]:
        loc = parse_s3_uri(prefix_uri)
        return self._list(loc.bucket, loc.key, prefix_uri)

    def _list(self, bucket: str, prefix: str, prefix_uri: str) -> Iterator[ObjectInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            pages = paginator.paginate(
                Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": self.list_page_size}
            )
            for page in pages:
                for obj in page.get("Contents", ()):
                    uri = f"s3://{bucket}/{obj['Key']}"
                    yield ObjectInfo(uri, obj["Size"], obj["LastModified"].timestamp())
        except (ClientError, BotoCoreError) as exc:
            raise self._error("list", prefix_uri, exc) from exc
