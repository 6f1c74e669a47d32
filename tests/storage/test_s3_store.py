"""What only the S3-compatible store does: buckets must exist, keys are names not paths, errors are mapped."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.s3_server import s3_store
from watchkeeper.storage import InvalidKey, NoSuchBucket, NoSuchKey, StorageError, download_prefix
from watchkeeper.storage.s3 import S3ObjectStore


def test_missing_bucket(s3_endpoint: str) -> None:
    store, _ = s3_store(s3_endpoint)
    with pytest.raises(NoSuchBucket, match="'no-such-bucket' does not exist"):
        store.put_bytes("s3://no-such-bucket/k", b"x")
    with pytest.raises(NoSuchKey):  # NoSuchBucket is a NoSuchKey: the object is not there either
        store.get_bytes("s3://no-such-bucket/k")
    with pytest.raises(NoSuchBucket):
        list(store.list("s3://no-such-bucket/"))
    assert not store.exists("s3://no-such-bucket/k")


def test_keys_are_names_not_paths(s3_endpoint: str) -> None:
    """S3 data written by others may have keys a file system could not hold; the S3 store reads them."""
    store, b = s3_store(s3_endpoint)
    for key in ["a//b", "p/../x", "./y", "a\\b"]:
        store.put_bytes(f"s3://{b}/{key}", key.encode())
        assert store.get_bytes(f"s3://{b}/{key}") == key.encode()


def test_download_refuses_keys_that_would_escape(s3_endpoint: str, tmp_path: Path) -> None:
    store, b = s3_store(s3_endpoint)
    store.put_bytes(f"s3://{b}/p/ok", b"1")
    store.put_bytes(f"s3://{b}/p/../../evil", b"2")
    with pytest.raises(InvalidKey):
        download_prefix(store, f"s3://{b}/p/", tmp_path / "dl")
    assert not (tmp_path / "evil").exists()
    assert not any(p.name == "evil" for p in tmp_path.rglob("*"))


def test_unreachable_endpoint_says_what_to_check() -> None:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    store = S3ObjectStore(endpoint_url="http://127.0.0.1:9", client=client)
    with pytest.raises(StorageError, match="WATCHKEEPER_S3_ENDPOINT_URL"):
        store.put_bytes("s3://b/k", b"x")
