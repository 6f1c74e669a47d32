"""moto's threaded S3 server on loopback: the S3-compatible peer the storage tests run against.

Use the `s3_endpoint` fixture (import it into a folder's conftest.py); `s3_store(endpoint)` gives a store
with a fresh bucket.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from watchkeeper.storage.s3 import S3ObjectStore

REGION = "us-east-1"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_store(endpoint: str, **kwargs: object) -> tuple[S3ObjectStore, str]:
    """A store on the moto server and the name of a new, empty bucket in it."""
    store = S3ObjectStore(
        endpoint_url=endpoint, region=REGION, access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY, **kwargs
    )
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    store.client.create_bucket(Bucket=bucket)
    return store, bucket
